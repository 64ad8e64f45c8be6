"""Keyboard: WASD move on the ground, Q/E down/up, arrows or IJKL turn, Shift faster."""
from __future__ import annotations

import numpy as np

from motionworld.geometry.rig import ControlCommand

from . import keys as sc
from .base import Controller, InputState

DEFAULT_KEYMAP = {
    "forward": (sc.W,), "back": (sc.S,), "left": (sc.A,), "right": (sc.D,),
    "down": (sc.Q,), "up": (sc.E,),
    "turn_left": (sc.LEFT, sc.J), "turn_right": (sc.RIGHT, sc.L),
    "look_up": (sc.UP, sc.I), "look_down": (sc.DOWN, sc.K),
    "sprint": (sc.LSHIFT, sc.RSHIFT),
}


class KeyboardController(Controller):
    name = "keyboard"

    def __init__(self, keymap: dict[str, tuple[int, ...]] | None = None):
        self.keymap = {**DEFAULT_KEYMAP, **(keymap or {})}
        unknown = set(self.keymap) - set(DEFAULT_KEYMAP)
        if unknown:
            raise ValueError(f"unknown keyboard action(s): {', '.join(sorted(unknown))}")

    def _held(self, inputs: InputState, action: str) -> float:
        return float(any(code in inputs.keys for code in self.keymap[action]))

    def update(self, inputs: InputState, dt: float) -> ControlCommand:
        h = lambda a: self._held(inputs, a)  # noqa: E731
        move = np.array([h("right") - h("left"), h("up") - h("down"), h("forward") - h("back")])
        turn = np.array([h("turn_right") - h("turn_left"), h("look_up") - h("look_down")])
        return ControlCommand(move=move, turn=turn, sprint=bool(h("sprint")))
