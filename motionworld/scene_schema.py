"""The scene.yaml schema (version 1). Unknown keys are rejected everywhere; numbers must be finite.

The `depth:` mapping is checked by the chosen depth source's own Options schema (a plugin).
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from . import plugins
from .limits import MAX_FRAMES, MAX_OBJECTS, MAX_PATHS, MAX_SECONDS, MAX_SEED, MAX_SEGMENTS, check_scene_number
from .strict_yaml import StrictModel

Vec3 = tuple[float, float, float]


class SceneModel(StrictModel):
    """A part of a scene file (or a depth source's options): strict, and every real number within
    the scene bound (positions of 1e38 would overflow float32 tracks)."""

    _bounded = field_validator("*", mode="after")(check_scene_number)


# --- camera ------------------------------------------------------------------------------------
class StartPose(SceneModel):
    position: Vec3 = (0.0, 0.0, 0.0)
    yaw_deg: float = 0.0
    pitch_deg: float | None = Field(None, description="look up +; default: level, or the depth prior's horizon")
    roll_deg: float = 0.0


class CameraSpec(SceneModel):
    fov_deg: float | None = Field(None, gt=1.0, lt=179.0, description="vertical field of view")
    K: list[list[float]] | None = Field(None, description="3x3 intrinsics in pixels (instead of fov_deg)")
    start: StartPose = StartPose()
    move_speed: float = Field(1.0, gt=0, description="world units per second")
    turn_speed_deg: float = Field(60.0, gt=0, description="degrees per second")
    sprint: float = Field(2.5, ge=1.0, description="speed multiplier while Shift is held")
    damping_s: float = Field(0.15, ge=0.0, description="time constant of velocity smoothing")
    pitch_limit_deg: float = Field(85.0, gt=0.0, le=90.0)

    @model_validator(mode="after")
    def _one_intrinsics(self):
        if self.fov_deg is not None and self.K is not None:
            raise ValueError("give either fov_deg or K, not both")
        if self.K is not None:
            if len(self.K) != 3 or any(len(r) != 3 for r in self.K):
                raise ValueError("K must be a 3x3 matrix")
            if self.K[0][0] <= 0 or self.K[1][1] <= 0:
                raise ValueError("K focal lengths must be positive")
            if self.K[1][0] != 0 or self.K[2] != [0, 0, 1]:
                raise ValueError("K must look like [[fx, s, cx], [0, fy, cy], [0, 0, 1]]")
        return self


class TrackSpec(SceneModel):
    grid: int = Field(50, ge=2, le=512, description="N for an N x N grid of tracks")
    tolerance: float = Field(0.03, gt=0.0, lt=1.0, description="relative depth slack of the occlusion test")


# --- objects -----------------------------------------------------------------------------------
class ObjectKeyframeSpec(SceneModel):
    t: float = Field(ge=0.0, le=MAX_SECONDS)
    position: Vec3 = (0.0, 0.0, 0.0)
    rotation_deg: Vec3 = (0.0, 0.0, 0.0)


class ObjectPathSpec(SceneModel):
    keyframes: list[ObjectKeyframeSpec] = Field(min_length=1, max_length=MAX_FRAMES)
    loop: bool = False
    interpolation: Literal["cubic", "linear"] = "cubic"


class ObjectSpec(SceneModel):
    name: str = Field(min_length=1)
    mask: str | None = Field(None, description="image whose non-zero pixels are the object")
    box: tuple[float, float, float, float] | None = Field(None, description="x0 y0 x1 y1 in pixels")
    pivot: Vec3 | None = None
    path: ObjectPathSpec

    @model_validator(mode="after")
    def _one_region(self):
        if (self.mask is None) == (self.box is None):
            raise ValueError("give exactly one of mask or box")
        return self


# --- camera paths ------------------------------------------------------------------------------
class _Timed(SceneModel):
    seconds: float = Field(gt=0.0, le=MAX_SECONDS)
    ease: bool = False


class MoveSpec(_Timed):
    distance: float


class TurnSpec(_Timed):
    degrees: float


class OrbitSpec(_Timed):
    degrees: float
    distance: float | None = Field(None, gt=0.0,
                                   description="distance to the centre; default: depth at the image centre")


class DollyZoomSpec(_Timed):
    distance: float
    target_distance: float | None = Field(None, gt=0.0, description="default: depth at the image centre")


class LookAtSpec(_Timed):
    target: Vec3 | None = Field(None, description="world point")
    pixel: tuple[float, float] | None = Field(None, description="first-frame pixel (x, y), lifted with depth")
    ease: bool = True

    @model_validator(mode="after")
    def _one_target(self):
        if (self.target is None) == (self.pixel is None):
            raise ValueError("give exactly one of target or pixel")
        return self


class HoldSpec(SceneModel):
    seconds: float = Field(gt=0.0, le=MAX_SECONDS)


class CameraKeyframeSpec(SceneModel):
    t: float = Field(ge=0.0, le=MAX_SECONDS)
    position: Vec3 = (0.0, 0.0, 0.0)
    rotation_deg: Vec3 = Field((0.0, 0.0, 0.0), description="yaw (right +), pitch (up +), roll")
    fov_deg: float | None = Field(None, gt=1.0, lt=179.0)


class KeyframesSpec(SceneModel):
    keyframes: list[CameraKeyframeSpec] = Field(min_length=1, max_length=MAX_FRAMES)
    interpolation: Literal["cubic", "linear"] = "cubic"


class ActionsSpec(SceneModel):
    actions: str
    translation_speed: float = Field(0.05, gt=0.0, description="world units per frame")
    rotation_speed_deg: float = Field(1.2, gt=0.0, description="degrees per frame")
    pitch_limit_deg: float = Field(85.0, gt=0.0, le=90.0)


class FileSpec(SceneModel):
    path: str
    scale: float = Field(1.0, gt=0.0, description="multiplies the file's translations")


class SegmentSpec(SceneModel):
    """One piece of a camera path: exactly one of these keys."""

    dolly: MoveSpec | None = None
    truck: MoveSpec | None = None
    pedestal: MoveSpec | None = None
    pan: TurnSpec | None = None
    tilt: TurnSpec | None = None
    roll: TurnSpec | None = None
    orbit: OrbitSpec | None = None
    dolly_zoom: DollyZoomSpec | None = None
    look_at: LookAtSpec | None = None
    hold: HoldSpec | None = None
    keyframes: KeyframesSpec | None = None
    actions: ActionsSpec | None = None
    file: FileSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data):
        # `keyframes: [...]` and `actions: "w-16"` are accepted without the inner mapping.
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("keyframes"), list):
                data["keyframes"] = {"keyframes": data["keyframes"]}
            if isinstance(data.get("actions"), str):
                data["actions"] = {"actions": data["actions"]}
            if isinstance(data.get("file"), str):
                data["file"] = {"path": data["file"]}
        return data

    @model_validator(mode="after")
    def _exactly_one(self):
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            kinds = ", ".join(type(self).model_fields)
            raise ValueError(f"a path segment needs exactly one of: {kinds} (got {', '.join(given) or 'none'})")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in type(self).model_fields if getattr(self, k) is not None)


class PathSpec(SceneModel):
    segments: list[SegmentSpec] = Field(min_length=1, max_length=MAX_SEGMENTS)
    constant_speed: bool = False

    @model_validator(mode="before")
    @classmethod
    def _list_shorthand(cls, data):
        return {"segments": data} if isinstance(data, list) else data


# --- generator and controls --------------------------------------------------------------------
class GeneratorSpec(SceneModel):
    backend: str = Field("model", description="model (the neural student) or a registered backend "
                                              "(motionworld.plugins.BACKENDS)")
    weights: str | None = Field(None, description="a weights folder (student.safetensors + MANIFEST.json), "
                                                 "relative to the scene file, or its student.safetensors")
    steps: int = Field(3, ge=1, le=50)
    chunk: int = Field(3, ge=1, le=16, description="latent frames per chunk")
    sink: int = Field(1, ge=0, le=16, description="chunks kept as attention sink")
    window: int = Field(1, ge=1, le=64, description="recent chunks kept in the rolling cache")
    seed: int = Field(0, ge=0, le=MAX_SEED)
    resolution: tuple[int, int] | None = Field(None, description="generated width, height")

    @field_validator("backend")
    @classmethod
    def _registered(cls, value: str) -> str:
        known = plugins.names(plugins.BACKENDS)
        if value != "model" and value not in known:
            raise ValueError(f"unknown backend {value!r} (model, or one of {', '.join(known)})")
        return value


class ControlsSpec(SceneModel):
    mouse_sensitivity_deg: float = Field(0.15, gt=0.0, description="degrees per mouse pixel")
    invert_y: bool = False
    gamepad_deadzone: float = Field(0.15, ge=0.0, lt=1.0)
    gamepad_look_deg: float = Field(120.0, gt=0.0, description="turn rate at full right stick")
    default_path: str | None = Field(None, description="the path `render` and the demo use by default")


class SceneSpec(SceneModel):
    version: Literal[1]
    image: str
    prompt: str = ""
    depth: dict = Field(default_factory=lambda: {"source": "prior"})
    camera: CameraSpec = CameraSpec()
    tracks: TrackSpec = TrackSpec()
    objects: list[ObjectSpec] = Field(default_factory=list, max_length=MAX_OBJECTS)
    paths: dict[str, PathSpec] = Field(default_factory=dict, max_length=MAX_PATHS)
    generator: GeneratorSpec = GeneratorSpec()
    controls: ControlsSpec = ControlsSpec()
