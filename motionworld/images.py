"""Reading still images (scene pictures, masks and depth maps) with clear errors.

The size in an image's header is checked against the picture limit before any pixel is decoded, so
a file claiming 20000x20000 (or a real 90-megapixel PNG) is a one-line error, not gigabytes of memory.
Every image is read upright: its EXIF orientation (a phone stores a portrait photo sideways and says
so in a tag) is applied, and the size checked and said is the upright size.
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
ORIENTATION_TAG = 0x0112  # EXIF: how the stored pixels are turned and flipped to be shown


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


def orientation(im) -> int:
    """The EXIF orientation (1-8) of an opened image, read without decoding its pixels: 1 (as
    stored) where it has none, or a broken one. A PNG's eXIf chunk counts only before the pixel
    data: Pillow would decode the whole picture to look for a later one (phones write JPEGs)."""
    if im.format == "PNG" and "exif" not in im.info:
        return 1
    try:
        value = im.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # Pillow's EXIF parser raises many kinds on a corrupt block; the pixels still read
        return 1
    return value if value in range(1, 9) else 1


@contextmanager
def open_image(path: Path, what: str):
    """PIL's Image for `path`, upright (its EXIF orientation applied), its header size checked as
    shown (width and height swapped by a quarter turn); decoding errors become one line naming `what`."""
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
        turn = orientation(im)
        width, height = im.size
        check_picture_size(*((height, width) if turn >= 5 else (width, height)), f"{what} {path.name}")
        try:
            # 2-8: mirrored, turned half or a quarter (Pillow's exif_transpose table, without its full load and copy)
            method = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                      4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                      6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                      8: Image.Transpose.ROTATE_90}.get(turn)
            yield im if method is None else im.transpose(method)
        except (OSError, ValueError, SyntaxError) as e:  # truncated or corrupt pixel data
            raise MotionWorldError(f"cannot read {what} {path.name}: {e}") from None


def read_rgb(path: str | Path) -> np.ndarray:
    """uint8 [H, W, 3], upright (EXIF orientation applied). Alpha is composited on black;
    greyscale is repeated to RGB."""
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
    """bool [H, W], upright like read_rgb: pixels whose value (or alpha, if present) is non-zero."""
    path = Path(path)
    if not path.is_file():
        raise MotionWorldError(f"mask not found: {path}")
    with open_image(path, "mask") as im:
        im.load()
        a = np.asarray(im)
    if a.ndim == 3:
        a = a[..., 3] if a.shape[-1] in (2, 4) else a.max(axis=-1)
    return a > 0
