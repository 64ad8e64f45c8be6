"""A picture where a scene file is expected: the scene made on the fly, `scene new`, and the order
depth comes from (a photo.yaml beside it, the depth asked for, the hub model, our network, the prior)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from motionworld import SceneError, load_scene
from motionworld.picture_scene import DEPTH_MODEL_ENV, is_picture, scene_text

COFFEE = Path(__import__("skimage").data.__file__).parent / "coffee.png"  # a real photograph, 600x400


def _cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "motionworld", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env)


@pytest.fixture
def photo(tmp_path, monkeypatch):
    monkeypatch.delenv(DEPTH_MODEL_ENV, raising=False)
    path = tmp_path / "coffee.jpg"
    Image.open(COFFEE).convert("RGB").resize((300, 200)).save(path, quality=92)
    return path


def test_a_picture_is_a_scene_of_its_own_with_the_prior_and_says_why(photo):
    scene = load_scene(photo)  # offline, with an empty hub cache (conftest)
    assert scene.image.shape == (200, 300, 3) and scene.depth.shape == (200, 300)
    assert scene.name == "coffee" and scene.depth_label == "prior" and not scene.objects
    assert {"walk", "look"} <= set(scene.paths) and scene.spec.controls.default_path == "walk"
    lines = scene.note.splitlines()
    # the shipped network is passed over with the measured why its manifest records
    assert lines[1].startswith("coffee.jpg: our depth network (the shipped weights) skipped: not the default (")
    assert "AbsRel" in lines[1] and lines[1].endswith("--depth network uses it")
    assert "made on the fly" in lines[-1] and "prior" in lines[-1] and "scene new coffee.jpg" in lines[-1]
    assert load_scene(photo, depth="network").depth_label == "network"


def test_a_picture_is_known_by_its_bytes_whatever_its_name(tmp_path, photo):
    renamed = tmp_path / "holiday.yaml"
    shutil.copy(photo, renamed)
    assert is_picture(renamed) and not is_picture(Path(__file__))
    with pytest.raises(SceneError, match="a picture, not a scene file: give it its format's suffix"):
        load_scene(renamed)  # not "cannot read scene file: 'utf-8' codec can't decode byte 0xff"


def test_scene_new_writes_the_scene_that_plays_and_keeps_an_existing_one(photo):
    made = load_scene(photo)
    run = _cli("scene", "new", photo)
    assert run.returncode == 0, run.stderr
    written = photo.with_suffix(".yaml")
    text = written.read_text()
    assert text == scene_text(photo) and text.startswith("# The scene of coffee.jpg")
    assert "source: file" in text and "source: estimator" in text  # the other depth sources, commented out
    # What plays now is the file beside the picture: the same scene as the one made on the fly.
    beside = load_scene(photo)
    assert beside.file == written.resolve() and "scene file beside it" in beside.note
    np.testing.assert_array_equal(beside.depth, made.depth)
    np.testing.assert_array_equal(beside.start_pose, made.start_pose)
    written.write_text(text.replace("prompt: ''", "prompt: 'a cup of coffee'"))
    again = _cli("scene", "new", photo)
    assert again.returncode == 2 and "exists" in again.stderr and "--force" in again.stderr
    assert "a cup of coffee" in written.read_text()  # nothing lost
    assert _cli("scene", "new", photo, "--force").returncode == 0 and "a cup of coffee" not in written.read_text()


def test_a_scene_file_beside_the_picture_gives_its_depth(photo):
    depth = np.linspace(2.0, 9.0, 200 * 300, dtype=np.float32).reshape(200, 300)
    np.save(photo.with_name("coffee_depth.npy"), depth)
    photo.with_suffix(".yaml").write_text(
        scene_text(photo).replace("  source: prior", "  source: file\n  path: coffee_depth.npy\n  # source: prior"))
    scene = load_scene(photo)
    np.testing.assert_array_equal(scene.depth, depth)
    assert scene.depth_label == "file coffee_depth.npy" and "coffee_depth.npy" in scene.note


def test_scene_new_elsewhere_names_the_picture_relative_to_it(photo, tmp_path):
    (tmp_path / "scenes").mkdir()
    out = tmp_path / "scenes" / "cafe.yaml"
    assert _cli("scene", "new", photo, "-o", out).returncode == 0
    assert "image: '../coffee.jpg'" in out.read_text()
    assert load_scene(out).image.shape == (200, 300, 3)


def test_the_asked_for_depth_is_tried_first_and_each_step_down_said(photo, tmp_path, monkeypatch):
    monkeypatch.setenv(DEPTH_MODEL_ENV, str(tmp_path / "no_such_model"))
    assert "source: estimator" in scene_text(photo, depth={"source": "estimator", "model": "m"})
    scene = load_scene(photo)
    lines = scene.note.splitlines()
    # asked for -> Depth Anything V2 Small (not in the empty, offline hub cache) -> ... -> what plays
    assert lines[0] == (f"coffee.jpg: the depth asked for ({tmp_path / 'no_such_model'}) not used: "
                        f"estimator model folder not found: {tmp_path / 'no_such_model'}")
    assert lines[1].startswith("coffee.jpg: Depth Anything V2 Small") and "HF_HUB_OFFLINE is set" in lines[1]
    assert "made on the fly, depth from" in lines[-1] and all(len(line) < 300 for line in lines)
    # --depth wins over the variable
    note = load_scene(photo, depth="prior").note
    assert "\n" not in note and note.startswith(
        "coffee.jpg: a scene made on the fly, depth from the depth asked for (prior)")


def test_broken_and_missing_pictures_give_one_line(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    run = _cli("validate", broken)
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1 and str(broken) in run.stderr
    missing = _cli("render", tmp_path / "gone.png", "-o", tmp_path / "x.mp4")
    assert missing.returncode == 2 and "picture not found" in missing.stderr and not (tmp_path / "x.mp4").exists()
    assert _cli("scene", "new", tmp_path / "gone.png").returncode == 2
    assert not (tmp_path / "gone.yaml").exists()


def test_a_photo_rendered_with_an_asked_for_depth_replays_with_it(photo, tmp_path):
    import torch

    from motionworld.model.depth_net import DepthNet, DepthNetConfig, save_depth_net

    torch.manual_seed(0)  # a tiny depth network export: a depth unlike the default's
    save_depth_net(tmp_path / "net", DepthNet(DepthNetConfig(widths=(8, 8, 16, 16, 32), blocks=(1,) * 5,
                                                             decoder=(16, 16, 8, 8), heads=2)))
    out, log = tmp_path / "walk.mp4", tmp_path / "walk.jsonl"
    run = _cli("render", photo, "-o", out, "--backend", "warp", "--seconds", "0.5", "--size", "120", "--log", log,
               "--depth", tmp_path / "net")
    assert run.returncode == 0, run.stderr
    assert "depth from the depth asked for" in run.stdout
    logged = json.loads(log.read_text().splitlines()[0])["session"]["depth"]
    assert logged == {"source": "network", "weights": str((tmp_path / "net").resolve())}
    again = _cli("replay", log)
    assert again.returncode == 0 and "bit-exact" in again.stdout, again.stdout + again.stderr


def test_render_a_photo_in_one_command_then_replay_it(photo, tmp_path):
    out, log = tmp_path / "walk.mp4", tmp_path / "walk.jsonl"
    run = _cli("render", photo, "-o", out, "--backend", "warp", "--seconds", "0.5", "--size", "240", "--log", log)
    assert run.returncode == 0, run.stderr
    assert "made on the fly, depth from the prior" in run.stdout
    import imageio.v3 as iio

    frames = iio.imread(out)
    assert frames.shape[1:] == (160, 240, 3)  # the picture's own aspect
    again = _cli("replay", log, "-o", tmp_path / "again.mp4")
    assert again.returncode == 0, again.stderr
    assert "bit-exact" in again.stdout, again.stdout
