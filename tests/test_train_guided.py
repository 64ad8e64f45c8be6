"""The geometry-guided chain at micro scale (configs/micro-guided): every stage takes the warp of
the picture, the guided decoder learns in the VAE stage, and the shipped student streams frames at
its output size through the neural backend."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motionworld.cli import main

ROOT = Path(__file__).resolve().parents[1]
GUIDED = ROOT / "configs" / "micro-guided"
pytestmark = pytest.mark.display  # synthetic clips and their warps render with headless GL


def _run(stage, out, *extra):
    return main(["train", stage, "--config", str(GUIDED / f"{stage.replace('-', '_')}.yaml"), "--out", str(out),
                 *extra])


@pytest.fixture(scope="module")
def guided_chain(tmp_path_factory):
    root = tmp_path_factory.mktemp("guided")
    assert _run("vae", root / "vae", "--steps", "6", "--set", "eval_every=6") == 0
    assert _run("teacher", root / "teacher", "--steps", "4", "--set", "eval_every=4",
                "--set", f"init.vae={root / 'vae' / 'export'}") == 0
    assert _run("causal-init", root / "ci", "--steps", "4", "--set", "causal_init.trajectories=2",
                "--set", f"init.teacher={root / 'teacher' / 'export'}") == 0
    assert _run("distill", root / "distill", "--steps", "2", "--set", "distill.critic_updates=1",
                "--set", f"init.teacher={root / 'teacher' / 'export'}",
                "--set", f"init.student={root / 'ci' / 'export'}") == 0
    return root


def _entry(folder, name):
    return json.loads((folder / "MANIFEST.json").read_text())["files"][name]


def test_every_stage_carries_the_guided_decoder_and_the_vae_stage_scores_it_against_a_hard_paste(guided_chain):
    vae = _entry(guided_chain / "vae" / "export", "vae.safetensors")
    assert vae["config"]["guide_widths"] == [8] and vae["config"]["output_scale"] == 2
    metrics = vae["metrics"]
    for key in ("eval/psnr", "eval/psnr_seen", "eval/psnr_unseen", "eval/hard_paste_psnr", "eval/upsampled_psnr"):
        assert np.isfinite(metrics[key])
    for run, name in (("teacher", "teacher.safetensors"), ("ci", "student.safetensors"),
                      ("distill", "student.safetensors")):
        config = _entry(guided_chain / run / "export", name)["config"]
        assert config["vae"]["output_scale"] == 2 and config["dit"]["warp_channels"] == 17  # VAE latents + validity
        assert config["warp"]["encoder"] == "vae"


def test_causal_init_and_dmd_see_the_warp_of_every_clip(guided_chain, tmp_path, monkeypatch):
    """The teacher's trajectories are sampled with each clip's warp and the student regresses with
    it; DMD's rollout, critic and teacher get the warp of the frames they judge."""
    from motionworld.model.conditioning import Conditioner

    warps, original = [], Conditioner.warp_inputs

    def spy(self, batch, latents, drop=None):
        warps.append((batch.get("warp") is not None, latents.shape[2], None if batch.get("warp") is None
                      else batch["warp"].shape[1]))
        return original(self, batch, latents, drop)

    monkeypatch.setattr(Conditioner, "warp_inputs", spy)
    assert _run("causal-init", tmp_path / "ci", "--steps", "1", "--set", "causal_init.trajectories=1",
                "--set", f"init.teacher={guided_chain / 'teacher' / 'export'}") == 0
    assert warps and all(w[0] for w in warps)
    warps.clear()
    assert _run("distill", tmp_path / "d", "--steps", "1", "--set", "distill.critic_updates=1",
                "--set", f"init.teacher={guided_chain / 'teacher' / 'export'}",
                "--set", f"init.student={guided_chain / 'ci' / 'export'}") == 0
    assert warps and all(has and frames == 4 * latents - 3 for has, latents, frames in warps)  # cut with the clip


def test_the_shipped_guided_student_renders_at_its_output_size_with_the_warp(guided_chain, tmp_path):
    import imageio.v3 as iio

    out = tmp_path / "weights"
    assert main(["train", "ship", "--student", str(guided_chain / "distill" / "export"), "--teacher",
                 str(guided_chain / "teacher" / "export"), "--out", str(out)]) == 0
    assert main(["render", "--backend", "neural", "--weights", str(out), "--actions", "w-8", "-o",
                 str(tmp_path / "walk.mp4")]) == 0
    frames = iio.imread(tmp_path / "walk.mp4")
    assert frames.shape[1:3] == (96, 128)  # the garden (4:3) at 64x48 model pixels, painted at twice that


def test_a_guide_alone_trains_on_a_frozen_vae_and_ships_into_an_unguided_student(tmp_path):
    """`vae.guide_only` adds a guided decoder to an exported VAE and trains only it; `train ship
    --vae` puts it (and its output scale) into a student trained without one."""
    import dataclasses

    from safetensors.torch import load_file

    from motionworld.model.bundles import load_vae
    from motionworld.model.config import preset
    from motionworld.model.modules import TrackVideoModules
    from motionworld.model.student import StreamingStudent

    micro = ROOT / "configs" / "micro"
    main(["train", "vae", "--config", str(micro / "vae.yaml"), "--out", str(tmp_path / "vae"), "--steps", "2"])
    student = StreamingStudent("tiny", seed=0)
    student.save(tmp_path / "student")
    assert _run("vae", tmp_path / "guide", "--steps", "3", "--set", "eval_every=0", "--set", "vae.guide_only=true",
                "--set", f"init.vae={tmp_path / 'vae' / 'export'}") == 0
    before, after = load_file(tmp_path / "vae" / "export" / "vae.safetensors"), load_file(
        tmp_path / "guide" / "export" / "vae.safetensors")
    assert all(torch.equal(before[k], after[k]) for k in before)  # encoder and decoder untouched
    assert any(k.startswith("guide.") for k in after)
    assert _run("vae", tmp_path / "bare", "--set", "vae.guide_only=true") == 2  # nothing to add a guide to
    # a student made on another VAE (random) is refused; one made on this VAE takes the guide
    assert main(["train", "ship", "--student", str(tmp_path / "student"), "--out", str(tmp_path / "w0"),
                 "--vae", str(tmp_path / "guide" / "export")]) == 2
    vae = load_vae(tmp_path / "vae" / "export")
    config = dataclasses.replace(preset("tiny"), vae=vae.config)
    modules = TrackVideoModules(config)
    modules.vae.load_state_dict(vae.state_dict())
    StreamingStudent(config, modules).save(tmp_path / "on_vae")
    assert main(["train", "ship", "--student", str(tmp_path / "on_vae"), "--out", str(tmp_path / "w1"),
                 "--vae", str(tmp_path / "guide" / "export"), "--float32"]) == 0
    shipped = StreamingStudent.load(tmp_path / "w1")
    assert shipped.config.vae.guided and shipped.output_size == (128, 128) and shipped.sees_warp
    assert all(torch.equal(shipped.modules.vae.state_dict()[k], v) for k, v in after.items())


def test_the_guide_stage_learns_on_the_students_own_decodes_and_ships(guided_chain, tmp_path):
    """The frozen student streams clips; its guide, grown by the fill inputs, trains on its plain
    decodes; everything but the guide stays the student's, and the export ships and renders."""
    from safetensors.torch import load_file

    student = guided_chain / "distill" / "export"
    assert _run("guide", tmp_path / "guide", "--steps", "4", "--set", "eval_every=4",
                "--set", f"init.student={student}") == 0
    entry = _entry(tmp_path / "guide" / "export", "student.safetensors")
    assert entry["config"]["vae"]["guide_fill"] is True
    assert entry["guide_started_from"] == "the student's guide, grown by the fill inputs (at zero)"
    for key in ("eval/psnr", "eval/psnr_unseen", "eval/hard_paste_psnr", "eval/student_guide_psnr",
                "eval/warp_filled_psnr_unseen"):
        assert np.isfinite(entry["metrics"][key])
    before = load_file(student / "student.safetensors")
    after = load_file(tmp_path / "guide" / "export" / "student.safetensors")
    assert all(torch.equal(before[k], after[k]) for k in before if not k.startswith("vae.guide."))
    assert after["vae.guide.body.0.weight"].shape[1] == 16  # its inputs grew by the fill's six
    out = tmp_path / "weights"
    assert main(["train", "ship", "--student", str(tmp_path / "guide" / "export"), "--out", str(out)]) == 0
    assert main(["render", "--backend", "neural", "--weights", str(out), "--actions", "w-4", "-o",
                 str(tmp_path / "walk.mp4")]) == 0
    # clips and warps made ahead by two worker processes: the same rollouts, so the same guide, bit for bit
    assert _run("guide", tmp_path / "ahead", "--steps", "4", "--set", "eval_every=4",
                "--set", f"init.student={student}", "--set", "data.workers=2") == 0
    ahead = load_file(tmp_path / "ahead" / "export" / "student.safetensors")
    assert all(torch.equal(after[k], ahead[k]) for k in after)
    # a student without a guided decoder has nothing for this stage to train
    bare = tmp_path / "bare"
    from motionworld.model.student import StreamingStudent
    StreamingStudent("tiny", seed=0).save(bare)
    assert _run("guide", tmp_path / "g2", "--set", f"init.student={bare}") == 2
