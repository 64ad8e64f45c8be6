"""The videos the evaluation compares, each made from a held-out item's first frame, caption,
camera and tracks (uint8 [T, H, W, 3], frame 0 the given picture):

- `hold_first`: the first frame held still (the floor any method must beat);
- `warp_gt`: the reference renderer, the first frame on its ground-truth depth mesh, seen from
  every ground-truth camera, objects not moved (the row reports before 2026-12-03 carry);
- `warp_moved`: the same with the moving objects cut out by their true frame-0 masks and moved by
  their true motion, as `render --backend warp` does with a scene's objects; with its validity map
  (where the picture itself is seen), which also splits every method's PSNR and SSIM;
- `inpainted`: a warp with its invalid pixels filled by classical inpainting (OpenCV's Telea),
  the strongest cheap baseline for what geometry cannot give; `pull_push_filled` the same with the
  pyramid fill a guide with `guide_fill` reads (about as good, a third of the cost);
- `vae_roundtrip`: the true clip encoded and decoded by the model's VAE: what a model that produced
  the true latents exactly would show, so the ceiling of every latent method here;
- `stream_student`: the streaming student, chunk by chunk through its sink + rolling cache (with
  `finish=hard_paste`, its frames with the warp's valid pixels pasted over them instead of its
  guided decoder: the baseline a guided decoder has to beat);
- `teacher_video`: the bidirectional teacher over the whole clip with joint guidance;
- `prior_tracks`: the tracks a user would get without ground-truth depth (the scene depth prior
  lifted through the true cameras; it knows nothing of moving objects, so their points move with
  the static world), to drive the student with;
- `network_depth_tracks`: our depth network's depth of the first frame (median-scaled to the truth,
  as the `network` warp depth of training is) and the engine's tracks from it, moving objects cut
  out by their masks and moved: what a photo without depth gets from our network.

Clips are at the frames' size. For a model whose guided decoder paints out further
(`VAEConfig.output_scale`), `model_view` is what its DiT sees of a clip: the picture at the model's
size (resized as the neural backend resizes it) and the tracks in its pixels.
"""
from __future__ import annotations

import numpy as np
import torch

from ..data.dataset import collate
from ..data.views import model_view, stream_clip
from ..data.warps import degraded_tracks, network_depth_like, render_warp
from ..geometry.camera import Camera
from ..geometry.depth import PriorDepth
from ..geometry.trackfield import TrackField
from ..model.guided_decoder import downscaled, pull_push_fill
from ..model.teacher_sampling import sample_teacher
from ..model.tiny_vae import to_uint8_frames
from ..raster.mesh_warp import MeshWarpRenderer


def hold_first(item: dict) -> np.ndarray:
    return np.repeat(item["video"][:1], len(item["video"]), axis=0)


def warp_gt(item: dict) -> np.ndarray:

    warp = MeshWarpRenderer()
    try:
        warp.start(item["video"][0], item["depth"][0], item["K"], item["c2w"][0])
        return warp.step(item["c2w"].astype(np.float64), item["K"])
    finally:
        warp.release()


def warp_moved(item: dict, depth: np.ndarray | None = None, mesh_step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The warp with objects moved as at inference: frames uint8 [T,H,W,3] and validity float32
    [T,H,W], from the true depth or `depth` (e.g. `prior_depth(item)`); `mesh_step` as the
    renderer's (a guided student's warp: its output scale, one vertex per model pixel)."""
    return render_warp(item["video"][0], item["depth"][0] if depth is None else depth, item["K"], item["c2w"],
                       item["object_slots"], item["object_motion"], mesh_step)


INPAINT_RADIUS = 3  # pixels around a hole that Telea's method draws from


def inpainted(frames: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """`frames` with every pixel where `valid` is 0 filled by cv2.inpaint (Telea), frame by frame."""
    import cv2

    out = frames.copy()
    for t in range(len(frames)):
        holes = (valid[t] < 0.5).astype(np.uint8)
        if holes.any():
            out[t] = cv2.inpaint(np.ascontiguousarray(frames[t]), holes, INPAINT_RADIUS, cv2.INPAINT_TELEA)
    return out


def pull_push_filled(frames: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """`frames` with every pixel where `valid` is 0 filled by `guided_decoder.pull_push_fill`."""
    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0
    mask = torch.from_numpy(np.asarray(valid, np.float32) > 0.5).float()[:, None]
    return to_uint8_frames(pull_push_fill(video, mask)).numpy()


def prior_depth(item: dict) -> np.ndarray:
    """The scene depth prior for the item's first frame: what a user without a depth map has."""
    H, W = item["video"].shape[1:3]
    return PriorDepth(PriorDepth.Options()).load(item["video"][0], Camera(item["K"].astype(np.float64), W, H))


def prior_tracks(item: dict, grid: int | None = None, depth: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Tracks [T, N, 2] and visibility from the depth prior (`depth`, default `prior_depth(item)`)
    instead of the true depth, for the same grid of first-frame pixels (N must match the item's tracks)."""
    H, W = item["video"].shape[1:3]
    camera = Camera(item["K"].astype(np.float64), W, H)
    depth = prior_depth(item) if depth is None else depth
    n = grid or int(round(np.sqrt(item["tracks"].shape[1])))
    field = TrackField(depth, camera, item["c2w"][0].astype(np.float64), grid=n)
    tracks, vis, _ = field.project(item["c2w"].astype(np.float64))
    return tracks, vis


def network_depth_tracks(item: dict, folder: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(depth [H, W], tracks [T, N, 2], visibility [T, N]) of the item from our depth network in
    `folder` (default the shipped weights), as `network_depth_like` and `degraded_tracks` make them."""
    depth = network_depth_like(item["video"][0], item["K"], item["depth"][0], folder)
    tracks, vis = degraded_tracks(item, depth, np.asarray(item["object_motion"], np.float64))
    return depth, tracks, vis


def _unit_frames(video: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1, 2).to(like.device, like.dtype)[None] / 255.0


def _warp_tensors(warp, like: torch.Tensor):
    frames, valid = warp
    return _unit_frames(frames, like), torch.from_numpy(np.asarray(valid, np.float32)).to(like.device, like.dtype)[None]


@torch.no_grad()
def vae_roundtrip(vae, item: dict, warp=None) -> np.ndarray:
    """The true clip through the VAE; a guided one encodes it at the model's size and decodes with
    `warp` ((frames, validity) at the clip's size, default `warp_moved(item)`)."""
    weight = next(vae.parameters())
    scale = vae.config.output_scale
    video = _unit_frames(model_view(item, scale, frames=True)["video"], weight)
    kwargs = {}
    if vae.config.guided:
        kwargs["warp"], kwargs["valid"] = _warp_tensors(warp if warp is not None else warp_moved(item, mesh_step=scale),
                                                        weight)
    frames = vae.decode(vae.encode(video), **kwargs)[0]
    return to_uint8_frames(frames).numpy()[: len(item["video"])]


def stream_student(student, item: dict, tracks=None, visibility=None, seed: int = 0, warp=None,
                   finish=None) -> np.ndarray:
    """`data.views.stream_clip`, with the warp a student that sees it gets by default: the item's
    warp with its objects moved, one mesh vertex per model pixel (`warp_moved`)."""
    if student.sees_warp and warp is None and "object_slots" in item:
        warp = warp_moved(item, mesh_step=student.config.vae.output_scale)
    return stream_clip(student, item, tracks, visibility, seed, warp, finish)


@torch.no_grad()
def teacher_video(modules, config, item: dict, steps: int = 24, w_t: float = 3.0, w_m: float = 1.5,
                  seed: int = 0, warp=None) -> np.ndarray:
    """The bidirectional teacher's sample of the whole clip (joint guidance: 1 NFE per step, plus one
    per non-zero weight). A teacher that sees the warp gets `warp` (default `warp_moved(item)`), at
    its own size for its DiT and at the clip's for its guided decoder."""

    T = len(item["video"])
    vae = modules.vae
    scale = vae.config.output_scale
    if (config.dit.warp_channels or vae.config.guided) and warp is None:
        warp = warp_moved(item, mesh_step=scale)
    view = model_view(item, scale)  # the first frame at the model's size is all the sampler reads of the video
    sample = {k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in view.items()}
    sample["video"] = sample["video"][:1].expand(T, -1, -1, -1)
    batch = collate([sample], T)
    weight = next(modules.parameters())
    if warp is not None and config.dit.warp_channels:
        frames, valid = _warp_tensors(warp, weight)  # the teacher's DiT reads it at its own size
        batch["warp"], batch["warp_valid"] = downscaled(frames, scale), downscaled(valid[:, :, None], scale)[:, :, 0]
    gen = torch.Generator().manual_seed(seed)
    x0, _, _ = sample_teacher(modules, config, batch, gen, steps, w_t, w_m)
    kwargs = {}
    if vae.config.guided:
        kwargs["warp"], kwargs["valid"] = _warp_tensors(warp, weight)
    video = vae.decode(x0.transpose(1, 2), **kwargs)[0]
    return to_uint8_frames(video).numpy()[:T]
