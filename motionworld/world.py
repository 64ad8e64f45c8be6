"""World: a scene plus its track field; turns camera paths and controllers into point tracks.

    world = mw.World("scenes/garden/scene.yaml")
    result = world.tracks("walk", seconds=3)        # a named path of the scene
    result = world.tracks("w-16,lw-16")             # an action string
    result = world.tracks(mw.paths.dolly(1.0, 2.0))  # any CameraPath (relative to the start camera)
    result.tracks, result.visibility                # [T, N, 2] float32, [T, N] bool

Paths are relative: their first pose is put on the scene's start camera. Objects move along their
own paths on the same clock (t = frame / 16 s).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from . import arguments as A
from .errors import ArgumentError, MotionWorldError, PathFileError
from .geometry.actions import action_path
from .geometry.path_io import load_path_file
from .geometry.paths import FPS, CameraPath
from .geometry.rig import CameraRig, ControlCommand
from .geometry.trackfield import TrackField, TrackResult
from .inputs import note_input
from .limits import MAX_TRACK_POINTS, check_seconds
from .raster.mesh_warp import MeshWarpRenderer
from .scene import Scene, load_path_spec, load_scene


class World:
    """A scene and its track field: turns camera paths and controllers into point tracks (see the
    module's docstring); holds `scene`, `field` (the `TrackField`) and `fps`.

    `scene` is a `Scene` or the path of a scene file or picture (loaded with `load_scene`); `grid` the number of
    tracks per side of the N x N track grid, 2 to 512 (default None: the scene file's `tracks.grid`,
    50 for a scene made in code); `fps` the video frame rate in frames per second, in (0, 1000]
    (default 16), which paths are sampled at and objects move by."""

    def __init__(self, scene: Scene | str | Path, grid: int | None = None, fps: float = FPS):
        if not isinstance(scene, (Scene, str, os.PathLike)):
            raise ArgumentError(f"scene must be a Scene or a scene file path, got {A.shown(scene)}")
        if grid is not None:
            A.number(grid, "grid", *A.GRID_RANGE, integer=True)
        self.fps = A.fps(fps)
        self.scene = scene if isinstance(scene, Scene) else load_scene(scene)
        sc = self.scene
        spec = sc.spec
        self.field = TrackField(
            sc.depth, sc.camera, sc.start_pose,
            grid=grid or (spec.tracks.grid if spec else 50),
            object_masks=[o.mask for o in sc.objects],
            pivots=[o.pivot for o in sc.objects],
            tolerance=spec.tracks.tolerance if spec else 0.03,
        )

    # --- paths ----------------------------------------------------------------------------------
    def path(self, path: CameraPath | str | Path) -> CameraPath:
        """Returns the relative CameraPath that `path` names: a CameraPath (as it is), a named path of
        the scene, a path file (.yaml segments, nerfstudio .json, RealEstate10K or COLMAP .txt) or an
        action string ("w-16,lw-16"). Anything else raises MotionWorldError."""
        if isinstance(path, CameraPath):
            return path
        text = str(path)
        if text in self.scene.paths:
            return self.scene.paths[text]
        p = Path(text)
        if p.suffix.lower() in (".yaml", ".yml"):
            note_input(p, "camera path file")  # a FIFO is refused, not waited on
            if not p.is_file():
                raise MotionWorldError(f"camera path file not found: {p}")
            return load_path_spec(p, self.scene)
        if p.suffix.lower() in (".json", ".txt"):
            return load_path_file(p, self.fps)
        try:
            return action_path(text, fps=self.fps)
        except PathFileError as e:
            names = ", ".join(sorted(self.scene.paths)) or "none"
            raise MotionWorldError(f"{text!r} is not a path of this scene (it has: {names}), a path file "
                                   f"(.yaml, .json, .txt) or an action string ({e})") from None

    def absolute(self, path: CameraPath | str | Path) -> CameraPath:
        """Returns `path` (anything `self.path` takes) starting at the scene's start camera."""
        return self.path(path).rebased(self.scene.start_pose)

    def default_path(self) -> str:
        """Returns the name of the scene's default path: its `controls.default_path`, else its first
        named path; a scene with none raises MotionWorldError."""
        spec = self.scene.spec
        if spec is not None and spec.controls.default_path:
            return spec.controls.default_path
        if self.scene.paths:
            return next(iter(self.scene.paths))
        raise MotionWorldError("the scene has no camera paths; pass one (e.g. --actions 'w-32,lw-16')")

    # --- objects --------------------------------------------------------------------------------
    def object_transforms(self, times: np.ndarray) -> np.ndarray | None:
        """Returns [T, K, 4, 4] world transforms of the scene's K objects at `times` (T seconds), each
        on its path about its pivot; None if the scene has no objects."""
        if not self.scene.objects:
            return None
        mats = [o.path.matrices(times, pivot=self.field.pivots[k]) for k, o in enumerate(self.scene.objects)]
        return np.stack(mats, axis=1)

    # --- tracks ---------------------------------------------------------------------------------
    def intrinsics(self, fovs: np.ndarray) -> np.ndarray:
        """Returns per-frame K [T,3,3]: the scene camera with its focal length changed where `fovs`
        [T] (vertical, degrees) is finite; NaN keeps the scene's own."""
        cam = self.scene.camera
        return np.stack([cam.with_fov(f).K if np.isfinite(f) else cam.K for f in fovs])

    def tracks_for_poses(self, c2w: np.ndarray, times: np.ndarray, fovs: np.ndarray | None = None,
                         occlusion: bool = True, object_transforms: np.ndarray | None = None) -> TrackResult:
        """Returns the `TrackResult` for absolute camera poses `c2w` [T,4,4] at `times` [T] (seconds),
        with vertical `fovs` [T] in degrees (default None, or NaN in it: the scene's own). Objects
        move on their paths, or to `object_transforms` [T,K,4,4] where given (a session's dragged
        objects); `occlusion` (default True) hides tracks behind the scene's surface."""
        try:
            c2w, times = np.asarray(c2w, dtype=float), np.asarray(times, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentError("need poses [T,4,4] and T times (numbers)") from None
        if c2w.ndim != 3 or c2w.shape[1:] != (4, 4) or times.shape != (len(c2w),):
            raise ArgumentError(f"need poses [T,4,4] and T times, got {c2w.shape} and {times.shape}")
        if not np.all(np.isfinite(c2w)):
            raise MotionWorldError("camera poses contain NaN or infinity")
        if not np.all(np.isfinite(times)):
            raise ArgumentError(f"times must be finite numbers (seconds), got {A.shown(times)}")
        try:
            fovs = np.full(len(times), np.nan) if fovs is None else np.asarray(fovs, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentError(f"fovs must be numbers (degrees; NaN: the scene's), got {A.shown(fovs)}") from None
        if fovs.shape != times.shape:
            raise ArgumentError(f"fovs must give one fov per pose ({len(times)}), got shape {fovs.shape}")
        bad = np.flatnonzero(~np.isnan(fovs) & ~((fovs > 0) & (fovs < 180)))  # NaN: the scene's own fov
        if len(bad):
            raise ArgumentError(f"fovs[{bad[0]}] must be a number in (0, 180) degrees or NaN (the scene's), "
                                f"got {fovs[bad[0]]:g}")
        Ks = self.intrinsics(fovs)
        if object_transforms is None:
            object_transforms = self.object_transforms(times)
        tr, vis, depth = self.field.project(c2w, Ks, object_transforms, occlusion=occlusion)
        return TrackResult(tr, vis, depth, c2w, Ks, self.field.object_ids.copy(), times)

    def tracks(self, path: CameraPath | str | Path, seconds: float | None = None,
               occlusion: bool = True) -> TrackResult:
        """Returns the `TrackResult` of the track grid along `path` (anything `self.path` takes,
        started at the scene's start camera) for `seconds` (default: the path's duration), one frame
        per 1/fps s; `occlusion` (default True) hides tracks behind the scene's surface."""
        p = self.absolute(path)
        check_seconds(seconds, "seconds")
        times = p.frame_times(self.fps, seconds)
        points = len(times) * self.field.num_tracks
        if points > MAX_TRACK_POINTS:
            raise MotionWorldError(f"{len(times)} frames x {self.field.num_tracks} tracks is more than the "
                                   f"{MAX_TRACK_POINTS:,} track points made at once; "
                                   "use fewer seconds or a smaller grid")
        c2w, fov = p.sample(times)
        return self.tracks_for_poses(c2w, times, fov, occlusion)

    # --- controllers ----------------------------------------------------------------------------
    def rig(self) -> CameraRig:
        """Returns a new CameraRig at the scene's start camera, with the scene file's `camera:`
        speeds, damping and pitch limit (the rig's defaults for a scene made in code)."""
        c = self.scene.spec.camera if self.scene.spec else None
        if c is None:
            return CameraRig(self.scene.start_pose)
        return CameraRig(self.scene.start_pose, c.move_speed, c.turn_speed_deg, c.sprint, c.damping_s,
                         c.pitch_limit_deg)

    def drive(self, controller, inputs: Iterable, rig: CameraRig | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Run `controller` (its `update(state, dt)` gives a ControlCommand) over `inputs`, a sequence
        of InputStates, one per video frame (1/fps s each), moving `rig` (default: a new `self.rig()`).

        Returns c2w [T+1,4,4] (the start pose first) and fovs [T+1] (NaN = scene fov)."""
        rig = rig or self.rig()
        poses, fovs = [rig.c2w], [np.nan]
        for state in inputs:
            cmd: ControlCommand = controller.update(state, 1.0 / self.fps)
            poses.append(rig.update(cmd, 1.0 / self.fps))
            fovs.append(np.nan if rig.fov_deg is None else rig.fov_deg)
        return np.stack(poses), np.array(fovs)

    # --- reference renderer ------------------------------------------------------------------
    def warp_frames(self, result: TrackResult, max_size: int = 640, discontinuity: str = "stretch"):
        """The reference renderer: the scene image on its depth mesh seen from each camera of
        `result` (objects moving on their paths). Sessions use `WarpGenerator`; this renders a
        whole TrackResult at the scene's resolution, the reference a session's frames are tested against.
        `max_size` is the longest side of the frames in pixels (default 640; never upscaled);
        `discontinuity` what fills the holes a depth edge opens: "stretch" (default: the two sides'
        colours smeared across) or "drop" (black).
        Returns an iterator of uint8 [H, W, 3] frames, one per frame of `result`. Its arguments are
        checked at the call; the frames come as they are iterated."""
        if not isinstance(result, TrackResult):
            raise ArgumentError(f"result must be a TrackResult (from World.tracks), got {A.shown(result)}")
        A.number(max_size, "max_size", *A.SIZE_RANGE, integer=True)
        A.one_of(discontinuity, "discontinuity", ("stretch", "drop"))
        return self._warp_frames(result, max_size, discontinuity)

    def _warp_frames(self, result: TrackResult, max_size: int, discontinuity: str):
        sc = self.scene
        warp = MeshWarpRenderer(discontinuity=discontinuity)
        warp.start(sc.image, sc.depth, sc.camera.K, sc.start_pose, [o.mask for o in sc.objects])
        try:
            for t0 in range(0, len(result), 16):  # a second of video at a time keeps memory flat
                sl = slice(t0, t0 + 16)
                objs = self.object_transforms(result.times[sl])
                for frame in warp.step(result.c2w[sl], result.K[sl], objs):
                    yield _fit(frame, max_size)
        finally:
            warp.release()


def _fit(img: np.ndarray, max_size: int) -> np.ndarray:
    """Downscale so the longest side is at most max_size (never upscales)."""
    H, W = img.shape[:2]
    scale = min(1.0, max_size / max(H, W))
    if scale >= 1.0:
        return np.ascontiguousarray(img)
    from PIL import Image

    size = (max(2, round(W * scale)), max(2, round(H * scale)))
    return np.array(Image.fromarray(img).resize(size, Image.Resampling.LANCZOS))
