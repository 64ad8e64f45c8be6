"""Rigid motion of a scene object over time, in world units.

Keyframes give a translation offset and a rotation (yaw, pitch, roll in degrees, same axes as the
camera) relative to where the object is in the first frame. Rotation turns the object about its
pivot (by default the centroid of its lifted first-frame points). Before the first keyframe and,
unless looping, after the last, the object holds the nearest keyframe's pose.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation, RotationSpline, Slerp

from .. import arguments as A
from ..errors import ArgumentError
from ..limits import MAX_SECONDS
from .camera import rotation_from_ypr


@dataclass(frozen=True)
class ObjectKeyframe:
    """One pose of a scene object at one time (immutable).

    `t` is the time in seconds (from 0 to MAX_SECONDS, counted from the first video frame);
    `position` the translation (x, y, z) in world units, OpenCV axes (y down), from where the object
    is in the first frame (default (0, 0, 0)); `rotation_deg` its (yaw, pitch, roll) in degrees about
    its pivot, same axes as the camera (default (0, 0, 0))."""

    t: float
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotation_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)


class ObjectPath:
    """A scene object's rigid motion over time, interpolated between keyframes.

    `keyframes` is a non-empty list of `ObjectKeyframe`s with strictly increasing times; one keyframe
    is a pose held for ever. `loop` (default False) repeats the span from the first keyframe to the
    last for ever after it, instead of holding the last pose. `interpolation` is "cubic" (default: a
    cubic spline through the positions and scipy's RotationSpline through the rotations, with three
    keyframes or more; a periodic spline when looping and the first and last positions are equal) or
    "linear" (positions linearly, rotations by slerp; also what "cubic" does with two keyframes).
    Before the first keyframe the object holds its pose. `matrices(times, pivot)` gives the
    transforms; `ObjectPath.static()` and `ObjectPath.linear(offset, seconds)` make the simple ones."""

    def __init__(self, keyframes: Sequence[ObjectKeyframe], loop: bool = False, interpolation: str = "cubic"):
        if isinstance(keyframes, (str, ObjectKeyframe)) or not isinstance(keyframes, Sequence) or not keyframes:
            raise ArgumentError(f"an object path needs at least one keyframe (a list of ObjectKeyframes), got "
                                f"{A.shown(keyframes)}")
        A.one_of(interpolation, "interpolation", ("cubic", "linear"))
        for i, k in enumerate(keyframes):  # the ranges of a scene file's object keyframes
            if not isinstance(k, ObjectKeyframe):
                raise ArgumentError(f"keyframes[{i}] must be an ObjectKeyframe, got {A.shown(k)}")
            A.number(k.t, f"keyframes[{i}].t", 0.0, MAX_SECONDS, unit=" s")
            A.vector(k.position, f"keyframes[{i}].position", 3)
            A.vector(k.rotation_deg, f"keyframes[{i}].rotation_deg", 3)
        self.keyframes = list(keyframes)
        self.loop = bool(loop)
        self.times = np.array([k.t for k in keyframes], dtype=float)
        if np.any(np.diff(self.times) <= 0):
            raise ArgumentError("object keyframe times must be strictly increasing")
        positions = np.array([k.position for k in keyframes], dtype=float)
        rotations = Rotation.concatenate([rotation_from_ypr(*k.rotation_deg) for k in keyframes])
        self._constant = len(keyframes) == 1
        if self._constant:
            self._pos = lambda t: np.repeat(positions[:1], len(t), axis=0)
            self._rot = lambda t: Rotation.concatenate([rotations[0]] * len(t))
            return
        if interpolation == "cubic" and len(keyframes) >= 3:
            periodic = self.loop and np.array_equal(positions[0], positions[-1])  # scipy needs exact
            self._pos = CubicSpline(self.times, positions, axis=0, bc_type="periodic" if periodic else "natural")
            self._rot = RotationSpline(self.times, rotations)
        elif interpolation in ("cubic", "linear"):
            self._pos = lambda t: np.stack([np.interp(t, self.times, positions[:, i]) for i in range(3)], -1)
            self._rot = Slerp(self.times, rotations)
        else:  # pragma: no cover - checked above
            raise AssertionError(interpolation)

    @classmethod
    def static(cls) -> ObjectPath:
        """Returns a path that never moves the object."""
        return cls([ObjectKeyframe(0.0)])

    @classmethod
    def linear(cls, offset, seconds: float, loop: bool = False) -> ObjectPath:
        """Returns a path that moves the object by `offset` (x, y, z world units) at a steady speed
        over `seconds` seconds, then holds it there, or with `loop` jumps back and moves again."""
        seconds, offset = A.seconds(seconds), A.vector(offset, "offset", 3)
        return cls([ObjectKeyframe(0.0), ObjectKeyframe(seconds, tuple(offset))], loop=loop, interpolation="linear")

    def _local_time(self, t: np.ndarray) -> np.ndarray:
        t0, t1 = self.times[0], self.times[-1]
        if self.loop and t1 > t0:
            return np.where(t < t0, t0, t0 + np.mod(t - t0, t1 - t0))
        return np.clip(t, t0, t1)

    def matrices(self, times, pivot=(0.0, 0.0, 0.0)) -> np.ndarray:
        """Returns the world-space transforms [T, 4, 4] at `times` (T seconds):
        X' = R (X - pivot) + pivot + offset, turning the object about `pivot` (a world point,
        default the origin; `World` passes the object's pivot, its centroid unless the scene gives one)."""
        t = A.times(times)
        pivot = A.vector(pivot, "pivot", 3, bound=np.inf)
        t = self._local_time(t)
        R = self._rot(t).as_matrix()
        p = np.asarray(self._pos(t), dtype=float).reshape(len(t), 3)
        out = np.zeros((len(t), 4, 4))
        out[:, :3, :3] = R
        out[:, :3, 3] = pivot - np.einsum("tij,j->ti", R, pivot) + p
        out[:, 3, 3] = 1.0
        return out
