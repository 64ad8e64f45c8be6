"""InputLatch: hands input from the display loop (many polls a second) to the generation loop
(one sample a chunk) without losing any of it.

Between two samples a key counts as held if it was down at any poll (a tap shorter than a chunk
still moves the camera), mouse motion adds up, buttons latch like keys, and the gamepad reading
is the latest one. The drag tool's snapshot rides along. Thread-safe: `feed` runs on the display
thread, `take` on the worker.
"""
from __future__ import annotations

import threading

from motionworld.geometry.drag import DragState

from .base import GamepadState, InputState


class InputLatch:
    def __init__(self):
        self._lock = threading.Lock()
        self._clear()
        self._drag = DragState()
        self._drag_source = None

    def _clear(self) -> None:
        self._keys: set[int] = set()
        self._buttons: set[int] = set()
        self._rel = [0.0, 0.0]
        self._captured = False
        self._pad = GamepadState()

    def feed(self, state: InputState) -> None:
        with self._lock:
            self._keys |= state.keys
            self._buttons |= state.mouse_buttons
            self._rel[0] += state.mouse_rel[0]
            self._rel[1] += state.mouse_rel[1]
            self._captured = state.mouse_captured
            self._pad = state.gamepad

    def clear(self) -> None:
        """Forget what was collected (a restart: the old run's input must not steer the new one)."""
        with self._lock:
            self._clear()

    def attach_drags(self, source) -> None:
        """`source.take()` (called under the latch's lock at each sample) gives the DragState."""
        self._drag_source = source

    def take(self) -> tuple[InputState, DragState]:
        """Everything fed since the last take; keys still held stay held in the next interval
        because the display loop feeds them again at its next poll."""
        with self._lock:
            state = InputState(frozenset(self._keys), (self._rel[0], self._rel[1]), frozenset(self._buttons),
                               self._captured, self._pad)
            captured, pad = self._captured, self._pad
            self._clear()
            self._captured, self._pad = captured, pad
            drag = self._drag_source.take() if self._drag_source is not None else DragState()
        return state, drag
