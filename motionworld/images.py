"""Reading still images (scene pictures, masks and depth maps) with clear errors.

The size in an image's header is checked against the picture limit before any pixel is decoded, so
a file claiming 20000x20000 (or a real 90-megapixel PNG) is a one-line error, not gigabytes of memory.
"""
from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import MotionWorldError
from .limits import MAX_PICTURE_PIXELS, MAX_PICTURE_SIDE

SUPPORTED = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")


def check_picture_size(width: int, height: int, what: str) -> None:
    if width > MAX_PICTURE_SIDE or height > MAX_PICTURE_SIDE or width * height > MAX_PICTURE_PIXELS:
        raise MotionWorldError(f"{what} is {width}x{height} ({width * height / 1e6:.1f} MP), over the limit of "
                               f"{MAX_PICTURE_PIXELS / 1e6:g} MP and {MAX_PICTURE_SIDE} px a side; scale it down")


def size_for_budget(width: int, height: int, pixels: int, multiple: int = 16) -> tuple[int, int]:
    """(w, h), both multiples of `multiple`, with about `pixels` pixels and the aspect of width x
    height: the candidate closest in aspect (log ratio), a tenth of the weight on the pixel count."""
    aspect = width / height
    best, cost = None, float("inf")
    for h in range(multiple, 4 * int(math.sqrt(pixels)) + multiple, multiple):
        w = max(multiple, round(aspect * h / multiple) * multiple)
        c = abs(math.log(w / h / aspect)) + 0.1 * abs(math.log(w * h / pixels))
        if c < cost:
            best, cost = (w, h), c
    return best


@contextmanager
def open_image(path: Path, what: str):
    """PIL's Image for `path`, its header size checked; decoding errors become one line naming `what`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit is lower
            im = Image.open(path)
    except Image.DecompressionBombError:
        raise MotionWorldError(f"{what} {path.name}: its header claims more than {MAX_PICTURE_PIXELS / 1e6:g} MP, "
                               "the picture limit") from None
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise MotionWorldError(f"cannot read {what} {path.name}: {e}") from None
    with im:
        check_picture_size(*im.size, f"{what} {path.name}")
        try:
            yield im
        except (OSError, ValueError, SyntaxError) as e:  # truncated or corrupt pixel data
            raise MotionWorldError(f"cannot read {what} {path.name}: {e}") from None


def read_rgb(path: str | Path) -> np.ndarray:
    """uint8 [H, W, 3]. Alpha is composited on black; greyscale is repeated to RGB."""
    path = Path(path)
    if not path.is_file():
        raise MotionWorldError(f"image not found: {path}")
    if path.suffix.lower() not in SUPPORTED:
        raise MotionWorldError(f"unsupported image format {path.suffix!r} for {path.name} (use {', '.join(SUPPORTED)})")
    with open_image(path, "image") as im:
        im.load()
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = np.asarray(im.convert("RGBA")).astype(np.float32) / 255.0
            return np.round(rgba[..., :3] * rgba[..., 3:] * 255.0).astype(np.uint8)
        if im.mode in ("I;16", "I", "F"):
            raise MotionWorldError(f"{path.name} is a {im.mode} single-channel image, not a picture")
        return np.asarray(im.convert("RGB")).copy()


def read_mask(path: str | Path) -> np.ndarray:
    """bool [H, W]: pixels whose value (or alpha, if present) is non-zero."""
    path = Path(path)
    if not path.is_file():
        raise MotionWorldError(f"mask not found: {path}")
    with open_image(path, "mask") as im:
        im.load()
        a = np.asarray(im)
    if a.ndim == 3:
        a = a[..., 3] if a.shape[-1] in (2, 4) else a.max(axis=-1)
    return a > 0
