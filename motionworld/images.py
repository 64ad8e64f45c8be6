"""Reading still images (scene pictures and masks) with clear errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import MotionWorldError

SUPPORTED = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")


def read_rgb(path: str | Path) -> np.ndarray:
    """uint8 [H, W, 3]. Alpha is composited on black; greyscale is repeated to RGB."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise MotionWorldError(f"image not found: {path}")
    if path.suffix.lower() not in SUPPORTED:
        raise MotionWorldError(f"unsupported image format {path.suffix!r} for {path.name} (use {', '.join(SUPPORTED)})")
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                im = im.convert("RGBA")
                rgba = np.asarray(im).astype(np.float32) / 255.0
                return np.round(rgba[..., :3] * rgba[..., 3:] * 255.0).astype(np.uint8)
            if im.mode in ("I;16", "I", "F"):
                raise MotionWorldError(f"{path.name} is a {im.mode} single-channel image, not a picture")
            return np.asarray(im.convert("RGB")).copy()
    except MotionWorldError:
        raise
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise MotionWorldError(f"cannot read image {path.name}: {e}") from None


def read_mask(path: str | Path) -> np.ndarray:
    """bool [H, W]: pixels whose value (or alpha, if present) is non-zero."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise MotionWorldError(f"mask not found: {path}")
    try:
        with Image.open(path) as im:
            im.load()
            a = np.asarray(im)
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise MotionWorldError(f"cannot read mask {path.name}: {e}") from None
    if a.ndim == 3:
        a = a[..., 3] if a.shape[-1] in (2, 4) else a.max(axis=-1)
    return a > 0
