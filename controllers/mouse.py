"""Mouse: look while captured (relative motion turns the camera); when not captured, dragging
with the middle button turns it the other way, as if grabbing the picture. (The left button drags
points and objects and the right button pins points: `controllers.drag`.)"""
from __future__ import annotations

import numpy as np

from motionworld.geometry.rig import ControlCommand

from .base import Controller, InputState

LOOK_BUTTON = 2  # middle


class MouseController(Controller):
    name = "mouse"

    def __init__(self, sensitivity_deg: float = 0.15, invert_y: bool = False):
        self.sensitivity_deg = float(sensitivity_deg)
        self.invert_y = bool(invert_y)

    def update(self, inputs: InputState, dt: float) -> ControlCommand:
        dx, dy = inputs.mouse_rel
        if inputs.mouse_captured:
            sign = 1.0
        elif LOOK_BUTTON in inputs.mouse_buttons:
            sign = -1.0  # drag the scene: pulling it right turns the camera left
        else:
            return ControlCommand()
        pitch_sign = 1.0 if self.invert_y else -1.0  # screen y grows downwards; moving down looks down
        look = sign * self.sensitivity_deg * np.array([dx, pitch_sign * dy])
        return ControlCommand(look_deg=look)
