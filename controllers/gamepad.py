"""Gamepad: left stick moves, right stick looks, left/right trigger moves down/up.

Radial dead zone: a stick inside `deadzone` of centre reads zero; outside, its magnitude is
rescaled from [deadzone, 1] to [0, 1] with the direction kept, so there is no jump at the edge.
A disconnected pad gives no command.
"""
from __future__ import annotations

import numpy as np

from motionworld.geometry.rig import ControlCommand

from .base import Controller, InputState


def radial_deadzone(x: float, y: float, deadzone: float) -> np.ndarray:
    v = np.array([x, y], dtype=float)
    if not np.all(np.isfinite(v)):
        return np.zeros(2)
    m = float(np.hypot(*v))
    if m <= deadzone or m == 0.0:
        return np.zeros(2)
    scaled = min((m - deadzone) / (1.0 - deadzone), 1.0)
    return v / m * scaled


class GamepadController(Controller):
    name = "gamepad"

    def __init__(self, deadzone: float = 0.15, look_deg_per_s: float = 120.0, trigger_deadzone: float = 0.05):
        if not 0.0 <= deadzone < 1.0:
            raise ValueError(f"gamepad dead zone must be in [0, 1), got {deadzone}")
        self.deadzone = float(deadzone)
        self.look_deg_per_s = float(look_deg_per_s)
        self.trigger_deadzone = float(trigger_deadzone)

    def update(self, inputs: InputState, dt: float) -> ControlCommand:
        pad = inputs.gamepad
        if not pad.connected:
            return ControlCommand()
        lx, ly = radial_deadzone(*pad.left, self.deadzone)
        rx, ry = radial_deadzone(*pad.right, self.deadzone)
        trig = lambda v: 0.0 if not np.isfinite(v) or v < self.trigger_deadzone else min(float(v), 1.0)  # noqa: E731
        move = np.array([lx, trig(pad.right_trigger) - trig(pad.left_trigger), -ly])
        look = self.look_deg_per_s * dt * np.array([rx, -ry])
        return ControlCommand(move=move, look_deg=look, sprint=pad.sprint)
