"""A picture's depth written to files (`motionworld depth photo.jpg -o photo_depth.png`): a map
that a scene's `depth: {source: file}` reads back, and a colourised preview to look at.

- `.png`: 16-bit, stored value x scale = depth; the scale is chosen so the farthest point is
  near 65,000 and is said in the scene block `save_depth_map` returns;
- `.npy`: float32 depth as it is.
The preview colours disparity (1 / depth) with the turbo map: near is red, far is blue.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import MotionWorldError
from .outputs import check_output_target, replacing

MAX_STORED = 65_000  # the farthest point's 16-bit value (room below 65,535 for rounding)


def check_depth_outputs(picture: Path, outputs: list[Path], force: bool = False) -> None:
    """Before any work: the map is .png or .npy, a preview .png or .jpg; no output is the picture
    or another output; an existing file is replaced only with `force`."""
    suffixes = ((".png", ".npy"), (".png", ".jpg", ".jpeg"))
    seen = {Path(picture).resolve()}
    for i, path in enumerate(outputs):
        path = Path(path)
        if path.suffix.lower() not in suffixes[min(i, 1)]:
            what = "a depth map is written as .png (16-bit) or .npy" if i == 0 else "a preview is a .png or .jpg"
            raise MotionWorldError(f"{path}: {what}, not {path.suffix or 'no suffix'}")
        check_output_target(path)
        if path.resolve() in seen:
            raise MotionWorldError(f"{path}: is the picture or another output of this command; give a name of its own")
        seen.add(path.resolve())
        if path.exists() and not force:
            raise MotionWorldError(f"{path} exists; pass --force to replace it")


def save_depth_map(path: str | Path, depth: np.ndarray) -> dict:
    """Writes `depth` [H, W] to `path` (.png 16-bit or .npy); returns the `depth:` block with which
    a scene file in the same folder reads it back."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".npy"):
        raise MotionWorldError(f"{path}: a depth map is written as .png (16-bit) or .npy, not {suffix or 'no suffix'}")
    depth = np.asarray(depth, np.float32)
    if suffix == ".npy":
        with replacing(path) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, depth)
        return {"source": "file", "path": path.name}
    from PIL import Image

    scale = float(f"{float(depth.max()) / MAX_STORED:.3g}")  # a short number to type into a scene
    stored = np.clip(np.round(depth / scale), 1, 65_535).astype(np.uint16)
    with replacing(path) as tmp:
        Image.fromarray(stored).save(tmp, format="PNG")
    return {"source": "file", "path": path.name, "scale": scale}


def depth_preview(depth: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3]: disparity between its 1st and 99th percentiles through the turbo colour map."""
    import cv2

    disparity = 1.0 / np.asarray(depth, np.float64)
    lo, hi = np.percentile(disparity, [1, 99])
    unit = np.clip((disparity - lo) / max(hi - lo, 1e-12), 0, 1)
    bgr = cv2.applyColorMap((unit * 255).round().astype(np.uint8), cv2.COLORMAP_TURBO)
    return bgr[..., ::-1].copy()


def save_preview(path: str | Path, depth: np.ndarray, picture: np.ndarray | None = None) -> None:
    """The preview as a PNG or JPEG; with `picture`, the two side by side."""
    from PIL import Image

    image = depth_preview(depth)
    if picture is not None:
        image = np.concatenate([np.asarray(picture, np.uint8), image], axis=1)
    path = Path(path)
    with replacing(path) as tmp:
        Image.fromarray(image).save(tmp, format="JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG")
