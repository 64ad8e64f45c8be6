"""Frame generators behind a World: the same chunked interface for the neural student and the
depth-mesh warp baseline, so the window, `render`, replay and embedding code drive either.

    gen.start(world)                          # the scene's picture (and prompt) become frame 0
    n = gen.frames_for_next_chunk()           # 9 for the first chunk (it includes frame 0), then 12
    frames = gen.step(chunk)                  # uint8 [n, H, W, 3] for the chunk's cameras and tracks

A `Chunk` carries what the world knows about the next n video frames: camera poses and
intrinsics, the times, the object transforms, and the projected tracks with their visibility
(in scene pixel coordinates; a generator at another resolution rescales them).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import MotionWorldError

CHUNK_LATENTS = 3  # latent frames per chunk: 12 video frames, 9 for the first


@dataclass
class Chunk:
    c2w: np.ndarray  # [n, 4, 4]
    K: np.ndarray  # [n, 3, 3]
    times: np.ndarray  # [n] seconds since frame 0
    tracks: np.ndarray  # [n, N, 2] scene pixels
    visibility: np.ndarray  # [n, N]
    object_transforms: np.ndarray | None  # [n, K, 4, 4]


def _frames_for(chunk_index: int, latents: int = CHUNK_LATENTS) -> int:
    return 4 * latents - 3 if chunk_index == 0 else 4 * latents


class WarpGenerator:
    """The reference renderer as a generator: the picture on its depth mesh (objects move with
    their masks), rendered at the scene's resolution, or scaled to fit `max_size`."""

    name = "warp"

    def __init__(self, max_size: int | None = None, discontinuity: str = "stretch", chunk_latents: int = CHUNK_LATENTS):
        self.max_size, self.discontinuity, self.chunk_latents = max_size, discontinuity, chunk_latents
        self.renderer = None
        self.chunk_index = 0

    def start(self, world) -> None:
        from .render.mesh_warp import MeshWarpRenderer

        sc = world.scene
        image, depth, K, masks = sc.image, sc.depth, sc.camera.K, [o.mask for o in sc.objects]
        self.sx = self.sy = 1.0
        if self.max_size and max(image.shape[:2]) > self.max_size:
            image, depth, K, masks, self.sx, self.sy = _resized(image, depth, K, masks, self.max_size)
        if self.renderer is not None:
            self.renderer.release()
        self.renderer = MeshWarpRenderer(discontinuity=self.discontinuity)
        self.renderer.start(image, depth, K, sc.start_pose, masks)
        self.height, self.width = image.shape[:2]
        self.chunk_index = 0

    def frames_for_next_chunk(self) -> int:
        return _frames_for(self.chunk_index, self.chunk_latents)

    def step(self, chunk: Chunk) -> np.ndarray:
        if self.renderer is None:
            raise MotionWorldError("generator: step() before start()")
        K = chunk.K.copy()
        for row, s in ((0, self.sx), (1, self.sy)):
            K[:, row] *= s
            K[:, row, 2] += 0.5 * s - 0.5  # pixel centres: x' = (x + 0.5) s - 0.5
        frames = self.renderer.step(chunk.c2w, K, chunk.object_transforms)
        self.chunk_index += 1
        return frames

    def close(self) -> None:
        if self.renderer is not None:
            self.renderer.release()
            self.renderer = None


class NeuralGenerator:
    """The streaming student. The scene picture is resized to the model's resolution and the tracks
    are rescaled to match; frames come out at the model's resolution."""

    name = "neural"

    def __init__(self, student, seed: int = 0):
        self.student, self.seed = student, int(seed)
        self.height, self.width = student.height, student.width

    def start(self, world) -> None:
        from PIL import Image

        sc = world.scene
        self.sx, self.sy = self.width / sc.width, self.height / sc.height
        image = sc.image
        if image.shape[:2] != (self.height, self.width):
            image = np.array(Image.fromarray(image).resize((self.width, self.height), Image.Resampling.LANCZOS))
        self.student.start(image, sc.prompt or "", seed=self.seed)

    def frames_for_next_chunk(self) -> int:
        return self.student.frames_for_next_chunk()

    def step(self, chunk: Chunk) -> np.ndarray:
        xy = chunk.tracks.astype(np.float32).copy()
        xy[..., 0] = (xy[..., 0] + 0.5) * self.sx - 0.5
        xy[..., 1] = (xy[..., 1] + 0.5) * self.sy - 0.5
        return self.student.step(xy, chunk.visibility)

    def close(self) -> None:
        pass


def _resized(image, depth, K, masks, max_size):
    from PIL import Image

    H, W = image.shape[:2]
    s = max_size / max(H, W)
    size = (max(2, round(W * s)), max(2, round(H * s)))
    sx, sy = size[0] / W, size[1] / H
    img = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))
    dep = np.asarray(Image.fromarray(depth.astype(np.float32)).resize(size, Image.Resampling.NEAREST))
    K2 = K.copy()
    K2[0] *= sx
    K2[1] *= sy
    K2[0, 2] = (K[0, 2] + 0.5) * sx - 0.5
    K2[1, 2] = (K[1, 2] + 0.5) * sy - 0.5
    m2 = [np.asarray(Image.fromarray(m.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)) > 127 for m in masks]
    return img, dep, K2, m2, float(sx), float(sy)
