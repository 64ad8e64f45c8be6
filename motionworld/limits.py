"""Bounds on the work one input can ask for, checked where the input is read and before anything
is allocated, so a typo (`--seconds 1e300`, `w-99999999`, a 20000x20000 PNG) is a one-line error
naming the limit instead of a hang or the process killed for memory."""
from __future__ import annotations

from .errors import MotionWorldError

MAX_SECONDS = 3600.0  # one camera path or render: an hour of video (57,600 frames at 16 fps)
MAX_FRAMES = 57_600  # frames of one action string, path file or render (MAX_SECONDS at 16 fps)
MAX_CLIP_FRAMES = 4096  # frames of one synthetic or held-out clip (held in memory whole)
MAX_CLIPS = 1_000_000  # clips one `data synth` or `eval` run makes
MAX_TRACK_POINTS = 100_000_000  # frames x tracks materialised at once by `motionworld tracks` (~1.3 GB)
MAX_PICTURE_PIXELS = 25_000_000  # a scene picture, mask or depth map (25 MP: 6144x4096; ~90 bytes a pixel to load)
MAX_PICTURE_SIDE = 16_384
MAX_DATA_FILE_BYTES = 64_000_000  # a scene, path file, input log, manifest or training config read whole
MAX_NESTING = 64  # levels of YAML/JSON nesting; scene files use fewer than 10
MAX_YAML_VALUES = 5_000_000  # values (keys, items, scalars) of a YAML file, aliases expanded (~20 MB of scene)
MAX_SEGMENTS = 256  # segments of one camera path (each is a nested step when the path is evaluated)
MAX_OBJECTS = 32  # moving objects of a scene (each holds a mask the size of the picture)
MAX_PATHS = 64  # named camera paths of a scene
MAX_SEED = 2**32 - 1
MAX_CONFIG_INT = 1 << 20  # any integer in a model config (widths, layers, vocab sizes)
MAX_SCENE_NUMBER = 1e6  # any real number in a scene file (world units, degrees, pixels): far from float32's overflow


def check_file_size(path, limit: int | None = None) -> None:
    """A data file read whole must not be larger than `limit` bytes (default MAX_DATA_FILE_BYTES);
    ValueError naming the limit."""
    import os

    limit = MAX_DATA_FILE_BYTES if limit is None else limit
    size = os.stat(path).st_size
    if size > limit:
        raise ValueError(f"the file is {size / 1e6:.0f} MB, over the {limit / 1e6:g} MB limit for a data file")


def check_seconds(seconds: float | None, what: str = "--seconds") -> None:
    """A length of video asked for: None (the whole path) or a positive number up to MAX_SECONDS."""
    if seconds is None:
        return
    if not (isinstance(seconds, (int, float)) and 0 < seconds <= MAX_SECONDS):  # also refuses NaN
        raise MotionWorldError(f"{what} must be a positive number of at most {MAX_SECONDS:g} s, got {seconds}")


def check_seed(seed: int | None, what: str = "--seed") -> None:
    if seed is not None and not (isinstance(seed, int) and 0 <= seed <= MAX_SEED):
        raise MotionWorldError(f"{what} must be a whole number in [0, {MAX_SEED}], got {seed}")


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


MALLOC_ARENAS = 2  # glibc's default is 8 per core: with torch's and the player's threads, a long stream's
# RSS then wanders 100-160 MB above what it uses (benchmarks/soak.py: 860-916 MB vs flat 754 MB at 2)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (before threads start); False where not glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(-8, int(arenas)))  # -8 = M_ARENA_MAX
    except (OSError, AttributeError):
        return False
