"""Camera rig: integrates controller commands into a c2w pose, independent of the frame rate.

Velocities approach their targets exponentially (time constant `damping_s`); for a command held
over an interval the rig uses the closed form, so one step of 1/16 s and ten steps of 1/160 s end
in the same place (up to the yaw change within the interval). Movement is on the ground plane:
forward and strafe follow the yaw only; up/down is along world -y. Pitch is clamped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import arguments as A
from ..errors import ArgumentError
from ..limits import MAX_SCENE_NUMBER, MAX_SECONDS
from .camera import pose_from_ypr, ypr_from_rotation

WORLD_UP = np.array([0.0, -1.0, 0.0])  # OpenCV world: y points down


@dataclass
class ControlCommand:
    """What a controller asks of the camera for the next interval (`CameraRig.update` carries it out).

    `move`: (right, up, forward), each in [-1, 1] (clipped), times the rig's move speed; default zeros.
    `turn`: (yaw right, pitch up) rates in [-1, 1] (clipped), times the rig's turn speed; default zeros.
    `look_deg`: (yaw, pitch) degrees to turn at once (mouse look); default zeros.
    `sprint`: multiply the move speed by the rig's sprint factor (default False).
    `pose`: an absolute 4x4 c2w that replaces the rig's pose, played exactly (scripted playback);
    default None.
    `fov_deg`: a vertical field of view in degrees (strictly 0 to 180) the camera keeps from now on; default
    None: unchanged (with a `pose`: the scene's own).
    `seconds`: how long the command lasts (None: the `dt` it is given; live input spread over a chunk
    says how much of the player's time one frame covers).
    Two commands add (`a + b`): moves and turns summed and clipped, looks summed, `b`'s pose, fov and
    seconds where it gives them.
    """

    move: np.ndarray = field(default_factory=lambda: np.zeros(3))
    turn: np.ndarray = field(default_factory=lambda: np.zeros(2))
    look_deg: np.ndarray = field(default_factory=lambda: np.zeros(2))
    sprint: bool = False
    pose: np.ndarray | None = None
    fov_deg: float | None = None
    seconds: float | None = None

    def __post_init__(self):
        # checked, not converted: what a controller passes is kept as it is
        A.vector(self.move, "move", 3)
        A.vector(self.turn, "turn", 2)
        A.vector(self.look_deg, "look_deg", 2)
        if self.pose is not None:
            A.poses(self.pose, "pose")
        if self.fov_deg is not None:
            A.fov(self.fov_deg)
        if self.seconds is not None:
            A.number(self.seconds, "seconds", 0.0, MAX_SECONDS, unit=" s")

    def __add__(self, other: ControlCommand) -> ControlCommand:
        return ControlCommand(
            move=np.clip(self.move + other.move, -1.0, 1.0),
            turn=np.clip(self.turn + other.turn, -1.0, 1.0),
            look_deg=self.look_deg + other.look_deg,
            sprint=self.sprint or other.sprint,
            pose=other.pose if other.pose is not None else self.pose,
            fov_deg=other.fov_deg if other.fov_deg is not None else self.fov_deg,
            seconds=other.seconds if other.seconds is not None else self.seconds,
        )


class CameraRig:
    """A first-person camera driven by `ControlCommand`s: position, yaw, pitch and roll, with damped
    velocities (see the module's docstring); `update(command, dt)` advances it, `c2w` is its pose.

    `start_pose` is the 4x4 c2w it starts at (default the identity; its pitch is clamped to the
    limit); `move_speed` its walking speed in world units per second (default 1); `turn_speed_deg`
    its turning rate in degrees per second at full `turn` (default 60); `sprint` the factor on the
    move speed while sprinting, at least 1 (default 2.5); `damping_s` the time constant in seconds
    with which velocities approach what is asked (default 0.15; 0: at once); `pitch_limit_deg` how
    far it may look up or down, in degrees, at most 90 (default 85). Speeds must be positive."""

    def __init__(self, start_pose: np.ndarray | None = None, move_speed: float = 1.0, turn_speed_deg: float = 60.0,
                 sprint: float = 2.5, damping_s: float = 0.15, pitch_limit_deg: float = 85.0):
        # the ranges of a scene's camera: block (scene_schema.CameraSpec)
        self.move_speed = A.number(move_speed, "move_speed", 0.0, MAX_SCENE_NUMBER, low_open=True)
        self.turn_speed_deg = A.number(turn_speed_deg, "turn_speed_deg", 0.0, MAX_SCENE_NUMBER, low_open=True)
        self.sprint = A.number(sprint, "sprint", 1.0, MAX_SCENE_NUMBER)
        self.damping_s = A.number(damping_s, "damping_s", 0.0, MAX_SCENE_NUMBER, unit=" s")
        self.pitch_limit_deg = A.number(pitch_limit_deg, "pitch_limit_deg", 0.0, 90.0, low_open=True, unit=" degrees")
        self.fov_deg: float | None = None
        self.reset(np.eye(4) if start_pose is None else start_pose)

    def reset(self, pose: np.ndarray, clamp: bool = True) -> None:
        """Put the camera at `pose` (4x4 c2w) at rest; with `clamp` (default) its pitch is kept
        within the limit."""
        pose = A.poses(pose, "pose")
        self.position = pose[:3, 3].copy()
        self.yaw, self.pitch, self.roll = ypr_from_rotation(pose[:3, :3])
        if clamp:
            self.pitch = float(np.clip(self.pitch, -self.pitch_limit_deg, self.pitch_limit_deg))
        self.velocity = np.zeros(3)  # world units / s, world axes
        self.turn_rate = np.zeros(2)  # deg / s (yaw, pitch)

    @property
    def c2w(self) -> np.ndarray:
        """The camera's pose now, 4x4 c2w in OpenCV axes."""
        return pose_from_ypr(self.position, self.yaw, self.pitch, self.roll)

    def _ground_axes(self) -> tuple[np.ndarray, np.ndarray]:
        a = np.radians(self.yaw)
        forward = np.array([np.sin(a), 0.0, np.cos(a)])
        right = np.array([np.cos(a), 0.0, -np.sin(a)])
        return right, forward

    def update(self, command: ControlCommand, dt: float) -> np.ndarray:
        """Advance by `dt` seconds (or the command's own `seconds`) under `command`; returns the new
        c2w [4, 4]."""
        if not isinstance(command, ControlCommand):
            raise ArgumentError(f"command must be a ControlCommand, got {A.shown(command)}")
        dt = A.number(dt if command.seconds is None else command.seconds, "dt", 0.0, MAX_SECONDS, unit=" s")
        if command.pose is not None:
            self.reset(command.pose, clamp=False)  # a script's pose is played exactly
            self.fov_deg = command.fov_deg
            return self.c2w
        if command.fov_deg is not None:
            self.fov_deg = command.fov_deg
        # Mouse look: immediate.
        self.yaw += float(command.look_deg[0])
        self.pitch = float(np.clip(self.pitch + command.look_deg[1], -self.pitch_limit_deg, self.pitch_limit_deg))
        # Targets.
        right, forward = self._ground_axes()
        m = np.clip(np.asarray(command.move, dtype=float), -1.0, 1.0)
        speed = self.move_speed * (self.sprint if command.sprint else 1.0)
        v_target = speed * (m[0] * right + m[1] * WORLD_UP + m[2] * forward)
        w_target = self.turn_speed_deg * np.clip(np.asarray(command.turn, dtype=float), -1.0, 1.0)
        # Exact integration of x' = v, v' = (v_target - v) / tau over dt.
        tau = self.damping_s
        if tau <= 0:
            decay, gain = 0.0, 0.0
        else:
            decay = np.exp(-dt / tau)
            gain = tau * (1.0 - decay)
        self.position = self.position + v_target * dt + (self.velocity - v_target) * gain
        self.velocity = v_target + (self.velocity - v_target) * decay
        turn = w_target * dt + (self.turn_rate - w_target) * gain
        self.turn_rate = w_target + (self.turn_rate - w_target) * decay
        self.yaw += float(turn[0])
        self.pitch = float(np.clip(self.pitch + turn[1], -self.pitch_limit_deg, self.pitch_limit_deg))
        return self.c2w
