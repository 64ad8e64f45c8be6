"""Controller plugins: turn input states (keys, mouse, gamepad, scripts) into camera commands.

Each controller has `update(inputs: InputState, dt: float) -> ControlCommand`. They never touch
pygame: `controllers.pygame_input.PygameInput` turns pygame events into InputState, so every
controller can be driven by injected states in tests or by a host program.
"""
from .base import CombinedController, Controller, GamepadState, InputState
from .gamepad import GamepadController
from .keyboard import KeyboardController
from .mouse import MouseController
from .scripted import ActionController, ScriptedController

__all__ = ["Controller", "CombinedController", "InputState", "GamepadState", "KeyboardController",
           "MouseController", "GamepadController", "ScriptedController", "ActionController"]
