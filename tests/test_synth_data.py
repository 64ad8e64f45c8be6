"""Shards, manifest, Dataset and the `motionworld data` commands."""
import json

import numpy as np
import pytest
import torch

from motionworld.cli import main
from motionworld.data.dataset import SynthClipDataset
from motionworld.data.shards import read_manifest, verify, write_dataset
from motionworld.data.synth import HELDOUT_SEED_START, SynthWorlds, split_seeds
from motionworld.errors import MotionWorldError

pytestmark = pytest.mark.display  # needs a GL context (EGL, headless)

SMALL = {"size": 32, "frames": 9, "grid": 8}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "ds"
    write_dataset(out, 5, clips_per_shard=2, **SMALL)
    return out


def test_shards_round_trip(dataset):
    m = read_manifest(dataset)
    assert [s["clips"] for s in m["shards"]] == [2, 2, 1]
    assert m["generator"]["texture_bank"] and m["settings"]["split"] == "train"
    assert verify(dataset) == []
    ds = SynthClipDataset(dataset)
    worlds = SynthWorlds(**SMALL)
    assert len(ds) == 5
    for i in (0, 3, 4):
        item, clip = ds[i], worlds.clip(i)
        assert item["seed"] == i and item["caption"] == clip.caption == m["captions"][str(i)]
        np.testing.assert_array_equal(item["video"].numpy(), clip.video)
        np.testing.assert_array_equal(item["visibility"].numpy(), clip.visibility)
        np.testing.assert_allclose(item["tracks"].numpy(), clip.tracks, rtol=1e-3, atol=1e-2, equal_nan=True)
        np.testing.assert_allclose(item["depth"].numpy(), clip.depth, rtol=1e-3)
        np.testing.assert_allclose(item["c2w"].numpy(), clip.c2w)


def test_runs_record_the_seed_range_of_their_shards(dataset):
    """An export's manifest names the worlds its run drew from: the shards' range, not the config's count."""
    from motionworld.train.batches import train_seeds
    from motionworld.train.config import DataConfig

    cfg = DataConfig(source="shards", path=str(dataset), size=32, frames=9, count=10_000)
    assert train_seeds(SynthClipDataset(dataset), cfg) == [0, 4]
    assert train_seeds(SynthClipDataset(count=3, **SMALL), DataConfig(source="synth", count=3)) == [0, 2]


def test_dataset_shapes_and_dtypes(dataset):
    on_the_fly = SynthClipDataset(count=2, **SMALL)
    for item in (SynthClipDataset(dataset)[1], on_the_fly[1]):
        expect = {"video": ((9, 32, 32, 3), torch.uint8), "depth": ((9, 32, 32), torch.float32),
                  "tracks": ((9, 64, 2), torch.float32), "visibility": ((9, 64), torch.bool),
                  "object_ids": ((64,), torch.int64), "K": ((3, 3), torch.float32), "c2w": ((9, 4, 4), torch.float32)}
        for name, (shape, dtype) in expect.items():
            assert tuple(item[name].shape) == shape and item[name].dtype == dtype, name
        assert isinstance(item["caption"], str) and item["seed"] == 1
    batch = next(iter(torch.utils.data.DataLoader(SynthClipDataset(dataset), batch_size=2)))
    assert batch["video"].shape == (2, 9, 32, 32, 3) and len(batch["caption"]) == 2


def test_dataloader_workers_generate_on_the_fly():
    ds = SynthClipDataset(count=2, **SMALL)
    ds[0]  # the parent holds a GL context now; spawned workers make their own
    items = list(ds.loader(batch_size=None, num_workers=1, timeout=120))
    assert [int(i["seed"]) for i in items] == [0, 1]
    np.testing.assert_array_equal(items[0]["video"].numpy(), ds[0]["video"].numpy())


def test_forked_process_refuses_gl_instead_of_hanging():
    import multiprocessing as mp

    from motionworld.raster.gl import gl_context

    gl_context()
    with mp.get_context("fork").Pool(1) as pool:
        message = pool.apply(_try_gl_in_child, ())
    assert "spawn" in message


def _try_gl_in_child():
    from motionworld.raster.gl import gl_context

    try:
        gl_context()
    except MotionWorldError as e:
        return str(e)
    return "made a context"


def test_heldout_split_is_a_separate_seed_range(tmp_path):
    assert split_seeds("heldout", 0, 3).tolist() == [HELDOUT_SEED_START + i for i in range(3)]
    with pytest.raises(ValueError):
        split_seeds("train", HELDOUT_SEED_START - 1, 2)
    ds = SynthClipDataset(count=1, split="heldout", **SMALL)
    assert ds[0]["seed"] == HELDOUT_SEED_START


def test_damaged_shards_are_reported(dataset, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy)
    shard = copy / "shard-00001.safetensors"
    data = bytearray(shard.read_bytes())
    data[-5] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert any("sha256" in p for p in verify(copy))
    shard.write_bytes(bytes(data[:-100]))
    with pytest.raises(MotionWorldError, match="shard-00001.safetensors.*truncated"):
        SynthClipDataset(copy)


def test_resume_keeps_finished_shards(tmp_path):
    out = tmp_path / "ds"
    write_dataset(out, 4, clips_per_shard=2, **SMALL)
    first = read_manifest(out)
    (out / "shard-00001.safetensors").unlink()
    calls = []
    write_dataset(out, 4, clips_per_shard=2, progress=calls.append, **SMALL)
    assert calls[0] == 2 and sum(calls) == 4  # two clips were already there
    assert read_manifest(out)["shards"] == first["shards"]  # regenerated bit for bit
    with pytest.raises(MotionWorldError, match="other settings"):
        write_dataset(out, 6, clips_per_shard=2, **SMALL)


def test_data_cli(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["data", "synth", "--out", str(out), "--clips", "2", "--frames", "9", "--size", "32",
                 "--grid", "10"]) == 0
    assert json.loads((out / "manifest.json").read_text())["settings"]["clips"] == 2
    assert main(["data", "preview", str(out), "--clips", "2"]) == 0
    import imageio.v3 as iio

    video = iio.imread(out / "preview.mp4")
    assert video.shape[0] == 9 and video.shape[1] == 96
    assert main(["data", "bench", "--size", "32", "--frames", "9", "--clips", "1"]) == 0
    assert "frames/s" in capsys.readouterr().out
    # Bad input: one line, exit status 2.
    assert main(["data", "preview", str(tmp_path)]) == 2
    assert "no manifest" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("keep me")
    assert main(["data", "synth", "--out", str(tmp_path / "full"), "--clips", "1", "--size", "32"]) == 2
    assert "not empty" in capsys.readouterr().err and (tmp_path / "full" / "x.txt").read_text() == "keep me"
    assert main(["data", "synth", "--out", str(tmp_path / "x"), "--clips", "1", "--size", "30"]) == 2


def test_worker_processes_write_the_same_shards(dataset, tmp_path):
    out = tmp_path / "parallel"
    write_dataset(out, 5, clips_per_shard=2, workers=2, **SMALL)
    ours, theirs = read_manifest(out), read_manifest(dataset)
    assert [s["sha256"] for s in ours["shards"]] == [s["sha256"] for s in theirs["shards"]]
    assert ours["generator"] == theirs["generator"] and ours["captions"] == theirs["captions"]


def test_training_warps_are_the_inference_warp_with_a_documented_depth_mix():
    """data.warps: the same renderer and object handling as `motionworld eval`'s warp row for true
    depth; degraded depths still reproduce frame 0 (the first camera sees the picture whatever the
    depth) and differ later; batches carry warps drawn deterministically from the mix."""
    from motionworld.data.warps import clip_warp
    from motionworld.eval.heldout import heldout_items
    from motionworld.eval.methods import warp_moved
    from motionworld.train.batches import BatchSource
    from motionworld.train.config import DataConfig

    item = heldout_items(1, frames=17, size=64, seed_start=7)[0]
    item["depth0"] = item["depth"][0]
    rng = np.random.default_rng(0)
    true_warp, true_valid = clip_warp(item, "true", rng)
    ref_warp, ref_valid = warp_moved(item)
    np.testing.assert_array_equal(true_warp, ref_warp)
    np.testing.assert_array_equal(true_valid, ref_valid)
    for kind in ("disparity", "prior", "object_left_out"):
        frames, valid = clip_warp(item, kind, np.random.default_rng(1))
        assert np.abs(frames[0].astype(int) - item["video"][0]).max() <= 1 and (valid[0] == 1).all()
        assert not np.array_equal(frames[1:], true_warp[1:]), kind
    cfg = DataConfig(source="synth", size=64, frames=9, count=8, warp=True)
    source = BatchSource(cfg, batch_size=2, seed=0)
    a, b = source.batch(3), source.batch(3)
    assert a["warp"].shape == (2, 9, 3, 64, 64) and a["warp_valid"].shape == (2, 9, 64, 64)
    torch.testing.assert_close(a["warp"], b["warp"])
    torch.testing.assert_close(a["warp_valid"], b["warp_valid"])
    assert float(a["warp_valid"][:, 0].min()) == 1.0


def test_training_tracks_are_made_from_the_same_degraded_depth_as_the_warp():
    """With disparity or prior depth the clip's tracks are the engine's tracks of that depth (same
    grid of frame-0 pixels, objects moved), not the true ones; with true depth and with an object
    left out of the warp they stay the true tracks."""
    from motionworld.data.warps import clip_warp
    from motionworld.eval.heldout import heldout_items

    item = heldout_items(1, frames=17, size=64, seed_start=7)[0]
    item["depth0"] = item["depth"][0]
    for kind in ("true", "object_left_out"):
        *_, tracks, vis = clip_warp(item, kind, np.random.default_rng(1), with_tracks=True)
        np.testing.assert_array_equal(tracks, item["tracks"])
        np.testing.assert_array_equal(vis, item["visibility"])
    for kind in ("disparity", "prior"):
        *_, tracks, vis = clip_warp(item, kind, np.random.default_rng(1), with_tracks=True)
        assert tracks.shape == item["tracks"].shape and vis.shape == item["visibility"].shape
        np.testing.assert_allclose(tracks[0], item["tracks"][0], atol=1e-3)  # the same first-frame pixels
        moved = np.isfinite(tracks[-1]).all(-1) & item["visibility"][-1]
        error = np.linalg.norm(tracks[-1][moved] - item["tracks"][-1][moved], axis=-1)
        assert error.mean() > 0.05, kind  # the wrong depth moves them wrongly


def test_the_network_warp_depth_is_our_depth_network_as_a_photo_gets_it_scaled_to_the_truth(tmp_path):
    """The `network` kind: the depth `NetworkDepth` gives the first frame (a tiny random network
    here), scaled so its median is the true depth's; warp and tracks are both made from it; a folder
    without a network is one line."""
    from motionworld.data.warps import clip_warp, network_depth_like
    from motionworld.eval.heldout import heldout_items
    from motionworld.geometry.camera import Camera
    from motionworld.geometry.depth import NetworkDepth
    from motionworld.model.depth_net import DepthNet, DepthNetConfig, save_depth_net
    from motionworld.train.batches import BatchSource
    from motionworld.train.config import DataConfig

    torch.manual_seed(0)
    folder = tmp_path / "depthnet"
    save_depth_net(folder, DepthNet(DepthNetConfig(widths=(8, 8, 16, 16, 32), blocks=(1,) * 5, decoder=(16, 16, 8, 8),
                                                   heads=2, output="log_disparity")), {"stage": "depth"})
    item = heldout_items(1, frames=17, size=64, seed_start=7)[0]
    item["depth0"] = item["depth"][0]
    depth = network_depth_like(item["video"][0], item["K"], item["depth0"], str(folder))
    assert np.median(depth) == pytest.approx(np.median(item["depth0"]), rel=1e-4)
    as_a_photo = NetworkDepth(NetworkDepth.Options(weights=str(folder)), tmp_path).load(
        item["video"][0], Camera(item["K"].astype(np.float64), 64, 64))
    np.testing.assert_allclose(depth / as_a_photo, np.median(depth) / np.median(as_a_photo), rtol=1e-4)
    frames, valid, tracks, vis = clip_warp(item, "network", np.random.default_rng(1), with_tracks=True,
                                           depth_network=str(folder))
    true_warp, _ = clip_warp(item, "true", np.random.default_rng(1))
    assert np.abs(frames[0].astype(int) - item["video"][0]).max() <= 1 and (valid[0] == 1).all()
    assert not np.array_equal(frames[1:], true_warp[1:])
    np.testing.assert_allclose(tracks[0], item["tracks"][0], atol=1e-3)
    assert not np.allclose(tracks[-1], item["tracks"][-1], equal_nan=True)
    with pytest.raises(MotionWorldError, match="no depth network in"):
        network_depth_like(item["video"][0], item["K"], item["depth0"], str(tmp_path))
    cfg = DataConfig(source="synth", size=64, frames=9, count=8, warp=True,
                     warp_depth={"true": 0, "disparity": 0, "prior": 0, "object_left_out": 0, "network": 1},
                     warp_depth_network=str(folder))
    batch = BatchSource(cfg, batch_size=1, seed=0).batch(0)  # the config reaches the warps
    assert batch["warp"].shape == (1, 9, 3, 64, 64) and float(batch["warp_valid"][:, 0].min()) == 1.0
    cfg.warp_depth_network = str(tmp_path)
    with pytest.raises(MotionWorldError, match="no depth network in"):
        BatchSource(cfg, batch_size=1, seed=0).batch(0)
