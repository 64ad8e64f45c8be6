import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from motionworld.geometry.camera import (
    Camera,
    gl_projection,
    gl_view_matrix,
    invert_pose,
    look_at,
    pose_from_ypr,
    transform_points,
    ypr_from_rotation,
)


def test_project_unproject_round_trip():
    cam = Camera.from_fov(320, 240, 55.0)
    rng = np.random.default_rng(1)
    px = rng.uniform([-0.5, -0.5], [319.5, 239.5], size=(500, 2))
    z = rng.uniform(0.3, 50.0, size=500)
    pts = cam.unproject(px, z)
    uv, zz = cam.project(pts)
    np.testing.assert_allclose(uv, px, atol=1e-9)
    np.testing.assert_allclose(zz, z, rtol=1e-12)


def test_world_round_trip_through_pose():
    cam = Camera.from_fov(200, 100, 40.0)
    c2w = pose_from_ypr([1.0, -0.5, 2.0], 30.0, -10.0, 5.0)
    px = np.array([[10.0, 20.0], [150.0, 80.0], [99.5, 49.5]])
    world = transform_points(c2w, cam.unproject(px, np.array([2.0, 5.0, 7.0])))
    uv, z = cam.project(transform_points(invert_pose(c2w), world))
    np.testing.assert_allclose(uv, px, atol=1e-9)
    np.testing.assert_allclose(z, [2.0, 5.0, 7.0])


def test_fov_and_principal_point():
    cam = Camera.from_fov(640, 480, 60.0)
    assert cam.fov_deg == pytest.approx(60.0)
    assert cam.K[0, 2] == 319.5 and cam.K[1, 2] == 239.5
    # The top edge of the image (y = -0.5) is half the vertical fov above the axis.
    ray = cam.unproject(np.array([[319.5, -0.5]]), np.array([1.0]))[0]
    assert np.degrees(np.arctan2(-ray[1], ray[2])) == pytest.approx(30.0)
    half = cam.resized(320, 240)
    assert half.K[0, 2] == pytest.approx(159.5) and half.fov_deg == pytest.approx(60.0)
    assert cam.with_fov(30.0).fov_deg == pytest.approx(30.0)


def test_yaw_pitch_conventions():
    # yaw + turns right (forward towards +x); pitch + looks up (forward towards -y).
    fwd = pose_from_ypr([0, 0, 0], 90.0, 0.0)[:3, 2]
    np.testing.assert_allclose(fwd, [1, 0, 0], atol=1e-12)
    fwd = pose_from_ypr([0, 0, 0], 0.0, 30.0)[:3, 2]
    assert fwd[1] < 0
    y, p, r = ypr_from_rotation(Rotation.from_euler("YXZ", [12, -7, 3], degrees=True))
    assert (y, p, r) == pytest.approx((12, -7, 3))


def test_look_at_points_the_optical_axis_at_the_target():
    c2w = look_at([1.0, -1.0, 0.0], [3.0, 0.5, 4.0])
    target_cam = transform_points(invert_pose(c2w), np.array([[3.0, 0.5, 4.0]]))[0]
    np.testing.assert_allclose(target_cam[:2], [0, 0], atol=1e-12)
    assert target_cam[2] > 0
    assert c2w[:3, 0][1] == pytest.approx(0.0, abs=1e-12)  # no roll: right vector stays horizontal
    np.testing.assert_allclose(c2w[:3, :3] @ c2w[:3, :3].T, np.eye(3), atol=1e-12)


def test_gl_matrices_agree_with_pixel_projection():
    cam = Camera.from_fov(160, 90, 50.0)
    c2w = pose_from_ypr([0.3, 0.1, -1.0], 10.0, 5.0)
    world = np.array([[0.5, 0.2, 4.0], [-1.0, -0.4, 6.0]])
    uv, _ = cam.project(transform_points(invert_pose(c2w), world))
    clip = (gl_projection(cam.K, 160, 90, 0.1, 100.0) @ gl_view_matrix(c2w) @ np.c_[world, np.ones(2)].T).T
    ndc = clip[:, :2] / clip[:, 3:]
    px = (ndc[:, 0] + 1) / 2 * 160 - 0.5
    py = (1 - ndc[:, 1]) / 2 * 90 - 0.5
    np.testing.assert_allclose(np.c_[px, py], uv, atol=1e-9)
