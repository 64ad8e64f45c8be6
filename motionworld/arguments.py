"""Checks of the values a caller passes to the Python API, at the public function or constructor
that takes them, so a NaN, a string, a folder or an absurd size is a one-line `ArgumentError`
naming the argument (`seconds must be a positive number of at most 3600 s, got nan`) rather than a
TypeError from deep inside, or a path of NaN poses. The ranges are the CLI's and the scene
schema's (`limits`, `scene_schema`)."""
from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

import numpy as np

from .errors import ArgumentError
from .limits import MAX_SCENE_NUMBER, MAX_SECONDS

FPS_RANGE = (0.0, 1000.0)  # frames per second of a path or a world: (0, 1000], as a nerfstudio file's fps
GRID_RANGE = (2, 512)  # tracks per side of the track grid: the CLI's --grid and the schema's tracks.grid
SIZE_RANGE = (16, 16_384)  # longest side of generated frames (`--size` is at most 8192; a warp never upscales)


def shown(value) -> str:
    """A value as an error message quotes it: short, strings quoted."""
    text = repr(value) if isinstance(value, str) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


def _range_text(low, high, low_open, high_open, unit, integer) -> str:
    noun = "whole number" if integer else "number"
    if low == -math.inf and high == math.inf:
        return f"a finite {noun}"
    if low == 0 and low_open and not high_open:
        return f"a positive {noun}" + (f" of at most {_num(high)}{unit}" if high != math.inf else "")
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return f"a {noun} in {left}{_num(low)}, {_num(high)}{right}{unit}"


def number(value, what: str, low: float = -MAX_SCENE_NUMBER, high: float = MAX_SCENE_NUMBER, *,
           low_open: bool = False, high_open: bool = False, integer: bool = False, unit: str = ""):
    """`value` as a float (an int with `integer`) when it is a real number (not a bool) within
    [low, high] (an end is open where asked); NaN and infinity never are."""
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, (bool, np.bool_))
    if ok:
        v = float(value)
        ok = math.isfinite(v) and (low < v if low_open else low <= v) and (v < high if high_open else v <= high)
    if not ok:
        raise ArgumentError(f"{what} must be {_range_text(low, high, low_open, high_open, unit, integer)}, "
                            f"got {shown(value)}")
    return int(value) if integer else float(value)


def seconds(value, what: str = "seconds", high: float | None = None) -> float:
    """A length of time: a positive number of at most MAX_SECONDS."""
    return number(value, what, 0.0, MAX_SECONDS if high is None else high, low_open=True, unit=" s")


def fps(value, what: str = "fps") -> float:
    return number(value, what, *FPS_RANGE, low_open=True)


def fov(value, what: str = "fov_deg", low: float = 0.0, high: float = 180.0) -> float:
    """A vertical field of view in degrees, strictly between `low` and `high`."""
    return number(value, what, low, high, low_open=True, high_open=True, unit=" degrees")


def vector(value, what: str, n: int, bound: float = MAX_SCENE_NUMBER) -> np.ndarray:
    """`n` finite real numbers within +/-bound, as a float array."""
    try:
        v = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentError(f"{what} must be {n} numbers, got {shown(value)}") from None
    if v.shape != (n,):
        raise ArgumentError(f"{what} must be {n} numbers, got {shown(value)}")
    if not np.all(np.isfinite(v)) or np.abs(v).max(initial=0.0) > bound:
        within = f" within +/-{bound:g}" if bound < math.inf else ""
        raise ArgumentError(f"{what} must be {n} finite numbers{within}, got {shown(value)}")
    return v


def poses(value, what: str, batch: bool = False, item: str = "{what}[{i}]") -> np.ndarray:
    """Camera-to-world matrices: a 4x4 (or [T, 4, 4] with `batch`, the i-th named by `item`) of
    finite numbers, rigid (a rotation and a translation within MAX_SCENE_NUMBER, bottom row 0 0 0
    1), as float arrays."""
    shape = "[T, 4, 4]" if batch else "4x4"
    try:
        m = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentError(f"{what} must be a {shape} pose matrix, got {shown(value)}") from None
    if m.ndim != (3 if batch else 2) or m.shape[-2:] != (4, 4):
        raise ArgumentError(f"{what} must be a {shape} pose matrix, got shape {m.shape}")
    many = m.reshape(-1, 4, 4)
    where = lambda i: item.format(what=what, i=i) if batch else what  # noqa: E731
    finite = np.isfinite(many).all(axis=(1, 2))
    if not finite.all():
        raise ArgumentError(f"{where(int(np.argmin(finite)))} has NaN or infinite numbers")
    far = np.abs(many[:, :3, 3]).max(axis=1) > MAX_SCENE_NUMBER
    if far.any():
        i = int(np.argmax(far))
        raise ArgumentError(f"{where(i)}: the camera is {np.abs(many[i, :3, 3]).max():.3g} units from the origin, "
                            f"over the {MAX_SCENE_NUMBER:g} limit")
    R = many[:, :3, :3]
    err = np.abs(R @ np.swapaxes(R, 1, 2) - np.eye(3)).max(axis=(1, 2))
    bad = ((err > 1e-3) | (np.abs(np.linalg.det(R) - 1.0) > 1e-3)
           | (np.abs(many[:, 3] - [0, 0, 0, 1]).max(axis=1) > 1e-3))
    if bad.any():
        raise ArgumentError(f"{where(int(np.argmax(bad)))} is not a rigid pose (its top-left 3x3 must be a rotation, "
                            "its bottom row 0 0 0 1)")
    return m


def times(value, what: str = "times") -> np.ndarray:
    """Finite times in seconds, as a 1-D float array (a single number gives one)."""
    try:
        t = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        t = None
    if t is None or t.ndim != 1 or not np.all(np.isfinite(t)):
        raise ArgumentError(f"{what} must be finite numbers (seconds), got {shown(value)}")
    return t


def file_path(value, what: str) -> Path:
    """A file name given as a str or a path-like object."""
    if not isinstance(value, (str, os.PathLike)):
        raise ArgumentError(f"{what} must be a file path (str or Path), got {shown(value)}")
    return Path(value)


def one_of(value, what: str, choices: tuple[str, ...]):
    if not isinstance(value, str) or value not in choices:
        raise ArgumentError(f"{what} must be {' or '.join(map(repr, choices))}, got {shown(value)}")
    return value
