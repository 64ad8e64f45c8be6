"""The drag tool: mouse buttons on the picture become drags and pins (MotionStream's interaction).

Left button down on the picture grabs what is under the cursor: a scene object if the nearest
visible track there belongs to one (the object then follows the cursor), else the point itself;
moving the mouse moves the drag's end; releasing ends it. Right click pins a point (a track told to
stay put); `clear()` removes every pin. Positions are scene pixels: the window converts from
screen coordinates.

`take()` gives the worker a DragState for the next chunk: the drags live now plus any that ended
since the last take (with their final position), so a quick flick between two chunks still
counts. Used from the display thread (events) and the worker (take), so it locks.
"""
from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from motionworld.geometry.drag import Drag, DragState

PICK_RADIUS = 0.04  # of the picture's diagonal: how near a track must be to grab its object


def pick(xy, tracks: np.ndarray, visibility: np.ndarray, depth: np.ndarray, object_ids: np.ndarray,
         diagonal: float) -> tuple[int, float]:
    """(object id, depth) of the nearest visible track to xy within PICK_RADIUS; (0, depth or NaN)
    for the background or nothing near."""
    ok = visibility & np.all(np.isfinite(tracks), axis=-1)
    if not ok.any():
        return 0, float("nan")
    idx = np.flatnonzero(ok)
    d = np.hypot(*(tracks[idx] - np.asarray(xy, dtype=float)).T)
    i = int(np.argmin(d))
    if d[i] > PICK_RADIUS * diagonal:
        return 0, float("nan")
    j = idx[i]
    return int(object_ids[j]), float(depth[j])


class DragTool:
    def __init__(self):
        self._lock = threading.Lock()
        self._next_id = 1
        self.active: Drag | None = None
        self._ended: list[Drag] = []
        self.pins: list[tuple[float, float]] = []

    def press(self, xy, object_id: int = 0, depth: float = float("nan")) -> None:
        with self._lock:
            if self.active is not None:
                self._ended.append(self.active)
            p = (float(xy[0]), float(xy[1]))
            self.active = Drag(self._next_id, p, p, int(object_id), float(depth))
            self._next_id += 1

    def move(self, xy) -> None:
        with self._lock:
            if self.active is not None:
                self.active = replace(self.active, current=(float(xy[0]), float(xy[1])))

    def release(self) -> None:
        with self._lock:
            if self.active is not None:
                self._ended.append(self.active)
                self.active = None

    def pin(self, xy) -> None:
        with self._lock:
            self.pins.append((float(xy[0]), float(xy[1])))

    def clear(self) -> None:
        with self._lock:
            self.pins.clear()
            self._ended.clear()
            self.active = None

    def view(self) -> DragState:
        """What to draw now (does not consume ended drags)."""
        with self._lock:
            return DragState(tuple(self._ended) + ((self.active,) if self.active else ()), tuple(self.pins))

    def take(self) -> DragState:
        with self._lock:
            state = DragState(tuple(self._ended) + ((self.active,) if self.active else ()), tuple(self.pins))
            self._ended = []
            return state
