"""Camera-path files: nerfstudio camera_path.json (read/write), RealEstate10K and COLMAP images.txt.

Every importer returns a CameraPath in OpenCV axes. nerfstudio stores camera_to_world in OpenGL
axes (x right, y up, z back) as 16 row-major floats and a vertical fov in degrees; RealEstate10K
lines hold a timestamp in microseconds, normalised intrinsics and a row-major 3x4 world-to-camera
matrix; COLMAP images.txt holds world-to-camera (qw qx qy qz, tx ty tz) per image, two lines per
image. Files with no timing (COLMAP) are played at `fps` in image-name order.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from .. import arguments as A
from .. import strict_json
from ..errors import ArgumentError, MotionWorldError, PathFileError
from ..inputs import note_input
from ..limits import MAX_FRAMES, MAX_PICTURE_SIDE, MAX_SCENE_NUMBER, MAX_SECONDS, check_file_size
from ..outputs import replacing
from .camera import CV_TO_GL, invert_pose, make_pose
from .paths import FPS, CameraPath, Keyframe


def _fail(path: Path, line: int | None, message: str) -> PathFileError:
    where = f"{path}:{line}" if line is not None else str(path)
    return PathFileError(f"{where}: {message}")


def _finite(path: Path, line: int | None, values: np.ndarray, what: str) -> np.ndarray:
    if not np.all(np.isfinite(values)):
        raise _fail(path, line, f"{what} has a non-finite number")
    return values


def _placed(path: Path, line: int | None, c2w: np.ndarray, what: str) -> np.ndarray:
    """A camera within MAX_SCENE_NUMBER units of the origin (1e300 would make every track inf)."""
    distance = float(np.abs(c2w[:3, 3]).max())
    if distance > MAX_SCENE_NUMBER:
        raise _fail(path, line, f"{what}: the camera is {distance:.3g} units from the origin, over the "
                                f"{MAX_SCENE_NUMBER:g} limit")
    return c2w


def _rigid(path: Path, line: int | None, R: np.ndarray) -> None:
    if abs(np.linalg.det(R) - 1.0) > 1e-3 or not np.allclose(R @ R.T, np.eye(3), atol=1e-3):
        raise _fail(path, line, "rotation part is not a rotation matrix")


def read_json(path: Path):
    """A JSON file's data, strictly: no NaN/Infinity, no nesting deeper than MAX_NESTING."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(path, None, f"cannot read: {e}") from None
    try:
        return strict_json.loads(text)
    except json.JSONDecodeError as e:
        raise _fail(path, e.lineno, f"invalid JSON: {e.msg}") from None
    except (ValueError, RecursionError) as e:
        raise _fail(path, None, f"invalid JSON: {e}") from None


# --- nerfstudio --------------------------------------------------------------------------------
def load_nerfstudio(path: str | Path, interpolation: str = "cubic") -> CameraPath:
    path = Path(path)
    data = read_json(path)
    entries = data.get("camera_path") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise _fail(path, None, "camera_path: expected a non-empty list of cameras")
    if len(entries) > MAX_FRAMES:
        raise _fail(path, None, f"camera_path: {len(entries)} cameras, more than the {MAX_FRAMES} frames limit")
    seconds, fps = data.get("seconds"), data.get("fps")
    for key, value, high in (("seconds", seconds, MAX_SECONDS), ("fps", fps, 1000.0)):
        if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool)
                                      and 0 < value <= high):
            raise _fail(path, None, f"{key}: expected a number in (0, {high:g}], got {value!r}")
    if seconds is not None and len(entries) > 1:
        dt = seconds / len(entries)  # ns-render plays len(path) frames over `seconds`
    elif fps is not None:
        dt = 1.0 / fps
    else:
        dt = 1.0 / FPS
    keys = []
    for i, cam in enumerate(entries):
        try:
            m = np.asarray(cam["camera_to_world"], dtype=float).reshape(-1)
        except (KeyError, TypeError, ValueError):
            raise _fail(path, None, f"camera_path[{i}].camera_to_world: expected 16 numbers") from None
        if m.size not in (12, 16):
            raise _fail(path, None, f"camera_path[{i}].camera_to_world: expected 16 numbers, got {m.size}")
        m = _finite(path, None, m, f"camera_path[{i}].camera_to_world")
        c2w = np.eye(4)
        c2w[: m.size // 4] = m.reshape(-1, 4)
        _rigid(path, None, c2w[:3, :3])
        _placed(path, None, c2w, f"camera_path[{i}].camera_to_world")
        fov = cam.get("fov")
        if fov is not None and not (isinstance(fov, (int, float)) and 0 < fov < 180):
            raise _fail(path, None, f"camera_path[{i}].fov: expected degrees in (0, 180), got {fov!r}")
        # render_time is a dynamic scene's normalised time, not playback time: not used here.
        keys.append(Keyframe(i * dt, c2w @ CV_TO_GL, fov))
    return CameraPath.from_keyframes(keys, interpolation)


def save_nerfstudio(path: str | Path, camera_path: CameraPath, width: int, height: int,
                    fov_deg: float, fps: float = FPS, seconds: float | None = None) -> None:
    """Write `camera_path` to the file `path` as a nerfstudio camera_path.json, one camera per video
    frame, in the layout nerfstudio's ns-render reads.

    `width` and `height` are the render size in pixels; `fov_deg` the vertical field of view in
    degrees wherever the path gives none; `fps` the frame rate (default 16), written as given;
    `seconds` how long to sample the path (default: its duration). Poses are written in OpenGL axes
    as nerfstudio stores them. The file appears only when complete; a folder, a FIFO or an input of
    the running command is refused. Returns nothing."""
    path = A.file_path(path, "path")
    if not isinstance(camera_path, CameraPath):
        raise ArgumentError(f"camera_path must be a CameraPath, got {A.shown(camera_path)}")
    width = A.number(width, "width", 1, MAX_PICTURE_SIDE, integer=True)
    height = A.number(height, "height", 1, MAX_PICTURE_SIDE, integer=True)
    fov_deg = A.fov(fov_deg)
    A.fps(fps)  # checked; written as given
    seconds = None if seconds is None else A.seconds(seconds)
    c2w, fov = camera_path.frames(fps, seconds, default_fov=fov_deg)
    cams = [{"camera_to_world": (c @ CV_TO_GL).reshape(-1).tolist(), "fov": float(f), "aspect": width / height}
            for c, f in zip(c2w, fov)]
    data = {"camera_type": "perspective", "render_height": int(height), "render_width": int(width),
            "fps": fps, "seconds": len(cams) / fps, "camera_path": cams}
    with replacing(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1))


# --- RealEstate10K -----------------------------------------------------------------------------
def load_realestate10k(path: str | Path, interpolation: str = "cubic") -> tuple[CameraPath, np.ndarray]:
    """Returns the path and the per-frame normalised intrinsics [T, 4] (fx, fy, cx, cy)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(path, None, f"cannot read: {e}") from None
    keys, intr = [], []
    t0 = None
    for lineno, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or (lineno == 1 and len(fields) == 1):  # first line: the video's URL
            continue
        if len(fields) != 19:
            raise _fail(path, lineno, f"expected 19 numbers (timestamp, fx fy cx cy, 0 0, 3x4 w2c), got {len(fields)}")
        try:
            values = np.array([float(f) for f in fields])
        except ValueError:
            raise _fail(path, lineno, "expected numbers") from None
        values = _finite(path, lineno, values, "line")
        t_us = values[0]
        t0 = t_us if t0 is None else t0
        w2c = np.eye(4)
        w2c[:3] = values[7:].reshape(3, 4)
        _rigid(path, lineno, w2c[:3, :3])
        intr.append(values[1:5])
        keys.append(Keyframe((t_us - t0) * 1e-6, _placed(path, lineno, invert_pose(w2c), "line"), None))
        if len(keys) > 1 and keys[-1].t <= keys[-2].t:
            raise _fail(path, lineno, "timestamps must increase")
    if not keys:
        raise _fail(path, None, "no camera lines found")
    return CameraPath.from_keyframes(keys, interpolation), np.array(intr)


def save_realestate10k(path: str | Path, camera_path: CameraPath, K: np.ndarray, width: int, height: int,
                       fps: float = FPS, url: str = "motionworld") -> None:
    c2w, _ = camera_path.frames(fps)
    fx, fy, cx, cy = K[0, 0] / width, K[1, 1] / height, (K[0, 2] + 0.5) / width, (K[1, 2] + 0.5) / height
    rows = [url]
    for i, c in enumerate(c2w):
        w2c = invert_pose(c)[:3].reshape(-1)
        nums = [f"{round(i * 1e6 / fps)}", *(f"{v:.9g}" for v in (fx, fy, cx, cy)), "0", "0",
                *(f"{v:.12g}" for v in w2c)]
        rows.append(" ".join(nums))
    with replacing(path) as tmp:
        tmp.write_text("\n".join(rows) + "\n")


# --- COLMAP ------------------------------------------------------------------------------------
def load_colmap_images(path: str | Path, fps: float = FPS, interpolation: str = "cubic") -> CameraPath:
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(path, None, f"cannot read: {e}") from None
    images = []
    expect_points = False
    for lineno, line in enumerate(lines, start=1):
        if line.startswith("#"):
            continue
        if expect_points:  # the POINTS2D line after each image line (may be empty)
            expect_points = False
            continue
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 10:
            raise _fail(path, lineno, "expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME")
        try:
            q = np.array([float(v) for v in fields[1:5]])
            t = np.array([float(v) for v in fields[5:8]])
        except ValueError:
            raise _fail(path, lineno, "quaternion and translation must be numbers") from None
        _finite(path, lineno, np.concatenate([q, t]), "pose")
        if np.linalg.norm(q) < 1e-9:
            raise _fail(path, lineno, "quaternion is zero")
        R = Rotation.from_quat(q, scalar_first=True).as_matrix()
        images.append((" ".join(fields[9:]), _placed(path, lineno, invert_pose(make_pose(R, t)), "pose")))
        expect_points = True
    if not images:
        raise _fail(path, None, "no images found")
    images.sort(key=lambda item: item[0])
    return CameraPath.from_keyframes([Keyframe(i / fps, c2w) for i, (_, c2w) in enumerate(images)], interpolation)


def save_colmap_images(path: str | Path, camera_path: CameraPath, fps: float = FPS) -> None:
    c2w, _ = camera_path.frames(fps)
    rows = ["# Image list with two lines of data per image:",
            "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME", "#   POINTS2D[] as (X, Y, POINT3D_ID)"]
    for i, c in enumerate(c2w):
        w2c = invert_pose(c)
        q = Rotation.from_matrix(w2c[:3, :3]).as_quat(scalar_first=True)
        rows.append(" ".join([str(i + 1), *(f"{v:.12g}" for v in q), *(f"{v:.12g}" for v in w2c[:3, 3]), "1",
                              f"frame_{i:05d}.png"]))
        rows.append("")
    with replacing(path) as tmp:
        tmp.write_text("\n".join(rows) + "\n")


# --- dispatch ----------------------------------------------------------------------------------
def load_path_file(path: str | Path, fps: float = FPS) -> CameraPath:
    """Read the camera-path file `path`, guessing the format from its name and content: .json =
    nerfstudio camera_path.json; a .txt named images* or naming IMAGE_ID in its first lines = COLMAP
    images.txt; any other .txt = RealEstate10K. `fps` (default 16) is the rate COLMAP's untimed
    images are played at; the other formats carry their own timing.

    Returns the CameraPath (OpenCV axes, as the file places it, cubic interpolation). A file that
    cannot be read or is not a camera path raises PathFileError naming the file (and line)."""
    path = A.file_path(path, "camera path file")
    A.fps(fps)
    try:
        path = note_input(path, "camera path file")
    except MotionWorldError as e:
        raise PathFileError(str(e)) from None
    if not path.is_file():
        raise PathFileError(f"{path}: camera path file not found")
    try:
        check_file_size(path)
        if path.suffix.lower() == ".json":
            return load_nerfstudio(path)
        if path.suffix.lower() == ".txt":
            text = path.read_text(errors="replace")
            if path.name.lower().startswith("images") or "IMAGE_ID" in text[:400]:
                return load_colmap_images(path, fps)
            return load_realestate10k(path)[0]
    except ValueError as e:  # a path the file describes but the engine cannot make (e.g. too long)
        raise _fail(path, None, str(e)) from None
    raise PathFileError(f"{path}: unknown camera path format "
                        "(use nerfstudio .json, RealEstate10K .txt or COLMAP images.txt)")

