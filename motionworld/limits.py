"""Bounds on the work one input can ask for, checked where the input is read and before anything
is allocated, so a typo (`--seconds 1e300`, `w-99999999`, a 20000x20000 PNG) is a one-line error
naming the limit instead of a hang or the process killed for memory."""
from __future__ import annotations

from .errors import MotionWorldError
from .inputs import special_kind

MAX_FRAME_SECONDS = 1.0  # live input: one video frame covers at most this much of the player's time
MAX_SECONDS = 3600.0  # one camera path or render: an hour of video (57,600 frames at 16 fps)
MAX_FRAMES = 57_600  # frames of one action string, path file or render (MAX_SECONDS at 16 fps)
MAX_CLIP_FRAMES = 4096  # frames of one synthetic or held-out clip (held in memory whole)
MAX_CLIPS = 1_000_000  # clips one `data synth` or `eval` run makes
MAX_TRACK_POINTS = 100_000_000  # frames x tracks materialised at once by `motionworld tracks` (~1.3 GB)
MAX_PICTURE_PIXELS = 25_000_000  # a scene picture, mask or depth map (25 MP: 6144x4096; ~90 bytes a pixel to load)
MAX_PICTURE_SIDE = 16_384
MAX_GIF_BYTES = 1 << 30  # raw frames (H x W x 3 each) a GIF output holds: Pillow writes a GIF whole, from memory
# (about 1.8 times this at its peak); 1456 frames of 640x384, 91 s at 16 fps. Longer: .mp4 or .webm
MAX_DATA_FILE_BYTES = 64_000_000  # a scene, path file, input log, manifest or training config read whole
MAX_NESTING = 64  # levels of YAML/JSON nesting; scene files use fewer than 10
MAX_YAML_VALUES = 5_000_000  # values (keys, items, scalars) of a YAML file, aliases expanded (~20 MB of scene)
MAX_SEGMENTS = 256  # segments of one camera path (each is a nested step when the path is evaluated)
MAX_OBJECTS = 32  # moving objects of a scene (each holds a mask the size of the picture)
MAX_PATHS = 64  # named camera paths of a scene
MAX_SEED = 2**32 - 1
MAX_CONFIG_INT = 1 << 20  # any integer in a model config (widths, layers, vocab sizes)
DEPTH_RANGE = (1e-4, 1e6)  # world units a depth map may hold: a ratio of 1e10 keeps projections finite in float32
MAX_SCENE_NUMBER = 1e6  # any real number in a scene file (world units, degrees, pixels): far from float32's overflow


def check_file_size(path, limit: int | None = None) -> None:
    """A data file read whole must be a regular file of at most `limit` bytes (default
    MAX_DATA_FILE_BYTES); ValueError naming what is wrong."""
    import os
    import stat

    limit = MAX_DATA_FILE_BYTES if limit is None else limit
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):  # reading a FIFO or a device would block or never end
        raise ValueError(f"it is {special_kind(st.st_mode)}, not a file")
    size = st.st_size
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


def check_depth_range(depth, what: str) -> None:
    """A depth map's values must be finite and within DEPTH_RANGE (1e31 or 1e-29 overflows the
    projections to inf); MotionWorldError naming the values found."""
    import numpy as np

    low, high = DEPTH_RANGE
    finite = np.isfinite(depth)
    if not finite.all():
        raise MotionWorldError(f"{what} has {int((~finite).sum())} NaN or infinite values")
    lo, hi = float(depth.min()), float(depth.max())
    if lo < low or hi > high:
        raise MotionWorldError(f"{what} holds depths from {lo:.3g} to {hi:.3g} units; depth must lie in [{low:g}, "
                               f"{high:g}] units (depth.scale says what one stored value is)")


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


# The config budget (`model.budget`): what a model config, e.g. one read from a weights manifest, may
# ask for, checked before anything is built. Counts the modules loop over are bounded outright; the
# widths are bounded by the memory the config's estimate comes to.
MAX_CHUNK_LATENTS = 16  # latent frames of one chunk (64 video frames; the shipped models use 3)
MAX_SINK_CHUNKS = 16  # chunks the KV cache keeps from the start (the shipped models: 1)
MAX_WINDOW_CHUNKS = 64  # most recent chunks the KV cache keeps (the shipped models: 1; bench compares 6)
MAX_SAMPLER_STEPS = 50  # noise levels of the student's sampler (a few-step student uses 1-4)
MAX_MODEL_LAYERS = 64  # transformer layers of a DiT or text encoder (Wan 2.1 1.3B: 30, 14B: 40)
MAX_MODEL_BLOCKS = 16  # residual blocks per VAE stage, conv layers of a guided decoder or warp encoder
MAX_MODEL_SIDE = 4096  # a model's frame height or width in pixels (Wan 2.1 is trained up to 1280x720)
MAX_ROPE_POSITIONS = 8192  # a DiT's RoPE table (Wan: 1024; the cache above uses at most 81 x 16 = 1296)
MODEL_MEMORY_FLOOR = 24e9  # bytes a model config may always ask for (estimated at float32), whatever this
# machine's memory: Wan 1.3B at 832x480, the largest supported configuration, comes to about 19.4 GB (9.7 GB
# at bfloat16, against the 9.8 GB peak measured on an H200 in docs/model.md)
