"""Action strings: the WASD/IJKL camera language of diffusers' SANA-WM pipeline.

`"w-16,jw-8,none-4"` holds W for 16 frames, J+W for 8, nothing for 4. Keys: W/S forward/back and
A/D strafe on the ground plane (yaw only), I/K pitch up/down, J/L yaw left/right. Whitespace is
ignored, case too, and a full-width comma separates like ",". Each frame applies the rotation first
(yaw about the world vertical, pitch about the camera's own x axis; a pitch step that would leave
+/- pitch_limit is dropped), then moves with the new orientation. The first pose is the identity,
so N frames of actions give N + 1 poses. Defaults match SANA-WM's: 0.05 units and 1.2 degrees per
frame, pitch limit 85 degrees.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .. import arguments as A
from ..errors import PathFileError
from ..frames import FPS
from ..limits import MAX_FRAMES, MAX_SCENE_NUMBER
from .paths import CameraPath

KEYS = "wasdijkl"
TRANSLATION_SPEED = 0.05
ROTATION_SPEED_DEG = 1.2
PITCH_LIMIT_DEG = 85.0
_COUNT = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class ActionSegment:
    keys: frozenset[str]
    frames: int


def parse_actions(text: str) -> list[ActionSegment]:
    """Parse the action string `text` (e.g. `"w-16,jw-8,none-4"`, see the module's docstring).

    Returns one `ActionSegment` per comma-separated segment: the keys held (an empty set for
    `none`) and for how many frames. A malformed string raises PathFileError naming the offending
    segment, as does one lasting more than MAX_FRAMES frames in all."""
    if not isinstance(text, str):
        raise PathFileError(f"action string must be text, got {type(text).__name__}")
    cleaned = "".join(text.replace("\uff0c", ",").split())
    if not cleaned:
        raise PathFileError("action string is empty (expected e.g. 'w-16,jw-8,none-4')")
    segments, total = [], 0
    for i, part in enumerate(cleaned.split(",")):
        where = f"action string segment {i + 1} {part!r}"
        if not part:
            raise PathFileError(f"{where}: empty segment (two commas in a row?)")
        keys, dash, count = part.rpartition("-")
        # ASCII digits only: str.isdigit also takes '²' and other digits int() refuses
        if not dash or not _COUNT.fullmatch(count) or int(count) <= 0:
            raise PathFileError(f"{where}: expected KEYS-FRAMES with a positive frame count, e.g. 'w-16'")
        total += int(count)
        if total > MAX_FRAMES:  # checked before any pose is made
            raise PathFileError(f"{where}: the actions last more than {MAX_FRAMES} frames, the limit of one path")
        keys = keys.lower()
        if keys == "none":
            held = frozenset()
        else:
            bad = sorted(set(keys) - set(KEYS))
            if not keys or bad:
                raise PathFileError(f"{where}: unknown key(s) {''.join(bad) or keys!r}; use w a s d i j k l or 'none'")
            held = frozenset(keys)
        segments.append(ActionSegment(held, int(count)))
    return segments


def per_frame_keys(text: str) -> list[frozenset[str]]:
    return [seg.keys for seg in parse_actions(text) for _ in range(seg.frames)]


def _rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _ground_axis(v: np.ndarray) -> np.ndarray:
    v = np.array([v[0], 0.0, v[2]])
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def step_pose(c2w: np.ndarray, pitch: float, keys: frozenset[str], translation_speed: float,
              rotation_speed_rad: float, pitch_limit_rad: float) -> tuple[np.ndarray, float]:
    """One frame of SANA-WM's integrator. Returns the new c2w and the new pitch (radians)."""
    d_pitch = rotation_speed_rad * (("i" in keys) - ("k" in keys))
    if not -pitch_limit_rad <= pitch + d_pitch <= pitch_limit_rad:
        d_pitch = 0.0
    pitch += d_pitch
    d_yaw = rotation_speed_rad * (("l" in keys) - ("j" in keys))
    R = _rot_y(d_yaw) @ c2w[:3, :3] @ _rot_x(d_pitch)
    forward, right = _ground_axis(R[:, 2]), _ground_axis(R[:, 0])
    move = translation_speed * (forward * (("w" in keys) - ("s" in keys)) + right * (("d" in keys) - ("a" in keys)))
    out = np.eye(4)
    out[:3, :3] = R
    out[:3, 3] = c2w[:3, 3] + move
    return out, pitch


def actions_to_c2w(text: str, translation_speed: float = TRANSLATION_SPEED,
                   rotation_speed_deg: float = ROTATION_SPEED_DEG,
                   pitch_limit_deg: float = PITCH_LIMIT_DEG) -> np.ndarray:
    """The camera poses an action string drives, SANA-WM's integrator one frame at a time.

    `text` is the action string (see `parse_actions`); `translation_speed` the distance moved per
    frame with W/A/S/D held, in world units (default 0.05); `rotation_speed_deg` the turn per frame
    with I/J/K/L held, in degrees (default 1.2); `pitch_limit_deg` how far the camera may look up or
    down, in degrees, at most 90 (default 85). Speeds must be positive.

    Returns c2w poses [N+1, 4, 4] (float64, OpenCV axes) for an action string of N frames: the
    identity first, then one pose after each frame."""
    # the ranges of a scene file's `actions:` segment (scene_schema.ActionsSpec)
    translation_speed = A.number(translation_speed, "translation_speed", 0.0, MAX_SCENE_NUMBER, low_open=True)
    rotation_speed_deg = A.number(rotation_speed_deg, "rotation_speed_deg", 0.0, MAX_SCENE_NUMBER, low_open=True)
    pitch_limit_deg = A.number(pitch_limit_deg, "pitch_limit_deg", 0.0, 90.0, low_open=True, unit=" degrees")
    frames = per_frame_keys(text)
    rot, limit = math.radians(rotation_speed_deg), math.radians(pitch_limit_deg)
    poses = [np.eye(4)]
    pitch = 0.0
    for keys in frames:
        pose, pitch = step_pose(poses[-1], pitch, keys, translation_speed, rot, limit)
        poses.append(pose)
    return np.stack(poses)


def action_path(text: str, fps: float = FPS, **speeds):
    """The action string as a CameraPath (one pose per video frame)."""

    return CameraPath.from_poses(actions_to_c2w(text, **speeds), fps=fps, interpolation="linear")
