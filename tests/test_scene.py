import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from motionworld import SceneError, load_scene
from motionworld.scene import check_scene
from tests.conftest import write_scene

BASE = """version: 1
image: picture.png
depth: {source: file, path: depth.npy}
camera: {fov_deg: 50}
"""


def _problems(path):
    """Problems as printed, with the scene's folder left out (they name the file as it was given)."""
    prefix = f"{path.parent}/"
    out = [str(p) for p in check_scene(path)]
    assert all(p.startswith(prefix) for p in out), out
    return [p[len(prefix):] for p in out]


def test_example_scenes_load(garden, plaza):
    g = load_scene(garden)
    assert g.image.shape == (384, 512, 3) and g.depth.shape == (384, 512)
    assert [o.name for o in g.objects] == ["ball"] and g.objects[0].mask.any()
    assert {"walk", "orbit", "crate", "zoom", "keys"} <= set(g.paths)
    p = load_scene(plaza)
    assert p.spec.depth["source"] == "prior" and not p.objects
    # The plaza was rendered as the prior assumes: its start camera is pitched to the horizon row.
    assert p.start_pose[1, 2] > 0  # looking slightly down (forward has +y)


def test_minimal_scene_defaults(tmp_path):
    path = write_scene(tmp_path, "version: 1\nimage: picture.png\n")
    s = load_scene(path)
    assert s.camera.fov_deg == pytest.approx(50.0)
    assert s.spec.tracks.grid == 50 and s.spec.generator.sink == 1 and s.spec.generator.window == 1
    assert np.all(s.depth > 0)


@pytest.mark.parametrize("extra,expected", [
    ("camera: {fovdeg: 50}\n", "scene.yaml:2: camera.fovdeg: unknown key (did you mean 'fov_deg'?)"),
    ("tracks: {grid: .nan}\n", "scene.yaml:2: tracks.grid: "),
    ("camera: {fov_deg: .nan}\n", "scene.yaml:2: camera.fov_deg: must be a finite number"),
    ("camera: {fov_deg: 50, K: [[1,0,0],[0,1,0],[0,0,1]]}\n", "scene.yaml:2: camera: give either fov_deg or K"),
    ("generator: {sink: -1}\n", "scene.yaml:2: generator.sink: must be greater than or equal to 0"),
    ("color: red\n", "scene.yaml:2: color: unknown key"),
    ("generator: {weights: missing.safetensors}\n", "generator.weights: no student weights in"),
    ("controls: {default_path: nowhere}\n", "controls.default_path: no path named 'nowhere'"),
])
def test_schema_errors_name_line_and_key(tmp_path, extra, expected):
    path = write_scene(tmp_path, "version: 1\n" + extra + "image: picture.png\n")
    problems = _problems(path)
    assert any(expected in p for p in problems), problems


def test_keyframe_times_must_increase(tmp_path):
    text = """version: 1
image: picture.png
objects:
  - name: thing
    box: [10, 10, 30, 30]
    path:
      keyframes:
        - {t: 0}
        - {t: 1, position: [1, 0, 0]}
        - {t: 0.5}
"""
    path = write_scene(tmp_path, text)
    assert _problems(path) == ["scene.yaml:10: objects[0].path.keyframes[2].t: "
                               "must be increasing (previous keyframe has t=1)"]


def test_camera_path_keyframes_must_increase(tmp_path):
    text = """version: 1
image: picture.png
paths:
  bad:
    - dolly: {distance: 1, seconds: 1}
    - keyframes:
        - {t: 0}
        - {t: 0}
"""
    path = write_scene(tmp_path, text)
    assert _problems(path) == ["scene.yaml:8: paths.bad[1].keyframes[1].t: "
                               "must be increasing (previous keyframe has t=0)"]


def test_bad_action_string_in_a_path(tmp_path):
    path = write_scene(tmp_path, "version: 1\nimage: picture.png\npaths:\n  p:\n    - actions: 'w-3,x-2'\n")
    (p,) = _problems(path)
    assert p.startswith("scene.yaml:5: paths.p[0].actions") and "unknown key" in p


def test_missing_image(tmp_path):
    path = write_scene(tmp_path, "version: 1\nimage: nowhere.png\n")
    (p,) = _problems(path)
    assert p.startswith("scene.yaml:2: image: image not found")


def test_unsupported_and_corrupt_images(tmp_path):
    path = write_scene(tmp_path, "version: 1\nimage: picture.xyz\n")
    (tmp_path / "picture.xyz").write_bytes(b"abc")
    assert "unsupported image format '.xyz'" in _problems(path)[0]
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    path.write_text("version: 1\nimage: broken.png\n")
    assert "cannot read image broken.png" in _problems(path)[0]


def test_depth_problems(tmp_path):
    path = write_scene(tmp_path, BASE, depth=np.ones((10, 10)))
    (p,) = _problems(path)
    assert p.startswith("scene.yaml:3: depth.path:") and "10x10 but the image is 64x48" in p
    d = np.ones((48, 64))
    d[0, 0] = np.nan
    np.save(tmp_path / "depth.npy", d)
    assert "NaN/inf" in _problems(path)[0]
    (tmp_path / "depth.npy").write_bytes(b"garbage")
    assert "cannot read depth file depth.npy" in _problems(path)[0]
    (tmp_path / "depth.npy").unlink()
    assert "depth file not found" in _problems(path)[0]
    path.write_text(BASE.replace("path: depth.npy", "path: depth.npy, bogus: 1"))
    assert "scene.yaml:3: depth.bogus: unknown key" in _problems(path)[0]
    path.write_text(BASE.replace("source: file", "source: lidar"))
    assert "unknown depth source 'lidar' (available: file, prior, network, estimator)" in _problems(path)[0]


def test_depth_png_16bit_and_disparity(tmp_path):
    depth_mm = np.full((48, 64), 2500, np.uint16)
    write_scene(tmp_path, "", depth=None)
    Image.fromarray(depth_mm).save(tmp_path / "d.png")
    path = tmp_path / "s.yaml"
    path.write_text("version: 1\nimage: picture.png\ndepth: {source: file, path: d.png, scale: 0.001}\n")
    assert load_scene(path).depth == pytest.approx(np.full((48, 64), 2.5))
    np.savez(tmp_path / "d.npz", disparity=np.full((48, 64), 0.25))
    path.write_text("version: 1\nimage: picture.png\ndepth: {source: file, path: d.npz, kind: disparity}\n")
    assert load_scene(path).depth == pytest.approx(np.full((48, 64), 4.0))
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(tmp_path / "c.png")
    path.write_text("version: 1\nimage: picture.png\ndepth: {source: file, path: c.png}\n")
    assert "is a colour image" in _problems(path)[0]


def test_mask_that_selects_nothing(tmp_path):
    path = write_scene(tmp_path, """version: 1
image: picture.png
objects:
  - name: ghost
    mask: empty.png
    path: {keyframes: [{t: 0}]}
  - name: small
    mask: small.png
    path: {keyframes: [{t: 0}]}
  - name: boxed
    box: [50, 10, 90, 20]
    path: {keyframes: [{t: 0}]}
""")
    Image.fromarray(np.zeros((48, 64), np.uint8)).save(tmp_path / "empty.png")
    Image.fromarray(np.full((10, 10), 255, np.uint8)).save(tmp_path / "small.png")
    problems = _problems(path)
    assert problems == ["scene.yaml:5: objects[0].mask: selects no pixel of the image",
                        "scene.yaml:8: objects[1].mask: mask is 10x10 but the image is 64x48",
                        "scene.yaml:11: objects[2].box: box must satisfy 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 48"]


@pytest.mark.parametrize("text,expected", [
    ("version: 1\nimage: [unclosed\n", "scene.yaml:3: invalid YAML"),
    ("", "scene file is empty"),
    ("- a\n- b\n", "the top level must be a mapping"),
    ("version: 2\nimage: picture.png\n", "scene.yaml:1: version: must be 1"),
    ("image: picture.png\n", "version: required key is missing"),
    ("version: 1\nimage: picture.png\nevil: !!python/object/apply:os.system ['echo hacked']\n", "invalid YAML"),
])
def test_corrupt_scene_files(tmp_path, text, expected):
    path = write_scene(tmp_path, text)
    problems = _problems(path)
    assert any(expected in p for p in problems), problems


def test_missing_scene_file(tmp_path):
    with pytest.raises(SceneError, match="scene file not found"):
        load_scene(tmp_path / "nope.yaml")


def test_validate_cli_prints_one_line_per_problem_and_exits_2(tmp_path, garden):
    path = write_scene(tmp_path, "version: 1\nimage: nowhere.png\ncamera: {fov_deg: .nan}\n")
    run = subprocess.run([sys.executable, "-m", "motionworld", "validate", str(path)], capture_output=True, text=True)
    assert run.returncode == 2 and run.stdout == ""
    lines = run.stderr.strip().splitlines()  # problems go to stderr, with the path as given
    assert lines == [f"error: {path}:3: camera.fov_deg: must be a finite number (got NaN or infinity)"]
    ok = subprocess.run([sys.executable, "-m", "motionworld", "validate", str(garden)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("ok: ")


def test_intrinsics_matrix_must_be_a_camera_matrix(tmp_path):
    path = write_scene(tmp_path, "version: 1\nimage: picture.png\ncamera: {K: [[50, 0, 32], [0, 50, 24], [0, 0, 0]]}\n")
    assert "K must look like" in _problems(path)[0]
    path.write_text("version: 1\nimage: picture.png\ncamera: {K: [[50, 0, 31.5], [0, 50, 23.5], [0, 0, 1]]}\n")
    assert load_scene(path).camera.K[0, 0] == 50
