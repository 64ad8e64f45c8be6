"""Input state snapshots and the controller interface."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from motionworld.geometry.rig import ControlCommand


@dataclass(frozen=True)
class GamepadState:
    """Normalised pad axes: sticks in [-1, 1] (y down is +, as SDL reports), triggers in [0, 1]."""

    connected: bool = False
    left: tuple[float, float] = (0.0, 0.0)
    right: tuple[float, float] = (0.0, 0.0)
    left_trigger: float = 0.0
    right_trigger: float = 0.0
    buttons: frozenset[int] = frozenset()
    sprint: bool = False  # left stick pressed


@dataclass(frozen=True)
class InputState:
    """Everything a controller may read for one tick."""

    keys: frozenset[int] = frozenset()  # SDL scancodes held down
    mouse_rel: tuple[float, float] = (0.0, 0.0)  # pixels moved since the last tick
    mouse_buttons: frozenset[int] = frozenset()  # 1 left, 2 middle, 3 right
    mouse_captured: bool = False
    gamepad: GamepadState = field(default_factory=GamepadState)


class Controller(ABC):
    name = "controller"
    # A live controller's command is sampled once per chunk and held (one chunk of latency); a
    # scripted one is asked every frame, since its poses are fixed in advance.
    per_frame = False

    @abstractmethod
    def update(self, inputs: InputState, dt: float) -> ControlCommand:
        """The command for the next `dt` seconds given the current input state."""

    def reset(self) -> None:  # noqa: B027 - an optional hook; most controllers keep no state
        """Forget internal state (scripted controllers rewind)."""


class CombinedController(Controller):
    """Several controllers at once (keyboard + mouse + gamepad): their commands add up."""

    name = "combined"

    def __init__(self, controllers: list[Controller]):
        self.controllers = list(controllers)

    def update(self, inputs: InputState, dt: float) -> ControlCommand:
        total = ControlCommand()
        for c in self.controllers:
            total = total + c.update(inputs, dt)
        return total

    def reset(self) -> None:
        for c in self.controllers:
            c.reset()
