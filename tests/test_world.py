import subprocess
import sys

import numpy as np
import pytest

import motionworld as mw
from controllers import InputState, KeyboardController
from controllers import keys as sc


@pytest.fixture(scope="module")
def world():
    return mw.World(mw.load_scene(__import__("tests.conftest", fromlist=["SCENES"]).SCENES / "garden" / "scene.yaml"))


def test_tracks_api_shapes_and_dtypes(world):
    r = world.tracks("walk", seconds=2.0)
    T, N = 33, 50 * 50
    assert r.tracks.shape == (T, N, 2) and r.tracks.dtype == np.float32
    assert r.visibility.shape == (T, N) and r.visibility.dtype == bool
    assert r.c2w.shape == (T, 4, 4) and r.K.shape == (T, 3, 3) and r.object_ids.shape == (N,)
    np.testing.assert_allclose(r.times, np.arange(T) / 16)
    np.testing.assert_allclose(r.c2w[0], world.scene.start_pose, atol=1e-9)
    # Frame 0 is the picture itself: every track sits on its own pixel and is visible.
    np.testing.assert_allclose(r.tracks[0], world.field.pixels, atol=1e-3)
    assert r.visibility[0].all()


def test_paths_by_name_action_string_and_object(world):
    a = world.tracks("w-16,lw-8")
    assert len(a) == 25
    b = world.tracks(mw.paths.dolly(1.0, 1.0))
    assert len(b) == 17
    with pytest.raises(mw.MotionWorldError, match="not a path of this scene"):
        world.tracks("fly-to-the-moon")


def test_ball_moves_and_the_wall_stays_when_the_camera_holds_still(world):
    r = world.tracks(mw.paths.hold(2.0))
    ball = r.object_ids == 1
    assert ball.sum() > 50
    assert np.nanmean(r.tracks[-1, ball, 0] - r.tracks[0, ball, 0]) > 20  # rolls right in the picture
    still = ~ball
    np.testing.assert_allclose(r.tracks[-1, still], r.tracks[0, still], atol=1e-3)


def test_driving_with_a_controller_gives_the_same_tracks_path(world):
    inputs = [InputState(keys=frozenset({sc.W}))] * 16
    poses, fovs = world.drive(KeyboardController(), inputs)
    assert poses.shape == (17, 4, 4)
    r = world.tracks_for_poses(poses, np.arange(17) / 16, fovs)
    assert r.c2w[-1][2, 3] > 0.3  # walked forward
    centre = np.argmin(np.linalg.norm(world.field.pixels - [256, 300], axis=1))
    assert r.tracks[-1, centre, 1] > r.tracks[0, centre, 1]  # ground below the horizon slides down


def test_nan_poses_are_rejected(world):
    poses = np.repeat(np.eye(4)[None], 3, axis=0)
    poses[1, 0, 3] = np.nan
    with pytest.raises(mw.MotionWorldError, match="NaN"):
        world.tracks_for_poses(poses, np.arange(3) / 16)


def test_scene_from_image_with_prior():
    img = np.zeros((60, 80, 3), np.uint8)
    w = mw.World(mw.Scene.from_image(img, fov_deg=60.0), grid=8)
    r = w.tracks("w-8")
    assert r.tracks.shape == (9, 64, 2) and r.visibility[0].all()


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "motionworld", *map(str, args)], capture_output=True, text=True)


def test_render_preview_writes_a_real_video(tmp_path, garden):
    import imageio.v3 as iio

    out = tmp_path / "preview.mp4"
    run = _cli("render", garden, "--path", "orbit", "--seconds", "1", "--preview-tracks", "--size", "256", "-o", out)
    assert run.returncode == 0, run.stderr
    video = iio.imread(out)
    assert video.shape == (17, 192, 256, 3)
    assert video[0].std() > 10 and np.abs(video[-1].astype(int) - video[0]).mean() > 1  # points moved
    assert not list(tmp_path.glob(".*tmp*"))


def test_render_actions_to_png_folder_and_gif(tmp_path, plaza):
    run = _cli("render", plaza, "--actions", "w-8", "--preview-tracks", "--size", "128", "-o", tmp_path / "frames")
    assert run.returncode == 0, run.stderr
    assert len(list((tmp_path / "frames").glob("frame_*.png"))) == 9
    run = _cli("render", plaza, "--actions", "l-4", "--preview-tracks", "--size", "128", "-o", tmp_path / "a.gif")
    assert run.returncode == 0 and (tmp_path / "a.gif").stat().st_size > 0


def test_cli_errors_are_one_line_and_exit_2(tmp_path, garden):
    for args, msg in [
        (("render", tmp_path / "none.yaml", "--preview-tracks", "-o", tmp_path / "x.mp4"), "scene file not found"),
        (("render", garden, "--actions", "w-x", "--preview-tracks", "-o", tmp_path / "x.mp4"), "KEYS-FRAMES"),
        (("render", garden, "--preview-tracks", "-o", tmp_path / "x.avi"), "unsupported output"),
        (("render", garden, "--backend", "neural", "--weights", tmp_path, "-o", tmp_path / "x.mp4"),
         "no student weights"),
        (("render", garden, "--path", tmp_path / "missing.json", "--preview-tracks", "-o", tmp_path / "x.mp4"),
         "not found"),
    ]:
        run = _cli(*args)
        assert run.returncode == 2, (args, run.stderr)
        err = run.stderr.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and msg in err[0], (args, run.stderr)
    assert not (tmp_path / "x.mp4").exists()


def test_tracks_and_path_export_commands(tmp_path, garden):
    run = _cli("tracks", garden, "--path", "crate", "-o", tmp_path / "t.npz")
    assert run.returncode == 0, run.stderr
    z = np.load(tmp_path / "t.npz")
    assert z["tracks"].shape[1:] == (2500, 2) and z["visibility"].dtype == bool
    run = _cli("path", garden, "--path", "walk", "-o", tmp_path / "camera_path.json")
    assert run.returncode == 0, run.stderr
    back = mw.load_path_file(tmp_path / "camera_path.json")
    assert back.duration == pytest.approx(8.0, abs=0.1)


def test_path_yaml_file(tmp_path, garden):
    f = tmp_path / "mine.yaml"
    f.write_text("segments:\n  - dolly: {distance: 1, seconds: 1}\n  - pan: {degrees: 30, seconds: 1}\n"
                 "constant_speed: true\n")
    w = mw.World(garden, grid=10)
    assert len(w.tracks(f)) == 33
    f.write_text("- dolly: {distance: 1}\n")
    with pytest.raises(mw.SceneError, match=r"mine.yaml:1: \[0\].dolly.seconds: required key is missing"):
        w.tracks(f)


def test_outputs_into_missing_folders_are_one_line_errors(tmp_path, garden):
    for cmd in ("tracks", "path"):
        run = _cli(cmd, garden, "--path", "walk", "-o", tmp_path / "no" / "such" / "out.npz")
        assert run.returncode == 2 and run.stderr.startswith("error: output folder does not exist"), run.stderr
