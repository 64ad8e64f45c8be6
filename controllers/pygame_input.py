"""pygame events -> InputState. The only place that touches pygame's input API.

Gamepads are hot-plug safe: a pad that appears is opened, a pad that disappears (or fails to
read) is dropped with a log line, never an exception.
"""
from __future__ import annotations

import logging

from .base import GamepadState, InputState

log = logging.getLogger("motionworld.input")
RAW_SPRINT_BUTTON = 9


def _norm_axis(v: float) -> float:
    return max(-1.0, min(1.0, float(v)))


class _Pad:
    """One open pad: SDL's GameController mapping when SDL knows the pad, raw joystick axes else."""

    def __init__(self, pygame, device_index: int):
        self.controller = None
        try:
            from pygame._sdl2 import controller as sdl_controller

            sdl_controller.init()
            if sdl_controller.is_controller(device_index):
                self.controller = sdl_controller.Controller(device_index)
        except (ImportError, pygame.error):
            self.controller = None
        self.joystick = pygame.joystick.Joystick(device_index)
        self.joystick.init()
        self.instance_id = self.joystick.get_instance_id()
        self.name = self.joystick.get_name()

    def read(self, pygame) -> GamepadState:
        if self.controller is not None:
            from pygame import CONTROLLER_AXIS_LEFTX as LX
            from pygame import CONTROLLER_AXIS_LEFTY as LY
            from pygame import CONTROLLER_AXIS_RIGHTX as RX
            from pygame import CONTROLLER_AXIS_RIGHTY as RY
            from pygame import CONTROLLER_AXIS_TRIGGERLEFT as LT
            from pygame import CONTROLLER_AXIS_TRIGGERRIGHT as RT
            from pygame import CONTROLLER_BUTTON_LEFTSTICK

            a = lambda i: self.controller.get_axis(i) / 32767.0  # noqa: E731
            return GamepadState(True, (_norm_axis(a(LX)), _norm_axis(a(LY))), (_norm_axis(a(RX)), _norm_axis(a(RY))),
                                max(0.0, a(LT)), max(0.0, a(RT)),
                                sprint=bool(self.controller.get_button(CONTROLLER_BUTTON_LEFTSTICK)))
        j = self.joystick
        n = j.get_numaxes()
        ax = [j.get_axis(i) for i in range(n)]
        get = lambda i, d=0.0: ax[i] if i < n else d  # noqa: E731
        # Linux evdev order for XInput-style pads: LX LY LT RX RY RT (triggers rest at -1);
        # button 9 is the left stick click there.
        buttons = frozenset(i for i in range(j.get_numbuttons()) if j.get_button(i))
        return GamepadState(True, (get(0), get(1)), (get(3), get(4)), (get(2, -1.0) + 1) / 2, (get(5, -1.0) + 1) / 2,
                            buttons, sprint=RAW_SPRINT_BUTTON in buttons)


class PygameInput:
    def __init__(self):
        self.keys: set[int] = set()
        self.buttons: set[int] = set()
        # Pressed since the last poll: a tap that goes down and up between two polls still counts once.
        self.tapped_keys: set[int] = set()
        self.tapped_buttons: set[int] = set()
        self.rel = [0.0, 0.0]
        self.captured = False
        self.pads: dict[int, _Pad] = {}

    def handle(self, event) -> None:
        import pygame

        if event.type == pygame.KEYDOWN:
            self.keys.add(event.scancode)
            self.tapped_keys.add(event.scancode)
        elif event.type == pygame.KEYUP:
            self.keys.discard(event.scancode)
        elif event.type == pygame.MOUSEMOTION:
            self.rel[0] += event.rel[0]
            self.rel[1] += event.rel[1]
        elif event.type == pygame.MOUSEBUTTONDOWN:
            self.buttons.add(event.button)
            self.tapped_buttons.add(event.button)
        elif event.type == pygame.MOUSEBUTTONUP:
            self.buttons.discard(event.button)
        elif event.type == pygame.WINDOWFOCUSLOST:
            self.keys.clear()  # keys released while unfocused would otherwise stick
            self.buttons.clear()
            self.tapped_keys.clear()
            self.tapped_buttons.clear()
        elif event.type == pygame.JOYDEVICEADDED:
            try:
                pad = _Pad(pygame, event.device_index)
            except pygame.error as e:
                log.warning("gamepad %s could not be opened: %s", event.device_index, e)
                return
            self.pads[pad.instance_id] = pad
            log.info("gamepad connected: %s", pad.name)
        elif event.type == pygame.JOYDEVICEREMOVED:
            pad = self.pads.pop(event.instance_id, None)
            log.info("gamepad disconnected: %s", pad.name if pad else f"instance {event.instance_id}")

    def poll(self) -> InputState:
        """The state since the last poll: keys and buttons held now or pressed since (mouse motion
        and taps are consumed)."""
        import pygame

        pad_state = GamepadState()
        for iid, pad in list(self.pads.items()):
            try:
                pad_state = pad.read(pygame)
                break
            except pygame.error as e:
                log.warning("gamepad %s stopped answering (%s); dropped", pad.name, e)
                self.pads.pop(iid, None)
        state = InputState(frozenset(self.keys | self.tapped_keys), (self.rel[0], self.rel[1]),
                           frozenset(self.buttons | self.tapped_buttons), self.captured, pad_state)
        self.rel = [0.0, 0.0]
        self.tapped_keys.clear()
        self.tapped_buttons.clear()
        return state
