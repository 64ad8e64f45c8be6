"""Camera paths: c2w pose (OpenCV axes) and vertical field of view as functions of time.

A path is relative: `World` places its first pose on the scene's start camera. Keyframed paths
interpolate positions with a cubic spline and orientations with scipy's RotationSpline. Primitives
(dolly, truck, pedestal, pan, tilt, roll, orbit, dolly-zoom, look-at, hold) are exact functions of
time (linear or eased progress) that start at the identity pose. `a.then(b)` (or `a + b`) continues
`b` from where `a` ends.

Field of view: NaN means "the scene's own fov"; `sample(times, default_fov)` fills it in.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation, RotationSpline, Slerp

from .. import arguments as A
from ..errors import ArgumentError
from ..frames import FPS
from ..limits import MAX_SCENE_NUMBER, MAX_SECONDS
from .camera import invert_pose, look_at

Evaluator = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Keyframe:
    """One camera of a keyframed path (immutable; see `CameraPath.from_keyframes`).

    `t` is its time in seconds (only differences count: the path starts at its first keyframe); `c2w` its 4x4
    camera-to-world pose in OpenCV axes (x right, y down, z forward); `fov_deg` its vertical field of
    view in degrees, strictly between 0 and 180, or None (default) for the scene's own. A path's
    keyframes give a fov on all of them or on none."""

    t: float
    c2w: np.ndarray
    fov_deg: float | None = None


class CameraPath:
    """A camera trajectory over [0, duration] seconds: c2w pose (OpenCV axes) and vertical fov at any time.

    `duration` is its length in seconds, from 0 to MAX_SECONDS (an hour). `evaluate` is the function
    that makes it: given times [T] (seconds, within [0, duration]) it returns poses [T, 4, 4] and
    vertical fovs [T] in degrees (NaN: the scene's own). Most paths come from the constructors
    (`from_keyframes`, `from_poses`), the primitives of `motionworld.paths` (dolly, pan, orbit, ...),
    a path file (`load_path_file`) or a scene; `sample` and `frames` evaluate one, `then` (or `+`),
    `rebased`, `transformed` and `constant_speed` make new ones from it."""

    def __init__(self, duration: float, evaluate: Evaluator):
        if isinstance(duration, (int, float, np.integer, np.floating)) and duration > MAX_SECONDS:
            # every later step (sampling, re-timing, tracks) is sized by it
            raise ArgumentError(f"the path lasts {duration:g} s, more than the {MAX_SECONDS:g} s limit")
        self.duration = A.number(duration, "path duration", 0.0, MAX_SECONDS, unit=" s")
        if not callable(evaluate):
            raise ArgumentError(f"evaluate must be a function of the times, got {A.shown(evaluate)}")
        self._evaluate = evaluate

    # --- evaluation -------------------------------------------------------------------------
    def sample(self, times, default_fov: float = np.nan) -> tuple[np.ndarray, np.ndarray]:
        """Returns poses [T,4,4] and vertical fovs [T] (degrees) at `times` (T seconds, clamped to
        the path's span); `default_fov` fills in where the path has no fov (default NaN: left so)."""
        t = A.times(times)
        t = np.clip(t, 0.0, self.duration)
        c2w, fov = self._evaluate(t)
        fov = np.where(np.isnan(fov), default_fov, fov)
        return c2w, fov

    def pose(self, t: float) -> np.ndarray:
        """Returns the c2w pose [4, 4] at time `t` (seconds, clamped to the path's span)."""
        return self.sample([t])[0][0]

    @property
    def start_pose(self) -> np.ndarray:
        """The c2w pose [4, 4] at time 0."""
        return self.pose(0.0)

    @property
    def end_pose(self) -> np.ndarray:
        """The c2w pose [4, 4] at the end, time `duration`."""
        return self.pose(self.duration)

    def frame_times(self, fps: float = FPS, seconds: float | None = None) -> np.ndarray:
        """Returns the video frame times 0, 1/fps, ... up to `seconds` (default: the path's duration),
        at `fps` frames per second (default 16)."""
        fps = A.fps(fps)
        seconds = self.duration if seconds is None else A.number(seconds, "seconds", 0.0, MAX_SECONDS, unit=" s")
        return np.arange(int(np.floor(seconds * fps + 1e-9)) + 1) / fps

    def frames(self, fps: float = FPS, seconds: float | None = None, default_fov: float = np.nan):
        """Returns `sample(frame_times(fps, seconds), default_fov)`: poses [T, 4, 4] and fovs [T] of
        each video frame at `fps` (default 16) over `seconds` (default: the path's duration)."""
        return self.sample(self.frame_times(fps, seconds), default_fov)

    # --- composition ------------------------------------------------------------------------
    def transformed(self, T: np.ndarray) -> CameraPath:
        """Returns the same path moved rigidly: every pose left-multiplied by `T` (a 4x4 pose)."""
        T = A.poses(T, "T")
        inner = self._evaluate

        def evaluate(t):
            c2w, fov = inner(t)
            return T @ c2w, fov

        return CameraPath(self.duration, evaluate)

    def rebased(self, start_pose: np.ndarray) -> CameraPath:
        """Returns the same relative motion, starting at `start_pose` (a 4x4 c2w)."""
        return self.transformed(A.poses(start_pose, "start_pose") @ invert_pose(self.start_pose))

    def then(self, other: CameraPath) -> CameraPath:
        """Returns this path followed by `other`, which is moved to start where this one ends; the
        durations add. `a + b` is `a.then(b)`."""
        if not isinstance(other, CameraPath):
            raise ArgumentError(f"then needs a CameraPath, got {A.shown(other)}")
        first, second = self, other.rebased(self.end_pose)
        split = first.duration

        def evaluate(t):
            c2w = np.empty((len(t), 4, 4))
            fov = np.empty(len(t))
            a = t <= split
            if a.any():
                c2w[a], fov[a] = first._evaluate(t[a])
            if (~a).any():
                c2w[~a], fov[~a] = second._evaluate(np.clip(t[~a] - split, 0.0, second.duration))
            return c2w, fov

        return CameraPath(first.duration + second.duration, evaluate)

    __add__ = then

    @staticmethod
    def concat(paths: Sequence[CameraPath]) -> CameraPath:
        """Returns the `paths` (a non-empty list) one after another, each continuing the last."""
        if isinstance(paths, (str, CameraPath)) or not isinstance(paths, Sequence) or not paths:
            raise ArgumentError(f"concat needs at least one path (a list of CameraPaths), got {A.shown(paths)}")
        out = paths[0]
        for p in paths[1:]:
            out = out.then(p)
        return out

    def constant_speed(self, turn_radius: float = 1.0, samples_per_second: int = 200) -> CameraPath:
        """Returns the same geometry and duration, re-timed so the camera moves at constant speed.

        Progress is distance travelled plus `turn_radius` x angle turned (radians), so a turn on
        the spot takes time too and a pan turns at a constant rate. Stops (holds) take no time.
        `turn_radius` is in world units (default 1); `samples_per_second` (1 to 1000, default 200, at
        least 200 in all) is how finely the path is measured.
        """
        turn_radius = A.number(turn_radius, "turn_radius", 0.0, MAX_SCENE_NUMBER)
        samples_per_second = A.number(samples_per_second, "samples_per_second", 1, 1000, integer=True)
        n = max(int(self.duration * samples_per_second), 200)
        t = np.linspace(0.0, self.duration, n + 1)
        c2w, _ = self._evaluate(t)
        rots = Rotation.from_matrix(c2w[:, :3, :3])
        step = (np.linalg.norm(np.diff(c2w[:, :3, 3], axis=0), axis=1)
                + turn_radius * (rots[1:] * rots[:-1].inv()).magnitude())
        if step.sum() < 1e-12:
            return self
        s = np.concatenate([[0.0], np.cumsum(step)]) / step.sum()
        s, keep = np.unique(s, return_index=True)
        t_of_s = t[keep]
        inner, duration = self._evaluate, self.duration

        def evaluate(tau):
            return inner(np.interp(tau / max(duration, 1e-12), s, t_of_s))

        return CameraPath(self.duration, evaluate)

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def from_keyframes(cls, keyframes: Sequence[Keyframe], interpolation: str = "cubic") -> CameraPath:
        """Returns a path through `keyframes` (a non-empty list of `Keyframe`s, times strictly
        increasing), starting at the first one's time and lasting until the last one's.
        `interpolation` is "cubic" (default: positions on a natural cubic spline, orientations on
        scipy's RotationSpline, with three keyframes or more) or "linear" (positions and fovs
        linearly, orientations by slerp)."""
        times, c2ws, fovs = _checked_keyframes(keyframes)
        A.one_of(interpolation, "interpolation", ("cubic", "linear"))
        if np.any(np.diff(times) <= 0):
            raise ArgumentError("keyframe times must be strictly increasing")
        if np.isnan(fovs).any() and not np.isnan(fovs).all():
            raise ArgumentError("give fov_deg on every keyframe or on none")
        t0 = times[0]
        local = times - t0
        if len(keyframes) == 1:
            def evaluate(t):
                return np.repeat(c2ws[:1], len(t), axis=0), np.full(len(t), fovs[0])

            return cls(0.0, evaluate)

        rots = Rotation.from_matrix(c2ws[:, :3, :3])
        positions = c2ws[:, :3, 3]
        if interpolation == "cubic" and len(keyframes) >= 3:
            pos_fn = CubicSpline(local, positions, axis=0, bc_type="natural")
            rot_fn = RotationSpline(local, rots)
            fov_fn = CubicSpline(local, fovs, bc_type="natural") if not np.isnan(fovs).all() else None
        elif interpolation in ("cubic", "linear"):
            def pos_fn(t):
                return np.stack([np.interp(t, local, positions[:, i]) for i in range(3)], axis=-1)

            rot_fn = Slerp(local, rots)

            def fov_fn(t):
                return np.interp(t, local, fovs)

            if np.isnan(fovs).all():
                fov_fn = None
        else:  # pragma: no cover - checked above
            raise AssertionError(interpolation)

        def evaluate(t):
            t = np.clip(t, 0.0, local[-1])
            out = np.zeros((len(t), 4, 4))
            out[:, :3, :3] = rot_fn(t).as_matrix()
            out[:, :3, 3] = pos_fn(t)
            out[:, 3, 3] = 1.0
            fov = fov_fn(t) if fov_fn is not None else np.full(len(t), np.nan)
            return out, np.asarray(fov, dtype=float)

        return cls(float(local[-1]), evaluate)

    @classmethod
    def from_poses(cls, c2ws: np.ndarray, fps: float = FPS, fovs=None, interpolation: str = "cubic") -> CameraPath:
        """Returns a path through per-frame poses `c2ws` [T, 4, 4] taken `fps` apart (default 16 per
        second), with per-pose vertical `fovs` in degrees (default None: the scene's own), by
        `interpolation` as in `from_keyframes`."""
        fps = A.fps(fps)
        c2ws = A.poses(c2ws, "c2ws", batch=True)
        fovs = [None] * len(c2ws) if fovs is None else list(fovs)
        if len(fovs) != len(c2ws):
            raise ArgumentError(f"fovs must give one fov per pose ({len(c2ws)}), got {len(fovs)}")
        return cls.from_keyframes([Keyframe(i / fps, c2ws[i], fovs[i]) for i in range(len(c2ws))], interpolation)


def _checked_keyframes(keyframes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times [N], c2w [N, 4, 4] and fovs [N] (NaN: none given) of keyframes, each checked."""
    if isinstance(keyframes, (str, Keyframe)) or not isinstance(keyframes, Sequence) or len(keyframes) == 0:
        raise ArgumentError(f"a keyframed path needs at least one keyframe (a list of Keyframes), got "
                            f"{A.shown(keyframes)}")
    n = len(keyframes)
    times, fovs, c2ws = np.empty(n), np.empty(n), np.empty((n, 4, 4))
    for i, k in enumerate(keyframes):
        if not isinstance(k, Keyframe):
            raise ArgumentError(f"keyframes[{i}] must be a Keyframe, got {A.shown(k)}")
        times[i] = A.number(k.t, f"keyframes[{i}].t", unit=" s")
        fovs[i] = np.nan if k.fov_deg is None else A.fov(k.fov_deg, f"keyframes[{i}].fov_deg")
        try:
            c2w = np.asarray(k.c2w, dtype=float)
        except (TypeError, ValueError):
            c2w = None
        if c2w is None or c2w.shape != (4, 4):
            A.poses(k.c2w, f"keyframes[{i}].c2w")  # raises, saying what is wrong with it
        c2ws[i] = c2w
    return times, A.poses(c2ws, "keyframes", batch=True, item="keyframes[{i}].c2w"), fovs


# --- primitives (all start at the identity pose: x right, y down, z forward) --------------------
def _check_seconds(seconds: float) -> float:
    return A.seconds(seconds)


def _amount(value, what: str) -> float:
    """A distance (world units) or an angle (degrees) of a primitive."""
    return A.number(value, what)


def _progress(t: np.ndarray, seconds: float, ease: bool) -> np.ndarray:
    u = np.clip(t / seconds, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u) if ease else u


def _translate(offset, seconds: float, ease: bool) -> CameraPath:
    seconds = _check_seconds(seconds)
    offset = np.asarray(offset, dtype=float)

    def evaluate(t):
        out = np.repeat(np.eye(4)[None], len(t), axis=0)
        out[:, :3, 3] = _progress(t, seconds, ease)[:, None] * offset
        return out, np.full(len(t), np.nan)

    return CameraPath(seconds, evaluate)


def _rotate(ypr_deg, seconds: float, ease: bool) -> CameraPath:
    """Turn by yaw/pitch/roll degrees (any amount, several turns included) at a steady rate."""
    seconds = _check_seconds(seconds)
    ypr = np.asarray(ypr_deg, dtype=float)

    def evaluate(t):
        u = _progress(t, seconds, ease)
        out = np.repeat(np.eye(4)[None], len(t), axis=0)
        out[:, :3, :3] = Rotation.from_euler("YXZ", u[:, None] * ypr, degrees=True).as_matrix()  # as rotation_from_ypr
        return out, np.full(len(t), np.nan)

    return CameraPath(seconds, evaluate)


def dolly(distance: float, seconds: float, ease: bool = False) -> CameraPath:
    """Move forward (negative: backward) along the view axis."""
    return _translate([0.0, 0.0, _amount(distance, "distance")], seconds, ease)


def truck(distance: float, seconds: float, ease: bool = False) -> CameraPath:
    """Move right (negative: left)."""
    return _translate([_amount(distance, "distance"), 0.0, 0.0], seconds, ease)


def pedestal(distance: float, seconds: float, ease: bool = False) -> CameraPath:
    """Move up (negative: down)."""
    return _translate([0.0, -_amount(distance, "distance"), 0.0], seconds, ease)


def pan(degrees: float, seconds: float, ease: bool = False) -> CameraPath:
    """Turn right (negative: left) about the vertical axis."""
    return _rotate([_amount(degrees, "degrees"), 0.0, 0.0], seconds, ease)


def tilt(degrees: float, seconds: float, ease: bool = False) -> CameraPath:
    """Look up (negative: down)."""
    return _rotate([0.0, _amount(degrees, "degrees"), 0.0], seconds, ease)


def roll(degrees: float, seconds: float, ease: bool = False) -> CameraPath:
    return _rotate([0.0, 0.0, _amount(degrees, "degrees")], seconds, ease)


def hold(seconds: float) -> CameraPath:
    return _translate([0.0, 0.0, 0.0], seconds, False)


def orbit(degrees: float, distance: float, seconds: float, ease: bool = False) -> CameraPath:
    """Circle around the point `distance` ahead, keeping it centred; positive degrees go right."""
    seconds = _check_seconds(seconds)
    degrees = _amount(degrees, "degrees")
    distance = A.number(distance, "orbit distance", 0.0, MAX_SCENE_NUMBER, low_open=True)
    centre = np.array([0.0, 0.0, distance])

    def evaluate(t):
        a = np.radians(_progress(t, seconds, ease) * degrees)
        eyes = centre + distance * np.stack([np.sin(a), np.zeros_like(a), -np.cos(a)], axis=-1)
        return np.stack([look_at(e, centre) for e in eyes]), np.full(len(t), np.nan)

    return CameraPath(seconds, evaluate)


def dolly_zoom(distance: float, target_distance: float, fov_deg: float, seconds: float,
               ease: bool = False) -> CameraPath:
    """Move forward while widening the view so a subject at `target_distance` keeps its size."""
    seconds = _check_seconds(seconds)
    distance = _amount(distance, "distance")
    target_distance = A.number(target_distance, "target_distance", 0.0, MAX_SCENE_NUMBER, low_open=True)
    fov_deg = A.fov(fov_deg)
    if not distance < target_distance:
        raise ArgumentError("dolly_zoom: the camera must stay in front of the target (distance < target_distance)")
    half = np.tan(np.radians(fov_deg) / 2.0)

    def evaluate(t):
        s = _progress(t, seconds, ease) * distance
        out = np.repeat(np.eye(4)[None], len(t), axis=0)
        out[:, 2, 3] = s
        return out, np.degrees(2.0 * np.arctan(half * target_distance / (target_distance - s)))

    return CameraPath(seconds, evaluate)


def look_at_path(target, seconds: float, start_pose: np.ndarray | None = None, ease: bool = True) -> CameraPath:
    """Turn in place from `start_pose` (default identity) until facing world point `target`."""
    seconds = _check_seconds(seconds)
    start = np.eye(4) if start_pose is None else A.poses(start_pose, "start_pose")
    end = look_at(start[:3, 3], A.vector(target, "target", 3, bound=np.inf))
    slerp = Slerp([0.0, 1.0], Rotation.from_matrix(np.stack([start[:3, :3], end[:3, :3]])))

    def evaluate(t):
        out = np.repeat(start[None], len(t), axis=0)
        out[:, :3, :3] = slerp(_progress(t, seconds, ease)).as_matrix()
        return out, np.full(len(t), np.nan)

    return CameraPath(seconds, evaluate)
