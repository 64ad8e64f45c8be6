"""Property-based: valid scene files and input logs, mutated at random (types, numbers, nesting,
deleted, duplicated and unknown keys), either work or fail with one `error:` line and exit status 2,
within a time limit per case. Runs are derandomised (the same cases every run, so CI is stable);
MOTIONWORLD_FUZZ_EXAMPLES=2000 explores further."""
from __future__ import annotations

import copy
import json
import os
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from motionworld.cli import main  # noqa: E402

GARDEN = Path(__file__).resolve().parents[1] / "scenes" / "garden" / "scene.yaml"
EXAMPLES = int(os.environ.get("MOTIONWORLD_FUZZ_EXAMPLES", "40"))
CASE_SECONDS = 30  # a case slower than this is a hang as far as a user is concerned
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

BASE_SCENE = {
    "version": 1,
    "image": "picture.png",
    "prompt": "a small test picture",
    "depth": {"source": "prior", "horizon": 0.5},
    "camera": {"fov_deg": 50, "start": {"pitch_deg": -5}, "move_speed": 1.0},
    "tracks": {"grid": 8},
    "objects": [{"name": "box", "box": [10, 10, 30, 30],
                 "path": {"loop": True, "keyframes": [{"t": 0, "position": [0, 0, 0]},
                                                      {"t": 1, "position": [0.2, 0, 0]}]}}],
    "paths": {"walk": [{"dolly": {"distance": 0.5, "seconds": 0.5}}, {"pan": {"degrees": 10, "seconds": 0.5}}],
              "keys": [{"actions": "w-4,l-4"}]},
    "generator": {"backend": "warp", "seed": 0},
    "controls": {"default_path": "walk"},
}

ODD_STRINGS = ["w-99999999", "w-\u00b2", "1e9", "-1", "..", "/", ".", "nowhere.png", "picture.png", "nan", "", "\x00",
               "!!python/object:os.system", "a" * 300, "prior", "file", "cubic", "walk"]
VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1e9, 1e300, 2**63, 0.5, 3601]),
    st.text(max_size=12),
    st.sampled_from(ODD_STRINGS),
    st.booleans(),
    st.none(),
    st.lists(st.one_of(st.integers(-5, 5), st.floats(-1e3, 1e3)), max_size=5),
    st.dictionaries(st.sampled_from(["t", "seconds", "x", "hold", "count", "position"]), st.integers(-5, 5),
                    max_size=2),
)


class CaseTimeout(BaseException):
    """Not an OSError (as TimeoutError is): the CLI's handlers must not turn a hang into an error line."""


@contextmanager
def time_limit(seconds: int):
    def expired(signum, frame):
        raise CaseTimeout(f"a case took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def places(tree, prefix=()):
    """Every (container path, key) in a JSON-like tree."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else []
    out = []
    for k, v in items:
        out.append(prefix + (k,))
        out += places(v, prefix + (k,))
    return out


def at(tree, path):
    for k in path:
        tree = tree[k]
    return tree


@st.composite
def mutated(draw, base):
    """`base` with one to three edits: a value replaced, a key deleted, an unknown key added, a
    value nested deep, a list item duplicated."""
    tree = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        spots = places(tree)
        if not spots:
            break
        path = draw(st.sampled_from(spots))
        parent, key = at(tree, path[:-1]), path[-1]
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "unknown", "nest", "duplicate"]))
        if op == "replace":
            parent[key] = draw(VALUES)
        elif op == "delete":
            del parent[key]
        elif op == "unknown" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["colour", "fov", "extra", "Seconds"]))] = draw(VALUES)
        elif op == "nest":
            depth = draw(st.integers(2, 120))
            value = parent[key]
            for _ in range(depth):
                value = [value]
            parent[key] = value
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
    return tree


def check_outcome(rc: int, err: str, allowed=(0, 2)) -> None:
    lines = err.strip().splitlines()
    assert rc in allowed, (rc, err)
    assert "Traceback" not in err, err
    if rc == 2:
        assert lines and all(line.startswith("error: ") for line in lines), err
        assert all(len(line) < 2000 for line in lines), err


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    from PIL import Image

    folder = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(folder / "picture.png")
    return folder


def _duplicate_line(text: str, index: int) -> str:
    lines = text.splitlines()
    if lines:
        i = index % len(lines)
        lines.insert(i, lines[i])  # a repeated key (YAML keeps the last) or list item
    return "\n".join(lines) + "\n"


@FUZZ
@given(tree=mutated(BASE_SCENE), dup=st.one_of(st.none(), st.integers(0, 100)))
def test_mutated_scenes_load_or_fail_in_one_line(fuzz_dir, capsys, tree, dup):
    text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)
    if dup is not None:
        text = _duplicate_line(text, dup)
    scene = fuzz_dir / "scene.yaml"
    scene.write_text(text)
    with time_limit(CASE_SECONDS):
        rc = main(["validate", str(scene)])
        out = capsys.readouterr()
        check_outcome(rc, out.err)
        event(f"validate exit {rc}")
        if rc == 0:  # it loads: it must also render (or refuse in one line)
            target = fuzz_dir / "out.mp4"
            rc = main(["render", str(scene), "--backend", "tracks", "--size", "32", "--seconds", "0.4",
                       "-o", str(target)])
            check_outcome(rc, capsys.readouterr().err)
            event(f"render exit {rc}")
            target.unlink(missing_ok=True)
    assert not [p for p in fuzz_dir.iterdir() if p.name.startswith(".out")]


@pytest.fixture(scope="module")
def valid_log(fuzz_dir):
    scene = fuzz_dir / "logged.yaml"
    scene.write_text(yaml.safe_dump(BASE_SCENE, sort_keys=False))
    log = fuzz_dir / "valid.jsonl"
    assert main(["render", str(scene), "--backend", "tracks", "--size", "32", "--seconds", "1.0",
                 "-o", str(fuzz_dir / "logged.mp4"), "--log", str(log)]) == 0
    return [json.loads(x) for x in log.read_text().splitlines()]


@FUZZ
@given(data=st.data())
def test_mutated_input_logs_replay_or_fail_in_one_line(fuzz_dir, valid_log, capsys, data):
    lines = copy.deepcopy(valid_log)
    op = data.draw(st.sampled_from(["edit", "edit", "edit", "drop", "repeat", "swap"]))
    i = data.draw(st.integers(0, len(lines) - 1))
    if op == "edit":
        lines[i] = data.draw(mutated(lines[i]))
    elif op == "drop":
        del lines[i]
    elif op == "repeat":
        lines.insert(i, lines[i])
    else:
        j = data.draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    log = fuzz_dir / "mutated.jsonl"
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    capsys.readouterr()
    with time_limit(CASE_SECONDS):
        rc = main(["replay", str(log)])
    check_outcome(rc, capsys.readouterr().err, allowed=(0, 1, 2))  # 1: frames differ from the log's
    event(f"replay exit {rc}")
    assert Path(fuzz_dir / "logged.yaml").is_file()


# --- weights configs: a forger who recomputes config_sha256 --------------------------------------
CONFIG_VALUES = st.one_of(st.sampled_from([0, 1, 2, 3, 7, 100_000, 1_048_576, 2**31, -1, 0.5, 1e9, None, "x", [],
                                           [1.0, 2.0, 3.0], True]), st.integers(-5, 70_000))
COUNTS = [("chunk",), ("sink",), ("window",), ("height",), ("width",), ("steps",), ("dit", "num_layers"),
          ("dit", "ffn_dim"), ("dit", "num_attention_heads"), ("text", "layers"), ("text", "max_tokens"),
          ("vae", "latent_mean"), ("vae", "decoder_blocks"), ("dit", "rope_max_seq_len")]
MEMORY_HEADROOM = 3 << 30  # an example may grow the process's address space by this much, no more


@contextmanager
def memory_limit(extra: int):
    """Lower this process's address-space limit to what it maps now plus `extra` bytes for the
    block: an allocation past it fails at once (a MemoryError the CLI must never let through)
    instead of the machine swapping or killing the run."""
    import resource

    used = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (used + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    from motionworld.model.config import preset
    from motionworld.model.student import StreamingStudent

    folder = tmp_path_factory.mktemp("weights") / "student"
    StreamingStudent(preset("tiny"), seed=0).save(folder)
    return folder


@FUZZ
@given(data=st.data())
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the address space from /proc")
def test_forged_weights_configs_load_or_fail_in_one_line_within_time_and_memory(student_dir, fuzz_dir, capsys, data):
    from motionworld.model.weights import config_digest

    folder = fuzz_dir / "forged"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(student_dir, folder)
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    entry = manifest["files"]["student.safetensors"]
    leaves = [p for p in places(entry["config"]) if not isinstance(at(entry["config"], p), (dict, list))]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(COUNTS) | st.sampled_from(leaves))  # the counts that size the work, often
        at(entry["config"], path[:-1])[path[-1]] = data.draw(CONFIG_VALUES)
    entry["config_sha256"] = config_digest(entry["config"])
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))
    target = fuzz_dir / "forged.mp4"
    capsys.readouterr()
    with time_limit(CASE_SECONDS), memory_limit(MEMORY_HEADROOM):
        rc = main(["render", str(GARDEN), "--backend", "neural", "--weights", str(folder),
                   "--seconds", "0.5", "--size", "64", "-o", str(target)])
    err = capsys.readouterr().err
    check_outcome(rc, err)
    event(f"render exit {rc}" + (f": {err.split(': ', 2)[-1][:40]}" if rc else ""))
    target.unlink(missing_ok=True)
