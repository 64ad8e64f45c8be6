"""Training stages at micro scale: end to end from the CLI, bit-exact resume, two-process DDP,
the DMD rollout's cache against inference, configs and log plots."""
import json
import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch

from motionworld.cli import main
from motionworld.errors import MotionWorldError
from motionworld.train.config import load_config

ROOT = Path(__file__).resolve().parents[1]
MICRO = ROOT / "configs" / "micro"


def _run(stage, out, *extra):
    name = stage.replace("-", "_")
    return main(["train", stage, "--config", str(MICRO / f"{name}.yaml"), "--out", str(out), *extra])


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """The four stages in a row, each from the previous one's export."""
    root = tmp_path_factory.mktemp("chain")
    assert _run("vae", root / "vae") == 0
    assert _run("teacher", root / "teacher", "--set", f"init.vae={root / 'vae' / 'export'}") == 0
    assert _run("causal-init", root / "ci", "--set", f"init.teacher={root / 'teacher' / 'export'}") == 0
    assert _run("distill", root / "distill", "--set", f"init.teacher={root / 'teacher' / 'export'}",
                "--set", f"init.student={root / 'ci' / 'export'}") == 0
    return root


def test_all_stages_run_and_export_shipped_weights(chain):
    from motionworld.data.toy import MovingSquares
    from motionworld.model.student import StreamingStudent

    for run, filename in (("vae", "vae.safetensors"), ("teacher", "teacher.safetensors"),
                          ("ci", "student.safetensors"), ("distill", "student.safetensors")):
        manifest = json.loads((chain / run / "export" / "MANIFEST.json").read_text())
        entry = manifest["files"][filename]
        assert (len(entry["sha256"]) == 64 and entry["steps"] > 0 and "metrics" in entry
                and "train_seeds" in entry["data"])
        log = [json.loads(line) for line in (chain / run / "log.jsonl").read_text().splitlines()]
        assert log[-1]["step"] == entry["steps"] and all(np.isfinite(r.get("loss", 0.0)) for r in log)
    vae = json.loads((chain / "vae" / "export" / "MANIFEST.json").read_text())["files"]["vae.safetensors"]
    assert len(vae["config"]["latent_std"]) == vae["config"]["latent_channels"]  # latent statistics travel along
    student = StreamingStudent.load(chain / "distill" / "export")
    item = MovingSquares(1, 64, 9)[0]
    student.start(item["video"][0].numpy(), item["caption"])
    frames = student.step(item["tracks"][:student.frames_for_next_chunk()],
                          item["visibility"][:student.frames_for_next_chunk()])
    assert frames.shape[1:] == (64, 64, 3)


def test_resume_is_bit_exact(tmp_path, chain):
    from safetensors.torch import load_file

    init = ["--set", f"init.vae={chain / 'vae' / 'export'}", "--set", "eval_every=0", "--set", "checkpoint_every=4"]
    assert _run("teacher", tmp_path / "straight", "--steps", "8", *init) == 0
    assert _run("teacher", tmp_path / "resumed", "--steps", "8", "--stop-after", "5", *init) == 0
    assert not (tmp_path / "resumed" / "export").exists()
    assert _run("teacher", tmp_path / "resumed", "--steps", "8", "--resume", *init) == 0
    a = load_file(tmp_path / "straight" / "export" / "teacher.safetensors")
    b = load_file(tmp_path / "resumed" / "export" / "teacher.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # The manifest keeps both invocations of the resumed run, where each started and how long it was.
    entry = json.loads((tmp_path / "resumed" / "export" / "MANIFEST.json").read_text())["files"]["teacher.safetensors"]
    assert [(i["from_step"], i["steps"], i["stop_after"]) for i in entry["invocations"]] == [(0, 8, 5), (5, 8, None)]
    assert "--resume" in entry["invocations"][1]["command"] and "--resume" not in entry["invocations"][0]["command"]
    # Starting again into a folder that has checkpoints is refused (nothing is overwritten).
    assert _run("teacher", tmp_path / "straight", "--steps", "8", *init) == 2


def test_teacher_latent_cache_encodes_once_and_trains_like_encoding_every_step(tmp_path, chain, capsys):
    from safetensors.torch import load_file

    from motionworld.data.dataset import collate
    from motionworld.train.batches import BatchSource
    from motionworld.train.runtime import Runtime
    from motionworld.train.teacher_stage import TeacherStage

    # 64 clips to draw from, not the config's 10,000: the cache encodes every one of them up front
    init = ["--set", f"init.vae={chain / 'vae' / 'export'}", "--set", "eval_every=0", "--steps", "4",
            "--set", "data.count=64"]
    assert _run("teacher", tmp_path / "cached", *init, "--set", "teacher.cache_latents=true") == 0
    assert "latent cache: encoding the first 13 frames of" in capsys.readouterr().out
    assert _run("teacher", tmp_path / "plain", *init) == 0
    a = load_file(tmp_path / "cached" / "export" / "teacher.safetensors")
    b = load_file(tmp_path / "plain" / "export" / "teacher.safetensors")
    for k in a:  # the same batches and noise; only the encoder's batch size (float rounding) differs
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)

    overrides = {"init.vae": str(chain / "vae" / "export"), "out": str(tmp_path / "cached"),
                 "teacher.cache_latents": True, "data.count": 64}
    stage = TeacherStage(load_config(MICRO / "teacher.yaml", overrides), Runtime())
    lines = []
    stage.prepare(lines.append)
    assert "reusing it" in lines[0]  # the run folder's table, same VAE and data
    source = BatchSource(stage.cfg.data, 3, seed=5)
    batch = source.batch(0)
    with torch.no_grad():
        torch.testing.assert_close(stage.latent_cache.lookup(batch["index"]), stage.net_cond.latents(batch["video"]),
                                   rtol=0, atol=1e-5)
        one = collate([source.dataset[7]], stage.cfg.data.frames)["video"]
        torch.testing.assert_close(stage.latent_cache.lookup(torch.tensor([7])), stage.net_cond.latents(one),
                                   rtol=0, atol=1e-5)
    stage = TeacherStage(load_config(MICRO / "teacher.yaml", {**overrides, "data.frames": 9}), Runtime())
    lines = []
    stage.prepare(lines.append)
    # 9 frames -> 3 latents
    assert "made for another VAE or data" in lines[0] and stage.latent_cache.latents.shape[2] == 3


def test_worker_processes_make_the_same_batches_ahead_of_the_trainer(tmp_path, chain, capsys):
    import multiprocessing

    from safetensors.torch import load_file

    from motionworld.data.toy import MovingSquares
    from motionworld.train.batches import BatchSource, made_ahead
    from motionworld.train.config import DataConfig
    from motionworld.train.guide_stage import _ClipWithWarp

    init = ["--set", f"init.vae={chain / 'vae' / 'export'}", "--set", "eval_every=0", "--steps", "3"]
    assert _run("teacher", tmp_path / "here", *init) == 0
    assert _run("teacher", tmp_path / "ahead", *init, "--set", "data.workers=2") == 0
    assert "(2 worker process(es) each making clips ahead)" in capsys.readouterr().out
    a = load_file(tmp_path / "here" / "export" / "teacher.safetensors")
    b = load_file(tmp_path / "ahead" / "export" / "teacher.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    # synthetic clips with their warps (each worker renders with its own GL context), from step 5 on as a resume would
    source = BatchSource(DataConfig(source="synth", size=32, frames=5, count=20, warp=True), 2, seed=3)
    here, batches = [source.batch(s) for s in (5, 6, 7)], made_ahead(source.batch, 5, 8, workers=2)
    ahead = [next(batches)]
    assert len(multiprocessing.active_children()) >= 2  # made by the two workers, not here
    ahead += list(batches)
    assert len(ahead) == 3
    for x, y in zip(here, ahead):  # in order, though the two workers take turns
        assert x.keys() == y.keys() and x["caption"] == y["caption"]
        assert all(torch.equal(x[k], y[k]) for k in x if torch.is_tensor(x[k]))
    # an error in a worker comes back as the same one-line error
    bad = _ClipWithWarp(MovingSquares(2, 32, 9), DataConfig(size=32, frames=9), 0, 11, 0, True)  # squares: no masks
    with pytest.raises(MotionWorldError, match="^data.warp: these clips carry no object masks") as err:
        list(made_ahead(bad, 0, 2, workers=1))
    assert "\n" not in str(err.value)


def test_causal_init_says_what_it_samples_before_the_first_step(tmp_path, chain, capsys):
    assert _run("causal-init", tmp_path / "ci", "--steps", "2", "--set", f"init.teacher={chain / 'teacher' / 'export'}",
                "--set", "causal_init.trajectories=3") == 0
    out = capsys.readouterr().out
    plan = out.index("causal-init: steps 0..2 of 2")
    sampling = out.index("causal-init: sampling 3 teacher trajectories first")
    estimate = out.index("s per trajectory, so about")
    assert plan < sampling < estimate


def test_causal_init_refuses_frames_that_are_not_whole_chunks_before_sampling(tmp_path, chain, capsys):
    # 13 frames -> 4 latent frames, not whole chunks of 3: refused at once, not after the trajectories
    assert _run("causal-init", tmp_path / "ci", "--set", f"init.teacher={chain / 'teacher' / 'export'}",
                "--set", "chunk=3", "--set", "data.frames=13") == 2
    captured = capsys.readouterr()
    assert "data.frames 13 makes 4 latent frames, not whole chunks of 3: use one of 21, 33, 45, 57" in captured.err
    assert "sampling" not in captured.out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank, world, port, config, overrides, result_dir, resume, stop_after):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from motionworld.train.config import load_config
    from motionworld.train.trainer import train

    result = train(load_config(config, overrides), progress=False, device="cpu", resume=resume, stop_after=stop_after)
    (Path(result_dir) / f"rank{rank}.json").write_text(json.dumps(result["digest"]))


def _spawn(config, overrides, result_dir, resume=False, stop_after=None):
    import torch.multiprocessing as mp

    mp.spawn(_rank, args=(2, _free_port(), str(config), overrides, str(result_dir), resume, stop_after), nprocs=2,
             join=True)
    return [json.loads((Path(result_dir) / f"rank{r}.json").read_text()) for r in (0, 1)]


@pytest.mark.slow
def test_two_process_gloo_ddp_keeps_ranks_identical_and_learns(tmp_path):
    d0, d1 = _spawn(MICRO / "vae.yaml", {"out": str(tmp_path / "run"), "optim.steps": 30, "eval_every": 0,
                                         "checkpoint_every": 30}, tmp_path)
    assert d0 == d1  # every parameter identical on both ranks
    losses = [json.loads(line)["loss"] for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()
              if "loss" in line]
    assert len(losses) == 30 and np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


@pytest.mark.slow
def test_fsdp_shards_train_identically_and_resume_exactly(tmp_path, chain):
    from safetensors.torch import load_file

    base = {"optim.parallel": "fsdp", "optim.steps": 8, "optim.ema": 0.9, "eval_every": 0, "checkpoint_every": 4,
            "init.vae": str(chain / "vae" / "export"), "teacher.cache_latents": True,  # each rank encodes half
            "data.count": 64}  # of 64 clips, not the config's 10,000
    d0, d1 = _spawn(MICRO / "teacher.yaml", {**base, "out": str(tmp_path / "straight")}, tmp_path)
    assert d0 == d1  # the gathered full weights agree on both ranks
    _spawn(MICRO / "teacher.yaml", {**base, "out": str(tmp_path / "resumed")}, tmp_path, stop_after=5)
    assert sorted(p.name for p in (tmp_path / "resumed" / "checkpoints").glob("step-0000005*")) == [
        "step-0000005.rank0.safetensors", "step-0000005.rank1.safetensors", "step-0000005.safetensors"]
    _spawn(MICRO / "teacher.yaml", {**base, "out": str(tmp_path / "resumed")}, tmp_path, resume=True)
    a = load_file(tmp_path / "straight" / "export" / "teacher.safetensors")
    b = load_file(tmp_path / "resumed" / "export" / "teacher.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_rollout_cache_equals_the_inference_cache(chain):
    from motionworld.data.dataset import collate
    from motionworld.data.toy import MovingSquares
    from motionworld.model.attention import BlockCausal
    from motionworld.model.student import StreamingStudent
    from motionworld.train.distill import rollout

    student = StreamingStudent.load(chain / "ci" / "export")
    config = student.config
    item = MovingSquares(1, 64, 17, seed_start=5)[0]
    batch = collate([item], 17)
    seed, chunks = 11, 4
    student.start(item["video"][0].numpy(), item["caption"], seed=seed)
    t = 0
    for _ in range(chunks):
        n = student.frames_for_next_chunk()
        student.step(item["tracks"][t:t + n], item["visibility"][t:t + n])
        t += n
    layout = BlockCausal(config.chunk, config.sink, config.window)
    for grad in (False, True):  # the training rollout (exit at the last step, with autograd) writes the same cache
        with torch.set_grad_enabled(grad):
            x, cache = rollout(student.modules, config, batch, torch.Generator().manual_seed(seed + 1), chunks,
                               len(config.steps) - 1, layout, noise_gen=torch.Generator().manual_seed(seed),
                               return_cache=True)
        assert x.requires_grad == grad
        assert (cache.chunk_index, cache.window_fill) == (student.cache.chunk_index, student.cache.window_fill)
        assert cache.chunk_index == chunks and cache.window_fill == config.window  # the window rolled over
        for a, b in zip(cache.storage(), student.cache.storage()):  # float rounding differs with the thread count
            torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_lr_warms_up_then_decays_to_its_floor_and_the_log_shows_it(tmp_path, chain):
    from motionworld.train.config import OptimConfig
    from motionworld.train.trainer import lr_scale

    o = OptimConfig(steps=11, warmup=2, decay="cosine", min_lr_ratio=0.1)
    scales = [lr_scale(o, s) for s in range(11)]
    assert scales[:3] == [0.5, 1.0, 1.0] and scales[-1] == pytest.approx(0.1)
    assert scales[6] == pytest.approx(0.55)  # half-way through the decay: half-way to the floor
    assert all(a >= b for a, b in zip(scales[1:], scales[2:]))
    linear = OptimConfig(steps=11, warmup=0, decay="linear", min_lr_ratio=0.0)
    assert [lr_scale(linear, s) for s in (0, 5, 10)] == pytest.approx([1.0, 0.5, 0.0])
    assert {lr_scale(OptimConfig(steps=11, warmup=2), s) for s in range(2, 11)} == {1.0}

    assert _run("teacher", tmp_path / "decay", "--steps", "5", "--set", f"init.vae={chain / 'vae' / 'export'}",
                "--set", "eval_every=0", "--set", "optim.warmup=0", "--set", "optim.decay=linear",
                "--set", "optim.min_lr_ratio=0.2", "--set", "optim.lr=1e-3") == 0
    from motionworld.train.log import read_log

    logged = [r["lr"] for r in read_log(tmp_path / "decay" / "log.jsonl") if "lr" in r]
    assert logged == pytest.approx([1e-3, 8e-4, 6e-4, 4e-4, 2e-4])


def test_config_errors_name_file_key_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage: vae\noptim:\n  steps: 3\n  lerning_rate: 0.1\n")
    with pytest.raises(MotionWorldError, match=r"bad.yaml:4: optim.lerning_rate: unknown key"):
        load_config(bad)
    bad.write_text("stage: vae\ndata: {frames: ten}\n")
    with pytest.raises(MotionWorldError, match=r"bad.yaml:2: data.frames"):
        load_config(bad)
    assert main(["train", "teacher", "--config", str(MICRO / "vae.yaml")]) == 2


def test_config_overrides_reach_the_model():
    from motionworld.train.models import student_config

    base = student_config(load_config(MICRO / "teacher.yaml"))
    c = student_config(load_config(MICRO / "teacher.yaml", {"shift": 2.0, "chunk": 2}))
    assert (c.shift, c.chunk) == (2.0, 2) and base.shift != 2.0


def test_plot_draws_the_log(chain, tmp_path):
    out = tmp_path / "curves.png"
    assert main(["train", "plot", str(chain / "teacher" / "log.jsonl"), "-o", str(out)]) == 0
    from PIL import Image

    with Image.open(out) as im:
        assert im.size[0] == 900 and im.size[1] >= 3 * 220  # loss, grad_norm, eval/... panels


def test_ship_assembles_weights_with_their_recipe(chain, tmp_path):
    """`train ship`: float16 student + teacher, sha256 manifest with every stage's command, and a
    loader that refuses a file that does not match its hash."""
    from motionworld.model.student import StreamingStudent

    out = tmp_path / "weights"
    assert main(["train", "ship", "--student", str(chain / "distill" / "export"), "--teacher",
                 str(chain / "teacher" / "export"), "--out", str(out)]) == 0
    manifest = json.loads((out / "MANIFEST.json").read_text())
    entry = manifest["files"]["student.safetensors"]
    assert entry["stored_dtype"] == "float16" and entry["float16_check_psnr_db"] >= 40
    assert [s["stage"] for s in entry["recipe"]] == ["vae", "teacher", "causal-init", "distill"]
    assert all(s["command"].startswith("motionworld train ") for s in entry["recipe"])
    named_by = {s["stage"]: s["named_by"] for s in entry["recipe"]}  # why each stage is in the chain
    assert named_by["distill"] is None and named_by["vae"] == f"{chain / 'teacher' / 'export'} init.vae"
    teacher = manifest["files"]["teacher.safetensors"]
    assert teacher["recipe"][-1]["stage"] == "teacher" and teacher["float16_check_relative_error"] < 1e-2
    # Shipping again replaces the folder whole: the teacher, not shipped this time, does not linger.
    assert main(["train", "ship", "--student", str(chain / "distill" / "export"), "--out", str(out)]) == 0
    assert not (out / "teacher.safetensors").exists()
    assert list(json.loads((out / "MANIFEST.json").read_text())["files"]) == ["student.safetensors"]
    fp32 = (chain / "distill" / "export" / "student.safetensors").stat().st_size
    assert (out / "student.safetensors").stat().st_size < 0.6 * fp32
    assert (out / "student.safetensors").stat().st_mode & 0o777 == 0o644  # readable by every user, like the manifest
    student = StreamingStudent.load(out)
    assert next(student.modules.parameters()).dtype == torch.float32
    blob = bytearray((out / "student.safetensors").read_bytes())
    blob[-1] ^= 1
    (out / "student.safetensors").write_bytes(bytes(blob))
    with pytest.raises(MotionWorldError, match="does not match the manifest"):
        StreamingStudent.load(out)


def test_decoder_only_fine_tune_ships_into_the_trained_models(chain, tmp_path):
    """`vae.decoder_only` trains the decoder of an exported VAE and nothing else, so its latent space
    (and the models trained on it) stay valid; `train ship --vae` puts that decoder into both models
    and refuses a VAE with another encoder."""
    from safetensors.torch import load_file

    from motionworld.model.student import StreamingStudent

    vae = chain / "vae" / "export"
    assert _run("vae", tmp_path / "dec", "--set", "vae.decoder_only=true", "--set", "optim.steps=6",
                "--set", f"init.vae={vae}") == 0
    before, after = load_file(vae / "vae.safetensors"), load_file(tmp_path / "dec" / "export" / "vae.safetensors")
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("encoder."))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("decoder."))
    tuned = json.loads((tmp_path / "dec" / "export" / "MANIFEST.json").read_text())["files"]["vae.safetensors"]
    base = json.loads((vae / "MANIFEST.json").read_text())["files"]["vae.safetensors"]
    assert tuned["config"] == base["config"]  # same latent statistics
    out = tmp_path / "weights"
    assert main(["train", "ship", "--student", str(chain / "distill" / "export"), "--teacher",
                 str(chain / "teacher" / "export"), "--out", str(out), "--vae", str(tmp_path / "dec" / "export"),
                 "--float32"]) == 0
    for name in ("student.safetensors", "teacher.safetensors"):
        shipped = load_file(out / name)
        assert all(torch.equal(shipped[f"vae.{k}"], v) for k, v in after.items())
        assert json.loads((out / "MANIFEST.json").read_text())["files"][name]["decoder_from"][0]["stage"] == "vae"
    StreamingStudent.load(out)
    assert _run("vae", tmp_path / "other", "--set", "optim.steps=2", "--set", "seed=5") == 0  # another encoder
    assert main(["train", "ship", "--student", str(chain / "distill" / "export"), "--out", str(tmp_path / "w2"),
                 "--vae", str(tmp_path / "other" / "export")]) == 2
    assert _run("vae", tmp_path / "bare", "--set", "vae.decoder_only=true") == 2  # nothing to fine-tune


def test_a_whitened_vae_carries_its_colour_statistics_to_a_warm_started_teacher(chain, tmp_path):
    """`vae.whiten_colours` measures the clips' colour statistics, trains in whitened colours, and
    exports them in the VAE's config, which the teacher takes over with the weights; it refuses to
    whiten a VAE that was trained on raw RGB. `init.teacher` moves a trained teacher onto that VAE:
    everything but the VAE starts from the old export."""
    from safetensors.torch import load_file

    from motionworld.model.bundles import load_modules, load_vae

    assert _run("vae", tmp_path / "white", "--set", "vae.whiten_colours=true", "--set", "optim.steps=4",
                "--set", "eval_every=4") == 0
    vae = load_vae(tmp_path / "white" / "export")
    mean, std = vae.config.colour_mean, vae.config.colour_std
    assert len(mean) == len(std) == 3 and all(s > 0 for s in std)
    manifest = json.loads((tmp_path / "white" / "export" / "MANIFEST.json").read_text())
    metrics = manifest["files"]["vae.safetensors"]["metrics"]
    assert metrics["eval/chroma_psnr"] > 0
    assert _run("teacher", tmp_path / "teacher", "--set", f"init.vae={tmp_path / 'white' / 'export'}",
                "--set", f"init.teacher={chain / 'teacher' / 'export'}", "--set", "optim.lr=0",
                "--set", "optim.steps=2", "--set", "eval_every=0") == 0
    modules, config = load_modules(tmp_path / "teacher" / "export", "motionworld-teacher")
    assert config.vae.colour_std == std and modules.vae.config.colour_mean == mean
    old = load_file(chain / "teacher" / "export" / "teacher.safetensors")
    new, white = modules.state_dict(), load_file(tmp_path / "white" / "export" / "vae.safetensors")
    assert all(torch.equal(new[k], v.float()) for k, v in old.items() if not k.startswith("vae."))  # lr 0: as started
    assert all(torch.equal(new[f"vae.{k}"], v.float()) for k, v in white.items())
    assert _run("vae", tmp_path / "again", "--set", "vae.whiten_colours=true",
                "--set", f"init.vae={chain / 'vae' / 'export'}") == 2  # raw-RGB VAE: one-line error
    assert _run("vae", tmp_path / "lum", "--set", "vae.luminance_weight=3",
                "--set", f"init.vae={chain / 'vae' / 'export'}") == 2  # nothing whitened to weigh


def test_a_teacher_that_sees_the_warp_trains_on_warps_made_as_at_inference(tmp_path, chain):
    """warp_channels + data.warp: synthetic clips' warps (the first frame on its degraded depth,
    objects moved) reach the teacher's warp channels; its eval hook samples with them too."""
    from motionworld.model.bundles import TEACHER_KIND, load_modules

    out = tmp_path / "warp_teacher"
    assert _run("teacher", out, "--steps", "3", "--set", f"init.vae={chain / 'vae' / 'export'}",
                "--set", "warp_channels=4", "--set", "data.warp=true", "--set", "data.source=synth",
                "--set", "data.frames=9", "--set", "data.heldout=1", "--set", "eval_every=3") == 0
    modules, config = load_modules(out / "export", TEACHER_KIND)
    assert config.dit.warp_channels == 4 and modules.warp is not None
    logged = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert any("eval/epe" in r for r in logged)
    assert _run("teacher", tmp_path / "no_data", "--steps", "1", "--set", "warp_channels=4") == 2  # data.warp is off
