"""Pinhole camera in OpenCV axes (x right, y down, z forward), intrinsics K in pixels.

Pixel coordinates put the centre of pixel (i, j) at (x=j, y=i), so an image of width W spans
x in [-0.5, W - 0.5]. A camera built from a field of view has its principal point at the image
centre ((W - 1) / 2, (H - 1) / 2). `fov_deg` always means the vertical field of view.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from .. import arguments as A
from ..errors import ArgumentError
from ..limits import MAX_PICTURE_SIDE

# OpenCV camera axes -> OpenGL camera axes (y up, z backwards). Its own inverse.
CV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])


def focal_from_fov(height: int, fov_deg: float) -> float:
    return 0.5 * height / np.tan(np.radians(fov_deg) / 2.0)


def fov_from_focal(height: int, focal: float) -> float:
    return float(np.degrees(2.0 * np.arctan(0.5 * height / focal)))


def intrinsics_from_fov(width: int, height: int, fov_deg: float) -> np.ndarray:
    f = focal_from_fov(height, fov_deg)
    return np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]])


def scale_pixels(xy, sx: float, sy: float | None = None) -> np.ndarray:
    """Pixel coordinates [..., 2] (pixel centres at integers) in an image scaled by (sx, sy):
    the same points, not the same numbers ((x + 0.5) * s - 0.5)."""
    xy = np.asarray(xy, dtype=np.float64)
    s = np.array([sx, sx if sy is None else sy])
    return (xy + 0.5) * s - 0.5


@dataclass(frozen=True)
class Camera:
    """A pinhole camera's intrinsics and image size (immutable); poses are kept apart, as 4x4 c2w matrices.

    `K` is the 3x3 intrinsics matrix in pixels ([[fx, 0, cx], [0, fy, cy], [0, 0, 1]]; finite, with
    positive focal lengths); `width` and `height` are the image size in pixels, whole numbers from 1
    to MAX_PICTURE_SIDE. `Camera.from_fov(width, height, fov_deg)` makes one from a vertical field of
    view with the principal point at the image centre."""

    K: np.ndarray
    width: int
    height: int

    def __post_init__(self):
        _size(self.width, self.height)
        try:
            K = np.asarray(self.K, dtype=float)
        except (TypeError, ValueError):
            K = None
        if K is None or K.shape != (3, 3) or not np.all(np.isfinite(K)) or not (K[0, 0] > 0 and K[1, 1] > 0):
            raise ArgumentError(f"K must be a 3x3 intrinsics matrix of finite numbers with positive focal lengths, "
                                f"got {A.shown(self.K)}")

    @classmethod
    def from_fov(cls, width: int, height: int, fov_deg: float) -> Camera:
        """Returns the camera of a `width` x `height` pixel image with a vertical field of view of
        `fov_deg` degrees (strictly between 0 and 180), its principal point at the image centre."""
        width, height = _size(width, height)
        return cls(intrinsics_from_fov(width, height, A.fov(fov_deg)), width, height)

    @property
    def fov_deg(self) -> float:
        """The vertical field of view in degrees (from fy and the height)."""
        return fov_from_focal(self.height, float(self.K[1, 1]))

    def with_fov(self, fov_deg: float) -> Camera:
        """Same principal point and aspect of pixels, new vertical field of view."""
        K = self.K.copy()
        scale = focal_from_fov(self.height, A.fov(fov_deg)) / self.K[1, 1]
        K[0, 0] *= scale
        K[1, 1] *= scale
        return Camera(K, self.width, self.height)

    def resized(self, width: int, height: int) -> Camera:
        """The same view at another resolution (pixel-centre convention kept exact)."""
        width, height = _size(width, height)
        sx, sy = width / self.width, height / self.height
        K = self.K.copy()
        K[0, 0] *= sx
        K[1, 1] *= sy
        K[:2, 2] = scale_pixels(K[:2, 2], sx, sy)
        return Camera(K, int(width), int(height))

    def project(self, points_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Camera-space points [..., 3] -> pixels [..., 2] and depth z [...]."""
        return project(self.K, points_cam)

    def unproject(self, pixels: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Pixels [..., 2] with z-depth [...] -> camera-space points [..., 3]."""
        return unproject(self.K, pixels, depth)

    def inside(self, pixels: np.ndarray) -> np.ndarray:
        """Returns a bool array [...]: whether each of `pixels` [..., 2] (x, y) falls on the image."""
        x, y = pixels[..., 0], pixels[..., 1]
        return (x >= -0.5) & (x < self.width - 0.5) & (y >= -0.5) & (y < self.height - 0.5)

    def gl_projection(self, near: float = 0.01, far: float = 1000.0) -> np.ndarray:
        """OpenGL clip matrix equivalent to K for this image size (for the window later)."""
        return gl_projection(self.K, self.width, self.height, near, far)


def _size(width, height) -> tuple[int, int]:
    """An image size: whole numbers of pixels from 1 to MAX_PICTURE_SIDE a side."""
    return (A.number(width, "width", 1, MAX_PICTURE_SIDE, integer=True),
            A.number(height, "height", 1, MAX_PICTURE_SIDE, integer=True))


def project(K: np.ndarray, points_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera-space points [..., 3] -> pixels [..., 2] and z-depth [...] with one 3x3 K."""
    with np.errstate(divide="ignore", invalid="ignore"):
        uvw = points_cam @ K.T
        uv = uvw[..., :2] / uvw[..., 2:3]
    return uv, points_cam[..., 2]


def unproject(K: np.ndarray, pixels: np.ndarray, depth: np.ndarray) -> np.ndarray:
    ones = np.ones(pixels.shape[:-1] + (1,))
    rays = np.concatenate([pixels, ones], axis=-1) @ np.linalg.inv(K).T
    return rays * np.asarray(depth)[..., None]


def invert_pose(T: np.ndarray) -> np.ndarray:
    """Inverse of rigid 4x4 transforms [..., 4, 4] (exact, no general matrix inverse)."""
    R = T[..., :3, :3]
    t = T[..., :3, 3]
    out = np.zeros_like(T)
    Rt = np.swapaxes(R, -1, -2)
    out[..., :3, :3] = Rt
    out[..., :3, 3] = -np.einsum("...ij,...j->...i", Rt, t)
    out[..., 3, 3] = 1.0
    return out


def transform_points(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply 4x4 transforms [..., 4, 4] to points [..., N, 3]."""
    return np.einsum("...ij,...nj->...ni", T[..., :3, :3], points) + T[..., None, :3, 3]


def make_pose(rotation: Rotation | np.ndarray, position) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = rotation.as_matrix() if isinstance(rotation, Rotation) else rotation
    T[:3, 3] = np.asarray(position, dtype=float)
    return T


def rotation_from_ypr(yaw_deg: float, pitch_deg: float, roll_deg: float = 0.0) -> Rotation:
    """c2w rotation from yaw (turn right +), pitch (look up +), roll (clockwise +), in degrees.

    In OpenCV world axes (y down): R = Ry(yaw) @ Rx(pitch) @ Rz(roll). Ry(+) turns the forward axis
    towards +x (right); Rx(+) tips it towards -y (up).
    """
    return Rotation.from_euler("YXZ", [yaw_deg, pitch_deg, roll_deg], degrees=True)


def ypr_from_rotation(rotation: Rotation | np.ndarray) -> tuple[float, float, float]:
    if not isinstance(rotation, Rotation):
        rotation = Rotation.from_matrix(rotation)
    yaw, pitch, roll = rotation.as_euler("YXZ", degrees=True)
    return float(yaw), float(pitch), float(roll)


def pose_from_ypr(position, yaw_deg: float = 0.0, pitch_deg: float = 0.0, roll_deg: float = 0.0) -> np.ndarray:
    """Returns the c2w pose [4, 4] (OpenCV axes) of a camera at `position` (x, y, z in world units)
    turned by `yaw_deg` (right +), `pitch_deg` (up +) and `roll_deg` (clockwise +), in degrees, each
    0 by default and applied as in `rotation_from_ypr`. All zero looks along +z with y down."""
    position = A.vector(position, "position", 3, bound=np.inf)
    angles = [A.number(a, name, -np.inf, np.inf) for a, name in
              ((yaw_deg, "yaw_deg"), (pitch_deg, "pitch_deg"), (roll_deg, "roll_deg"))]
    return make_pose(rotation_from_ypr(*angles), position)


def look_at(eye, target, up=(0.0, -1.0, 0.0)) -> np.ndarray:
    """Returns the c2w pose [4, 4] (OpenCV axes) of a camera at `eye` looking at `target` (world
    points, 3 numbers each), with no roll about the world's `up` direction (default (0, -1, 0): -y,
    since OpenCV's y points down). Raises ArgumentError when `eye` and `target` coincide or the view
    is parallel to `up`."""
    eye, target, up = (A.vector(v, name, 3, bound=np.inf) for v, name in ((eye, "eye"), (target, "target"), (up, "up")))
    forward = target - eye
    norm = np.linalg.norm(forward)
    if not norm >= 1e-12:
        raise ArgumentError("look_at: eye and target coincide")
    forward /= norm
    right = np.cross(forward, up)  # OpenCV: x = y cross z with y = -up
    if not np.linalg.norm(right) >= 1e-9:
        raise ArgumentError("look_at: view direction is parallel to the up vector")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return make_pose(np.stack([right, down, forward], axis=1), eye)


def gl_projection(K: np.ndarray, width: int, height: int, near: float, far: float) -> np.ndarray:
    """Projection matrix for OpenGL camera axes whose NDC matches pixel coordinates of K.

    Pixel x in [-0.5, W-0.5] maps to NDC [-1, 1]; pixel y grows downwards, NDC y upwards.
    """
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    P = np.zeros((4, 4))
    P[0, 0] = 2.0 * fx / width
    P[0, 2] = 1.0 - 2.0 * (cx + 0.5) / width
    P[1, 1] = 2.0 * fy / height
    P[1, 2] = 2.0 * (cy + 0.5) / height - 1.0
    P[2, 2] = -(far + near) / (far - near)
    P[2, 3] = -2.0 * far * near / (far - near)
    P[3, 2] = -1.0
    return P


def gl_view_matrix(c2w: np.ndarray) -> np.ndarray:
    """OpenGL view matrix (world -> GL camera) from an OpenCV c2w."""
    return CV_TO_GL @ invert_pose(c2w)
