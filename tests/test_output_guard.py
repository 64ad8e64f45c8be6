"""Nothing a user owns is overwritten: every writer (the main output, --log, --out folders, reports,
ship, training runs) refuses an output that is one of the command's inputs (by name, through a
symlink, `..` or a hard link), a FIFO or a device, or a folder holding files motionworld did not
write; and nothing is removed that the command did not create. Each case is one `error:` line,
exit status 2, and the user's file byte for byte as it was."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from motionworld.cli import main
from tests.conftest import one_error

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_fuzz import MEMORY_HEADROOM, memory_limit, time_limit  # noqa: E402


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (links not followed) and its bytes: what must not change."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() and not p.is_symlink() else b"<link or dir>")
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def scene(tmp_path, garden) -> Path:
    folder = tmp_path / "garden"
    shutil.copytree(garden.parent, folder)
    return folder / "scene.yaml"


def render(scene, out, *more):
    return ["render", scene, "--backend", "tracks", "--size", "32", "--seconds", "0.5", "-o", out, *more]


def test_no_output_lands_on_an_input_of_the_command(scene, tmp_path, capsys):
    folder = scene.parent
    (tmp_path / "walk.yaml").write_text("- dolly: {distance: 0.2, seconds: 0.5}\n")
    before = snapshot(tmp_path)
    cases = [
        render(scene, tmp_path / "a.mp4", "--log", folder / "garden_depth.png"),  # the scene's depth map
        render(scene, tmp_path / "a.mp4", "--log", folder / "ball_mask.png"),  # an object's mask
        render(scene, tmp_path / "a.mp4", "--path", tmp_path / "walk.yaml", "--log", tmp_path / "walk.yaml"),
        ["path", scene, "-o", scene],  # the scene file itself
        ["path", scene, "-o", folder / ".." / "garden" / "scene.yaml"],  # through ..
        ["play", folder / "garden.png", "--log", folder / "garden.png"],  # a picture turned into JSONL
    ]
    for args in cases:
        one_error(capsys, *args, match="is an input of this command")
    os.symlink(folder / "garden_depth.png", tmp_path / "link.npz")
    one_error(capsys, "tracks", scene, "-o", tmp_path / "link.npz", match=f"({folder / 'garden_depth.png'})")
    os.link(folder / "garden.png", tmp_path / "hard.mp4")  # the picture under another name
    one_error(capsys, *render(scene, tmp_path / "hard.mp4"), match="is an input of this command")
    (tmp_path / "link.npz").unlink()
    (tmp_path / "hard.mp4").unlink()
    assert snapshot(tmp_path) == before


def test_special_files_are_never_outputs_or_inputs(scene, tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    one_error(capsys, "path", scene, "-o", fifo, match="is a FIFO (named pipe), not a file")
    one_error(capsys, *render(scene, tmp_path / "a.mp4", "--log", fifo), match="is a FIFO")
    one_error(capsys, "path", scene, "-o", "/dev/null", match="is a device, not a file")
    # reading one would block forever: each reader refuses it first
    one_error(capsys, "validate", fifo, match="is a FIFO (named pipe), not a file")
    one_error(capsys, *render(fifo, tmp_path / "a.mp4"), match="is a FIFO")
    one_error(capsys, "replay", fifo, match="is a FIFO")
    for name in ("pipe.json", "pipe.yaml", "pipe.txt"):
        os.mkfifo(tmp_path / name)
        one_error(capsys, *render(scene, tmp_path / "a.mp4", "--path", tmp_path / name), match="is a FIFO")
    assert fifo.exists() and not fifo.is_file() and not (tmp_path / "a.mp4").exists()


def test_tracks_write_only_the_name_given(scene, tmp_path, capsys):
    (tmp_path / "t.npz").write_bytes(b"the user's own arrays")
    one_error(capsys, "tracks", scene, "-o", tmp_path / "t", match="name the file t.npz")
    assert (tmp_path / "t.npz").read_bytes() == b"the user's own arrays" and not (tmp_path / "t").exists()


def test_a_report_folder_of_the_users_is_refused_before_the_evaluation(tmp_path, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "report.md").write_text("my own report")
    one_error(capsys, "eval", "--sections", "depth", "--depth-views", "1", "--out", out, match="report.md that "
              "motionworld did not write")
    assert snapshot(out) == {"report.md": b"my own report"}
    rc = main(["eval", "--sections", "depth", "--depth-views", "1", "--out", str(tmp_path / "r")])
    capsys.readouterr()
    assert rc == 0
    (tmp_path / "r" / "mine.txt").write_text("kept")
    assert main(["eval", "--sections", "depth", "--depth-views", "1", "--out", str(tmp_path / "r")]) == 0  # its own
    assert (tmp_path / "r" / "mine.txt").read_text() == "kept"


def test_ship_never_replaces_or_removes_a_folder_it_did_not_write(tmp_path, capsys):
    from motionworld.model.config import preset
    from motionworld.model.student import StreamingStudent

    StreamingStudent(preset("tiny"), seed=0).save(tmp_path / "student")
    models = tmp_path / "models"
    models.mkdir()
    (models / "mine.safetensors").write_bytes(b"a model of the user's own")
    (tmp_path / "models.building").mkdir()  # a name a user may hold: the old ship rmtree'd it
    (tmp_path / "models.building" / "keep").write_text("keep")
    before = snapshot(tmp_path)
    one_error(capsys, "train", "ship", "--student", tmp_path / "student", "--out", models,
              match="holds files that `train ship` did not write")
    assert snapshot(tmp_path) == before
    # a folder ship made is replaced whole, and again; nothing is left beside it
    for _ in range(2):
        assert main(["train", "ship", "--student", str(tmp_path / "student"), "--out", str(tmp_path / "w")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "models.building", "student", "w"]
    (tmp_path / "w" / "extra.txt").write_text("the user's note")  # now it holds a file of the user's
    one_error(capsys, "train", "ship", "--student", tmp_path / "student", "--out", tmp_path / "w",
              match="did not write")
    assert (tmp_path / "w" / "extra.txt").read_text() == "the user's note"


def test_a_training_run_never_replaces_a_users_log(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "log.jsonl").write_text("my own notes\n")
    one_error(capsys, "train", "vae", "--config", "configs/micro/vae.yaml", "--out", out, "--steps", "1",
              match="holds log.jsonl that motionworld did not write")
    assert (out / "log.jsonl").read_text() == "my own notes\n"


def test_two_runs_never_share_one_input_log(scene, tmp_path, capsys):
    from motionworld.play.input_log import InputLog

    log = tmp_path / "run.jsonl"
    first = InputLog({"session": {}}, log)  # a session writing it now
    try:
        one_error(capsys, *render(scene, tmp_path / "a.mp4", "--log", log), match="being written by another")
        first.add({"frame": 0})
    finally:
        first.close()
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1]) == {"frame": 0}  # the first run's log is whole
    assert not (tmp_path / "a.mp4").exists()


def test_output_names_long_enough_to_overflow_a_temporary_name(scene, tmp_path, capsys):
    near = tmp_path / ("a" * 246 + ".mp4")  # 250 bytes: its temporary name used to pass 255
    assert main([str(a) for a in render(scene, near)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["garden", near.name])
    one_error(capsys, *render(scene, tmp_path / ("a" * 256 + ".mp4")), match="over the 255 a file name may have")


# --- fuzz: command lines whose outputs alias their inputs -----------------------------------------
ALIAS_FUZZ = settings(max_examples=int(os.environ.get("MOTIONWORLD_FUZZ_EXAMPLES", "25")), derandomize=True,
                      database=None, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
INPUTS = ["scene.yaml", "garden.png", "garden_depth.png", "ball_mask.png", "walk.yaml"]


@pytest.fixture(scope="module")
def alias_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("alias") / "garden"
    shutil.copytree(Path(__file__).resolve().parents[1] / "scenes" / "garden", folder)
    (folder / "walk.yaml").write_text("- dolly: {distance: 0.2, seconds: 0.5}\n")
    return folder


@ALIAS_FUZZ
@given(command=st.sampled_from(["render", "render-log", "tracks", "path"]), target=st.sampled_from(INPUTS),
       how=st.sampled_from(["name", "dotdot", "symlink", "hardlink", "absolute"]), use_path=st.booleans())
def test_fuzz_outputs_that_alias_inputs_are_refused(alias_dir, capsys, command, target, how, use_path):
    use_path = use_path or target == "walk.yaml"  # (only then is it an input)
    before = snapshot(alias_dir)
    scratch = alias_dir.parent / "scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    source = alias_dir / target
    suffix = {"render": ".mp4", "render-log": ".jsonl", "tracks": ".npz", "path": ".json"}[command]
    if how == "name":
        out = source
    elif how == "dotdot":
        out = alias_dir / ".." / alias_dir.name / target
    elif how == "absolute":
        out = source.resolve()
    else:
        out = scratch / f"alias{suffix}"
        (os.symlink if how == "symlink" else os.link)(source, out)
    scene = alias_dir / "scene.yaml"
    more = ["--path", alias_dir / "walk.yaml"] if use_path else []
    if command == "render":
        args = render(scene, out, *more)
    elif command == "render-log":
        args = render(scene, scratch / "a.mp4", "--log", out, *more)
    else:
        args = [command, scene, "-o", out, "--seconds", "0.5", *more]
    with time_limit(60), memory_limit(MEMORY_HEADROOM):  # refused before any work
        rc = main([str(a) for a in args])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("error: "), (args, err)
    assert snapshot(alias_dir) == before, args
    assert not [p for p in scratch.iterdir() if not p.name.startswith("alias")]  # nothing left behind
