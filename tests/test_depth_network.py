"""Our depth network, its training stage, the mapping of a relative output to depth, the sources a
picture's depth comes from (the network, a transformers model from a folder or the hub cache) and
the files `motionworld depth` writes. Every network here is tiny and randomly initialised."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from motionworld import plugins
from motionworld.errors import DepthError, MotionWorldError
from motionworld.geometry.camera import Camera
from motionworld.geometry.depth import (
    EstimatorDepth,
    NetworkDepth,
    disparity_to_depth,
    refuse_custom_code,
    sharpen_depth_edges,
)
from motionworld.metrics.depth import depth_scores, scale_invariant_loss, ssi_loss
from motionworld.model.depth_net import DepthNet, DepthNetConfig, load_depth_net, save_depth_net

ROOT = Path(__file__).resolve().parent.parent
TINY = DepthNetConfig(widths=(8, 8, 16, 16, 32), blocks=(1, 1, 1, 1, 1), decoder=(16, 16, 8, 8), heads=2)


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "motionworld", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


@pytest.fixture
def tiny_net_folder(tmp_path):
    torch.manual_seed(0)
    folder = tmp_path / "depthnet"
    save_depth_net(folder, DepthNet(TINY), {"stage": "depth"})
    return folder


def test_the_network_predicts_at_the_pictures_own_size_and_aspect():
    net = DepthNet(TINY)
    for H, W in ((37, 101), (96, 128), (700, 300)):  # odd sizes: padded to 32, cut back
        out = net.predict(np.random.default_rng(0).integers(0, 255, (H, W, 3), dtype=np.uint8))
        assert out.shape == (H, W) and out.dtype == np.float32 and np.isfinite(out).all()


def test_weights_round_trip_and_a_changed_file_is_refused(tiny_net_folder):
    net = load_depth_net(tiny_net_folder)
    torch.manual_seed(0)
    same = DepthNet(TINY)
    for a, b in zip(net.state_dict().values(), same.state_dict().values()):
        torch.testing.assert_close(a, b)
    manifest = tiny_net_folder / "MANIFEST.json"
    m = json.loads(manifest.read_text())
    m["files"]["depth.safetensors"]["config"]["heads"] = 4
    manifest.write_text(json.dumps(m))
    with pytest.raises(MotionWorldError, match="config_sha256"):
        load_depth_net(tiny_net_folder)


def test_the_loss_ignores_scale_and_shift_and_sees_a_wrong_edge():
    g = torch.Generator().manual_seed(0)
    truth = torch.rand(2, 24, 32, generator=g) + 0.1
    assert float(ssi_loss(3.0 * truth - 0.7, truth)) < 1e-5
    wrong = truth.clone()
    wrong[:, :, 16:] = wrong[:, :, 16:] + 0.5  # a depth edge the truth does not have
    assert float(ssi_loss(wrong, truth)) > 0.05


def test_the_log_disparity_loss_ignores_scale_but_not_shift():
    g = torch.Generator().manual_seed(0)
    disparity = torch.rand(2, 24, 32, generator=g) + 0.1
    assert float(scale_invariant_loss(torch.log(disparity) + 1.3, disparity)) < 1e-5  # x e^1.3: a scale
    shifted = torch.log(disparity + 0.5)  # a shift in disparity is an error here (the range is learnt)
    assert float(scale_invariant_loss(shifted, disparity)) > 0.1


def test_a_log_disparity_network_gives_depth_from_near_up_without_an_assumed_far(tmp_path):
    from motionworld.geometry.depth import network_depth

    torch.manual_seed(0)
    net = DepthNet(DepthNetConfig(**{**TINY.__dict__, "output": "log_disparity"}))
    save_depth_net(tmp_path / "log", net)
    assert load_depth_net(tmp_path / "log").config.output == "log_disparity"
    d = network_depth(net, np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8), median=2.0)
    assert np.median(d) == pytest.approx(2.0, rel=1e-3) and np.isfinite(d).all()
    out = net.predict(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    np.testing.assert_allclose(d / d.mean(), np.exp(-out) / np.exp(-out).mean(), rtol=1e-4)  # depth = e^-out x scale


def test_depth_scores_of_a_perfect_and_a_flat_guess():
    truth = np.linspace(1.0, 10.0, 400, dtype=np.float32).reshape(20, 20)
    perfect = depth_scores(2.0 * truth, truth)  # one picture has no scale: median scaling removes it
    assert perfect["abs_rel"] < 1e-6 and perfect["delta1"] == 1.0 and perfect["abs_rel_ssi"] < 1e-5
    flat = depth_scores(np.ones_like(truth), truth)
    assert flat["abs_rel"] > 0.3 and flat["delta1"] < 0.5


def test_disparity_maps_to_near_and_far_and_edges_become_steps():
    disparity = np.linspace(0.0, 1.0, 100, dtype=np.float32)[None].repeat(10, 0)
    depth = disparity_to_depth(disparity, near=1.0, far=30.0)
    assert depth.min() == pytest.approx(1.0, rel=1e-4) and depth.max() == pytest.approx(30.0, rel=1e-4)
    assert np.all(np.diff(depth[0]) <= 0)  # nearer where the disparity is larger
    # a soft ramp in disparity between a near object (2) and a far wall (20), across 2 pixels
    row = 1.0 / np.r_[np.full(20, 0.5), np.linspace(0.5, 0.05, 4)[1:-1], np.full(20, 0.05)].astype(np.float32)
    ramp = np.repeat(row[None], 8, 0)
    sharp = sharpen_depth_edges(ramp)
    assert set(np.unique(sharp).round(4)) == {2.0, 20.0}  # every ramp pixel went to one side
    floor = np.repeat(np.linspace(2.0, 3.0, 60, dtype=np.float32)[:, None], 40, 1)  # a floor: slow change
    np.testing.assert_array_equal(sharpen_depth_edges(floor), floor)


def test_the_network_depth_source_reads_a_weights_folder(tiny_net_folder, tmp_path):
    source = NetworkDepth(NetworkDepth.Options(weights=str(tiny_net_folder), near=2.0, far=20.0), tmp_path)
    d = source.load(np.full((48, 64, 3), 120, np.uint8), Camera.from_fov(64, 48, 50))
    assert d.shape == (48, 64) and d.min() >= 2.0 - 1e-4 and d.max() <= 20.0 + 1e-3
    missing = NetworkDepth(NetworkDepth.Options(weights="nowhere"), tmp_path)
    with pytest.raises(DepthError, match="no depth network in"):
        missing.load(np.zeros((8, 8, 3), np.uint8), Camera.from_fov(8, 8, 50))
    assert NetworkDepth.label({"weights": "runs/x/export"}) == "network export"


def _tiny_depth_anything(folder):
    """A randomly initialised Depth Anything (DINOv2 backbone, DPT head) of the real architecture."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    backbone = transformers.Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=2,
                                         intermediate_size=64, patch_size=14, image_size=56,
                                         out_features=["stage1", "stage2", "stage3", "stage4"],
                                         reshape_hidden_states=False)
    config = transformers.DepthAnythingConfig(backbone_config=backbone, fusion_hidden_size=16, head_hidden_size=8,
                                              neck_hidden_sizes=[8, 16, 32, 32], reassemble_hidden_size=32,
                                              depth_estimation_type="relative")
    transformers.DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    transformers.DPTImageProcessor(size={"height": 56, "width": 56}, keep_aspect_ratio=True, ensure_multiple_of=14,
                                   image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]
                                   ).save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_depth_anything_from_a_local_folder_goes_through_the_real_loading_and_mapping(tmp_path):
    folder = _tiny_depth_anything(tmp_path / "da")
    est = EstimatorDepth(EstimatorDepth.Options(model="da"), tmp_path)
    d = est.load(np.random.default_rng(0).integers(0, 255, (45, 70, 3), dtype=np.uint8), Camera.from_fov(70, 45, 50))
    assert d.shape == (45, 70) and np.isfinite(d).all() and 1.0 - 1e-4 <= d.min() and d.max() <= 30.0 + 1e-3
    # a folder whose config asks for the model's own code is refused before transformers sees it
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModelForDepthEstimation": "evil.EvilModel"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(DepthError, match="asks to run the model's own code"):
        refuse_custom_code(folder)
    with pytest.raises(DepthError, match="never runs code"):
        EstimatorDepth(EstimatorDepth.Options(model="da"), tmp_path).load(np.zeros((8, 8, 3), np.uint8),
                                                                           Camera.from_fov(8, 8, 50))


def test_a_hub_id_offline_with_an_empty_cache_is_one_line(tmp_path):
    pytest.importorskip("transformers")
    est = EstimatorDepth(EstimatorDepth.Options(model="depth-anything/Depth-Anything-V2-Small-hf"), tmp_path)
    assert est.hub_id == "depth-anything/Depth-Anything-V2-Small-hf"  # not a folder here: a hub id
    with pytest.raises(DepthError) as e:  # conftest: HF_HUB_OFFLINE=1, an empty HF_HOME
        est.load(np.zeros((8, 8, 3), np.uint8), Camera.from_fov(8, 8, 50))
    assert str(e.value) == "depth-anything/Depth-Anything-V2-Small-hf is not in the hub cache and HF_HUB_OFFLINE is set"


def test_a_shipped_network_comes_before_the_prior_only_where_it_was_found_better(tmp_path, monkeypatch,
                                                                                  tiny_net_folder):
    from PIL import Image

    import motionworld.geometry.depth as depth_module
    from motionworld.scene import load_scene
    from motionworld.train.ship import ship_depth

    monkeypatch.delenv("MOTIONWORLD_DEPTH_MODEL", raising=False)
    photo = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(photo)
    for default, verdict in ((True, "beat both"), (False, "lost to a flat plane")):
        weights = tmp_path / f"weights-{default}"
        ship_depth(tiny_net_folder, weights, picture_default=default, verdict=verdict)
        monkeypatch.setattr(depth_module, "shipped_depth_folder", lambda w=weights: w)
        scene = load_scene(photo)
        if default:
            assert scene.depth_label == "network" and scene.depth_block == {"source": "network"}
            assert scene.note.splitlines()[-1] == ("p.png: a scene made on the fly, depth from our depth network "
                                                   "(the shipped weights)")
        else:
            assert scene.depth_label == "prior"
            assert "skipped: not the default (lost to a flat plane); --depth network uses it" in scene.note
    monkeypatch.setattr(depth_module, "shipped_depth_folder", lambda: tiny_net_folder)  # no verdict recorded
    assert load_scene(photo).depth_label == "prior"


def test_built_in_depth_sources_are_one_table():
    assert plugins.names(plugins.DEPTH_SOURCES)[:4] == ["file", "prior", "network", "estimator"]
    for name in plugins._BUILTIN[plugins.DEPTH_SOURCES]:
        cls = plugins.load(plugins.DEPTH_SOURCES, name)
        assert cls.name == name and isinstance(cls.summary, str) and callable(cls.label)


def test_depth_command_writes_a_map_a_scene_reads_back_and_a_preview(tmp_path):
    from PIL import Image

    from motionworld.scene import load_scene

    photo = tmp_path / "room.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(photo)
    run = _cli("depth", photo, "-o", tmp_path / "room_depth.png", "--depth", "prior")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "room_depth_preview.jpg").is_file()
    scale = run.stdout.rsplit("scale: ", 1)[1].split("}")[0]
    made = load_scene(photo, depth="prior")
    (tmp_path / "room.yaml").write_text(f"version: 1\nimage: room.png\ndepth: {{source: file, path: room_depth.png, "
                                        f"scale: {scale}}}\n")
    back = load_scene(tmp_path / "room.yaml")
    np.testing.assert_allclose(back.depth, made.depth, rtol=2e-3)  # 16-bit: about 1/65000 of the far end
    bad = _cli("depth", photo, "-o", tmp_path / "room_depth.tif")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and ".png (16-bit) or .npy" in bad.stderr


def test_the_depth_stage_trains_resumes_bit_for_bit_and_exports(tmp_path):
    from motionworld.train.config import load_config
    from motionworld.train.trainer import train

    cfg = load_config("configs/micro-depth/depth.yaml", {"out": str(tmp_path / "a"), "eval_every": 0})
    whole = train(cfg, progress=False)
    assert whole["export"] is not None and np.isfinite(whole["metrics"]["loss"])
    cfg_b = load_config("configs/micro-depth/depth.yaml", {"out": str(tmp_path / "b"), "eval_every": 0})
    train(cfg_b, progress=False, stop_after=3)
    resumed = train(cfg_b, resume=True, progress=False)
    assert resumed["digest"] == whole["digest"]
    net = load_depth_net(tmp_path / "a" / "export")
    assert net.config.widths == (8, 8, 16, 16, 32)


def test_depth_views_never_use_the_evaluation_photographs():
    from motionworld.data.depth_views import EVAL_PHOTOS, DepthViews
    from motionworld.data.synth.textures import NATURAL_IMAGES

    views = DepthViews(64, 48)
    nouns = {layer.name for layer in views.bank.layers if layer.natural}
    assert "motorcycle picture" in NATURAL_IMAGES.values() and "motorcycle picture" not in nouns
    assert set(EVAL_PHOTOS) == {"motorcycle_left.png", "motorcycle_right.png"}
    rgb, depth = views.view(3)
    assert rgb.shape == (48, 64, 3) and depth.shape == (48, 64) and np.all(depth > 0)
    batch, depths = views.batch([1, 2], np.random.default_rng(0), (40, 32))
    assert batch.shape == (2, 32, 40, 3) and depths.shape == (2, 32, 40)



def test_a_closeup_view_is_things_before_a_near_wall_and_the_other_layouts_reach_far():
    """The `closeup` layout (a photo of a thing against a wall) spans a narrow range of depth, where
    the others reach the far backdrop: the network meets both kinds of picture."""
    from motionworld.data.depth_views import DepthViews

    views = DepthViews(64, 48)
    spans: dict[str, list[float]] = {}
    for seed in range(40):
        spec = views.world(seed)
        _, depth, _, _ = views.renderer.render(spec)
        lo, hi = np.percentile(depth[0], [2, 98])
        spans.setdefault(spec.extra["depth_layout"], []).append(hi / lo)
    assert {"closeup", "as_drawn", "room", "close"} <= set(spans)
    assert max(spans["closeup"]) < 8 and np.median(spans["closeup"]) < 4
    assert np.median(spans["as_drawn"] + spans["close"]) > 2 * np.median(spans["closeup"])

@pytest.mark.slow
def test_eval_depth_section_scores_every_candidate(tiny_net_folder, tmp_path):
    from motionworld.eval.depth_section import depth_section, markdown_lines

    section = depth_section(load_depth_net(tiny_net_folder), views=1, size=(96, 64))
    synth = section["sets"]["synthetic"]["methods"]
    assert {"true depth", "prior", "flat plane", "our network"} <= set(synth)
    best = max(synth, key=lambda name: synth[name]["warp_psnr"])
    assert best == "true depth" and synth["true depth"]["abs_rel"] == 0.0
    assert "motorcycle (Middlebury stereo, real)" in section["sets"]
    assert section["estimator"] is None
    assert "HF_HUB_OFFLINE" in section["estimator_missing"] or "needs transformers" in section["estimator_missing"]
    text = "\n".join(markdown_lines(section))
    assert "| prior |" in text and "The estimator row is missing" in text


def test_bench_depth_times_the_whole_source_at_each_size(tiny_net_folder):
    run = _cli("bench", "--depth", "--weights", tiny_net_folder, "--repeats", "1", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert set(result["network"]["seconds"]) == {"512x384", "256x192", "128x96"}
    assert all(s > 0 for s in result["network"]["seconds"].values())
    missing = result["estimator"]["missing"]  # never fetched in a test
    assert "HF_HUB_OFFLINE" in missing or "needs transformers" in missing


def test_ship_depth_adds_the_network_beside_the_student_and_keeps_the_rest(tmp_path, tiny_net_folder):
    import shutil

    from motionworld.train.ship import ship_depth

    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "student.safetensors").write_bytes(b"stand-in for a student file")
    (weights / "MANIFEST.json").write_text(json.dumps({"files": {"student.safetensors": {"sha256": "x"}}}))
    result = ship_depth(tiny_net_folder, weights, max_side=256)
    manifest = json.loads((weights / "MANIFEST.json").read_text())
    assert set(manifest["files"]) == {"student.safetensors", "depth.safetensors"}  # the student's entry stays
    entry = manifest["files"]["depth.safetensors"]
    assert entry["stored_dtype"] == "float16" and result["float16_check_relative_error"] < 1e-2
    assert entry["config"]["max_side"] == 256 and entry["recipe"][0]["stage"] == "depth"
    net = load_depth_net(weights)
    assert net.config.max_side == 256
    shutil.rmtree(weights)


def test_shipping_the_student_again_keeps_the_depth_network(tmp_path, tiny_net_folder):
    from motionworld.model.student import StreamingStudent
    from motionworld.train.ship import ship, ship_depth

    StreamingStudent("tiny", seed=0).save(tmp_path / "student")
    ship(tmp_path / "student", tmp_path / "w", say=lambda *_: None)
    ship_depth(tiny_net_folder, tmp_path / "w")
    ship(tmp_path / "student", tmp_path / "w", say=lambda *_: None)  # the folder is rebuilt whole
    manifest = json.loads((tmp_path / "w" / "MANIFEST.json").read_text())
    assert set(manifest["files"]) == {"student.safetensors", "depth.safetensors"}
    assert load_depth_net(tmp_path / "w").config.widths == TINY.widths  # its hash still matches


def test_a_depth_config_that_cannot_be_built_is_one_line(tmp_path, tiny_net_folder):
    from motionworld.train.config import load_config

    with pytest.raises(MotionWorldError, match="heads .3. must divide the last encoder width .32."):
        load_config("configs/micro-depth/depth.yaml", {"depth.heads": 3})
    manifest = tiny_net_folder / "MANIFEST.json"
    m = json.loads(manifest.read_text())
    entry = m["files"]["depth.safetensors"]
    entry["config"]["widths"] = [8, 8, 16, 16, 12]  # 12 channels do not split into 8 groups
    from motionworld.model.weights import config_digest

    entry["config_sha256"] = config_digest(entry["config"])
    manifest.write_text(json.dumps(m))
    with pytest.raises(MotionWorldError, match="width 12"):
        load_depth_net(tiny_net_folder)


def test_the_motorcycle_truth_warps_onto_the_right_view():
    from motionworld.eval.depth_section import _translate_x, motorcycle, warp_psnr

    pair = motorcycle()
    depth, valid = pair["depth"], pair["valid"]
    # depth = f / (disparity + doffs): the scene spans about 2.4:1, not the 8:1 of f / disparity
    assert 2.0 < np.percentile(depth[valid], 99) / np.percentile(depth[valid], 1) < 3.0
    seen_all = np.ones_like(valid)
    good, seen = warp_psnr(pair["image"], depth, pair["K"], _translate_x(1.0), pair["truth_view"], seen_all,
                           pair["K_view"])
    flat, _ = warp_psnr(pair["image"], np.full_like(depth, np.median(depth)), pair["K"], _translate_x(1.0),
                        pair["truth_view"], seen & valid, pair["K_view"])
    good, _ = warp_psnr(pair["image"], depth, pair["K"], _translate_x(1.0), pair["truth_view"], seen & valid,
                        pair["K_view"])
    assert good > 25.0 and good > flat + 5.0


def test_the_photo_walk_benchmark_sees_the_right_view_through_the_left_cameras_intrinsics():
    """benchmarks/photo_walk.py: the pair cropped and resized to 288x192, the right image moved by
    doffs so the left camera's K sees it; the true depth's warp at the baseline then matches it (a
    wrong K or shift would not), and a flat plane's does not."""
    import importlib.util

    from motionworld.data.warps import render_warp
    from motionworld.metrics.image import psnr

    spec = importlib.util.spec_from_file_location("photo_walk", ROOT / "benchmarks" / "photo_walk.py")
    walk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(walk)
    item = walk.photo_item(9)
    assert item["video"].shape == (1, 192, 288, 3) and item["depth"].shape == (192, 288)

    def last_frame_psnr(depth):
        frames, valid = render_warp(item["video"][0], depth, item["K"], item["c2w"], np.zeros(depth.shape, np.int32),
                                    np.zeros((9, 0, 4, 4)))
        seen = (valid[-1] > 0.5) & item["valid"] & np.isfinite(item["truth"]).all(-1)
        a = torch.from_numpy(frames[-1].astype(np.float32) / 255).permute(2, 0, 1)[None]
        b = torch.from_numpy(np.nan_to_num(item["truth"]) / 255).permute(2, 0, 1)[None]
        return psnr(a, b, torch.from_numpy(seen)[None])

    true = last_frame_psnr(item["depth"])
    assert true > 25.0 and true > last_frame_psnr(np.full_like(item["depth"], np.median(item["depth"]))) + 5.0
