"""InputLatch: hands input from a front-end (the window polls 60 times a second; the web page sends
a message on every change) to the generation loop (one sample a chunk) as a timeline, so the camera
moves by how long a key was held, not by whether it was touched.

Each fed state holds from the moment it is fed until the next one. `take()` returns an
`InputSpan`: the pieces of that timeline since the last take, each with its duration. The session
spreads the span over the chunk's frames, so a key held for t seconds moves the camera speed x t
whatever the chunk length, and a press late in the interval shows late in the chunk. Mouse motion
is an amount, kept in the piece it arrived in. The drag tool's snapshot rides along. Thread-safe:
`feed` runs on the front-end's thread, `take` on the worker.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

import numpy as np

from motionworld.geometry.drag import DragState
from motionworld.geometry.rig import ControlCommand
from motionworld.limits import MAX_FRAME_SECONDS

from .base import InputState

NO_MOUSE = (0.0, 0.0)


@dataclass(frozen=True)
class InputSpan:
    """The input between two samples: `pieces` are (seconds, state, seq) in time order; a piece's
    state held for its seconds (its mouse motion happened within them). `seq` is the front-end's
    number of the input (0 where it numbers none)."""

    pieces: tuple[tuple[float, InputState, int], ...]

    @property
    def seconds(self) -> float:
        return sum(p[0] for p in self.pieces)

    def seq_until(self, t: float) -> int:
        """The newest input seq in effect by `t` seconds into the span."""
        seq, at = 0, 0.0
        for seconds, _, s in self.pieces:
            if at > t:
                break
            seq = max(seq, s)
            at += seconds
        return seq

    def commands(self, controller, updates: int, sprint: float) -> tuple[list[ControlCommand], list[int]]:
        """The span spread over `updates` frames: each frame's rig command (rates averaged over its
        share of the span, lasting that share) and the input seq it applied. `sprint` is the rig's
        sprint factor: a frame part sprinted, part not, sprints with the walked part's rate scaled
        down, so the distance is exact."""
        total = self.seconds
        share = total / updates
        move = np.zeros((updates, 2, 3))  # [frame, walked | sprinted, axis]: rate x seconds
        turn, look = np.zeros((updates, 2)), np.zeros((updates, 2))
        at = 0.0
        for seconds, state, _ in self.pieces:
            c = controller.update(state, seconds)
            if seconds <= 0 or share <= 0:  # an instant (mouse motion between two feeds): one frame gets it
                look[min(int(at / share), updates - 1) if share > 0 else 0] += c.look_deg
                continue
            first, last = int(at / share), min(int(np.ceil((at + seconds) / share)), updates)
            for i in range(min(first, updates - 1), last):
                overlap = min(at + seconds, (i + 1) * share) - max(at, i * share)
                if overlap <= 0:
                    continue
                move[i, int(c.sprint)] += c.move * overlap
                turn[i] += c.turn * overlap
                look[i] += c.look_deg * (overlap / seconds)  # look is an amount: spread with the time
            at += seconds
        seconds = min(share, MAX_FRAME_SECONDS)
        rate = lambda x: np.clip(x / share, -1.0, 1.0) if share > 0 else np.zeros_like(x)  # noqa: E731
        out = []
        for i in range(updates):
            sprinted = bool(np.any(move[i, 1]))
            walked = move[i, 0] / sprint if sprinted else move[i, 0]
            out.append(ControlCommand(move=rate(walked + move[i, 1]), turn=rate(turn[i]), look_deg=look[i].copy(),
                                      sprint=sprinted, seconds=seconds))
        return out, [self.seq_until((i + 1) * share) for i in range(updates)]


class InputLatch:
    def __init__(self, clock=time.perf_counter):
        self._lock = threading.Lock()
        self._clock = clock
        self._drag_source = None
        self._drag = DragState()
        self._state = InputState()  # in effect now
        self._seq = 0
        self._since = clock()  # start of the piece holding `_state`
        self._pieces: list[tuple[float, InputState, int]] = []

    def feed(self, state: InputState, now: float | None = None, seq: int = 0) -> None:
        """`state` holds from `now` (default: the clock) until the next feed."""
        with self._lock:
            now = self._clock() if now is None else now
            self._close_piece(now)
            self._state, self._seq = state, max(self._seq, int(seq))

    def _close_piece(self, now: float) -> None:
        seconds = max(0.0, now - self._since)
        state = self._state
        if self._pieces and state.mouse_rel == NO_MOUSE:
            last_s, last, last_seq = self._pieces[-1]
            if last == state and last_seq == self._seq:  # same state, one piece: a held key is one entry
                self._pieces[-1] = (last_s + seconds, last, last_seq)
                self._since = max(self._since, now)
                return
        if seconds > 0 or state.mouse_rel != NO_MOUSE:
            self._pieces.append((seconds, state, self._seq))
        self._state = replace(state, mouse_rel=NO_MOUSE)  # motion is spent; keys and the pad stay held
        self._since = max(self._since, now)

    def clear(self, now: float | None = None) -> None:
        """Forget what was collected and what is held (a restart: the old run's input must not steer
        the new one)."""
        with self._lock:
            self._pieces, self._state = [], InputState()
            self._since = self._clock() if now is None else now

    def restart_span(self, now: float | None = None) -> None:
        """Start the next span now, keeping what is held (after a pause, or when the model has
        loaded: time in which no video was made moves nothing)."""
        with self._lock:
            self._pieces = []
            self._state = replace(self._state, mouse_rel=NO_MOUSE)
            self._since = self._clock() if now is None else now

    def attach_drags(self, source) -> None:
        """`source.take()` (called under the latch's lock at each sample) gives the DragState."""
        self._drag_source = source

    def take(self, now: float | None = None) -> tuple[InputSpan, DragState]:
        """The timeline since the last take; what is held now goes on into the next span."""
        with self._lock:
            self._close_piece(self._clock() if now is None else now)
            span, self._pieces = InputSpan(tuple(self._pieces)), []
            drag = self._drag_source.take() if self._drag_source is not None else DragState()
        return span, drag
