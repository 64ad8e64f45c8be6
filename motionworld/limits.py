"""Bounds on the work one input can ask for, checked where the input is read and before anything
is allocated, so a typo (`--seconds 1e300`, `w-99999999`, a 20000x20000 PNG) is a one-line error
naming the limit instead of a hang or the process killed for memory."""
from __future__ import annotations

import re

from .errors import MotionWorldError

MAX_SECONDS = 3600.0  # one camera path or render: an hour of video (57,600 frames at 16 fps)
MAX_FRAMES = 57_600  # frames of one action string, path file or render (MAX_SECONDS at 16 fps)
MAX_TRACK_POINTS = 100_000_000  # frames x tracks materialised at once by `motionworld tracks` (~1.3 GB)
MAX_PICTURE_PIXELS = 25_000_000  # a scene picture, mask or depth map (25 MP: 6144x4096; ~90 bytes a pixel to load)
MAX_PICTURE_SIDE = 16_384
MAX_NESTING = 64  # levels of YAML/JSON nesting; scene files use fewer than 10
MAX_YAML_VALUES = 1_000_000  # values a YAML file may expand to through its aliases
MAX_SEGMENTS = 256  # segments of one camera path (each is a nested step when the path is evaluated)
MAX_OBJECTS = 32  # moving objects of a scene (each holds a mask the size of the picture)
MAX_PATHS = 64  # named camera paths of a scene
MAX_SEED = 2**32 - 1
MAX_CONFIG_INT = 1 << 20
MAX_SCENE_NUMBER = 1e6  # any number in a scene file (world units, degrees, pixels): float32 stays exact enough  # any integer in a model config (widths, layers, vocab sizes)


def check_seconds(seconds: float | None, what: str = "--seconds") -> None:
    """A length of video asked for: None (the whole path) or a positive number up to MAX_SECONDS."""
    if seconds is None:
        return
    if not (isinstance(seconds, (int, float)) and 0 < seconds <= MAX_SECONDS):  # also refuses NaN
        raise MotionWorldError(f"{what} must be a positive number of at most {MAX_SECONDS:g} s, got {seconds}")


def check_seed(seed: int | None, what: str = "--seed") -> None:
    if seed is not None and not (isinstance(seed, int) and 0 <= seed <= MAX_SEED):
        raise MotionWorldError(f"{what} must be a whole number in [0, {MAX_SEED}], got {seed}")


def check_json_nesting(text: str, limit: int = MAX_NESTING) -> None:
    """Refuse JSON nested deeper than `limit` before the (recursive) parser meets it. Brackets in
    strings count too, which can only make this stricter for odd files."""
    depth = 0
    for m in _BRACKETS.finditer(text):
        depth += 1 if m.group() in "[{" else -1
        if depth > limit:
            raise ValueError(f"nested deeper than {limit} levels")


_BRACKETS = re.compile(r"[\[\]{}]")


def check_scene_number(value):
    """A pydantic after-validator for every field of a scene schema: real numbers (also inside
    tuples and lists) within +/-MAX_SCENE_NUMBER, so nothing downstream overflows float32 (tracks, GL)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, float) and abs(v) > MAX_SCENE_NUMBER:  # ints (seeds, counts) have their own bounds
            raise ValueError(f"must be within +/-{MAX_SCENE_NUMBER:g} (got {v:g})")
    return value
