"""Warps of training clips, made as inference makes them: the clip's first frame on its depth mesh,
its moving objects cut out by their frame-0 masks and moved by their motion, seen from every camera
of the clip, by the same renderer (`MeshWarpRenderer`) with the same validity map.

The depth the warp is built from is degraded in a documented mix, so a model learns to correct the
geometry rather than copy its errors (the target is always the true video):
- `true`: the clip's own depth;
- `disparity`: its disparity (1 / depth) blurred (Gaussian, sigma 0 to 2 px), with noise (2 % of
  the mean disparity) and a scale (0.8 to 1.25) and shift (up to 5 % of the mean) error;
- `prior`: the scene depth prior (a ground plane and a backdrop) in place of the depth, what a user
  without a depth map gets;
- `network`: our depth network's depth of the first frame, exactly as a picture without depth gets
  it (`geometry.depth.NetworkDepth`), scaled so its median is the true depth's (one picture has no
  scale, and the clip's camera moves in the truth's units): the errors a photo's walk will have;
- `object_left_out`: the true depth, but one moving object is not moved in the warp, so the tracks
  are the only sign of its motion.
The tracks are degraded with the same depth (`degraded_tracks`): with `disparity`, `prior` and
`network` the engine's tracks of that depth (`TrackField`, objects moved by their masks and motion,
as at inference) replace the true ones; with `true` and `object_left_out` they stay the true ones."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from ..geometry.camera import Camera
from ..geometry.depth import NetworkDepth, PriorDepth
from ..geometry.trackfield import TrackField
from ..raster.mesh_warp import MeshWarpRenderer

KINDS = ("true", "disparity", "prior", "network", "object_left_out")
ESTIMATED = ("disparity", "prior", "network")  # kinds whose tracks come from the warp's own depth


def choose_kind(rng: np.random.Generator, mix: dict[str, float]) -> str:
    kinds = [k for k in KINDS if mix.get(k, 0) > 0]
    p = np.array([mix[k] for k in kinds], float)
    return kinds[int(rng.choice(len(kinds), p=p / p.sum()))]


def degraded_disparity(depth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Depth whose disparity is blurred, noisy and off in scale and shift (see the module docstring)."""
    disp = 1.0 / np.maximum(depth.astype(np.float64), 1e-6)
    mean = float(disp.mean())
    disp = gaussian_filter(disp, sigma=rng.uniform(0.0, 2.0)) + rng.normal(0.0, 0.02 * mean, disp.shape)
    disp = rng.uniform(0.8, 1.25) * disp + rng.uniform(-0.05, 0.05) * mean
    return (1.0 / np.maximum(disp, 0.02 * mean)).astype(np.float32)


def network_depth_like(picture: np.ndarray, K: np.ndarray, truth: np.ndarray, folder: str | None = None) -> np.ndarray:
    """Our depth network's depth of `picture` (the one in `folder`, default the shipped weights), as
    `NetworkDepth` gives it to a picture without depth, scaled so its median is `truth`'s."""
    H, W = truth.shape
    options = NetworkDepth.Options() if folder is None else NetworkDepth.Options(weights=str(folder))
    depth = NetworkDepth(options, Path.cwd()).load(picture, Camera(np.asarray(K, np.float64), W, H))
    scale = float(np.median(truth)) / max(float(np.median(depth)), 1e-9)
    return (depth * scale).astype(np.float32)


def render_warp(picture: np.ndarray, depth: np.ndarray, K: np.ndarray, c2w: np.ndarray, object_slots: np.ndarray,
                object_motion: np.ndarray, mesh_step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The picture on `depth`, objects cut out by their frame-0 slots and moved by their motion,
    seen from every camera c2w [T, 4, 4]: (warp uint8 [T, H, W, 3], validity float32 [T, H, W]);
    `mesh_step` as `MeshWarpRenderer`'s."""
    motion = np.asarray(object_motion, np.float64)
    masks = [object_slots == k + 1 for k in range(motion.shape[1])]
    c2w = np.asarray(c2w, np.float64)
    warp = MeshWarpRenderer(mesh_step=mesh_step)
    try:
        warp.start(picture, depth, np.asarray(K, np.float64), c2w[0], masks)
        return warp.step(c2w, np.asarray(K, np.float64), motion, validity=True)
    finally:
        warp.release()


def degraded_tracks(item: dict, depth: np.ndarray, motion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The engine's tracks of the item's grid of frame-0 pixels made from `depth` instead of the true
    depth (objects cut out by their frame-0 slots and moved by `motion`): (tracks float32 [T, N, 2],
    visibility bool [T, N]), as `world` makes them at inference."""
    H, W = item["video"].shape[1:3]
    n = int(round(np.sqrt(item["tracks"].shape[1])))
    masks = [item["object_slots"] == k + 1 for k in range(motion.shape[1])]
    field = TrackField(depth, Camera(np.asarray(item["K"], np.float64), W, H), np.asarray(item["c2w"][0], np.float64),
                       grid=n, object_masks=masks)
    tracks, vis, _ = field.project(np.asarray(item["c2w"], np.float64), object_transforms=motion)
    return tracks, vis


def clip_warp(item: dict, kind: str, rng: np.random.Generator, with_tracks: bool = False, mesh_step: int = 1,
              depth_network: str | None = None):
    """(warp uint8 [T, H, W, 3], validity float32 [T, H, W]) of a dataset item (numpy arrays; it
    needs video, depth0, K, c2w, object_slots and object_motion) with depth of the given kind. With
    `with_tracks`, also (tracks, visibility) made from that depth (`degraded_tracks`), or the item's
    own where the depth is the true one. `depth_network`: the folder of the `network` kind's
    network (default the shipped weights)."""
    if kind not in KINDS:
        raise ValueError(f"warp depth kind must be one of {KINDS}, got {kind!r}")
    video, depth, K = item["video"], np.asarray(item["depth0"], np.float32), np.asarray(item["K"], np.float64)
    H, W = video.shape[1:3]
    motion = np.asarray(item["object_motion"], np.float64).copy()
    if kind == "disparity":
        depth = degraded_disparity(depth, rng)
    elif kind == "prior":
        depth = PriorDepth(PriorDepth.Options()).load(video[0], Camera(K, W, H))
    elif kind == "network":
        depth = network_depth_like(video[0], K, depth, depth_network)
    elif kind == "object_left_out":
        present = [k for k in range(motion.shape[1]) if (item["object_slots"] == k + 1).any()]
        if present:
            motion[:, int(rng.choice(present))] = np.eye(4)
    warp = render_warp(video[0], depth, K, item["c2w"], item["object_slots"], motion, mesh_step)
    if not with_tracks:
        return warp
    if kind in ESTIMATED:
        return (*warp, *degraded_tracks(item, depth, np.asarray(item["object_motion"], np.float64)))
    return (*warp, np.asarray(item["tracks"], np.float32), np.asarray(item["visibility"], bool))
