"""Track field: a grid of first-frame pixels lifted to 3D once, projected into every later frame.

Visibility of a track in frame t = in front of the camera, inside the image, and not behind the
scene's own surface. The surface is the whole first-frame depth map, lifted and moved with its
objects, splatted into a coarse z-buffer; each splat covers the gap to its neighbours in the
current view (neighbours across a depth edge are not joined) so surfaces stay closed as the camera
approaches. A splat stores the surface depth plus its local depth spread, so a slanted surface
never hides its own points; a track is hidden when it lies more than `tolerance` (relative)
behind the z-buffer. What the first frame does not show (behind objects, outside the image) is
empty space: it hides nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import arguments as A
from ..errors import ArgumentError
from ..limits import MAX_SCENE_NUMBER
from .camera import Camera, invert_pose, transform_points

MAX_SPLAT_RADIUS = 4  # z-buffer cells; beyond this a gap is treated as a hole


@dataclass
class TrackResult:
    """Tracks of one clip (what `World.tracks` returns); the layout follows CoTracker without the batch axis.

    For T frames and N tracks: `tracks` [T, N, 2] float32 pixel (x, y) in the scene picture's pixels
    (NaN where the point is behind the camera); `visibility` [T, N] bool (in front, inside the image
    and not hidden by the scene's surface); `depth` [T, N] float32 camera z of each point, world
    units; `c2w` [T, 4, 4] camera poses (OpenCV axes); `K` [T, 3, 3] intrinsics per frame; `object_ids`
    [N] int, 0 for the background and k for scene object k-1; `times` [T] in seconds. `len()` is T."""

    tracks: np.ndarray  # [T, N, 2] float32 pixel (x, y); NaN where the point is behind the camera
    visibility: np.ndarray  # [T, N] bool
    depth: np.ndarray  # [T, N] float32 camera z of each point
    c2w: np.ndarray  # [T, 4, 4] camera poses (OpenCV axes)
    K: np.ndarray  # [T, 3, 3] intrinsics per frame
    object_ids: np.ndarray  # [N] int: 0 background, k = scene object k-1
    times: np.ndarray  # [T] seconds

    def __len__(self) -> int:
        return len(self.times)


def grid_pixels(width: int, height: int, n: int) -> np.ndarray:
    """Integer pixel centres of an n x n grid spread evenly over the image, row-major [n*n, 2]."""
    xs = np.clip(np.floor((np.arange(n) + 0.5) * width / n), 0, width - 1)  # pixel holding the cell centre
    ys = np.clip(np.floor((np.arange(n) + 0.5) * height / n), 0, height - 1)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=-1)


class TrackField:
    """A grid of first-frame pixels lifted to 3D once; `project` gives their tracks and visibility in
    any later cameras (see the module's docstring).

    `depth` is the first frame's z-depth map [H, W] in world units, finite and positive; `camera` its
    `Camera` (the map's size); `c2w0` the first frame's 4x4 c2w (default the identity). `grid` is the
    number of tracks per side of the N x N grid (2 to 512, default 50). `object_masks` are the scene
    objects' [H, W] bool masks (default none; where they overlap the earlier wins); `pivots` the
    world point each object turns about (default, or None in the list: the centroid of its lifted
    surface). `tolerance` is how far (relative, in (0, 1), default 0.03) a point may lie behind the
    surface and still be visible; `zbuffer_size` about how many cells the occlusion z-buffer has
    along the image's longest side (default 160); `edge_ratio` the relative depth jump (default
    0.15) beyond which neighbouring surface samples are not joined, so an edge stays open."""

    def __init__(self, depth: np.ndarray, camera: Camera, c2w0: np.ndarray | None = None, grid: int = 50,
                 object_masks: list[np.ndarray] | None = None, pivots: list | None = None,
                 tolerance: float = 0.03, zbuffer_size: int = 160, edge_ratio: float = 0.15):
        if not isinstance(camera, Camera):
            raise ArgumentError(f"camera must be a Camera, got {A.shown(camera)}")
        try:
            depth = np.asarray(depth, dtype=np.float64)
        except (TypeError, ValueError):
            raise ArgumentError(f"depth must be an array of numbers [H, W], got {A.shown(depth)}") from None
        if depth.shape != (camera.height, camera.width):
            raise ArgumentError(f"depth shape {depth.shape} does not match camera {camera.height}x{camera.width}")
        if not np.all(np.isfinite(depth)) or np.any(depth <= 0):
            raise ArgumentError("depth must be finite and positive everywhere")
        grid = A.number(grid, "grid", *A.GRID_RANGE, integer=True)
        self.camera = camera
        self.c2w0 = np.eye(4) if c2w0 is None else A.poses(c2w0, "c2w0")
        self.tolerance = A.number(tolerance, "tolerance", 0.0, 1.0, low_open=True, high_open=True)
        zbuffer_size = A.number(zbuffer_size, "zbuffer_size", 1, 16_384, integer=True)
        edge_ratio = A.number(edge_ratio, "edge_ratio", 0.0, MAX_SCENE_NUMBER, low_open=True)
        self.near = 1e-3 * float(np.median(depth))
        masks = [np.asarray(m, dtype=bool) for m in (object_masks or [])]
        for k, m in enumerate(masks):
            if m.shape != depth.shape:
                raise ArgumentError(f"object_masks[{k}] is {m.shape}, not the depth's {depth.shape}")
        label = np.zeros(depth.shape, dtype=np.int32)
        for k in reversed(range(len(masks))):  # earlier objects win where masks overlap
            label[masks[k]] = k + 1
        self.num_objects = len(masks)

        # Tracks.
        self.pixels = grid_pixels(camera.width, camera.height, grid)
        ix, iy = self.pixels[:, 0].astype(int), self.pixels[:, 1].astype(int)
        self.points = transform_points(self.c2w0, camera.unproject(self.pixels, depth[iy, ix]))
        self.object_ids = label[iy, ix]

        # Surface samples on a regular grid (kept 2-D for neighbour gaps).
        self.stride = max(1, int(round(max(camera.width, camera.height) / zbuffer_size)))
        s = self.stride
        rows, cols = np.arange(s // 2, camera.height, s), np.arange(s // 2, camera.width, s)
        gy, gx = np.meshgrid(rows, cols, indexing="ij")
        self.zb_shape = (int(np.ceil(camera.height / s)), int(np.ceil(camera.width / s)))
        z0 = depth[gy, gx]
        pix = np.stack([gx, gy], axis=-1).astype(float)
        self.surface = transform_points(self.c2w0, camera.unproject(pix.reshape(-1, 2), z0.ravel())).reshape(
            gy.shape + (3,))
        self.surface_ids = label[gy, gx]
        same = lambda a, b: (np.abs(a - b) < edge_ratio * np.minimum(a, b))
        self.join_right = same(z0[:, 1:], z0[:, :-1]) & (self.surface_ids[:, 1:] == self.surface_ids[:, :-1])
        self.join_down = same(z0[1:], z0[:-1]) & (self.surface_ids[1:] == self.surface_ids[:-1])

        self.pivots = []
        for k in range(len(masks)):
            given = pivots[k] if pivots and k < len(pivots) else None
            if given is not None:
                self.pivots.append(A.vector(given, f"pivots[{k}]", 3))
            else:
                sel = self.surface_ids == k + 1
                pts = self.surface[sel] if sel.any() else self.points[self.object_ids == k + 1]
                self.pivots.append(pts.mean(axis=0) if len(pts) else np.zeros(3))

    @property
    def num_tracks(self) -> int:
        """N, the number of tracks (grid x grid)."""
        return len(self.points)

    # ------------------------------------------------------------------------------------------
    def _moved(self, points: np.ndarray, ids: np.ndarray, obj_T: np.ndarray | None) -> np.ndarray:
        if obj_T is None or self.num_objects == 0:
            return points
        out = points.copy()
        for k in range(self.num_objects):
            sel = ids == k + 1
            if sel.any():
                out[sel] = transform_points(obj_T[k], points[sel])
        return out

    def _zbuffer(self, w2c: np.ndarray, K: np.ndarray, obj_T: np.ndarray | None) -> np.ndarray:
        s = self.stride
        pts = self._moved(self.surface.reshape(-1, 3), self.surface_ids.ravel(), obj_T)
        cam = transform_points(w2c, pts)
        z = cam[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (cam[:, :2] / z[:, None]) @ K[:2, :2].T + K[:2, 2]
        cell = (uv + 0.5) / s - 0.5  # z-buffer cell coordinates
        h, w = self.surface.shape[:2]
        cell2, z2 = cell.reshape(h, w, 2), z.reshape(h, w)
        front = z2 > self.near

        # Gap to joined neighbours in this view (cells) and local depth spread.
        gap = np.zeros((h, w))
        spread = np.zeros((h, w))
        for join, a, b in ((self.join_right, (slice(None), slice(1, None)), (slice(None), slice(None, -1))),
                           (self.join_down, (slice(1, None), slice(None)), (slice(None, -1), slice(None)))):
            ok = join & front[a] & front[b]
            d = np.where(ok, np.linalg.norm(cell2[a] - cell2[b], axis=-1), 0.0)
            dz = np.where(ok, np.abs(z2[a] - z2[b]), 0.0)
            for sl in (a, b):
                gap[sl] = np.maximum(gap[sl], d)
                spread[sl] = np.maximum(spread[sl], dz)
        radius = np.floor((gap + 0.5) / 2.0)
        keep = front & (radius <= MAX_SPLAT_RADIUS)
        radius = radius.astype(int)[keep]
        ci = np.round(cell2[keep]).astype(int)
        value = (z2 + spread)[keep]

        H, W = self.zb_shape
        zb = np.full(H * W, np.inf)
        for r in np.unique(radius):
            sel = radius == r
            cx, cy, val = ci[sel, 0], ci[sel, 1], value[sel]
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    x, y = cx + dx, cy + dy
                    inside = (x >= 0) & (x < W) & (y >= 0) & (y < H)
                    np.minimum.at(zb, y[inside] * W + x[inside], val[inside])
        return zb.reshape(H, W)

    def project(self, c2w: np.ndarray, K: np.ndarray | None = None, object_transforms: np.ndarray | None = None,
                occlusion: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Project the tracks into T frames.

        `c2w` [T,4,4] camera poses; `K` [T,3,3] or [3,3] intrinsics (default: the field's camera);
        `object_transforms` [T,K,4,4] world-space rigid transforms per object (default: none move);
        `occlusion` (default True) hides points behind the scene's surface, else only those behind
        the camera or outside the image. Returns tracks [T,N,2] float32, visibility [T,N] bool and
        depth [T,N] float32.
        """
        c2w = A.poses(np.reshape(c2w, (-1, 4, 4)) if np.size(c2w) % 16 == 0 else c2w, "c2w", batch=True)
        T = len(c2w)
        try:
            Ks = np.broadcast_to(self.camera.K if K is None else np.asarray(K, dtype=float), (T, 3, 3))
        except (TypeError, ValueError):
            raise ArgumentError(f"K must be [T, 3, 3] or [3, 3] intrinsics for the {T} poses, "
                                f"got {A.shown(K)}") from None
        if not np.all(np.isfinite(Ks)):
            raise ArgumentError("K has NaN or infinite numbers")
        shape = np.shape(object_transforms)
        if object_transforms is not None and self.num_objects and shape != (T, self.num_objects, 4, 4):
            raise ArgumentError(f"object_transforms must be [T, K, 4, 4] = [{T}, {self.num_objects}, 4, 4], "
                                f"got shape {shape}")
        tracks = np.empty((T, self.num_tracks, 2), dtype=np.float32)
        vis = np.empty((T, self.num_tracks), dtype=bool)
        depth = np.empty((T, self.num_tracks), dtype=np.float32)
        w2c = invert_pose(c2w)
        s = self.stride
        for t in range(T):
            obj_T = None if object_transforms is None else object_transforms[t]
            cam = transform_points(w2c[t], self._moved(self.points, self.object_ids, obj_T))
            z = cam[:, 2]
            front = z > self.near
            with np.errstate(divide="ignore", invalid="ignore"):
                uv = (cam[:, :2] / z[:, None]) @ Ks[t][:2, :2].T + Ks[t][:2, 2]
            uv[~front] = np.nan
            visible = front & self.camera.inside(uv)
            if occlusion and visible.any():
                zb = self._zbuffer(w2c[t], Ks[t], obj_T)
                # Hidden only if all four cells around the point are in front of it: the z-buffer
                # is coarser than the picture, so a point beside an edge must not take its
                # neighbour's depth.
                cell = np.floor((uv[visible] + 0.5) / s - 0.5).astype(int)
                hi_x, hi_y = self.zb_shape[1] - 1, self.zb_shape[0] - 1
                x0, y0 = np.clip(cell[:, 0], 0, hi_x), np.clip(cell[:, 1], 0, hi_y)
                x1, y1 = np.clip(cell[:, 0] + 1, 0, hi_x), np.clip(cell[:, 1] + 1, 0, hi_y)
                surface = np.maximum(np.maximum(zb[y0, x0], zb[y0, x1]), np.maximum(zb[y1, x0], zb[y1, x1]))
                idx = np.flatnonzero(visible)
                visible[idx] = z[idx] <= surface * (1.0 + self.tolerance)
            tracks[t], vis[t], depth[t] = uv, visible, z
        return tracks, vis, depth
