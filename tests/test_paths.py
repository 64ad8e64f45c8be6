import numpy as np
import pytest

from motionworld.errors import PathFileError
from motionworld.geometry import paths
from motionworld.geometry.camera import invert_pose, pose_from_ypr, transform_points, ypr_from_rotation
from motionworld.geometry.path_io import (
    load_colmap_images,
    load_nerfstudio,
    load_path_file,
    load_realestate10k,
    save_colmap_images,
    save_nerfstudio,
    save_realestate10k,
)
from motionworld.geometry.paths import CameraPath, Keyframe


def test_keyframes_are_interpolated_through():
    keys = [Keyframe(0.0, pose_from_ypr([0, 0, 0])), Keyframe(1.0, pose_from_ypr([1, 0, 2], 20, 5)),
            Keyframe(2.5, pose_from_ypr([2, -0.5, 3], 45, -5)), Keyframe(4.0, pose_from_ypr([2, 0, 5], 90, 0))]
    p = CameraPath.from_keyframes(keys)
    assert p.duration == 4.0
    c2w, _ = p.sample([k.t for k in keys])
    for got, k in zip(c2w, keys):
        np.testing.assert_allclose(got, k.c2w, atol=1e-9)
    mid, _ = p.sample(np.linspace(0, 4, 50))
    assert np.all(np.isfinite(mid))
    np.testing.assert_allclose(np.linalg.det(mid[:, :3, :3]), 1.0, atol=1e-9)
    with pytest.raises(ValueError):
        CameraPath.from_keyframes([Keyframe(1.0, np.eye(4)), Keyframe(1.0, np.eye(4))])


def test_primitives_do_what_they_say():
    end = paths.dolly(2.0, 1.0).end_pose
    np.testing.assert_allclose(end[:3, 3], [0, 0, 2.0], atol=1e-12)
    np.testing.assert_allclose(paths.truck(-1.0, 1.0).end_pose[:3, 3], [-1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(paths.pedestal(0.5, 1.0).end_pose[:3, 3], [0, -0.5, 0], atol=1e-12)
    assert ypr_from_rotation(paths.pan(30.0, 1.0).end_pose[:3, :3])[0] == pytest.approx(30.0)
    assert ypr_from_rotation(paths.tilt(-10.0, 1.0).end_pose[:3, :3])[1] == pytest.approx(-10.0)
    assert ypr_from_rotation(paths.roll(15.0, 1.0).end_pose[:3, :3])[2] == pytest.approx(15.0)
    # Eased and linear primitives share their end points; easing starts slower.
    lin, ease = paths.dolly(1.0, 2.0), paths.dolly(1.0, 2.0, ease=True)
    assert ease.pose(0.2)[2, 3] < lin.pose(0.2)[2, 3]
    assert ease.pose(1.0)[2, 3] == pytest.approx(0.5)


def test_orbit_keeps_the_centre_in_view_at_constant_distance():
    p = paths.orbit(90.0, 3.0, seconds=2.0)
    c2w, _ = p.sample(np.linspace(0, 2, 21))
    centre = np.array([[0.0, 0.0, 3.0]])
    for T in c2w:
        c = transform_points(invert_pose(T), centre)[0]
        np.testing.assert_allclose(c, [0, 0, 3.0], atol=1e-6)
    assert c2w[-1][0, 3] > 2.9  # orbiting right by 90 degrees ends to the right of the centre


def test_then_continues_from_the_end_pose():
    p = paths.dolly(1.0, 1.0) + paths.pan(90.0, 1.0) + paths.dolly(2.0, 1.0)
    assert p.duration == pytest.approx(3.0)
    np.testing.assert_allclose(p.end_pose[:3, 3], [2.0, 0, 1.0], atol=1e-9)
    c2w, _ = p.sample(np.linspace(0, 3, 301))
    steps = np.linalg.norm(np.diff(c2w[:, :3, 3], axis=0), axis=1)
    assert steps.max() < 0.05  # continuous across the joins


def test_constant_speed_reparametrisation():
    keys = [Keyframe(0.0, pose_from_ypr([0, 0, 0])), Keyframe(1.0, pose_from_ypr([0, 0, 0.1])),
            Keyframe(2.0, pose_from_ypr([0, 0, 3.0]))]
    p = CameraPath.from_keyframes(keys, "linear")
    q = p.constant_speed()
    assert q.duration == p.duration
    c2w, _ = q.sample(np.linspace(0, 2, 41))
    steps = np.linalg.norm(np.diff(c2w[:, :3, 3], axis=0), axis=1)
    np.testing.assert_allclose(steps, steps.mean(), rtol=0.02)
    np.testing.assert_allclose(q.end_pose, p.end_pose, atol=1e-9)
    # A pure rotation is re-timed by angle.
    r = (paths.pan(10.0, 1.0) + paths.pan(80.0, 1.0)).constant_speed()
    yaws = [ypr_from_rotation(T[:3, :3])[0] for T in r.sample(np.linspace(0, 2, 11))[0]]
    np.testing.assert_allclose(np.diff(yaws), 9.0, atol=0.2)


def _wiggly_path():
    keys = [Keyframe(0.0, pose_from_ypr([0, 0, 0])), Keyframe(1.0, pose_from_ypr([0.5, -0.1, 1.0], 15, -5, 2)),
            Keyframe(2.0, pose_from_ypr([1.0, 0.0, 1.5], 40, 5, -3))]
    return CameraPath.from_keyframes(keys)


def test_nerfstudio_round_trip(tmp_path):
    p = _wiggly_path() + paths.dolly_zoom(0.5, 3.0, 50.0, 1.0)
    f = tmp_path / "camera_path.json"
    save_nerfstudio(f, p, 320, 240, fov_deg=50.0, fps=16)
    q = load_nerfstudio(f)
    t = np.arange(0, 3.0 + 1e-9, 1 / 16)
    a, fa = p.sample(t, 50.0)
    b, fb = q.sample(t, 50.0)
    np.testing.assert_allclose(b, a, atol=1e-9)
    np.testing.assert_allclose(fb, fa, atol=1e-9)
    assert load_path_file(f).duration == pytest.approx(q.duration)


def test_realestate10k_round_trip(tmp_path):
    from motionworld.geometry.camera import Camera

    p = _wiggly_path()
    cam = Camera.from_fov(640, 360, 45.0)
    f = tmp_path / "clip.txt"
    save_realestate10k(f, p, cam.K, 640, 360)
    q, intr = load_realestate10k(f)
    t = np.arange(0, 2.0 + 1e-9, 1 / 16)
    np.testing.assert_allclose(q.sample(t)[0], p.sample(t)[0], atol=1e-9)
    np.testing.assert_allclose(intr[0], [cam.K[0, 0] / 640, cam.K[1, 1] / 360, 0.5, 0.5])
    assert load_path_file(f).duration == pytest.approx(2.0)


def test_colmap_round_trip(tmp_path):
    p = _wiggly_path()
    f = tmp_path / "images.txt"
    save_colmap_images(f, p)
    q = load_colmap_images(f)
    t = np.arange(0, 2.0 + 1e-9, 1 / 16)
    np.testing.assert_allclose(q.sample(t)[0], p.sample(t)[0], atol=1e-9)
    assert load_path_file(f).duration == pytest.approx(2.0)


@pytest.mark.parametrize("name,text,match", [
    ("bad.json", "{not json", "bad.json:1: invalid JSON"),
    ("empty.json", '{"camera_path": []}', "non-empty list"),
    ("nan.json", '{"camera_path": [{"camera_to_world": [1,0,0,0, 0,1,0,0, 0,0,1,NaN, 0,0,0,1], "fov": 50}]}',
     "NaN is not a number JSON allows"),
    ("inf.json", '{"seconds": Infinity, "camera_path": [{"camera_to_world": [1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,0,1]}]}',
     "Infinity is not a number JSON allows"),
    ("long.json", '{"seconds": 1e9, "camera_path": [{"camera_to_world": [1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,0,1]}, '
     '{"camera_to_world": [1,0,0,0, 0,1,0,0, 0,0,1,1, 0,0,0,1]}]}', r"seconds: expected a number in \(0, 3600\]"),
    ("deep.json", "[" * 5000 + "]" * 5000, "nested deeper than 64 levels"),
    ("short.txt", "url\n0 0.5 0.5 0.5 0.5 0 0 1 0 0\n", "short.txt:2: expected 19 numbers"),
    ("images.txt", "1 0 0 0 0 0 0 0 1 a.png\n\n", "quaternion is zero"),
    ("path.csv", "x", "unknown camera path format"),
])
def test_bad_path_files_give_one_clear_line(tmp_path, name, text, match):
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(PathFileError, match=match):
        load_path_file(f)


def test_missing_path_file(tmp_path):
    with pytest.raises(PathFileError, match="not found"):
        load_path_file(tmp_path / "nope.json")


def test_constant_speed_keeps_turns_on_the_spot():
    q = (paths.dolly(1.0, 1.0) + paths.pan(90.0, 1.0)).constant_speed()
    assert ypr_from_rotation(q.end_pose[:3, :3])[0] == pytest.approx(90.0, abs=1e-6)
    np.testing.assert_allclose(q.end_pose[:3, 3], [0, 0, 1.0], atol=1e-9)


def test_fast_and_multi_turn_pans_turn_the_right_way():
    p = paths.pan(400.0, 0.2)
    yaws = np.unwrap(np.radians([ypr_from_rotation(T[:3, :3])[0] for T in p.sample(np.linspace(0, 0.2, 41))[0]]))
    assert np.all(np.diff(yaws) > 0) and np.degrees(yaws[-1] - yaws[0]) == pytest.approx(400.0)
    e = paths.pan(200.0, 2.0, ease=True)
    yaws = np.unwrap(np.radians([ypr_from_rotation(T[:3, :3])[0] for T in e.sample(np.linspace(0, 2, 81))[0]]))
    assert np.all(np.diff(yaws) >= -1e-12) and np.degrees(yaws[-1]) == pytest.approx(200.0)
