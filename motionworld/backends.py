"""The frame backends (`--backend neural | warp | tracks`): generators behind a World with one
chunked interface (the neural student, the depth-mesh warp baseline, the tracks preview), so the
window, the web page, `render`, replay and embedding code drive any of them. They are registered in
`motionworld.plugins.BACKENDS`, the one list the command line, sessions, input logs and scenes read;
docs/extending.md adds one.

    gen.start(world)                          # the scene's picture (and prompt) become frame 0
    gen.picture, gen.height, gen.width        # that picture at the generator's resolution
    n = gen.frames_for_next_chunk()           # 9 for the first chunk (it includes frame 0), then 12
    frames = gen.step(chunk)                  # uint8 [n, H, W, 3] for the chunk's cameras and tracks

A `Chunk` carries what the world knows about the next n video frames: camera poses and
intrinsics, the times, the object transforms, the projected tracks with their visibility and
depth, and the extra tracks of live drags and pinned points (all in scene pixel coordinates; a
generator at another resolution rescales them).

A backend class (subclass `Generator`) also says how it is made from options: `Options`, the
JSON-able options a session spec and an input log hold (checked when a log is replayed);
`from_options(**options)`, which builds it; and `default_options(scene, weights, size, seed)`,
what `play`, `render` and `serve` give it when the user names only the backend.
"""
from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field

from . import arguments as A
from .errors import ArgumentError, MotionWorldError
from .frames import CHUNK_LATENTS, chunk_frames
from .geometry.camera import Camera, scale_pixels
from .limits import MAX_CHUNK_LATENTS, MAX_SEED
from .raster.mesh_warp import MeshWarpRenderer
from .raster.overlay import draw_chunk_tracks
from .scene import weights_folder
from .shipped import weights_folder as shipped_weights_folder
from .strict_yaml import StrictModel
from .world import _fit


@dataclass
class Chunk:
    """What the world knows about the next n video frames, handed to a generator's `step`.

    `c2w` [n, 4, 4] camera poses (OpenCV axes); `K` [n, 3, 3] intrinsics in scene pixels; `times`
    [n] seconds since frame 0; `tracks` [n, N, 2] the grid tracks in scene pixels; `visibility`
    [n, N] bool; `object_transforms` [n, K, 4, 4] world transforms of the scene's objects, or None
    without objects; `depth` [n, N] camera z of each track in world units (default None);
    `extra_tracks` [n, M, 2] the live drags, then the pinned points, always visible where finite
    (default None: none); `extra_kinds` [M] "drag" or "pin" for each (default None). `all_tracks`
    gives the grid and extra tracks together."""

    c2w: np.ndarray  # [n, 4, 4]
    K: np.ndarray  # [n, 3, 3]
    times: np.ndarray  # [n] seconds since frame 0
    tracks: np.ndarray  # [n, N, 2] scene pixels
    visibility: np.ndarray  # [n, N]
    object_transforms: np.ndarray | None  # [n, K, 4, 4]
    depth: np.ndarray | None = None  # [n, N] camera z of each track
    extra_tracks: np.ndarray | None = None  # [n, M, 2] drags, then pins (always visible)
    extra_kinds: np.ndarray | None = None  # [M] "drag" or "pin"

    @property
    def all_tracks(self) -> tuple[np.ndarray, np.ndarray]:
        """Grid tracks and extra tracks together: [n, N+M, 2], [n, N+M]."""
        if self.extra_tracks is None or self.extra_tracks.shape[1] == 0:
            return self.tracks, self.visibility
        extra_vis = np.all(np.isfinite(self.extra_tracks), axis=-1)
        return (np.concatenate([self.tracks, self.extra_tracks], axis=1),
                np.concatenate([self.visibility, extra_vis], axis=1))


class BackendOptions(StrictModel):
    """A backend's options as a session spec and an input log's header hold them: JSON values taken
    strictly (no "2" for 2), unknown keys rejected. `grid` is the world's track grid, not the backend's."""
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    grid: int | None = Field(None, ge=2, le=512)


class Generator(ABC):
    """What every backend provides (see the module's docstring); subclasses set `name`, `summary`
    and `Options` and implement start, frames_for_next_chunk, step and close."""

    name = ""
    summary = ""  # one line for `--help`
    Options: type[BackendOptions] = BackendOptions
    picture: np.ndarray  # frame 0 as shown, uint8 [H, W, 3], set by start()
    height: int
    width: int

    @classmethod
    def from_options(cls, **options) -> Generator:
        """The backend made from keyword options (its constructor's arguments, by default)."""
        takes = list(inspect.signature(cls).parameters)
        unknown = sorted(set(options) - set(takes))
        if unknown:
            raise ArgumentError(f"backend {cls.name!r} does not take the option {', '.join(unknown)} "
                                f"(it takes {', '.join(takes)})")
        return cls(**options)

    @classmethod
    def default_options(cls, scene, weights=None, size: int | None = None, seed: int | None = None) -> dict:
        """The options `play`, `render` and `serve` use for a loaded scene: `size` is the longest side
        the user asked for, `weights` and `seed` what they named (None: not named)."""
        return {}

    @abstractmethod
    def start(self, world) -> None:
        """Begin a stream of `world`'s scene: its picture becomes frame 0; sets `picture`, `height`
        and `width`. May be called again to restart."""

    @abstractmethod
    def frames_for_next_chunk(self) -> int:
        """Returns n, the video frames the next `step` makes (the first chunk's include frame 0)."""

    @abstractmethod
    def step(self, chunk: Chunk) -> np.ndarray:
        """Returns the frames of `chunk` (a `Chunk` of n frames): uint8 [n, height, width, 3]."""

    def close(self) -> None:
        """Let go of what start() took (GL contexts, caches); start() may be called again after it."""
        return None  # a backend that holds nothing has nothing to let go


class WarpOptions(BackendOptions):
    max_size: int | None = Field(None, ge=A.SIZE_RANGE[0], le=A.SIZE_RANGE[1])  # None: the scene's own size
    discontinuity: Literal["stretch", "drop"] = "stretch"
    chunk_latents: int = Field(CHUNK_LATENTS, ge=1, le=MAX_CHUNK_LATENTS)


class WarpGenerator(Generator):
    """The reference renderer as a generator: the picture on its depth mesh (objects move with
    their masks), rendered at the scene's resolution, or scaled to fit `max_size`.

    `max_size` is the frames' longest side in pixels, 16 to 16384 (default None: the scene's own
    size; a picture is never upscaled); `discontinuity` what fills the holes a depth edge opens,
    "stretch" (default: the two sides' colours smeared across) or "drop" (black); `chunk_latents`
    the chunk length in latent frames of 4 video frames, 1 to 16 (default 3: chunks of 12 video
    frames, 9 for the first)."""

    name = "warp"
    summary = "the picture on its depth mesh, the '3D photo' baseline (no model)"
    Options = WarpOptions

    @classmethod
    def default_options(cls, scene, weights=None, size=None, seed=None) -> dict:
        return {"max_size": int(size or 640)}

    def __init__(self, max_size: int | None = None, discontinuity: str = "stretch", chunk_latents: int = CHUNK_LATENTS):
        if max_size is not None:
            A.number(max_size, "max_size", *A.SIZE_RANGE, integer=True)
        A.one_of(discontinuity, "discontinuity", ("stretch", "drop"))
        A.number(chunk_latents, "chunk_latents", 1, MAX_CHUNK_LATENTS, integer=True)
        self.max_size, self.discontinuity, self.chunk_latents = max_size, discontinuity, chunk_latents
        self.renderer = None
        self.chunk_index = 0

    def start(self, world) -> None:

        sc = world.scene
        self.scene_size = (sc.width, sc.height)
        image, depth, masks = sc.image, sc.depth, [o.mask for o in sc.objects]
        if self.max_size and max(image.shape[:2]) > self.max_size:
            image, depth, masks = _resized(image, depth, masks, self.max_size)
        self.height, self.width = image.shape[:2]
        self.picture = np.ascontiguousarray(image)
        if self.renderer is not None:
            self.renderer.release()
        self.renderer = MeshWarpRenderer(discontinuity=self.discontinuity)
        self.renderer.start(image, depth, _resized_K(sc.camera.K, self.scene_size, self.width, self.height),
                            sc.start_pose, masks)
        self.chunk_index = 0

    def frames_for_next_chunk(self) -> int:
        return chunk_frames(self.chunk_index, self.chunk_latents)

    def step(self, chunk: Chunk) -> np.ndarray:
        if self.renderer is None:
            raise MotionWorldError("generator: step() before start()")
        K = np.stack([_resized_K(k, self.scene_size, self.width, self.height) for k in chunk.K])
        frames = self.renderer.step(chunk.c2w, K, chunk.object_transforms)
        self.chunk_index += 1
        return frames

    def close(self) -> None:
        if self.renderer is not None:
            self.renderer.release()
            self.renderer = None


class NeuralOptions(BackendOptions):
    weights: str = Field(min_length=1)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    sink: int = Field(1, ge=0, le=16)
    window: int | None = Field(1, ge=0, le=64)


class NeuralGenerator(Generator):
    """The streaming student. The scene picture is resized to the size the student paints it at
    (its resolution, or with aspect "picture" the picture's own aspect at its pixel count) and the
    tracks are rescaled to match. Frames come out at that size, or, with a guided decoder that paints
    out further (`output_scale`), at that multiple of it, with the warp rendered at the output size.

    `student` is a loaded `StreamingStudent` (`mw.StreamingStudent.load(folder)`); `seed` the seed of
    its noise, 0 to 2**32 - 1 (default 0). `NeuralGenerator.from_options(weights=...)` loads the
    student itself (the shipped weights by default)."""

    name = "neural"
    summary = "the streaming student (--weights, else the scene's generator.weights, else the shipped weights/)"
    Options = NeuralOptions

    @classmethod
    def from_options(cls, **options) -> NeuralGenerator:
        """From a loaded `student=` (with `seed`), or from `weights=` (a folder or its
        student.safetensors; the shipped weights when not given) with the cache layout `sink`,
        `window`, `steps`, the `device` and the `seed`."""
        takes = ("student", "seed") if options.get("student") is not None else (
            "student", "weights", "seed", "sink", "window", "steps", "device")
        unknown = sorted(set(options) - set(takes))
        if unknown:
            raise ArgumentError(f"backend 'neural' does not take the option {', '.join(unknown)} (it takes "
                                f"{', '.join(takes)})")
        student = options.pop("student", None)
        if student is None:
            from .model.student import StreamingStudent

            weights = options.pop("weights", None)
            weights = weights_folder(shipped_weights_folder() if weights is None else A.file_path(weights, "weights"))
            layout = {k: options.pop(k) for k in ("sink", "window", "steps") if k in options}
            student = StreamingStudent.load(weights, device=options.pop("device", "cpu"))
            if layout:
                student.configure(**layout)
        return cls(student, **options)

    @classmethod
    def default_options(cls, scene, weights=None, size=None, seed=None) -> dict:
        """The named weights, else the scene's `generator.weights`, else the shipped weights; the
        scene's seed and cache layout unless a seed is named."""
        gen = scene.spec.generator if scene.spec is not None else None
        if weights is None:
            weights = (Path(scene.file).parent / gen.weights) if gen is not None and gen.weights \
                else shipped_weights_folder()
        options = {"weights": str(weights_folder(weights).resolve()),
                   "seed": int(seed if seed is not None else (gen.seed if gen else 0))}
        if gen is not None:
            options.update(sink=gen.sink, window=gen.window)
        return options

    def __init__(self, student, seed: int = 0):
        if not all(hasattr(student, m) for m in ("output_size", "size_for", "start", "step", "frames_for_next_chunk")):
            raise ArgumentError(f"student must be a StreamingStudent, got {A.shown(student)}")
        self.student, self.seed = student, A.number(seed, "seed", 0, MAX_SEED, integer=True)
        self.height, self.width = student.output_size
        self.warp = None  # for a student that sees the warp of the picture

    def start(self, world) -> None:
        sc = world.scene
        model_w, model_h = self.student.size_for(sc.width, sc.height)
        scale = self.student.config.vae.output_scale
        self.width, self.height = model_w * scale, model_h * scale
        self.sx, self.sy = model_w / sc.width, model_h / sc.height  # tracks: scene -> model pixels
        image, depth, masks = sc.image, sc.depth, [o.mask for o in sc.objects]
        model_picture = _at_size(image, depth, masks, (model_w, model_h))[0]
        image, depth, masks = _at_size(image, depth, masks, (self.width, self.height))
        self.picture = image  # frame 0 as shown, at the output size
        self.student.start(model_picture, sc.prompt or "", seed=self.seed)
        self.close()
        if self.student.sees_warp:  # the same warp `--backend warp` shows, at the output size
            self.scene_size = (sc.width, sc.height)
            self.warp = MeshWarpRenderer(mesh_step=scale)  # one mesh vertex per model pixel, the colour at full size
            self.warp.start(image, depth, _resized_K(sc.camera.K, self.scene_size, self.width, self.height),
                            sc.start_pose, masks)

    def frames_for_next_chunk(self) -> int:
        return self.student.frames_for_next_chunk()

    def step(self, chunk: Chunk) -> np.ndarray:
        tracks, visibility = chunk.all_tracks  # drags and pins steer the model like any track
        warp = valid = None
        if self.warp is not None:
            K = np.stack([_resized_K(k, self.scene_size, self.width, self.height) for k in chunk.K])
            warp, valid = self.warp.step(chunk.c2w, K, chunk.object_transforms, validity=True)
        # only the scene's grid tracks start on the picture; drags and pins come and go
        return self.student.step(scale_pixels(tracks, self.sx, self.sy).astype(np.float32), visibility,
                                 looks=chunk.tracks.shape[1], warp=warp, warp_valid=valid)

    def close(self) -> None:
        if self.warp is not None:
            self.warp.release()
            self.warp = None


class TracksOptions(BackendOptions):
    max_size: int = Field(640, ge=A.SIZE_RANGE[0], le=A.SIZE_RANGE[1])
    dim: float = Field(0.55, ge=0.0, le=1.0)
    chunk_latents: int = Field(CHUNK_LATENTS, ge=1, le=MAX_CHUNK_LATENTS)


class TrackPreviewGenerator(Generator):
    """No model: the dimmed picture with each frame's visible tracks drawn on it, to check a
    camera path's tracks before generating anything.

    `max_size` is the frames' longest side in pixels, 16 to 16384 (default 640; never upscaled);
    `dim` the factor on the picture's brightness, 0 to 1 (default 0.55); `chunk_latents` the chunk
    length in latent frames of 4 video frames, 1 to 16 (default 3: 12 video frames, 9 for the first)."""

    name = "tracks"
    summary = "the dimmed picture with the tracks drawn on it, to check a path (no model)"
    Options = TracksOptions

    @classmethod
    def default_options(cls, scene, weights=None, size=None, seed=None) -> dict:
        return {"max_size": int(size or 640)}

    def __init__(self, max_size: int = 640, dim: float = 0.55, chunk_latents: int = CHUNK_LATENTS):
        A.number(max_size, "max_size", *A.SIZE_RANGE, integer=True)
        A.number(dim, "dim", 0.0, 1.0)
        A.number(chunk_latents, "chunk_latents", 1, MAX_CHUNK_LATENTS, integer=True)
        self.max_size, self.dim, self.chunk_latents = max_size, dim, chunk_latents
        self.chunk_index = 0

    def start(self, world) -> None:

        self.world = world
        self.base = np.round(_fit(world.scene.image, self.max_size).astype(np.float32) * self.dim).astype(np.uint8)
        self.height, self.width = self.base.shape[:2]
        self.picture = self.base
        self.chunk_index = 0

    def frames_for_next_chunk(self) -> int:
        return chunk_frames(self.chunk_index, self.chunk_latents)

    def step(self, chunk: Chunk) -> np.ndarray:

        self.chunk_index += 1
        return np.stack([draw_chunk_tracks(self.base.copy(), self.world, chunk, t) for t in range(len(chunk.times))])


def _resized_K(K: np.ndarray, scene_size: tuple[int, int], width: int, height: int) -> np.ndarray:
    """The scene camera's intrinsics at a generator's frame size."""
    return Camera(K, *scene_size).resized(width, height).K


def _resized(image, depth, masks, max_size):
    """Picture (Lanczos), depth and masks (nearest) with the longest side at max_size."""
    H, W = image.shape[:2]
    s = max_size / max(H, W)
    return _resized_to(image, depth, masks, (max(2, round(W * s)), max(2, round(H * s))))


def _at_size(image, depth, masks, size):
    """The picture, depth and masks at size (w, h), resized only if they are not already."""
    if image.shape[:2] == (size[1], size[0]):
        return np.ascontiguousarray(image), depth, masks
    return _resized_to(image, depth, masks, size)


def _resized_to(image, depth, masks, size):
    """Picture (Lanczos), depth and masks (nearest) at size (w, h)."""
    from PIL import Image

    img = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))
    dep = np.asarray(Image.fromarray(depth.astype(np.float32)).resize(size, Image.Resampling.NEAREST))
    m2 = [np.asarray(Image.fromarray(m.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)) > 127
          for m in masks]
    return img, dep, m2
