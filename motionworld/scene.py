"""scene.yaml -> Scene: the picture, its depth, the first camera, objects and named camera paths.

Scene files are data: parsed with yaml's safe loader, validated against `scene_schema`, unknown
keys rejected. Every problem is reported as `file:line: key.path: message`, all of them at once.
Relative file names resolve against the scene file's folder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from . import arguments as A
from . import plugins
from .errors import ArgumentError, DepthError, MotionWorldError, PathFileError, Problem, SceneError
from .geometry import paths as P
from .geometry.actions import actions_to_c2w
from .geometry.camera import Camera, invert_pose, make_pose, pose_from_ypr, rotation_from_ypr, transform_points
from .geometry.depth import PriorDepth
from .geometry.object_path import ObjectKeyframe, ObjectPath
from .geometry.path_io import load_path_file
from .images import check_picture_size, read_mask, read_rgb
from .inputs import NotAFileError, note_input
from .limits import check_depth_range, check_file_size
from .picture_scene import (
    PICTURE_SUFFIXES,
    companion_scene,
    depth_candidates,
    depth_label,
    depth_model,
    is_picture,
    scene_text,
)
from .scene_schema import PathSpec, SceneSpec
from .strict_yaml import YAMLReadError, field_names, key_path, read_yaml, validation_problems

DEFAULT_FOV_DEG = 50.0
Loc = tuple


# --- runtime scene -----------------------------------------------------------------------------
@dataclass
class SceneObject:
    name: str
    mask: np.ndarray  # [H, W] bool
    path: ObjectPath
    pivot: np.ndarray | None = None  # world point; None = centroid of the object's surface


@dataclass
class Scene:
    """Everything the engine needs from a scene, loaded and checked (`load_scene` makes one from a file,
    `Scene.from_image` from a picture).

    `image` is the picture, uint8 [H, W, 3]; `depth` its z-depth map, float32 [H, W] in world units;
    `camera` the first frame's `Camera` (intrinsics and size); `start_pose` the first frame's 4x4 c2w
    (default the identity); `prompt` the text the neural backend is given (default ""); `objects`
    the moving objects (`SceneObject`: name, [H, W] bool mask, `ObjectPath`, pivot; default none);
    `paths` the named camera paths, relative (a `World` puts their first pose on `start_pose`);
    `spec` the validated scene file (None for a scene made in code); `file` the scene file, or the
    picture a scene was made for on the fly (None in code); `depth_label` where the depth came
    from, for the HUD ('prior', 'file garden_depth.png', ...); `note` how a picture's scene was made
    (said once by play and render); `depth_block` the `depth:` block a picture's scene made on the
    fly got (else None). `width`, `height` and `name` are read from them."""

    image: np.ndarray  # [H, W, 3] uint8
    depth: np.ndarray  # [H, W] float32 z-depth, world units
    camera: Camera
    start_pose: np.ndarray = field(default_factory=lambda: np.eye(4))  # c2w of the first frame
    prompt: str = ""
    objects: list[SceneObject] = field(default_factory=list)
    paths: dict[str, P.CameraPath] = field(default_factory=dict)
    spec: SceneSpec | None = None
    file: Path | None = None  # the scene file, or the picture a scene was made for on the fly
    depth_label: str = ""     # where the depth came from, for the HUD: 'prior', 'file garden_depth.png', ...
    note: str = ""            # how a picture's scene was made (said once by play and render)
    depth_block: dict | None = None  # a picture's scene made on the fly: the `depth:` it got

    @property
    def width(self) -> int:
        return self.camera.width

    @property
    def height(self) -> int:
        return self.camera.height

    @property
    def name(self) -> str:
        """The picture's stem for a scene made from a picture, the scene file's folder name for a
        scene file, else "scene"."""
        if self.file is None:
            return "scene"
        return self.file.stem if is_picture(self.file) else self.file.parent.name

    @property
    def focus_depth(self) -> float:
        """Median depth of the central ninth of the image (orbit and dolly-zoom default)."""
        h, w = self.depth.shape
        return float(np.median(self.depth[h // 3: 2 * h // 3 + 1, w // 3: 2 * w // 3 + 1]))

    def lift_pixel(self, x: float, y: float) -> np.ndarray:
        """Returns the world point [3] seen at first-frame pixel (`x`, `y`), at the depth of the
        nearest pixel."""
        x, y = A.number(x, "x"), A.number(y, "y")
        xi = int(np.clip(round(x), 0, self.width - 1))
        yi = int(np.clip(round(y), 0, self.height - 1))
        p = self.camera.unproject(np.array([[x, y]], dtype=float), np.array([self.depth[yi, xi]]))
        return transform_points(self.start_pose, p)[0]

    @classmethod
    def from_image(cls, image: np.ndarray | str | Path, depth: np.ndarray | None = None,
                   fov_deg: float = DEFAULT_FOV_DEG, prompt: str = "", **prior_options) -> Scene:
        """Returns a scene straight from a picture, with the depth prior when no depth is given.

        `image` is a uint8 array [H, W, 3] (or whole numbers in 0-255) or a picture file; `depth` its
        z-depth map [H, W] in world units (default None: the prior's guess, a ground plane and a
        backdrop, which also tilts the start camera to its horizon); `fov_deg` the vertical field
        of view in degrees, strictly between 1 and 179 (default 50); `prompt` the text for the
        neural backend (default ""). `prior_options` are the depth prior's options (`horizon`,
        `camera_height`, `backdrop`), only when no depth is given. The scene has no objects, no
        named paths and no `spec`."""
        fov_deg = A.fov(fov_deg, "fov_deg", 1.0, 179.0)  # a scene file's camera.fov_deg
        if not isinstance(prompt, str):
            raise ArgumentError(f"prompt must be text, got {A.shown(prompt)}")
        if isinstance(image, (str, os.PathLike)):
            image = note_input(image, "picture")  # a FIFO is refused, not waited on
            if image.is_dir():
                raise ArgumentError(f"image {image} is a folder; give a picture file")
        img = read_rgb(image) if isinstance(image, Path) else _picture_array(image)
        if img.ndim != 3 or img.shape[-1] != 3:
            raise MotionWorldError(f"image must be [H, W, 3], got shape {img.shape}")
        if img.shape[0] < 1 or img.shape[1] < 1:
            raise ArgumentError(f"image is empty (shape {img.shape})")
        check_picture_size(img.shape[1], img.shape[0], "image")
        camera = Camera.from_fov(img.shape[1], img.shape[0], fov_deg)
        start, given = np.eye(4), depth is not None
        if depth is None:
            try:
                options = PriorDepth.Options(**prior_options)
            except ValidationError as e:
                problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
                raise ArgumentError(f"depth prior options: {problems}") from None
            prior = PriorDepth(options)
            depth = prior.load(img, camera)
            start = pose_from_ypr([0, 0, 0], 0.0, prior.pitch_deg(camera))
        elif prior_options:
            raise ArgumentError(f"depth prior options ({', '.join(sorted(prior_options))}) are for a scene without a "
                                "given depth")
        try:
            depth = np.asarray(depth, dtype=np.float32)
        except (TypeError, ValueError):
            raise ArgumentError(f"depth must be an array of numbers [H, W], got {A.shown(depth)}") from None
        if depth.shape != img.shape[:2]:
            raise MotionWorldError(f"depth shape {depth.shape} does not match image {img.shape[:2]}")
        check_depth_range(depth, "depth")
        return cls(image=img, depth=depth, camera=camera, start_pose=start, prompt=prompt,
                   depth_label="given" if given else "prior")


def _picture_array(image) -> np.ndarray:
    """An array given as a picture: uint8, or whole numbers in [0, 255] (kept as they are)."""
    if image is None or isinstance(image, (str, bytes, dict, bool, int, float)):
        raise ArgumentError(f"image must be an array [H, W, 3] or a picture file, got {A.shown(image)}")
    try:
        a = np.asarray(image)
    except (TypeError, ValueError):
        raise ArgumentError(f"image must be an array [H, W, 3] or a picture file, got {A.shown(image)}") from None
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind not in "biu":  # a float picture in [0, 1] would become black, one in [0, 255] lose its fractions
        raise ArgumentError(f"image must be uint8 [H, W, 3] (0-255), got {a.dtype} values; convert it, e.g. "
                            "(picture * 255).round().astype(np.uint8) for one in [0, 1]")
    if a.size and (a.min() < 0 or a.max() > 255):
        raise ArgumentError(f"image must hold values in [0, 255] (uint8), got values from {a.min()} to {a.max()}")
    return a.astype(np.uint8)


# --- loading -----------------------------------------------------------------------------------
class _Collector:
    def __init__(self, file: Path, root):
        self.file, self.root, self.problems = str(file), root, []

    def add(self, loc: Loc, message: str) -> None:
        text, line = key_path(loc, self.root)
        self.problems.append(Problem(self.file, line, text, message))


def _parse_yaml(path: Path, allow_list: bool = False) -> tuple[Any, Any]:
    try:
        note_input(path, "scene file")
    except NotAFileError as e:
        raise SceneError([Problem(str(path), None, "", e.reason)]) from None
    if not path.is_file():
        raise SceneError([Problem(str(path), None, "", "scene file not found")])
    try:
        check_file_size(path)
    except ValueError as e:
        raise SceneError([Problem(str(path), None, "", str(e))]) from None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SceneError([Problem(str(path), None, "", f"cannot read scene file: {e}")]) from None
    try:
        data, root = read_yaml(text)
    except YAMLReadError as e:
        raise SceneError([Problem(str(path), e.line, "", str(e))]) from None
    if data is None:
        raise SceneError([Problem(str(path), None, "", "scene file is empty")])
    if not isinstance(data, dict) and not (allow_list and isinstance(data, list)):
        what = "a mapping or a list of segments" if allow_list else "a mapping of keys (version, image, ...)"
        raise SceneError([Problem(str(path), 1, "", f"the top level must be {what}")])
    return data, root


def has_student_weights(folder: Path) -> bool:
    return (folder / "student.safetensors").is_file() and (folder / "MANIFEST.json").is_file()


def weights_folder(path: str | Path) -> Path:
    """The student weights folder a path names: the folder itself, or its student.safetensors."""
    path = Path(path)
    folder = path.parent if path.is_file() and path.suffix == ".safetensors" else path
    if not has_student_weights(folder):
        raise MotionWorldError(f"no student weights in {path} (need a folder with student.safetensors and "
                               "MANIFEST.json)")
    return folder


def _depth_source(spec: SceneSpec, base: Path, col: _Collector, known: set[str]):
    options = dict(spec.depth)
    name = options.get("source", "prior")
    if not isinstance(name, str):
        col.add(("depth", "source"), "must be the name of a depth source")
        return None
    try:
        cls = plugins.load(plugins.DEPTH_SOURCES, name)
    except MotionWorldError as e:
        col.add(("depth", "source"), str(e))
        return None
    try:
        opts = cls.Options.model_validate(options)
    except ValidationError as e:
        col.problems += validation_problems(e, col.file, col.root, ("depth",), known | set(cls.Options.model_fields))
        return None
    return cls(opts, base)


def _camera(spec: SceneSpec, width: int, height: int) -> Camera:
    if spec.camera.K is not None:
        return Camera(np.array(spec.camera.K, dtype=float), width, height)
    return Camera.from_fov(width, height, spec.camera.fov_deg or DEFAULT_FOV_DEG)


def _objects(spec: SceneSpec, base: Path, image_shape, col: _Collector) -> list[SceneObject]:
    H, W = image_shape
    out = []
    for i, obj in enumerate(spec.objects):
        loc = ("objects", i)
        times = [k.t for k in obj.path.keyframes]
        increasing = True
        for j in range(1, len(times)):
            if times[j] <= times[j - 1]:
                increasing = False
                col.add(loc + ("path", "keyframes", j, "t"),
                        f"must be increasing (previous keyframe has t={times[j - 1]:g})")
        if obj.mask is not None:
            try:
                mask = read_mask(note_input(base / obj.mask, "mask"))
            except MotionWorldError as e:
                col.add(loc + ("mask",), str(e))
                continue
            if mask.shape != (H, W):
                col.add(loc + ("mask",), f"mask is {mask.shape[1]}x{mask.shape[0]} but the image is {W}x{H}")
                continue
        else:
            x0, y0, x1, y1 = obj.box
            if not (0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H):
                col.add(loc + ("box",), f"box must satisfy 0 <= x0 < x1 <= {W} and 0 <= y0 < y1 <= {H}")
                continue
            mask = np.zeros((H, W), dtype=bool)
            mask[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))] = True
        if not mask.any():
            col.add(loc + ("mask" if obj.mask is not None else "box",), "selects no pixel of the image")
            continue
        if not increasing:
            continue
        try:
            path = ObjectPath([ObjectKeyframe(k.t, k.position, k.rotation_deg) for k in obj.path.keyframes],
                              loop=obj.path.loop, interpolation=obj.path.interpolation)
        except ValueError as e:
            col.add(loc + ("path",), str(e))
            continue
        out.append(SceneObject(obj.name, mask, path, None if obj.pivot is None else np.array(obj.pivot)))
    names = [o.name for o in spec.objects]
    for i, n in enumerate(names):
        if n in names[:i]:
            col.add(("objects", i, "name"), f"duplicate object name {n!r}")
    return out


def build_path(spec: PathSpec, scene: Scene, base: Path, report=None, loc: Loc = ()) -> P.CameraPath | None:
    """A PathSpec as a relative CameraPath for `scene`. Problems go to `report(loc, msg)` (or raise)."""

    def fail(where: Loc, msg: str):
        if report is None:
            raise MotionWorldError(f"{'.'.join(map(str, where))}: {msg}" if where else msg)
        report(where, msg)

    parts: list[P.CameraPath] = []
    rel_end = np.eye(4)  # end of the path so far, relative to its start
    fov = scene.camera.fov_deg
    ok = True
    for k, seg in enumerate(spec.segments):
        where = loc + ("segments", k, seg.kind)
        part = _checked_segment(seg, scene, base, rel_end, fov, fail, where)
        if part is None:
            ok = False
            continue
        parts.append(part)
        rel_end = rel_end @ invert_pose(part.start_pose) @ part.end_pose
    if not ok or not parts:
        return None
    return _joined_path(parts, spec.constant_speed, fail, loc)


def _checked_segment(seg, scene: Scene, base: Path, rel_end: np.ndarray, fov: float, fail, where: Loc):
    """One segment's CameraPath, or None once `fail` has been told why it cannot be made."""
    try:
        part = _segment_path(seg, scene, base, rel_end, fov, fail, where)
    except _Skip:
        return None
    except ValueError as e:
        fail(where, str(e))
        return None
    if part.duration <= 0:
        fail(where, "segment has no duration")
        return None
    return part


def _segment_path(seg, scene: Scene, base: Path, rel_end: np.ndarray, fov: float, fail, where: Loc) -> P.CameraPath:
    """The CameraPath of one segment, by its kind; `rel_end` is where the path so far ends."""
    s = getattr(seg, seg.kind)
    if seg.kind in ("dolly", "truck", "pedestal"):
        return getattr(P, seg.kind)(s.distance, s.seconds, s.ease)
    if seg.kind in ("pan", "tilt", "roll"):
        return getattr(P, seg.kind)(s.degrees, s.seconds, s.ease)
    if seg.kind == "orbit":
        return P.orbit(s.degrees, s.distance or scene.focus_depth, s.seconds, s.ease)
    if seg.kind == "dolly_zoom":
        return P.dolly_zoom(s.distance, s.target_distance or scene.focus_depth, fov, s.seconds, s.ease)
    if seg.kind == "look_at":
        return _look_at_segment(s, scene, rel_end)
    if seg.kind == "hold":
        return P.hold(s.seconds)
    if seg.kind == "keyframes":
        return _keyframes_segment(s, fail, where)
    if seg.kind == "actions":
        return _actions_segment(s, fail, where)
    if seg.kind == "file":
        return _file_segment(s, base, fail, where)
    raise AssertionError(seg.kind)  # pragma: no cover - the schema lists every kind


def _look_at_segment(s, scene: Scene, rel_end: np.ndarray) -> P.CameraPath:
    target = np.array(s.target) if s.target is not None else scene.lift_pixel(*s.pixel)
    # Target in the frame of this segment's start pose.
    local = transform_points(invert_pose(scene.start_pose @ rel_end), target[None])[0]
    return P.look_at_path(local, s.seconds, ease=s.ease)


def _keyframes_segment(s, fail, where: Loc) -> P.CameraPath:
    kfs = s.keyframes
    for j in range(1, len(kfs)):
        if kfs[j].t <= kfs[j - 1].t:
            fail(where + ("keyframes", j, "t"), f"must be increasing (previous keyframe has t={kfs[j - 1].t:g})")
            raise _Skip
    fovs = [kf.fov_deg for kf in kfs]
    if any(f is None for f in fovs) and not all(f is None for f in fovs):
        fail(where + ("keyframes",), "give fov_deg on every keyframe or on none")
        raise _Skip
    return P.CameraPath.from_keyframes(
        [P.Keyframe(kf.t, make_pose(rotation_from_ypr(*kf.rotation_deg), kf.position), kf.fov_deg) for kf in kfs],
        s.interpolation)


def _actions_segment(s, fail, where: Loc) -> P.CameraPath:
    try:
        poses = actions_to_c2w(s.actions, s.translation_speed, s.rotation_speed_deg, s.pitch_limit_deg)
    except PathFileError as e:
        fail(where + ("actions",), str(e))
        raise _Skip from None
    return P.CameraPath.from_poses(poses, interpolation="linear")


def _file_segment(s, base: Path, fail, where: Loc) -> P.CameraPath:
    try:
        part = load_path_file(base / s.path)
    except PathFileError as e:
        fail(where + ("path",), str(e))
        raise _Skip from None
    return _scaled(part, s.scale) if s.scale != 1.0 else part


def _joined_path(parts: list[P.CameraPath], constant_speed: bool, fail, loc: Loc) -> P.CameraPath | None:
    """The segments one after another, as a path starting at the identity (at constant speed if asked)."""
    try:
        path = P.CameraPath.concat(parts).rebased(np.eye(4))
    except ValueError as e:  # the segments together last longer than a path may
        fail(loc + ("segments",), str(e))
        return None
    return path.constant_speed() if constant_speed else path


class _Skip(Exception):
    pass


def _scaled(path: P.CameraPath, scale: float) -> P.CameraPath:
    inner = path._evaluate

    def evaluate(t):
        c2w, fov = inner(t)
        c2w = c2w.copy()
        c2w[:, :3, 3] *= scale
        return c2w, fov

    return P.CameraPath(path.duration, evaluate)


def _load(path: Path, depth: str | dict | None = None) -> Scene:
    path = Path(path)
    if is_picture(path):
        return _load_picture(path, depth)
    data, root = _parse_yaml(path)
    return _build(data, root, path)


def _load_picture(picture: Path, depth: str | dict | None = None) -> Scene:
    """The scene of a picture: its `photo.yaml` companion, else the one `scene new` would write."""
    if not picture.is_file():
        raise SceneError([Problem(str(picture), None, "", "picture not found")])
    if picture.suffix.lower() not in PICTURE_SUFFIXES:  # its first bytes are a picture's
        raise SceneError([Problem(str(picture), None, "", "a picture, not a scene file: give it its format's "
                                  f"suffix ({', '.join(PICTURE_SUFFIXES)}) to play it")])
    companion = companion_scene(picture)
    if companion is not None:
        scene = _load(companion)
        scene.note = (f"{picture.name}: playing the scene file beside it, {companion.name} "
                      f"(depth: {scene.depth_label}") + (
            "; the depth asked for is not used: the scene file gives it)" if isinstance(depth, str) else ")")
        return scene
    return picture_scene(picture, depth)


def picture_scene(picture: Path, requested: str | dict | None = None) -> Scene:
    """The scene `scene new` would write for a picture, with the first depth source that loads
    (`picture_scene.depth_candidates`); every step down goes into the note, a line each, with its
    reason. A `requested` dict is a `depth:` block itself (an input log's), used as it is."""
    steps = []
    candidates = ([(requested, "the depth of the logged session", None)] if isinstance(requested, dict)
                  else depth_candidates(requested or depth_model()))
    for i, (block, words, skipped) in enumerate(candidates):
        if skipped:
            steps.append(f"{words} skipped: {skipped}")
            continue
        data, root = read_yaml(scene_text(picture, depth=block))
        try:
            scene = _build(data, root, picture, base=picture.parent)
        except SceneError as e:
            depth_problems = [p for p in e.problems if p.key_path.startswith("depth")]
            if not depth_problems or i == len(candidates) - 1:
                raise SceneError([_as_picture_problem(p, picture) for p in e.problems]) from None
            steps.append(f"{words} not used: {depth_problems[0].message}")
            continue
        how = words if block["source"] != "prior" else (
            f"{words}; for the picture's own depth, `motionworld scene new {picture.name}` writes a scene "
            "file to give a depth map in")
        scene.note = "\n".join([f"{picture.name}: {step}" for step in steps] +
                               [f"{picture.name}: a scene made on the fly, depth from {how}"])
        scene.depth_block = block
        return scene
    raise AssertionError("the prior always loads")


def _as_picture_problem(problem: Problem, picture: Path) -> Problem:
    """A problem of a picture's made-up scene, told without that scene's lines and keys, which the
    user never wrote (a depth problem names `--depth`, where the depth was asked for)."""
    key = "--depth" if problem.key_path.startswith("depth") else ""
    return Problem(str(picture), None, key, problem.message)


def _build(data, root, path: Path, base: Path | None = None) -> Scene:
    """A Scene from parsed scene data; problems are reported against `path`."""
    col = _Collector(path, root)
    base = path.parent if base is None else base
    known = field_names(SceneSpec)
    try:
        spec = SceneSpec.model_validate(data)
    except ValidationError as e:
        raise SceneError(validation_problems(e, str(path), root, (), known)) from None

    source = _depth_source(spec, base, col, known)
    image = None
    try:
        image = read_rgb(note_input(base / spec.image, "picture"))
    except MotionWorldError as e:
        col.add(("image",), str(e))
    if spec.generator.weights is not None:
        try:
            weights_folder(base / spec.generator.weights)
        except MotionWorldError as e:
            col.add(("generator", "weights"), str(e))
    if spec.controls.default_path is not None and spec.controls.default_path not in spec.paths:
        col.add(("controls", "default_path"), f"no path named {spec.controls.default_path!r} under paths")
    if image is None or source is None:
        raise SceneError(col.problems or [Problem(str(path), None, "", "scene could not be loaded")])

    H, W = image.shape[:2]
    camera = _camera(spec, W, H)
    depth = None
    try:
        depth = source.load(image, camera)
        try:  # a plugin's, or a network gone wrong
            check_depth_range(np.asarray(depth), f"the depth from source {source.name!r}")
        except MotionWorldError as e:
            raise DepthError(str(e), "source") from None
    except DepthError as e:
        depth = None
        col.add(("depth", e.key) if e.key else ("depth",), str(e))
    objects = _objects(spec, base, (H, W), col)

    pitch = spec.camera.start.pitch_deg
    if pitch is None:
        pitch = source.pitch_deg(camera) if hasattr(source, "pitch_deg") else 0.0
    st = spec.camera.start
    start = pose_from_ypr(st.position, st.yaw_deg, pitch, st.roll_deg)
    if depth is None:
        raise SceneError(col.problems)
    scene = Scene(image=image, depth=depth, camera=camera, start_pose=start, prompt=spec.prompt,
                  objects=objects, spec=spec, file=path.resolve(),
                  depth_label=depth_label(str(spec.depth.get("source", "prior")), spec.depth))
    for name, pspec in spec.paths.items():
        built = build_path(pspec, scene, base, report=col.add, loc=("paths", name))
        if built is not None:
            scene.paths[name] = built
    if col.problems:
        raise SceneError(col.problems)
    return scene


def load_scene(path: str | Path, depth: str | dict | None = None) -> Scene:
    """Load and check the scene file `path` (a scene.yaml, or a picture); returns the `Scene`.

    Raises SceneError listing every problem found. A picture gets the scene file beside it, else
    the scene made for it on the fly; `depth` is the depth asked for that one (`--depth`: a depth
    source's name, a model folder or a hub id, or a whole `depth:` mapping; default None:
    MOTIONWORLD_DEPTH_MODEL if set, then the first source that loads, the prior last). A scene
    file's own `depth:` block always wins: `depth` is unused for it."""
    if depth is not None and not isinstance(depth, (str, dict)):
        raise ArgumentError(f"depth must be a depth source's name, a model folder or hub id, or a depth: mapping, "
                            f"got {A.shown(depth)}")
    return _load(A.file_path(path, "scene"), depth)


def check_scene(path: str | Path) -> list[Problem]:
    """Load the scene file `path` as `load_scene` does; returns every `Problem` it has (each names the
    file, line and key), an empty list when the scene is valid."""
    path = A.file_path(path, "scene")
    try:
        _load(path)
    except SceneError as e:
        return e.problems
    return []


def load_path_spec(path: str | Path, scene: Scene) -> P.CameraPath:
    """A camera-path YAML file (a list of segments, or {segments: [...], constant_speed: ...})."""
    path = Path(path)
    data, root = _parse_yaml(path, allow_list=True)
    col = _Collector(path, root)
    try:
        spec = PathSpec.model_validate(data)
    except ValidationError as e:
        raise SceneError(validation_problems(e, str(path), root, (), field_names(PathSpec))) from None
    built = build_path(spec, scene, path.parent, report=col.add)
    if col.problems or built is None:
        raise SceneError(col.problems)
    return built
