"""Depth sources: where the z-depth of the first frame comes from.

Each source is a plugin (entry point group `motionworld.depth_sources`) with an `Options` schema
(the keys it accepts under the scene's `depth:`) and `load(image, camera) -> depth [H, W] float32`,
z-depth along the optical axis in world units, every value finite and > 0.

- `file`: a depth or disparity map from a 16-bit PNG, .npy or .npz, times `scale`.
- `prior` (the default): a crude ground-plane + backdrop guess from the horizon row. It knows
  nothing about the image content; it is there so any picture can be walked into at once.
- `estimator`: a monocular depth model from a local folder through `transformers` (optional
  extra `depth`). Relative outputs are mapped to [near, far].
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from ..errors import DepthError, MotionWorldError
from ..images import check_picture_size, open_image
from ..scene_schema import SceneModel
from .camera import Camera


def _check_depth(depth: np.ndarray, camera: Camera, what: str, key: str = "path") -> np.ndarray:
    if depth.ndim == 3 and depth.shape[-1] == 1:
        depth = depth[..., 0]
    if depth.ndim != 2:
        raise DepthError(f"{what} must be a 2-D map, got shape {tuple(depth.shape)}", key)
    if depth.shape != (camera.height, camera.width):
        raise DepthError(f"{what} is {depth.shape[1]}x{depth.shape[0]} but the image is "
                         f"{camera.width}x{camera.height}", key)
    return depth.astype(np.float32)


class FileDepth:
    name = "file"

    class Options(SceneModel):
        source: Literal["file"] = "file"
        path: str
        kind: Literal["depth", "disparity"] = "depth"
        scale: float = Field(1.0, gt=0, description="stored value x scale = depth (or disparity)")
        key: str | None = Field(None, description="array name inside an .npz (default: 'depth' or the only one)")
        fill_invalid: bool = Field(False, description="replace zero/negative values by the farthest valid depth")

    def __init__(self, options: FileDepth.Options, base_dir: Path):
        self.options = options
        self.path = (base_dir / options.path).resolve()

    def _read(self) -> np.ndarray:
        path, suffix = self.path, self.path.suffix.lower()
        if not path.is_file():
            raise DepthError(f"depth file not found: {path}", "path")
        try:
            if suffix == ".npy":
                shape = np.load(path, mmap_mode="r", allow_pickle=False).shape  # the header only
                _check_map_size(shape, path)
                return np.load(path, allow_pickle=False)
            if suffix == ".npz":
                with np.load(path, allow_pickle=False) as z:
                    names = list(z.keys())
                    key = self.options.key or ("depth" if "depth" in names else (names[0] if len(names) == 1 else None))
                    if key not in names:
                        raise DepthError(f"{path.name} holds {names}; say which with depth.key", "key")
                    shape = _npz_member_shape(z, key)  # its header, before the (compressed) data is inflated
                    _check_map_size(shape, path)
                    return z[key]
            if suffix in (".png", ".tif", ".tiff"):
                with open_image(path, "depth map") as im:
                    if im.mode in ("RGB", "RGBA", "P"):
                        raise DepthError(f"{path.name} is a colour image ({im.mode}); depth must be a "
                                         "single-channel 16-bit (or 8-bit/float) image", "path")
                    return np.array(im)
        except DepthError:
            raise
        except MotionWorldError as e:  # over the picture limit, or unreadable pixels
            raise DepthError(str(e), "path") from None
        except Exception as e:  # a corrupt file of any kind: one clear line
            raise DepthError(f"cannot read depth file {path.name}: {e}", "path") from None
        raise DepthError(f"unsupported depth file type {suffix!r} (use .png 16-bit, .npy or .npz)", "path")

    def load(self, image: np.ndarray, camera: Camera) -> np.ndarray:
        raw = self._read()
        if not np.issubdtype(raw.dtype, np.number):
            raise DepthError(f"depth file {self.path.name} does not hold numbers", "path")
        values = _check_depth(np.asarray(raw, dtype=np.float64), camera, f"depth map {self.path.name}")
        if not np.all(np.isfinite(values)):
            raise DepthError(f"depth map {self.path.name} has {int((~np.isfinite(values)).sum())} NaN/inf values", "path")
        values = values * self.options.scale
        invalid = values <= 0
        if invalid.all():
            raise DepthError(f"depth map {self.path.name} has no positive values", "path")
        if self.options.kind == "disparity":
            values = np.where(invalid, 0.0, 1.0 / np.where(invalid, 1.0, values))
        if invalid.any():
            if not self.options.fill_invalid:
                raise DepthError(f"depth map {self.path.name} has {int(invalid.sum())} zero/negative values "
                                 "(set depth.fill_invalid: true to treat them as far)", "path")
            values = np.where(invalid, values[~invalid].max(), values)
        return values.astype(np.float32)


def _check_map_size(shape: tuple, path: Path) -> None:
    """[H, W] or [H, W, 1] against the picture limit (other shapes are refused later, by _check_depth)."""
    h, w = (shape[0], shape[1]) if len(shape) >= 2 else (1, int(np.prod(shape)))
    check_picture_size(int(w), int(h) * int(np.prod(shape[2:], dtype=np.int64)), f"depth map {path.name}")


def _npz_member_shape(z, key: str) -> tuple:
    with z.zip.open(key + ".npy") as f:
        major, _ = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        return read(f)[0]


class PriorDepth:
    name = "prior"

    class Options(SceneModel):
        source: Literal["prior"] = "prior"
        horizon: float = Field(0.5, ge=0.0, le=1.0, description="horizon row as a fraction of height from the top")
        camera_height: float = Field(1.6, gt=0, description="camera height above the ground, world units")
        backdrop: float = Field(25.0, gt=0, description="distance of the backdrop wall, world units")

    def __init__(self, options: PriorDepth.Options, base_dir: Path | None = None):
        self.options = options

    def pitch_deg(self, camera: Camera) -> float:
        """Camera pitch (look up +) that puts the horizon on the chosen row."""
        v_h = self.options.horizon * camera.height - 0.5
        return float(np.degrees(np.arctan2(v_h - camera.K[1, 2], camera.K[1, 1])))

    def load(self, image: np.ndarray | None, camera: Camera) -> np.ndarray:
        H, W = camera.height, camera.width
        v, u = np.mgrid[0:H, 0:W].astype(np.float64)
        K = camera.K
        d = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)
        p = np.radians(self.pitch_deg(camera))
        # Rx(p): camera ray -> gravity-aligned frame (y down).
        dy = np.cos(p) * d[..., 1] - np.sin(p) * d[..., 2]
        dz = np.sin(p) * d[..., 1] + np.cos(p) * d[..., 2]
        far = self.options.backdrop
        with np.errstate(divide="ignore", invalid="ignore"):
            t_ground = np.where(dy > 1e-9, self.options.camera_height / dy, np.inf)
            t_wall = np.where(dz > 1e-9, far / dz, np.inf)
        depth = np.minimum(t_ground, t_wall)
        depth = np.where(np.isfinite(depth), depth, far * 4.0)  # rays pointing up and back
        return np.clip(depth, 1e-3, far * 4.0).astype(np.float32)


class EstimatorDepth:
    name = "estimator"

    class Options(SceneModel):
        source: Literal["estimator"] = "estimator"
        model: str = Field(description="local folder of a transformers depth-estimation model")
        output: Literal["auto", "depth", "disparity"] = "auto"
        near: float = Field(1.0, gt=0, description="depth given to the nearest point of a relative output")
        far: float = Field(30.0, gt=0, description="depth given to the farthest point of a relative output")
        scale: float = Field(1.0, gt=0, description="metric outputs are multiplied by this")

    def __init__(self, options: EstimatorDepth.Options, base_dir: Path):
        self.options = options
        self.model_dir = (base_dir / options.model).resolve()

    def load(self, image: np.ndarray, camera: Camera) -> np.ndarray:
        try:
            import torch
            from transformers import AutoImageProcessor, AutoModelForDepthEstimation
        except ImportError:
            raise DepthError("depth source 'estimator' needs transformers: pip install 'motionworld[depth]'", "source") from None
        if not self.model_dir.is_dir():
            raise DepthError(f"estimator model folder not found: {self.model_dir}", "model")
        from PIL import Image

        try:
            processor = AutoImageProcessor.from_pretrained(self.model_dir, local_files_only=True)
            model = AutoModelForDepthEstimation.from_pretrained(self.model_dir, local_files_only=True).eval()
        except Exception as e:
            raise DepthError(f"cannot load depth model from {self.model_dir}: {str(e).splitlines()[0]}", "model") from None
        with torch.no_grad():
            inputs = processor(images=Image.fromarray(image), return_tensors="pt")
            pred = model(**inputs).predicted_depth
            pred = torch.nn.functional.interpolate(pred[:, None].float(), size=(camera.height, camera.width),
                                                   mode="bicubic", align_corners=False)[0, 0].numpy()
        output = self.options.output
        if output == "auto":
            output = "depth" if getattr(model.config, "depth_estimation_type", "relative") == "metric" else "disparity"
        if output == "depth":
            return np.clip(pred * self.options.scale, 1e-3, None).astype(np.float32)
        lo, hi = np.percentile(pred, [1, 99])
        norm = np.clip((pred - lo) / max(hi - lo, 1e-12), 0.0, 1.0)  # 1 = nearest
        inv = norm * (1.0 / self.options.near - 1.0 / self.options.far) + 1.0 / self.options.far
        return (1.0 / inv).astype(np.float32)
