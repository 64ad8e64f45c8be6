"""Camera trajectories and object motions of the synthetic worlds.

Camera motion comes from the family the controllers produce: a short program of held
`ControlCommand`s (walk forward or back, strafe, turn, look up or down, rise, sprint, stop) run
through the same `CameraRig` that WASD and the gamepad drive, so speeds, damping and pitch limits
match play. A few clips orbit a point instead (the orbit path primitive, with a look-at). Each
program also yields the words a caption uses ("walks forward, then turns left").

Objects move on smooth paths: a drift velocity plus low-frequency sinusoids on the ground plane
(a gentle vertical bob for floating ones) and a constant spin about a random axis.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ...geometry.camera import look_at, pose_from_ypr
from ...geometry.rig import CameraRig, ControlCommand

# name: (move (right, up, forward), turn (yaw right, pitch up), caption words)
MOVES = {
    "forward": ((0, 0, 1), (0, 0), "walks forward"),
    "back": ((0, 0, -1), (0, 0), "moves backward"),
    "left": ((-1, 0, 0), (0, 0), "strafes left"),
    "right": ((1, 0, 0), (0, 0), "strafes right"),
    "turn_left": ((0, 0, 0), (-1, 0), "turns left"),
    "turn_right": ((0, 0, 0), (1, 0), "turns right"),
    "look_up": ((0, 0, 0), (0, 1), "looks up"),
    "look_down": ((0, 0, 0), (0, -1), "looks down"),
    "rise": ((0, 1, 0), (0, 0), "rises"),
    "sink": ((0, -1, 0), (0, 0), "lowers"),
    "forward_left": ((0, 0, 1), (-1, 0), "walks forward while turning left"),
    "forward_right": ((0, 0, 1), (1, 0), "walks forward while turning right"),
    "forward_strafe": ((0.7, 0, 0.7), (0, 0), "walks diagonally"),
    "stop": ((0, 0, 0), (0, 0), "stops"),
}
# How often each segment kind is drawn (forward motion dominates play).
MOVE_WEIGHTS = {"forward": 5, "back": 1.5, "left": 1.5, "right": 1.5, "turn_left": 2, "turn_right": 2, "look_up": 0.8,
                "look_down": 0.8, "rise": 0.4, "sink": 0.3, "forward_left": 1.5, "forward_right": 1.5,
                "forward_strafe": 0.8, "stop": 1.0}


@dataclass
class CameraMotion:
    c2w: np.ndarray  # [T, 4, 4] world poses at 16 fps
    words: str  # "walks forward, then turns left"
    kind: str  # "program", "orbit" or "still"


def _program(rng: np.random.Generator, start: np.ndarray, frames: int, fps: float) -> CameraMotion:
    rig = CameraRig(start, move_speed=rng.uniform(0.5, 1.8), turn_speed_deg=rng.uniform(20, 60),
                    damping_s=rng.uniform(0.08, 0.35), pitch_limit_deg=60.0)
    names = list(MOVE_WEIGHTS)
    p = np.array([MOVE_WEIGHTS[n] for n in names])
    count = int(rng.choice([1, 2, 3, 4], p=[0.35, 0.35, 0.2, 0.1]))
    picks = [str(rng.choice(names, p=p / p.sum())) for _ in range(count)]
    cut_range = np.arange(min(8, frames // 4), frames - min(4, frames // 8))  # segments of >= 0.25-0.5 s
    count = min(count, len(cut_range) + 1)
    picks = picks[:count]
    cuts = np.sort(rng.choice(cut_range, size=count - 1, replace=False)) if count > 1 else []
    bounds = [0, *cuts, frames - 1]
    poses = [rig.c2w]
    words = []
    for name, a, b in zip(picks, bounds[:-1], bounds[1:]):
        move, turn, text = MOVES[name]
        strength = rng.uniform(0.4, 1.0)
        cmd = ControlCommand(move=np.array(move, float) * strength, turn=np.array(turn, float) * rng.uniform(0.4, 1.0),
                             sprint=bool(name == "forward" and rng.random() < 0.15))
        for _ in range(b - a):
            poses.append(rig.update(cmd, 1.0 / fps))
        if not words or words[-1] != text:
            words.append(text)
    if words == ["stops"]:
        text = "stays still"
    elif len(words) > 1 and words[-1] == "stops":
        text = ", then ".join(words[:-1]) + " and stops"
    else:
        text = ", then ".join(words)
    return CameraMotion(np.stack(poses), text, "program")


def _orbit(rng: np.random.Generator, start: np.ndarray, frames: int, fps: float, target: np.ndarray) -> CameraMotion:
    eye0 = start[:3, 3]
    offset = eye0 - target
    radius = np.hypot(offset[0], offset[2])
    a0 = np.arctan2(offset[0], offset[2])
    sweep = np.radians(rng.uniform(20, 70)) * rng.choice([-1, 1])
    t = np.arange(frames) / (frames - 1)
    ease = 0.5 - 0.5 * np.cos(np.pi * t) if rng.random() < 0.5 else t
    angles = a0 + sweep * ease
    poses = []
    for a in angles:
        eye = np.array([target[0] + radius * np.sin(a), eye0[1], target[2] + radius * np.cos(a)])
        poses.append(look_at(eye, target))
    return CameraMotion(np.stack(poses), f"orbits {'right' if sweep < 0 else 'left'} around", "orbit")


def camera_motion(rng: np.random.Generator, frames: int, fps: float, height: float,
                  focus: np.ndarray | None) -> CameraMotion:
    """A camera trajectory starting at eye height `height` above the ground (world y = 0, y down)."""
    pitch = rng.uniform(-12, 8)
    start = pose_from_ypr([0.0, -height, 0.0], 0.0, pitch)
    r = rng.random()
    if r < 0.05:
        return CameraMotion(np.repeat(start[None], frames, axis=0), "stays still", "still")
    if r < 0.17 and focus is not None:
        start = look_at(start[:3, 3], focus)
        return _orbit(rng, start, frames, fps, focus)
    return _program(rng, start, frames, fps)


@dataclass
class ObjectMotion:
    """A rigid motion of an object whose local frame starts at `position`, `rotation`."""

    position: np.ndarray  # [3]
    rotation: np.ndarray  # [3, 3]
    velocity: np.ndarray  # [3] units/s
    amplitude: np.ndarray  # [2, 3] sinusoid amplitudes
    frequency: np.ndarray  # [2] Hz
    phase: np.ndarray  # [2, 3]
    spin_axis: np.ndarray  # [3] unit
    spin_rate: float  # rad/s

    def matrices(self, times: np.ndarray) -> np.ndarray:
        """World transforms [T, 4, 4] of the object's local frame at `times` (seconds)."""
        t = np.asarray(times, float)[:, None]
        pos = self.position + self.velocity * t
        for k in range(2):
            w = 2 * np.pi * self.frequency[k]
            pos = pos + self.amplitude[k] * (np.sin(w * t + self.phase[k]) - np.sin(self.phase[k]))
        spin = Rotation.from_rotvec(self.spin_axis[None] * (self.spin_rate * t))
        out = np.repeat(np.eye(4)[None], len(t), axis=0)
        out[:, :3, :3] = spin.as_matrix() @ self.rotation
        out[:, :3, 3] = pos
        return out

    def words(self, camera_c2w: np.ndarray, seconds: float) -> str:
        """How the object moves as seen from the starting camera ("moves left", "spins")."""
        M = self.matrices(np.array([0.0, seconds]))
        d = camera_c2w[:3, :3].T @ (M[1, :3, 3] - M[0, :3, 3])  # displacement in camera axes
        if np.linalg.norm(d) < 0.25:
            return "spins in place" if abs(self.spin_rate) > 0.3 else "sways"
        ax = int(np.argmax(np.abs(d)))
        return {(0, 1): "moves right", (0, -1): "moves left", (1, 1): "sinks", (1, -1): "rises",
                (2, 1): "moves away", (2, -1): "comes closer"}[(ax, int(np.sign(d[ax])))]


def object_motion(rng: np.random.Generator, position: np.ndarray, rotation: np.ndarray, floating: bool) -> ObjectMotion:
    heading = rng.uniform(0, 2 * np.pi)
    speed = rng.uniform(0.15, 1.2)
    velocity = speed * np.array([np.cos(heading), 0.0, np.sin(heading)])
    amp = rng.uniform(0, 0.6, size=(2, 3)) * np.array([1.0, 0.0, 1.0])
    if floating:
        amp[:, 1] = rng.uniform(0, 0.3, 2)
    axis = np.array([0.0, 1.0, 0.0]) if rng.random() < 0.6 else rng.normal(size=3)
    return ObjectMotion(
        position=np.asarray(position, float), rotation=np.asarray(rotation, float), velocity=velocity,
        amplitude=amp, frequency=rng.uniform(0.1, 0.6, 2), phase=rng.uniform(0, 2 * np.pi, (2, 3)),
        spin_axis=axis / np.linalg.norm(axis), spin_rate=float(rng.uniform(-1.5, 1.5) if rng.random() < 0.6 else 0.0))
