"""StreamingStudent: the streaming API, determinism, reset, save/load with the manifest."""
import dataclasses
import json

import numpy as np
import pytest
import torch

from motionworld.errors import MotionWorldError, TrackError
from motionworld.model.attention import BlockCausal
from motionworld.model.config import preset
from motionworld.model.student import StreamingStudent
from motionworld.model.weights import config_digest


def grid_tracks(frames: int, n: int = 6, size: int = 64, drift: float = 2.0):
    xs, ys = np.meshgrid(np.linspace(4, size - 4, n), np.linspace(4, size - 4, n))
    base = np.stack([xs.ravel(), ys.ravel()], -1).astype(np.float32)
    tracks = base[None] + drift * np.arange(frames, dtype=np.float32)[:, None, None] * np.array([1, 0], np.float32)
    return tracks, np.ones(tracks.shape[:2], bool)


@pytest.fixture(scope="module")
def student():
    return StreamingStudent("tiny", seed=0)


@pytest.fixture(scope="module")
def image():
    return (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)


def run(s, image, chunks, seed=3, prompt="a red ball"):
    s.start(image, prompt, seed=seed)
    out = []
    for _ in range(chunks):
        out.append(s.step(*grid_tracks(s.frames_for_next_chunk())))
    return out


def test_chunks_have_9_then_12_frames_and_are_deterministic(student, image):
    a = run(student, image, 4)
    assert [f.shape for f in a] == [(9, 64, 64, 3)] + [(12, 64, 64, 3)] * 3
    assert all(f.dtype == np.uint8 for f in a)
    b = run(student, image, 4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    c = run(student, image, 2, seed=4)
    assert not np.array_equal(a[1], c[1])
    assert set(student.last_timing) >= {"tracks", "step0", "step1", "step2", "clean", "decode", "total"}


def test_reset_returns_to_the_first_frame(student, image):
    student.start(image, "x", seed=1)
    student.step(*grid_tracks(9))
    student.step(*grid_tracks(12))
    student.reset()
    assert student.chunk_index == 0 and student.frames_for_next_chunk() == 9
    assert student.step(*grid_tracks(9)).shape[0] == 9


def test_bad_tracks_are_refused_and_nan_tracks_are_invisible(student, image):
    student.start(image, "", seed=0)
    with pytest.raises(TrackError, match=r"needs tracks \[9, N, 2\]"):
        student.step(*grid_tracks(12))
    tracks, vis = grid_tracks(9)
    tracks[2:5, :3] = np.nan
    tracks[6, 4] = (1e6, -1e6)
    assert student.step(tracks, vis).shape == (9, 64, 64, 3)
    # each track carries its first-frame look: the tracks a stream started with lead every chunk,
    # tracks added later (drags, pins) carry none
    with pytest.raises(TrackError, match="brings 16 tracks, fewer than the 36"):
        student.step(*grid_tracks(12, n=4))
    more, more_vis = grid_tracks(12)
    more, more_vis = np.concatenate([more, more[:, :2] + 5], 1), np.concatenate([more_vis, more_vis[:, :2]], 1)
    assert student.step(more, more_vis).shape == (12, 64, 64, 3)
    assert student.step(*grid_tracks(12)).shape == (12, 64, 64, 3)  # and may go again
    student.start(image, "", seed=0)
    with pytest.raises(TrackError, match="looks=40"):
        student.step(*grid_tracks(9), looks=40)
    with pytest.raises(MotionWorldError, match="start image must be uint8"):
        student.start(image[:32], "")


def test_configure_runs_other_cache_layouts(image):
    s = StreamingStudent("tiny", seed=0)
    s.configure(chunk=1, sink=0, window=2, steps=(1.0, 0.5))
    outs = run(s, image, 3)
    assert [f.shape[0] for f in outs] == [1, 4, 4]
    assert s.cache.layout == BlockCausal(1, 0, 2)
    assert set(s.last_timing) >= {"step0", "step1"} and "step2" not in s.last_timing


def test_save_load_round_trip_and_hash_check(tmp_path, student, image):
    student.save(tmp_path / "w")
    manifest = json.loads((tmp_path / "w" / "MANIFEST.json").read_text())
    entry = manifest["files"]["student.safetensors"]
    assert len(entry["sha256"]) == 64 and entry["config"]["dit"]["num_layers"] == 2
    loaded = StreamingStudent.load(tmp_path / "w")
    assert all(np.array_equal(x, y) for x, y in zip(run(student, image, 2), run(loaded, image, 2)))
    path = tmp_path / "w" / "student.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(MotionWorldError, match="does not match the manifest"):
        StreamingStudent.load(tmp_path / "w")


def test_weights_of_another_config_are_refused(tmp_path, student):
    student.save(tmp_path / "w")
    manifest_path = tmp_path / "w" / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text())
    entry = manifest["files"]["student.safetensors"]
    entry["config"]["dit"]["num_layers"] = 3
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(MotionWorldError, match="does not match its config_sha256"):  # the config is verified
        StreamingStudent.load(tmp_path / "w")
    entry["config_sha256"] = config_digest(entry["config"])  # the hash updated too: the shapes still decide
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(MotionWorldError, match="weights do not match the model"):
        StreamingStudent.load(tmp_path / "w")


def test_bfloat16_streams(image):
    s = StreamingStudent(preset("tiny"), dtype=torch.bfloat16, seed=0)
    f = run(s, image, 2)
    assert f[1].shape == (12, 64, 64, 3)
    assert s.cache.k[0].dtype == torch.bfloat16


def test_wan_i2v_style_image_channels_stream(image):
    from dataclasses import replace

    cfg = preset("tiny")
    cfg = replace(cfg, dit=replace(cfg.dit, image_channels=cfg.dit.in_channels + 4))
    s = StreamingStudent(cfg, seed=0)
    assert s.modules.dit.patch_embedding.weight.shape[1] == 16 + 20 + 4
    assert [f.shape[0] for f in run(s, image, 2)] == [9, 12]


def test_sizes_for_a_pixel_budget_keep_the_aspect():
    from motionworld.images import size_for_budget

    assert size_for_budget(1920, 1080, 128 * 128) == (176, 96)  # 16:9 -> 1.83
    assert size_for_budget(640, 480, 128 * 128) == (128, 96)  # 4:3 exactly
    assert size_for_budget(500, 500, 128 * 128) == (128, 128)
    w, h = size_for_budget(1080, 1920, 256 * 192)  # portrait
    assert w % 16 == 0 and h % 16 == 0 and h > w and abs(np.log(w / h / (1080 / 1920))) < 0.05


@pytest.mark.parametrize("name", ["tiny", "tiny-guided"])
@pytest.mark.parametrize("picture", [(320, 180), (256, 192)], ids=["16:9", "4:3"])
def test_a_student_with_picture_aspect_renders_frames_of_the_pictures_own_aspect(tmp_path, picture, name):
    """`render --backend neural` with a student whose config keeps the picture's aspect: the
    frames are the picture's shape at about the model's pixel count (times a guided decoder's
    output scale), not squashed to a square."""
    import dataclasses

    import imageio.v3 as iio

    from motionworld.cli import main
    from tests.conftest import write_scene

    config = dataclasses.replace(preset(name), aspect="picture")
    scale = config.vae.output_scale
    StreamingStudent(config, seed=0).save(tmp_path / "weights")
    scene = write_scene(tmp_path / "scene", "version: 1\nimage: picture.png\n", image_size=picture)
    out = tmp_path / "out.mp4"
    assert main(["render", str(scene), "--backend", "neural", "--weights", str(tmp_path / "weights"),
                 "--actions", "w-8", "-o", str(out)]) == 0
    frames = iio.imread(out)
    h, w = frames.shape[1:3]
    model_w, model_h = StreamingStudent(config).size_for(*picture)
    assert (w, h) == (scale * model_w, scale * model_h) and model_w % 16 == 0 and model_h % 16 == 0
    assert abs(np.log((w / h) / (picture[0] / picture[1]))) < 0.1 and w != h
    assert abs(model_w * model_h / (config.width * config.height) - 1) < 0.5  # about the model's pixel count
    fixed = StreamingStudent(preset("tiny"))
    assert fixed.size_for(*picture) == (fixed.width, fixed.height)  # the shipped kind: a fixed square


def _with_warp(config, channels=8):
    import dataclasses

    from motionworld.model.config import WarpConfig

    return dataclasses.replace(config, dit=dataclasses.replace(config.dit, warp_channels=channels),
                               warp=WarpConfig(widths=(8, 8, 8), out_channels=channels))


def _first_chunk(student, image, warp=None, valid=None, visible=(True, True)):
    """The first chunk's latents (what the DiT made, before the decoder, which at random weights
    may round every frame to black)."""
    student.start(image, "a garden", seed=3)
    latents, decode = [], student.decoder
    student.decoder = lambda z, *warp: (latents.append(z.clone()), decode(z, *warp))[1]
    n = student.frames_for_next_chunk()
    tracks = np.tile(np.array([[[8.0, 8.0], [40.0, 20.0]]], np.float32), (n, 1, 1))
    student.step(tracks, np.tile(np.array(visible), (n, 1)), warp=warp, warp_valid=valid)
    return latents[0].numpy()


def test_an_extended_checkpoint_with_zero_warp_channels_gives_exactly_the_old_outputs(image):
    from motionworld.model.bundles import extend_modules

    old = StreamingStudent("tiny", seed=0)
    grown_config = _with_warp(old.config)
    grown = StreamingStudent(grown_config, extend_modules(old.modules, grown_config))
    g = np.random.default_rng(0)
    warp = g.integers(0, 256, (9, 64, 64, 3), dtype=np.uint8)
    valid = (g.random((9, 64, 64)) > 0.3).astype(np.float32)
    np.testing.assert_array_equal(_first_chunk(grown, image, warp, valid), _first_chunk(old, image))
    assert "warp" in grown.last_timing and "tracks" in grown.last_timing


def test_the_warp_steers_the_student_only_where_it_is_valid(image):
    student = StreamingStudent(_with_warp(preset("tiny")), seed=0)  # fresh: warp channels not zero
    g = np.random.default_rng(1)
    warp = g.integers(0, 256, (9, 64, 64, 3), dtype=np.uint8)
    valid = np.zeros((9, 64, 64), np.float32)
    valid[:, :, :32] = 1
    other = warp.copy()
    other[:, :, 32:] = 255 - other[:, :, 32:]  # differs only where the warp is not valid
    base = _first_chunk(student, image, warp, valid)
    np.testing.assert_array_equal(_first_chunk(student, image, other, valid), base)
    assert not np.array_equal(_first_chunk(student, image, 255 - warp, valid), base)
    np.testing.assert_array_equal(_first_chunk(student, image), _first_chunk(student, image, warp, valid * 0))
    with pytest.raises(TrackError, match="needs warp uint8"):
        _first_chunk(student, image, warp[:4], valid[:4])


def test_the_neural_backend_gives_a_warp_student_the_chunks_warp(tmp_path, garden, monkeypatch):
    """render --backend neural renders each chunk's warp (objects moved) at the model's size and
    hands it, with its validity, to a student that sees the warp."""
    from motionworld.cli import main

    student = StreamingStudent(_with_warp(preset("tiny")), seed=0)
    student.save(tmp_path / "weights")
    seen = []
    original = StreamingStudent.step

    def spy(self, tracks, visibility, looks=None, occluded=None, warp=None, warp_valid=None):
        seen.append((warp.shape, float(warp_valid.mean()), float(warp_valid[0].min())))
        return original(self, tracks, visibility, looks, occluded, warp, warp_valid)

    monkeypatch.setattr(StreamingStudent, "step", spy)
    assert main(["render", str(garden), "--backend", "neural", "--weights", str(tmp_path / "weights"),
                 "--actions", "w-20", "-o", str(tmp_path / "out.mp4")]) == 0
    assert [s[0] for s in seen] == [(9, 64, 64, 3), (12, 64, 64, 3)]
    assert seen[0][2] == 1.0 and 0 < seen[1][1] <= 1  # frame 0 is the picture itself, all valid


def test_an_extended_checkpoint_with_an_occlusion_count_gives_exactly_the_old_outputs(image):
    from motionworld.errors import MotionWorldError
    from motionworld.model.bundles import extend_modules

    old = StreamingStudent("tiny", seed=0)
    grown_config = dataclasses.replace(
        _with_warp(old.config), tracks=dataclasses.replace(old.config.tracks, occlusion=True))
    grown = StreamingStudent(grown_config, extend_modules(old.modules, grown_config))
    g = np.random.default_rng(0)
    warp = g.integers(0, 256, (9, 64, 64, 3), dtype=np.uint8)
    valid = (g.random((9, 64, 64)) > 0.3).astype(np.float32)
    hidden = (True, False)  # the second track is on screen and hidden: the grown model counts it
    np.testing.assert_array_equal(_first_chunk(grown, image, warp, valid, hidden),
                                  _first_chunk(old, image, visible=hidden))
    deeper = dataclasses.replace(old.config, dit=dataclasses.replace(old.config.dit, num_layers=3))
    with pytest.raises(MotionWorldError, match="is new"):
        extend_modules(old.modules, deeper)
