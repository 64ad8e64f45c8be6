"""The config budget (issue 37, items 3 and 5): a weights manifest whose config was edited and whose
config_sha256 was recomputed passes the hash and the shape check, so the config itself is judged
before anything is built: every count against what the architecture uses, and the estimated
memory (parameters, KV cache, one chunk's activations) against a budget. Each forged config is one
`error:` line, exit status 2, in seconds; the shipped weights and every preset pass; the parameter
estimate matches the models that are built."""
from __future__ import annotations

import dataclasses
import json
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from motionworld.errors import MotionWorldError
from motionworld.model.config import PRESETS, StudentConfig, preset
from motionworld.model.student import StreamingStudent
from motionworld.model.weights import config_digest

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 20  # a refusal is one line in seconds (interpreter start included); it hung or was killed before
HARD_TIMEOUT = 60  # what a hang is cut off at
MEMORY = 8 << 30  # address space of each run: a config that allocates what it asks for fails here, not the machine


def _student_folder(tmp_path) -> Path:
    folder = tmp_path / "weights"
    StreamingStudent(preset("tiny"), seed=0).save(folder)
    return folder


def _forged(base: Path, folder: Path, change, filename: str = "student.safetensors") -> Path:
    """A copy of `base` whose manifest config was edited by `change` and its config_sha256 recomputed."""
    shutil.copytree(base, folder)
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    entry = manifest["files"][filename]
    change(entry["config"])
    entry["config_sha256"] = config_digest(entry["config"])  # a forger who updates the hash too
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))
    return folder


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_limited(*args) -> tuple[int, list[str], float]:
    """(exit status, stderr lines, seconds) of `motionworld ARGS` in a process of its own, with a time
    and memory limit: a hang or an allocation of what a forged config asks for fails the test
    instead of stalling or killing the machine."""
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "motionworld", *map(str, args)], capture_output=True, text=True,
                              timeout=HARD_TIMEOUT, preexec_fn=_limited, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"motionworld {' '.join(map(str, args))} still ran after {HARD_TIMEOUT} s")
    return proc.returncode, proc.stderr.strip().splitlines(), time.monotonic() - start


def one_error_quickly(*args, match: str) -> str:
    rc, err, seconds = run_limited(*args)
    assert rc == 2 and len(err) == 1 and err[0].startswith("error: ") and match in err[0], (rc, err[-5:])
    assert seconds < SECONDS, f"took {seconds:.1f} s"
    return err[0]


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory) -> Path:
    return _student_folder(tmp_path_factory.mktemp("budget"))


def _set(key: str, value):
    def change(config: dict):
        *parents, last = key.split(".")
        node = config
        for p in parents:
            node = node[p]
        node[last] = value
    return change


FORGED = {  # the cases: killed for memory, hung (x3), and three tracebacks
    "chunk": (_set("chunk", 100_000), "student.safetensors config chunk 100000: at most 16 latent frames"),
    "layers": (_set("dit.num_layers", 1_048_576),
               "student.safetensors config dit.num_layers 1048576: at most 64 layers"),
    "steps": (_set("steps", [1 - i / 100_000 for i in range(100_000)]),
              "student.safetensors config steps (100000 values): at most 50 sampler steps"),
    "frames": (lambda c: c.update(height=8192, width=8192),
               "student.safetensors config height 8192: must be in [16, 4096]"),
    "latent_mean": (lambda c: c["vae"].update(latent_mean=[0.0, 0.1, 0.2], latent_std=[1.0] * 16),
                    "student.safetensors config vae.latent_mean [0.0, 0.1, 0.2]: "
                    "needs 16 values, one per latent channel"),
    "no_steps": (_set("steps", []), "student.safetensors config steps []: needs at least one noise level"),
}


@pytest.mark.parametrize("case", sorted(FORGED))
def test_a_forged_manifest_config_is_one_line_and_quick(case, tiny_weights, garden, tmp_path):
    change, match = FORGED[case]
    folder = _forged(tiny_weights, tmp_path / "weights", change)
    line = one_error_quickly("render", garden, "--backend", "neural", "--weights", folder, "-o", tmp_path / "x.mp4",
                             match=match)
    assert f"{folder / 'MANIFEST.json'}: " in line  # names the manifest file
    assert not (tmp_path / "x.mp4").exists()


def test_a_config_within_every_count_but_over_the_memory_budget_is_refused(tiny_weights, garden, tmp_path):
    """4096x4096 frames, 16-latent chunks, a 16 + 64 chunk cache: each count is allowed, the KV cache
    and the decode's activations together are not (hundreds of GB)."""
    def change(c):
        c.update(height=4096, width=4096, chunk=16, sink=16, window=64)
        c["dit"]["rope_max_seq_len"] = 2048
    folder = _forged(tiny_weights, tmp_path / "weights", change)
    one_error_quickly("render", garden, "--backend", "neural", "--weights", folder, "-o", tmp_path / "x.mp4",
                      match="over the memory budget")


def test_a_user_size_for_bench_is_judged_like_a_manifest(tmp_path):
    one_error_quickly("bench", "--model", "--preset", "tiny", "--size", "8192x8192", "--chunks", "1", "--no-compare",
                      "--json", match="model config height 8192: must be in [16, 4096]")


def test_the_budget_refuses_before_the_tensors_are_read(tiny_weights, tmp_path, monkeypatch):
    import safetensors.torch

    from motionworld.model import modules

    folder = _forged(tiny_weights, tmp_path / "weights", _set("dit.num_layers", 1_048_576))
    read, built = [], []
    monkeypatch.setattr(safetensors.torch, "load_file", lambda *a, **k: read.append(a))
    monkeypatch.setattr(modules.TrackVideoModules, "__init__", lambda *a, **k: built.append(a))
    with pytest.raises(MotionWorldError, match="dit.num_layers 1048576: at most 64 layers"):
        StreamingStudent.load(folder)
    assert read == [] and built == []


def test_a_teacher_manifest_is_judged_too(tmp_path):
    from motionworld.model.bundles import TEACHER_KIND, load_modules, save_teacher
    from motionworld.model.modules import TrackVideoModules

    c = preset("tiny")
    save_teacher(tmp_path / "base", TrackVideoModules(c), c, extra={})
    folder = _forged(tmp_path / "base", tmp_path / "weights", _set("chunk", 100_000), filename="teacher.safetensors")
    with pytest.raises(MotionWorldError, match="teacher.safetensors config chunk 100000: at most 16"):
        load_modules(folder, TEACHER_KIND)


def test_a_vae_manifest_with_the_wrong_statistics_is_one_line(tmp_path):
    from motionworld.model.bundles import load_vae, save_vae
    from motionworld.model.tiny_vae import TinyVAE

    vae = TinyVAE(dataclasses.replace(preset("tiny").vae, latent_mean=(0.0,) * 16, latent_std=(1.0,) * 16))
    save_vae(tmp_path / "base", vae, extra={})
    for key, value, match in [("latent_mean", [0.0, 0.1, 0.2], "latent_mean [0.0, 0.1, 0.2]: needs 16 values"),
                              ("latent_std", [0.0] * 16,
                               "latent_std (16 values): each value must be a finite number above 0"),
                              ("colour_std", [0.3, 0.1, 0.1], "colour_mean []: needs 3 values, one per colour axis")]:
        folder = tmp_path / key
        _forged(tmp_path / "base", folder, _set(key, value), filename="vae.safetensors")
        with pytest.raises(MotionWorldError, match=re.escape(match)):
            load_vae(folder)


def _config(**changes) -> StudentConfig:
    """The tiny preset with dotted keys changed."""
    data = preset("tiny").to_dict()
    for key, value in changes.items():
        _set(key.replace("__", "."), value)(data)
    return StudentConfig.from_dict(data)


@pytest.mark.parametrize("changes, match", [
    ({"dit__patch_size": [1, 2, 3]}, "width 64: must be a multiple of 24 (the VAE's 8x times the patch 3)"),
    ({"dit__freq_dim": 31}, "dit.freq_dim 31: must be even"),
    ({"dit__attention_head_dim": 15}, "dit.attention_head_dim 15: must be even"),
    ({"dit__out_channels": 8}, "dit.out_channels 8: must equal dit.in_channels (16)"),
    ({"dit__rope_max_seq_len": 4}, "dit.rope_max_seq_len 4: must be in [9, 8192]"),
    ({"text__heads": 3}, "text.heads 3: must divide text.dim (32)"),
    ({"text__layers": 1000}, "text.layers 1000: at most 64 layers"),
    ({"text__hash_buckets": 0}, "text.hash_buckets 0: must be at least 1"),
    ({"vae__decoder_widths": [16, 8, 8]}, "vae.decoder_widths [16, 8, 8]: must have 4 values"),
    ({"vae__encoder_blocks": 100000}, "vae.encoder_blocks 100000: must be in [0, 16]"),
    ({"vae__encoder_time_downscale": [True, True, True]}, "vae.encoder_time_downscale [True, True, True]: must be 3"),
    ({"vae__latent_std": [1.0] * 16}, "vae.latent_mean []: needs 16 values"),
    ({"vae__output_scale": 2}, "vae.output_scale 2: must be 1 without a guided decoder"),
    ({"tracks__spatial_stride": 4}, "tracks.spatial_stride 4: must be 8"),
    ({"height": 72}, "height 72: must be a multiple of 16"),
    ({"sink": 17}, "sink 17: at most 16 chunks"),
    ({"window": 65}, "window 65: at most 64 chunks"),
    ({"chunk": 0}, "chunk 0: must be in [1, 16]"),
    ({"steps": [1.0, 1.0]}, "steps [1.0, 1.0]: noise levels must be strictly decreasing"),
    ({"steps": [2.0, 1.0]}, "steps [2.0, 1.0]: each noise level must be a number in (0, 1]"),
    ({"steps": ["1"]}, "steps ['1']: each noise level must be a number"),
    ({"shift": 0.0}, "shift 0.0: must be in (0, 1000]"),
    ({"aspect": "square"}, "aspect 'square': must be 'fixed' or 'picture'"),
])
def test_each_count_and_invariant_is_named_by_its_key(changes, match):
    from motionworld.model.budget import check_student_config

    with pytest.raises(MotionWorldError) as e:
        check_student_config(_config(**changes), "weights/MANIFEST.json: student.safetensors config")
    assert str(e.value).startswith("weights/MANIFEST.json: student.safetensors config ")
    assert match in str(e.value) and "\n" not in str(e.value)


def test_a_run_time_layout_is_judged_like_the_config():
    student = StreamingStudent("tiny", seed=0)
    for layout, match in [({"chunk": 100_000}, "cache layout chunk 100000: at most 16"),
                          ({"window": 1000}, "cache layout window 1000: at most 64"),
                          ({"steps": ()}, "cache layout steps []: needs at least one noise level")]:
        with pytest.raises(MotionWorldError, match=re.escape(match)):
            student.configure(**layout)
    student.configure(chunk=1, sink=0, window=None, steps=(1.0, 0.5))  # the growing comparison mode still works
    with pytest.raises(MotionWorldError, match="model config height 8192"):
        StreamingStudent(dataclasses.replace(preset("tiny"), height=8192, width=8192))


def _shipped_configs() -> dict[str, StudentConfig]:
    manifest = json.loads((ROOT / "weights" / "MANIFEST.json").read_text())
    return {name: StudentConfig.from_dict(entry["config"]) for name, entry in manifest["files"].items()
            if entry.get("kind") in ("motionworld-student", "motionworld-teacher")}


def test_the_shipped_weights_and_every_preset_pass_on_any_machine():
    from motionworld import limits
    from motionworld.model.budget import check_student_config

    configs = {**_shipped_configs(), **{name: preset(name) for name in PRESETS}}
    assert {"student.safetensors", "teacher.safetensors", "wan1.3b"} <= set(configs)
    for name, config in configs.items():
        # under the floor: they pass whatever memory the machine has
        est = check_student_config(config, name, budget=int(limits.MODEL_MEMORY_FLOOR))
        assert est.total_bytes < limits.MODEL_MEMORY_FLOOR, name


def test_the_wan_estimate_is_near_the_measured_gpu_peak():
    """docs/model.md: Wan 1.3B + track head at 832x480, c3s1w1, bfloat16 on an H200 peaked at 9.8 GB."""
    from motionworld.model.budget import estimate

    run = estimate(preset("wan1.3b"), bytes_per_value=2).run_bytes
    assert 0.75 < run / 9.8e9 < 1.25, run / 1e9


PARAMETER_TOLERANCE = 0.01  # the estimate is the sum of each module's formula: exact today, 1 % allowed


@pytest.mark.parametrize("name", ["tiny", "tiny-guided", "cpu", "cpu-guided", "wan1.3b", "student.safetensors"])
def test_the_parameter_estimate_matches_the_built_model(name):
    from motionworld.model.budget import estimate
    from motionworld.model.modules import TrackVideoModules

    config = _shipped_configs()[name] if name.endswith(".safetensors") else preset(name)
    with torch.device("meta" if name == "wan1.3b" else "cpu"):  # 1.8 B parameters: shapes only
        real = sum(p.numel() for p in TrackVideoModules(config).parameters())
    assert abs(estimate(config).parameters / real - 1) <= PARAMETER_TOLERANCE, (estimate(config).parameters, real)


def test_a_depth_config_with_a_forged_block_count_is_refused_before_building():
    from motionworld.model.depth_net import DepthNetConfig

    start = time.monotonic()
    with pytest.raises(ValueError, match="blocks 1048576: each stage has 0 to 16 residual blocks"):
        DepthNetConfig.from_dict({"blocks": [1, 1, 2, 2, 1_048_576]})
    assert time.monotonic() - start < 1
