"""Exact point tracks of a rendered world.

A track starts at a grid pixel of frame 0. The data pass gives that pixel's camera depth and the
slot of the object it shows, so the surface point is K^-1 (x, y, 1) * z in camera 0, carried into
its object's local frame; in frame t it moves with that object and is projected with frame t's
camera. Visibility in frame t: in front of the near plane, inside the image, and not hidden by
the surface frame t actually shows. "Hidden" uses frame t's depth buffer at the projected
position: the point is occluded when the depth of every one of the four pixel centres around it
is nearer than the point by more than `tolerance` (relative). Taking the farthest of the four
keeps a point beside a silhouette visible, as the engine's own track field does.
"""
from __future__ import annotations

import numpy as np

from ...geometry.camera import invert_pose
from ...geometry.trackfield import grid_pixels

TOLERANCE = 0.01


def footprint_depth(depth: np.ndarray, xy: np.ndarray, frame: np.ndarray | None = None) -> np.ndarray:
    """The farthest buffer depth among the four pixel centres around each position xy [N, 2].

    depth is one map [H, W], or a stack [T, H, W] with `frame` [N] saying which map each position
    is looked up in."""
    H, W = depth.shape[-2:]
    x0 = np.floor(xy[:, 0]).astype(int)
    y0 = np.floor(xy[:, 1]).astype(int)
    xs = np.clip(np.stack([x0, x0 + 1, x0, x0 + 1]), 0, W - 1)
    ys = np.clip(np.stack([y0, y0, y0 + 1, y0 + 1]), 0, H - 1)
    if frame is None:
        return depth[ys, xs].max(axis=0)
    return depth[frame[None], ys, xs].max(axis=0)


def surface_tracks(depth: np.ndarray, slots0: np.ndarray, K: np.ndarray, c2w: np.ndarray, objects: np.ndarray,
                   grid: int = 50, near: float = 0.02, tolerance: float = TOLERANCE):
    """Tracks of a grid x grid lattice of frame-0 pixels.

    depth [T,H,W] camera z of every frame; slots0 [H,W] object slot of frame 0; K [3,3];
    c2w [T,4,4]; objects [T,S,4,4] world transforms per slot (slot 0 the static world).
    Returns tracks [T,N,2] float32 (NaN behind the camera), visibility [T,N] bool, point depth
    [T,N] float32 and the slot of each track [N] int32.
    """
    T, H, W = depth.shape
    pix = grid_pixels(W, H, grid)
    ix, iy = pix[:, 0].astype(int), pix[:, 1].astype(int)
    z0 = depth[0, iy, ix].astype(np.float64)
    slot = slots0[iy, ix].astype(np.int32)
    cam0 = np.concatenate([(pix - K[:2, 2]) / np.diag(K)[:2] * z0[:, None], z0[:, None]], axis=1)
    world0 = cam0 @ c2w[0, :3, :3].T + c2w[0, :3, 3]
    # Per slot, one matrix per frame takes a frame-0 world point to frame t's camera: undo the
    # object's frame-0 placement, apply its frame-t placement, then frame t's w2c.
    w2c = invert_pose(c2w)
    cam = np.empty((T, len(pix), 3))
    for k in np.unique(slot):
        sel = slot == k
        A = w2c @ objects[:, k] @ invert_pose(objects[0, k])  # [T,4,4]
        cam[:, sel] = world0[sel] @ A[:, :3, :3].transpose(0, 2, 1) + A[:, None, :3, 3]
    z = cam[..., 2]
    front = (z > near) & (z0 > 0)  # z0 = 0: the pixel showed nothing (only in hand-made worlds)
    with np.errstate(divide="ignore", invalid="ignore"):
        xy = cam[..., :2] / z[..., None] * np.diag(K)[:2] + K[:2, 2]
    xy[~front] = np.nan
    inside = front & (xy[..., 0] >= -0.5) & (xy[..., 0] <= W - 0.5) & (xy[..., 1] >= -0.5) & (xy[..., 1] <= H - 0.5)
    visible = inside.copy()
    t_idx, n_idx = np.nonzero(inside)
    surface = footprint_depth(depth, xy[t_idx, n_idx], t_idx)
    visible[t_idx, n_idx] = ~(surface < z[t_idx, n_idx] * (1.0 - tolerance))
    return xy.astype(np.float32), visible, z.astype(np.float32), slot
