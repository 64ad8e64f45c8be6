"""Track points drawn onto uint8 frames (numpy only, no display)."""
from __future__ import annotations

import colorsys

import numpy as np

from ..geometry.camera import scale_pixels

# MotionStream's convention for what the user adds: drags green, pins red (the README says so). The
# window's track overlay keeps clear of both: amber where a track moved this frame, blue where it
# stood still; objects' tracks take their object's colour.
DRAG_COLOUR = np.array([60, 230, 60], dtype=np.uint8)
PIN_COLOUR = np.array([235, 50, 50], dtype=np.uint8)
MOVING_COLOUR = np.array([255, 190, 40], dtype=np.uint8)
STILL_COLOUR = np.array([80, 140, 255], dtype=np.uint8)
OBJECT_COLOURS = np.array([[255, 255, 255], [255, 255, 150], [150, 255, 255], [255, 170, 255], [190, 190, 190]],
                          dtype=np.uint8)


def track_colors(pixels: np.ndarray, width: int, height: int, object_ids: np.ndarray | None = None) -> np.ndarray:
    """A colour per track from its first-frame position (hue across, brightness down); tracks on
    object k all take object colour k so a moving object reads as one thing."""
    x = np.clip(pixels[:, 0] / max(width - 1, 1), 0, 1)
    y = np.clip(pixels[:, 1] / max(height - 1, 1), 0, 1)
    cols = np.array([colorsys.hsv_to_rgb(0.8 * xi, 0.75, 1.0 - 0.45 * yi) for xi, yi in zip(x, y)])
    out = np.round(cols * 255).astype(np.uint8)
    if object_ids is not None:
        on = object_ids > 0
        out[on] = OBJECT_COLOURS[(object_ids[on] - 1) % len(OBJECT_COLOURS)]
    return out


def _disk(radius: int) -> np.ndarray:
    r = int(radius)
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    keep = dx * dx + dy * dy <= r * r + r
    return np.stack([dx[keep], dy[keep]], axis=-1)


def draw_points(frame: np.ndarray, xy: np.ndarray, colors: np.ndarray, radius: int = 2,
                visible: np.ndarray | None = None, depth: np.ndarray | None = None, outline: bool = True) -> np.ndarray:
    """Draw filled disks at pixel positions xy [N, 2] (in place; returns frame). Far points are
    drawn first so near ones stay on top; a dark outline keeps points readable on any colour."""
    H, W = frame.shape[:2]
    ok = np.all(np.isfinite(xy), axis=-1)
    if visible is not None:
        ok &= visible
    idx = np.flatnonzero(ok)
    if depth is not None:
        idx = idx[np.argsort(-depth[idx], kind="stable")]
    px = np.round(xy[idx]).astype(int)
    cols = colors[idx]
    layers = [(radius + 1, np.zeros_like(cols))] if outline else []
    layers.append((radius, cols))
    for r, c in layers:
        for dx, dy in _disk(r):
            x, y = px[:, 0] + dx, px[:, 1] + dy
            inside = (x >= 0) & (x < W) & (y >= 0) & (y < H)
            frame[y[inside], x[inside]] = c[inside]
    return frame




def draw_chunk_tracks(frame: np.ndarray, world, chunk, t: int) -> np.ndarray:
    """Frame t of a session chunk with its visible tracks drawn on (scaled from scene pixels to the
    frame's size): grid tracks in their colours, drags green, pins red, on top."""

    H, W = world.scene.image.shape[:2]
    sx, sy = frame.shape[1] / W, frame.shape[0] / H
    scale = lambda xy: scale_pixels(xy, sx, sy)  # noqa: E731
    radius = max(2, round(max(frame.shape[:2]) / 220))
    colors = track_colors(world.field.pixels, W, H, world.field.object_ids)
    depth = None if chunk.depth is None else chunk.depth[t]
    draw_points(frame, scale(chunk.tracks[t]), colors, radius, chunk.visibility[t], depth)
    if chunk.extra_tracks is not None and chunk.extra_tracks.shape[1]:
        kinds = chunk.extra_kinds
        extra_colors = np.where((kinds == "pin")[:, None], PIN_COLOUR, DRAG_COLOUR).astype(np.uint8)
        draw_points(frame, scale(chunk.extra_tracks[t]), extra_colors, radius + 1)
    return frame
