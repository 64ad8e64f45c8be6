"""Bad input, class by class: the user's files are never removed or mixed into a result, every input
error is one `error:` line with exit status 2 (never a traceback), and the work any input can ask
for is bounded before anything is allocated. test_fuzz.py mutates valid files at random on top."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from motionworld.cli import main
from motionworld.model.config import preset
from motionworld.model.student import StreamingStudent
from motionworld.model.weights import config_digest
from tests.conftest import one_error, run_cli

ROOT = Path(__file__).resolve().parents[1]




def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def scene_copy(tmp_path, garden) -> Path:
    """The garden scene in a folder of the test's own (its files may be edited)."""
    folder = tmp_path / "garden"
    shutil.copytree(garden.parent, folder)
    return folder / "scene.yaml"


def fake_png(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height (its pixel data is a few bytes)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
                     + chunk(b"IEND", b""))
    return path


# --- 1. never delete or mix what the user did not ask for --------------------------------------
def test_no_output_form_removes_a_users_files(tmp_path, garden, capsys, monkeypatch):
    work = tmp_path / "work"
    (work / "keep").mkdir(parents=True)
    (work / "keep" / "thesis.tex").write_text("years of work")
    (work / "notes.txt").write_text("mine")
    (work / "movie.mp4").mkdir()  # a folder that happens to have a video name
    (work / "movie.mp4" / "inside.txt").write_text("mine too")
    (tmp_path / "beside.txt").write_text("the parent's")
    monkeypatch.chdir(work)
    before, parent_before = listing(work), listing(tmp_path)
    render = ["render", garden, "--backend", "tracks", "--size", "32", "--seconds", "0.5"]
    for target in ["keep", "keep/", "keep/.", ".", "..", "/", "keep/..", work, tmp_path, "movie.mp4", "notes.txt",
                   str(Path.home())]:
        one_error(capsys, *render, "-o", target)
        assert listing(work) == before and listing(tmp_path) == parent_before, target
    for command in ("tracks", "path"):  # the other commands that write a file
        for target in [".", "..", "/", "keep", work]:
            one_error(capsys, command, garden, "--path", "walk", "-o", target)
            assert listing(work) == before and listing(tmp_path) == parent_before, (command, target)
    assert (work / "keep" / "thesis.tex").read_text() == "years of work"
    # a new folder, or an empty one, gets the frames
    (work / "empty").mkdir()
    for target in ["fresh", "empty"]:
        rc, err, out = run_cli(capsys, *render, "-o", target)
        assert rc == 0 and len(list((work / target).glob("frame_*.png"))) == 9, err


def test_a_killed_runs_temporary_frames_are_never_counted(tmp_path, garden, capsys):
    out = tmp_path / "frames"
    for stale in (tmp_path / ".frames.tmp", tmp_path / ".frames.k1ll3d.tmp"):  # old and current naming
        stale.mkdir()
        for i in range(201):
            (stale / f"frame_{i:05d}.png").write_bytes(b"stale")
    rc, err, stdout = run_cli(capsys, "render", garden, "--backend", "tracks", "--size", "32", "--seconds", "0.5",
                              "-o", out)
    assert rc == 0 and "(9 frames" in stdout, err
    assert sorted(p.name for p in out.iterdir()) == [f"frame_{i:05d}.png" for i in range(9)]
    assert len(list((tmp_path / ".frames.k1ll3d.tmp").iterdir())) == 201  # not ours: left alone


def test_a_failing_close_leaves_no_temporary_output(tmp_path):
    from motionworld.errors import MotionWorldError
    from motionworld.video import VideoWriter

    for name in ("a.gif", "a.mp4", "frames"):
        writer = VideoWriter(tmp_path / name)
        writer.write(np.zeros((16, 16, 3), np.uint8))
        (tmp_path / name).mkdir()  # something took the name while the run went on
        (tmp_path / name / "theirs.txt").write_text("x")
        with pytest.raises((MotionWorldError, OSError)):
            writer.close()
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], name
        assert (tmp_path / name / "theirs.txt").read_text() == "x"
        shutil.rmtree(tmp_path / name)
    writer = VideoWriter(tmp_path / "b.mp4")
    with pytest.raises(MotionWorldError, match="no frames"):
        writer.close()
    assert list(tmp_path.iterdir()) == []


def test_outputs_get_the_mode_the_users_umask_gives_not_owner_only(tmp_path):
    """Outputs are written under a temporary name (tempfile: 0600, 0700) and moved into place; they
    end with the mode a file or folder created in place would have (here umask 022: 0644, 0755)."""
    import os
    import stat

    from motionworld.outputs import replacing
    from motionworld.video import VideoWriter

    old = os.umask(0o022)
    try:
        for name in ("a.gif", "a.mp4", "frames"):
            writer = VideoWriter(tmp_path / name)
            writer.write(np.zeros((16, 16, 3), np.uint8))
            writer.close()
        with replacing(tmp_path / "scene.yaml") as tmp:
            tmp.write_text("x: 1\n")
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"a.gif": 0o644, "a.mp4": 0o644, "frames": 0o755, "scene.yaml": 0o644}


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGQUIT"])  # SIGHUP: the terminal was closed
def test_a_stop_signal_cleans_up_like_ctrl_c_and_the_log_says_so(tmp_path, garden, name):
    signum = getattr(signal, name)
    out, log = tmp_path / "frames", tmp_path / "run.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "motionworld", "render", str(garden), "--backend", "tracks",
                             "--size", "64", "--seconds", "600", "-o", str(out), "--log", str(log)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".frames.") and any(p.iterdir()) for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum and err.strip().splitlines()[-1] == f"terminated ({name})", err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.jsonl"]  # no frames folder, no temporary
    end = json.loads(log.read_text().splitlines()[-1])
    assert end["end"] and end["status"] == "terminated"


def test_the_log_appears_only_with_a_run_that_started(tmp_path, garden, capsys):
    log = tmp_path / "run.jsonl"
    one_error(capsys, "render", garden, "--backend", "tracks", "-o", tmp_path / "x.avi", "--log", log)
    one_error(capsys, "render", garden, "--backend", "tracks", "--seconds", "-1", "-o", tmp_path / "x.mp4",
              "--log", log)
    assert not log.exists()
    rc, err, _ = run_cli(capsys, "render", garden, "--backend", "tracks", "--size", "32", "--seconds", "0.5",
                         "-o", tmp_path / "x.mp4", "--log", log)
    assert rc == 0, err
    assert json.loads(log.read_text().splitlines()[-1]) == {"end": True, "unshown": 0, "status": "complete"}


# --- 2. every input error is one line and exit 2 -----------------------------------------------
def test_deeply_nested_yaml_is_one_line(scene_copy, tmp_path, capsys):
    deep = scene_copy.with_name("deep.yaml")
    deep.write_text("version: 1\nimage: garden.png\nx: " + "[" * 1000 + "]" * 1000 + "\n")
    one_error(capsys, "validate", deep, match="nested deeper than 64 levels")
    one_error(capsys, "render", deep, "-o", tmp_path / "a.mp4", match="nested deeper")
    laughs = "version: 1\nimage: garden.png\na0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    deep.write_text(laughs)
    one_error(capsys, "validate", deep, match="values (with its aliases expanded)")
    deep.write_text("version: 1\nimage: garden.png\nx: &a [1, *a]\n")  # an alias inside itself
    one_error(capsys, "validate", deep, match="nested deeper than 64 levels")


def test_a_replay_log_naming_a_deep_scene_is_one_line(scene_copy, tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    assert main(["render", str(scene_copy), "--backend", "tracks", "--size", "32", "--seconds", "0.5",
                 "-o", str(tmp_path / "a.mp4"), "--log", str(log)]) == 0
    capsys.readouterr()
    header = json.loads(log.read_text().splitlines()[0])
    scene_copy.write_text("version: 1\nimage: garden.png\nx: " + "{a: " * 500 + "1" + "}" * 500 + "\n")
    header["scene_sha256"] = None
    lines = log.read_text().splitlines()
    log.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    one_error(capsys, "replay", log, match="nested deeper")


def test_huge_pictures_are_refused_from_the_header(scene_copy, capsys):
    fake_png(scene_copy.with_name("bomb.png"), 20000, 20000)  # past PIL's own bomb limit
    fake_png(scene_copy.with_name("large.png"), 7000, 5000)  # 35 MP: under PIL's, over ours
    text = scene_copy.read_text()
    for image in ("bomb.png", "large.png"):
        scene_copy.write_text(text.replace("image: garden.png", f"image: {image}"))
        one_error(capsys, "validate", scene_copy, match="MP")
    scene_copy.write_text(text.replace("ball_mask.png", "bomb.png"))
    one_error(capsys, "validate", scene_copy, match="objects[0].mask: mask bomb.png")
    np.save(scene_copy.with_name("huge.npy"), np.lib.format.open_memmap(scene_copy.with_name("h.npy"), "w+",
                                                                       np.float32, (6000, 6000)))
    scene_copy.write_text(text.replace("path: garden_depth.png", "path: huge.npy"))
    one_error(capsys, "validate", scene_copy, match="depth.path: depth map huge.npy is 6000x6000")
    np.savez_compressed(scene_copy.with_name("huge.npz"), depth=np.zeros((6000, 6000), np.uint8))  # 36 kB on disk
    scene_copy.write_text(text.replace("path: garden_depth.png", "path: huge.npz"))
    one_error(capsys, "validate", scene_copy, match="depth.path: depth map huge.npz is 6000x6000")


@pytest.mark.parametrize("args,match", [
    (("--seconds", "1e300"), "--seconds must be a positive number of at most 3600 s"),
    (("--seconds", "nan"), "--seconds must be"),
    (("--seed", "9223372036854775808"), "--seed must be a whole number in [0, 4294967295]"),
    (("--seed", "-1"), "--seed must be"),
    (("--actions", "w-\u00b2"), "expected KEYS-FRAMES"),
    (("--actions", "w-99999999"), "more than 57600 frames"),
    (("--grid", "100000"), "--grid must be in [2, 512]"),
])
def test_numbers_out_of_range_are_one_line(garden, tmp_path, capsys, args, match):
    one_error(capsys, "render", garden, "--backend", "tracks", *args, "-o", tmp_path / "a.mp4", match=match)
    assert list(tmp_path.iterdir()) == []


def test_out_of_range_numbers_in_scenes_and_path_files(scene_copy, tmp_path, capsys):
    text = scene_copy.read_text()

    def with_path(entry: str) -> str:
        return text.replace("paths:\n", f"paths:\n  {entry}\n", 1)

    scene_copy.write_text(with_path("forever: [{hold: {seconds: 1.0e9}}]"))
    one_error(capsys, "validate", scene_copy, match="paths.forever[0].hold.seconds: must be less than or equal to 3600")
    scene_copy.write_text(with_path("long: [" + ", ".join(["{hold: {seconds: 3000}}"] * 2) + "]"))
    one_error(capsys, "validate", scene_copy, match="paths.long: the path lasts 6000 s, more than the 3600 s limit")
    scene_copy.write_text(with_path("w: {segments: [{actions: 'w-99999999'}]}"))
    one_error(capsys, "validate", scene_copy, match="more than 57600 frames")
    scene_copy.write_text(text + "generator: {seed: 9223372036854775808}\n")
    one_error(capsys, "validate", scene_copy, match="generator.seed: must be less than or equal to 4294967295")
    scene_copy.write_text(text)
    ns = tmp_path / "path.json"
    ns.write_text('{"seconds": Infinity, "camera_path": [{"camera_to_world": [1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1]}, '
                  '{"camera_to_world": [1,0,0,0,0,1,0,0,0,0,1,1,0,0,0,1]}]}')
    one_error(capsys, "render", scene_copy.with_name("scene.yaml"), "--path", ns, "-o", tmp_path / "a.mp4",
              match="Infinity is not a number JSON allows")


def _student_folder(tmp_path) -> Path:
    folder = tmp_path / "weights"
    StreamingStudent(preset("tiny"), seed=0).save(folder)
    return folder


def _set_file(folder: Path, data: bytes) -> None:
    """Replace student.safetensors and update the manifest's sha256 to match (so only the format can tell)."""
    import hashlib

    (folder / "student.safetensors").write_bytes(data)
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    manifest["files"]["student.safetensors"]["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))


def test_weights_that_are_not_safetensors_are_one_line(tmp_path, garden, capsys):
    folder = _student_folder(tmp_path)
    good = (folder / "student.safetensors").read_bytes()
    for data, match in [(pickle.dumps({"dit.x": [1, 2, 3]}), "not a readable safetensors file"),
                        (good[: len(good) // 2], "not a readable safetensors file"),
                        (good[:3], "not a readable safetensors file")]:
        _set_file(folder, data)
        one_error(capsys, "render", garden, "--backend", "neural", "--weights", folder, "--seconds", "0.5",
                  "-o", tmp_path / "a.mp4", match=match)
    (folder / "MANIFEST.json").write_text("[" * 10000)
    one_error(capsys, "render", garden, "--backend", "neural", "--weights", folder, "-o", tmp_path / "a.mp4",
              match="not a readable weights manifest")


def _tracks_log(tmp_path, scene) -> Path:
    log = tmp_path / "run.jsonl"
    assert main(["render", str(scene), "--backend", "tracks", "--size", "32", "--seconds", "1.5",
                 "-o", str(tmp_path / "a.mp4"), "--log", str(log)]) == 0
    return log


def _edit_line(log: Path, index: int, change) -> Path:
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    change(lines[index])
    out = log.with_name("edited.jsonl")
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return out


def test_replay_logs_with_wrong_types_or_absurd_values(tmp_path, garden, capsys):
    log = _tracks_log(tmp_path, garden)
    capsys.readouterr()
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert isinstance(lines[1]["commands"], list) and "pose" in lines[1]["commands"][0]

    def hold(line, value):
        line["commands"] = value

    cases = [
        (0, lambda h: h["session"]["options"].update(max_size="big"), ":1: bad header: session.options.max_size"),
        (0, lambda h: h["session"].update(backend="magic"), ":1: bad header: session.backend"),
        (1, lambda c: hold(c, {"hold": {}, "count": 10**15}), ":2: bad chunk line: commands.count"),
        (1, lambda c: hold(c, {"hold": "w", "count": 8}), ":2: bad chunk line: commands.hold"),
        (1, lambda c: hold(c, "w-8"), ":2: bad chunk line: commands"),
        (1, lambda c: c.update(drag={"drags": [{"id": 1, "start": [1]}]}), ":2: bad chunk line: drag.drags.0"),
        (1, lambda c: c.update(drag={"drags": "everything"}), ":2: bad chunk line: drag.drags"),
        (1, lambda c: c.update(keep=1e9), ":2: bad chunk line: keep"),
        (1, lambda c: c.update(keep=10**9), ":2: bad chunk line: keep"),
        (1, lambda c: c.update(frame="0"), ":2: bad chunk line: frame"),
        (2, lambda c: c["commands"][0].update(fov_deg=1e308), ":3: bad chunk line: commands.0.fov_deg"),
        (2, lambda c: c["commands"][0].update(move=[1e300, 0, 0]), ":3: bad chunk line: move"),
    ]
    for index, change, match in cases:
        one_error(capsys, "replay", _edit_line(log, index, change), match=match)
    (tmp_path / "nan.jsonl").write_text(log.read_text().replace('"frame": 0', '"frame": NaN', 1))
    one_error(capsys, "replay", tmp_path / "nan.jsonl", match="NaN is not a number JSON allows")


# --- 3. bounded work for any input ---------------------------------------------------------------
def test_a_huge_model_config_in_the_manifest_is_refused_before_building(tmp_path, garden, capsys):
    folder = _student_folder(tmp_path)
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    entry = manifest["files"]["student.safetensors"]
    entry["config"]["dit"]["ffn_dim"] = 10_000_000
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))
    args = ["render", garden, "--backend", "neural", "--weights", folder, "-o", tmp_path / "a.mp4"]
    one_error(capsys, *args, match="does not match its config_sha256")
    entry["config_sha256"] = config_digest(entry["config"])  # a forger who updates the hash too
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))
    one_error(capsys, *args, match="DiTConfig.ffn_dim")
    entry["config"]["dit"]["ffn_dim"] = 1_000_000  # within the range: the meta-device build compares shapes
    entry["config_sha256"] = config_digest(entry["config"])
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))
    one_error(capsys, *args, match="has shape")


def test_data_files_over_the_size_limit_are_not_read(garden, tmp_path, capsys, monkeypatch):
    from motionworld import limits

    log = _tracks_log(tmp_path, garden)
    capsys.readouterr()
    monkeypatch.setattr(limits, "MAX_DATA_FILE_BYTES", 1000)
    one_error(capsys, "validate", garden, match="over the 0.001 MB limit for a data file")
    one_error(capsys, "replay", log, match="over the 0.001 MB limit")


def test_track_points_are_bounded_before_allocation(garden, tmp_path, capsys):
    one_error(capsys, "tracks", garden, "--grid", "512", "--seconds", "3600", "--actions", "w-16",
              "-o", tmp_path / "t.npz", match="track points made at once")
    assert list(tmp_path.iterdir()) == []


def test_session_keeps_a_bounded_number_of_poses(garden, monkeypatch):
    import motionworld as mw
    from motionworld.play import session as session_module

    monkeypatch.setattr(session_module, "POSES_KEPT", 20)
    s = mw.Session(garden, backend="tracks", max_size=32)
    for _ in range(3):
        s.next_chunk(mw.ControlCommand(move=np.array([0, 0, 1.0])))
    assert s.frame_index == 33 and len(s.poses) == 20
    s.close()


# --- 4. small breaks -----------------------------------------------------------------------------
def test_generator_weights_takes_the_folder_or_its_student_file(scene_copy, tmp_path, capsys):
    folder = _student_folder(scene_copy.parent)
    text = scene_copy.read_text()
    for i, value in enumerate(("weights", "weights/student.safetensors")):
        scene_copy.write_text(text + f"generator: {{weights: {value}}}\n")
        rc, err, out = run_cli(capsys, "validate", scene_copy)
        assert rc == 0, err
        rc, err, out = run_cli(capsys, "render", scene_copy, "--seconds", "0.5", "-o", tmp_path / f"{i}.mp4")
        assert rc == 0 and "(9 frames" in out, err  # backend auto: the scene's weights
    shutil.rmtree(folder)
    one_error(capsys, "validate", scene_copy, match="generator.weights: no student weights in")


def test_validate_names_each_file_as_given_on_stderr(tmp_path, capsys):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "scene.yaml").write_text("version: 1\nimage: nowhere.png\n")
    rc, err, out = run_cli(capsys, "validate", tmp_path / "a" / "scene.yaml", tmp_path / "b" / "scene.yaml")
    assert rc == 2 and out == ""
    assert err == [f"error: {tmp_path / n / 'scene.yaml'}:2: image: image not found: {tmp_path / n / 'nowhere.png'}"
                   for n in ("a", "b")]


def test_validate_parses_each_scene_once(garden, capsys, monkeypatch):
    from motionworld import scene as scene_module

    calls = []
    real = scene_module.read_yaml
    monkeypatch.setattr(scene_module, "read_yaml", lambda text: calls.append(1) or real(text))
    rc, err, _ = run_cli(capsys, "validate", garden)
    assert rc == 0 and len(calls) == 1, err


def test_training_configs_use_the_safe_loader(tmp_path, capsys):
    cfg = tmp_path / "vae.yaml"
    cfg.write_text((ROOT / "configs" / "micro" / "vae.yaml").read_text()
                   + "x: !!python/object/apply:os.system ['touch pwned']\n")
    one_error(capsys, "train", "vae", "--config", cfg, match="invalid YAML")
    assert not Path("pwned").exists() and not (tmp_path / "pwned").exists()
    cfg.write_text("stage: vae\nx: " + "[" * 2000 + "]" * 2000 + "\n")
    one_error(capsys, "train", "vae", "--config", cfg, match="nested deeper")


def test_the_package_never_uses_yaml_load_with_a_full_loader():
    for path in (ROOT / "motionworld").rglob("*.py"):
        text = path.read_text()
        for bad in ("yaml.load(", "yaml.compose(", "yaml.full_load", "yaml.unsafe_load", "Loader=yaml.Loader"):
            assert bad not in text, f"{path}: {bad}"


def test_log_never_overwrites_the_scene_or_the_output(scene_copy, tmp_path, capsys):
    text = scene_copy.read_text()
    render = ["render", scene_copy, "--backend", "tracks", "--size", "32", "--seconds", "0.5", "-o", tmp_path / "a.gif"]
    one_error(capsys, *render, "--log", scene_copy, match="is the output or the scene file")
    one_error(capsys, *render, "--log", tmp_path / "a.gif", match="is the output or the scene file")
    assert scene_copy.read_text() == text and not (tmp_path / "a.gif").exists()


def test_yaml_values_the_safe_constructor_refuses_are_one_line(scene_copy, capsys):
    for value in ("2020-02-30", "!!float abc", "!!int 0x", "!!bool maybe"):
        scene_copy.write_text(scene_copy.read_text().split("prompt:")[0] + f"prompt: {value}\n")
        one_error(capsys, "validate", scene_copy, match="invalid YAML value")


def test_a_depth_map_with_a_channel_axis_is_still_taken(scene_copy, capsys):
    depth = np.ones((384, 512, 1), np.float32) * 5
    np.save(scene_copy.with_name("d.npy"), depth)
    text = scene_copy.read_text().replace("path: garden_depth.png", "path: d.npy").replace("scale: 0.002", "scale: 1")
    scene_copy.write_text(text)
    rc, err, out = run_cli(capsys, "validate", scene_copy)
    assert rc == 0, err


# --- second pass (issue 37): each class the hostile-input probe found -----------------------------
def test_a_scene_can_never_make_motionworld_run_a_models_code(scene_copy, tmp_path, capsys):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "dpt", "auto_map": {
        "AutoModelForDepthEstimation": "evil.Model"}}))
    (model / "evil.py").write_text("open('RAN', 'w').write('ran')\n")
    text = scene_copy.read_text().split("depth:")[0] + f"depth: {{source: estimator, model: {model}}}\n"
    scene_copy.write_text(text)
    for args in (["validate", scene_copy], ["render", scene_copy, "--backend", "tracks", "-o", tmp_path / "a.mp4"]):
        one_error(capsys, *args, match="motionworld never runs code that comes with a model")
    assert not (tmp_path / "RAN").exists() and not Path("RAN").exists()


@pytest.mark.parametrize("args,match", [
    (["train", "plot", "{log}", "-o", "{log}"], "the plot is a PNG"),
    (["train", "plot", "{log}", "-o", "{tmp}/x.png", "--help-not-an-option"], None),
    (["bench", "--model", "--device", "foo"], "--device 'foo': choose cpu, cuda or cuda:N"),
    (["bench", "--model", "--device", "meta"], "--device 'meta'"),
    (["train", "vae", "--config", "configs/micro/vae.yaml", "--device", "cuda:7", "--out", "{tmp}/v"], "cuda:7"),
    (["data", "synth", "--out", "{tmp}/s", "--clips", "1", "--seed-start", "-5"], "--seed-start must be in [0,"),
    (["data", "synth", "--out", "{tmp}/s", "--clips", "2", "--seed-start", "999999999"], "the held-out range"),
    (["train", "vae", "--config", "configs/micro/vae.yaml", "--set", "x=["], "--set 'x=[': the value is not YAML"),
    (["train", "vae", "--config", "configs/micro/vae.yaml", "--set", "optim.steps.x=1"], "optim.steps is a value"),
    (["train", "vae", "--config", "configs/micro/vae.yaml", "--stop-after", "-3"], "--stop-after must be"),
    (["train", "vae", "--config", "configs/micro/vae.yaml", "--steps", "-5", "--out", "{tmp}/v"],
     "--steps: must be greater than or equal to 1"),
    (["train", "vae", "--config", "configs/micro/vae.yaml", "--set", "optim.lr=-1"],
     "--set optim.lr: must be greater than or equal to 0"),
    (["data", "preview", "{tmp}", "--scale", "100000"], "--scale in [1, 16]"),
])
def test_less_travelled_commands_give_one_line_not_a_traceback(tmp_path, capsys, args, match):
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"step": 1, "loss": 0.5}) + "\n")
    args = [a.format(log=log, tmp=tmp_path) for a in args]
    if match is None:  # argparse's own refusal: its usage line and exit 2, never a traceback
        with pytest.raises(SystemExit) as e:
            main(args)
        assert e.value.code == 2
        return
    one_error(capsys, *args, match=match)
    assert log.read_text() == json.dumps({"step": 1, "loss": 0.5}) + "\n" and not (tmp_path / "v").exists()


def test_a_short_clip_after_a_long_stream_is_still_whole_chunks():
    from motionworld.data.views import stream_clip
    from motionworld.eval.heldout import heldout_items

    student = StreamingStudent(preset("tiny"), seed=0)
    size = student.output_size[::-1]
    (long,), (short,) = (heldout_items(1, frames, size=size) for frames in (21, 9))
    assert len(stream_clip(student, long)) == 21
    assert len(stream_clip(student, short)) == 9  # the first stream's cache used to make it "too short"


def test_values_that_were_accepted_in_silence_are_refused_with_file_line_and_key(scene_copy, tmp_path, capsys):
    text = scene_copy.read_text()
    scene_copy.write_text(text.replace("prompt:", "image: garden.png\nprompt:", 1))
    line = text.split("prompt:")[0].count("\n") + 1
    one_error(capsys, "validate", scene_copy,
              match=f"scene.yaml:{line}: key 'image' appears twice in one mapping (first at line 3)")
    scene_copy.write_text(text)
    walk = tmp_path / "walk.yaml"
    walk.write_text("- dolly: {distance: 1, seconds: 1, distance: 9}\n")
    one_error(capsys, "render", scene_copy, "--path", walk, "-o", tmp_path / "a.mp4",
              match="walk.yaml:1: key 'distance'")
    config = tmp_path / "vae.yaml"
    config.write_text(Path("configs/micro/vae.yaml").read_text() + "stage: vae\n")
    one_error(capsys, "train", "vae", "--config", config, match="vae.yaml:")
    for values, match in [(np.full((384, 512), 1e31), "depths from 1e+31"), (np.full((384, 512), 1e-29), "1e-29"),
                          (np.ones((384, 512), complex), "complex128 values, not real numbers")]:
        np.save(scene_copy.with_name("d.npy"), values)
        scene_copy.write_text(text.replace("path: garden_depth.png", "path: d.npy").replace("scale: 0.002", "scale: 1"))
        one_error(capsys, "validate", scene_copy, match=match)
    scene_copy.write_text(text)
    ns = tmp_path / "path.json"
    eye = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    far = [1, 0, 0, 1e300, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    for data, match in [({"seconds": -5, "camera_path": [{"camera_to_world": eye}] * 2}, "seconds: expected a number"),
                        ({"fps": 0, "camera_path": [{"camera_to_world": eye}] * 2}, "fps: expected a number"),
                        ({"camera_path": [{"camera_to_world": eye}, {"camera_to_world": far}]}, "1e+300 units from")]:
        ns.write_text(json.dumps(data))
        one_error(capsys, "render", scene_copy, "--path", ns, "-o", tmp_path / "a.mp4", match=match)
    for option in ("--path", "--actions"):
        one_error(capsys, "path", scene_copy, option, "", "-o", tmp_path / "p.json", match=f"{option} is empty")
    assert not (tmp_path / "p.json").exists() and not (tmp_path / "a.mp4").exists()


def test_a_replay_may_not_ask_for_more_than_an_hour_of_frames(tmp_path, garden, capsys):
    log = _tracks_log(tmp_path, garden)
    capsys.readouterr()
    header, first, *_ = [json.loads(x) for x in log.read_text().splitlines()]
    hold = {"hold": first["commands"][0] if isinstance(first["commands"], list) else first["commands"]["hold"],
            "count": 64}
    lines = [header] + [{**first, "frame": 9 + 64 * i, "commands": hold, "keep": 64} for i in range(901)]
    for line in lines[1:]:
        line.pop("sha256", None)
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    one_error(capsys, "replay", log, match="asks for more than 57600 frames")


def test_a_stale_display_falls_back_instead_of_running_unseen(tmp_path, garden):
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = ":77"  # no X server there
    out = tmp_path / "fallback.mp4"
    args = [sys.executable, "-m", "motionworld", "play", str(garden), "--backend", "warp", "--size", "64"]
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith("error: no display to open a window on: "
                                                                               ":77 cannot be reached"), r.stderr
    r = subprocess.run(args + ["--fallback-render", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and out.is_file(), r.stderr


def test_messages_name_only_what_the_user_wrote(tmp_path, capsys, monkeypatch):
    broken = tmp_path / "photo.png"
    broken.write_bytes((ROOT / "scenes" / "garden" / "garden.png").read_bytes()[:200])
    err = one_error(capsys, "validate", broken, match="photo.png: cannot read image")
    # no line of a made-up YAML
    assert not err.startswith("error: photo.png:") or err.startswith("error: photo.png: "), err
    import motionworld.cli.scene as cli_scene

    good = tmp_path / "good.png"
    good.write_bytes((ROOT / "scenes" / "garden" / "garden.png").read_bytes())
    monkeypatch.setattr(cli_scene, "scene_text", lambda *a, **k: "version: 1\nimage: good.png\nwhat: 1\n")
    err = one_error(capsys, "scene", "new", good, "--depth", "prior", match="good.yaml:3: what: unknown key")
    assert ".tmp" not in err and sorted(p.name for p in tmp_path.iterdir()) == ["good.png", "photo.png"]


def test_json_nesting_counts_only_real_brackets():
    from motionworld.strict_json import loads

    assert loads(json.dumps({"prompt": "[" * 200 + "{" * 200, "q": 'a \\" [[['})) == {
        "prompt": "[" * 200 + "{" * 200, "q": 'a \\" [[['}
    with pytest.raises(ValueError, match="nested deeper than 64"):
        loads("[" * 65 + "]" * 65)
