"""Drags and pins: the MotionStream mouse interaction, as data the session can replay.

A `Drag` says "the point grabbed at `start` is now under the cursor at `current`" (scene pixels).
A drag on a scene object moves the object: the cursor's motion since the last chunk, lifted to the
grabbed point's depth, becomes a world-space translation of the object, so the object's tracks, the
warp renderer and the model all agree. Every drag, and every pinned point (a point told to stay
put), is also an extra track for the chunk; the neural backend follows those tracks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Drag:
    id: int
    start: tuple[float, float]
    current: tuple[float, float]
    object_id: int = 0  # 0: a point of the picture; k: scene object k-1, which the drag moves
    depth: float = float("nan")  # camera z of the grabbed point (needed to move an object)

    def to_json(self) -> dict:
        return {"id": self.id, "start": list(self.start), "current": list(self.current),
                "object_id": self.object_id, "depth": None if not np.isfinite(self.depth) else self.depth}

    @classmethod
    def from_json(cls, d: dict) -> Drag:
        depth = float("nan") if d.get("depth") is None else float(d["depth"])
        return cls(int(d["id"]), tuple(d["start"]), tuple(d["current"]), int(d.get("object_id", 0)), depth)


@dataclass(frozen=True)
class DragState:
    drags: tuple[Drag, ...] = ()
    pins: tuple[tuple[float, float], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.drags or self.pins)

    def to_json(self) -> dict:
        return {"drags": [d.to_json() for d in self.drags], "pins": [list(p) for p in self.pins]}

    @classmethod
    def from_json(cls, d: dict | None) -> DragState:
        if not d:
            return cls()
        return cls(tuple(Drag.from_json(x) for x in d.get("drags", ())), tuple(tuple(p) for p in d.get("pins", ())))


@dataclass
class DragTracker:
    """Session-side drag state: where each drag was at the last chunk, and how far each object
    has been dragged (world translation)."""

    num_objects: int
    offsets: np.ndarray = field(init=False)
    last: dict = field(default_factory=dict)  # drag id -> cursor at the end of the last chunk

    def __post_init__(self):
        self.offsets = np.zeros((self.num_objects, 3))

    def reset(self) -> None:
        self.offsets = np.zeros((self.num_objects, 3))
        self.last = {}

    def advance(self, state: DragState, c2w: np.ndarray, K: np.ndarray, n: int):
        """Move along one chunk of n frames seen from camera (c2w, K) at its start.

        Returns per-frame object offsets [n, K, 3] and extra tracks [n, M, 2] (drags then pins),
        both interpolated linearly from the last chunk's cursor to the current one."""
        ramp = (np.arange(n) + 1.0) / n
        before = self.offsets.copy()
        tracks = []
        for d in state.drags:
            prev = np.asarray(self.last.get(d.id, d.start), dtype=float)
            cur = np.asarray(d.current, dtype=float)
            tracks.append(prev + (cur - prev) * ramp[:, None])
            if 1 <= d.object_id <= self.num_objects and np.isfinite(d.depth) and d.depth > 0:
                shift_cam = np.array([(cur[0] - prev[0]) * d.depth / K[0, 0],
                                      (cur[1] - prev[1]) * d.depth / K[1, 1], 0.0])
                self.offsets[d.object_id - 1] += c2w[:3, :3] @ shift_cam
        self.last = {d.id: tuple(d.current) for d in state.drags}
        for p in state.pins:
            tracks.append(np.repeat(np.asarray(p, dtype=float)[None], n, axis=0))
        offsets = before[None] + (self.offsets - before)[None] * ramp[:, None, None]
        extra = np.stack(tracks, axis=1).astype(np.float32) if tracks else np.zeros((n, 0, 2), np.float32)
        return offsets, extra


def apply_offsets(object_transforms: np.ndarray | None, offsets: np.ndarray) -> np.ndarray | None:
    """Pre-multiply each object's world transform [n, K, 4, 4] by its drag translation [n, K, 3]."""
    if object_transforms is None or not np.any(offsets):
        return object_transforms
    out = object_transforms.copy()
    out[:, :, :3, 3] += offsets
    return out
