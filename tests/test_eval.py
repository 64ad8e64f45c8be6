"""The evaluation suite's parts (`motionworld eval`): held-out data, baselines, metrics, report."""
import json

import numpy as np
import pytest

from motionworld.eval.heldout import heldout_items, long_stream, sway_poses
from motionworld.eval.methods import hold_first, inpainted, prior_tracks, pull_push_filled, warp_gt, warp_moved
from motionworld.eval.report import markdown, quality_bar, write_report
from motionworld.eval.suite import score

pytestmark = pytest.mark.display  # synthetic worlds and the warp baseline render with headless GL


@pytest.fixture(scope="module")
def clips():
    return heldout_items(3, frames=33, size=96, seed_start=0)  # three worlds whose motion these tests know


@pytest.fixture(scope="module")
def moving():
    """Held-out world 7 of this size: a large object moves across the view (728 of 2,500 tracks)."""
    return heldout_items(1, frames=33, size=96, seed_start=7)[0]


def test_metrics_tell_the_truth_from_the_held_frame(clips):
    # the clip that moves most: mean displacement from frame 0 wherever a point is visible (over the whole
    # clip, since in one of them every point has left the view by the last frame)
    item = max(clips, key=lambda it: np.abs(it["tracks"] - it["tracks"][0])[it["visibility"]].mean())
    truth = score(item["video"], item)
    held = score(hold_first(item), item)
    assert truth["psnr"] == float("inf") and truth["ssim"] == pytest.approx(1.0)
    # The tracker on the true clip is the floor of the EPE figure: frame-to-frame drift, texture-poor
    # patches and occlusion edges cost it a few pixels over 32 frames.
    assert truth["epe"] < 4.0
    assert held["epe"] > 2 * truth["epe"] and held["psnr"] < 40


def test_tracker_follows_only_live_points_and_they_move_as_before(clips):
    """Dropping lost points from the tracker (to save time) leaves every scored position as it was."""
    import torch

    from motionworld.metrics.klt import lucas_kanade

    lost = [(~np.cumprod(it["visibility"], 0).astype(bool)[16]).mean() for it in clips]
    item = clips[int(np.argmin(np.abs(np.array(lost) - 0.5)))]
    video, tracks = torch.from_numpy(item["video"][:17]), torch.from_numpy(item["tracks"][:17])
    alive = torch.cumprod(torch.from_numpy(item["visibility"][:17]).int(), 0).bool()
    assert 0 < (~alive[-1]).sum() < alive.shape[1]  # some points are lost along the way, not all
    every = lucas_kanade(video, tracks[0])
    live = lucas_kanade(video, tracks[0], active=alive)
    torch.testing.assert_close(live[alive], every[alive], rtol=0, atol=0)
    assert torch.isnan(live[~alive]).all()
    none = lucas_kanade(video[:3], tracks[0], active=torch.zeros(3, tracks.shape[1], dtype=torch.bool))
    assert torch.isnan(none[1:]).all()


def test_warp_with_true_depth_follows_the_motion(clips):
    """The warp moves the picture exactly with the camera, so its EPE sits near the tracker's floor
    (its PSNR need not beat the held frame: what the first frame never saw is black in it)."""
    epe = [(score(warp_gt(it), it)["epe"], score(hold_first(it), it)["epe"]) for it in clips]
    assert all(warp <= held + 0.1 for warp, held in epe)
    warp, held = max(epe, key=lambda e: e[1])  # the clip that moves most
    assert warp < 0.3 * held


def test_the_warp_moves_objects_by_their_true_masks_and_motion(moving):
    """With the objects cut out and moved (as `render --backend warp` does), the warp follows the
    tracks on moving objects; left still, it cannot."""
    item = moving
    assert item["moving_objects"]
    on_objects = item["object_ids"] > 0
    still = score(warp_gt(item), item, item["tracks"][:, on_objects], item["visibility"][:, on_objects])
    frames, seen = warp_moved(item)
    moved = score(frames, item, item["tracks"][:, on_objects], item["visibility"][:, on_objects])
    assert moved["epe"] < 0.7 * still["epe"]
    # frame 0 is the picture (a level off at most, on a depth edge: float rounding in the rasteriser)
    assert np.abs(frames[0].astype(int) - item["video"][0]).max() <= 1
    assert (seen[0] == 1).all() and seen[1:].mean() < 1  # by the end something was not seen


def test_inpainting_fills_only_what_the_warp_does_not_see(moving):
    item = moving
    frames, seen = warp_moved(item)
    filled = inpainted(frames, seen)
    keep = seen > 0.5
    np.testing.assert_array_equal(filled[keep], frames[keep])
    holes, warp = score(filled, item, seen=seen), score(frames, item, seen=seen)
    assert holes["psnr_unseen"] > warp["psnr_unseen"] + 1  # black holes against a plausible fill
    assert holes["psnr_seen"] == warp["psnr_seen"]
    pushed = pull_push_filled(frames, seen)  # the pyramid fill: the same contract
    np.testing.assert_array_equal(pushed[keep], frames[keep])
    assert score(pushed, item, seen=seen)["psnr_unseen"] > warp["psnr_unseen"] + 1


def test_a_student_that_sees_the_warp_is_streamed_with_the_clips_warp(moving, monkeypatch):
    import dataclasses

    from motionworld.eval.methods import stream_student
    from motionworld.model.config import WarpConfig, preset
    from motionworld.model.student import StreamingStudent

    c = preset("tiny")
    c = dataclasses.replace(c, height=96, width=96, dit=dataclasses.replace(c.dit, warp_channels=4),
                            warp=WarpConfig(widths=(8, 8, 8), out_channels=4))
    student, given, original = StreamingStudent(c, seed=0), [], StreamingStudent.step

    def spy(self, tracks, visibility, looks=None, occluded=None, warp=None, warp_valid=None):
        given.append((warp, warp_valid))
        return original(self, tracks, visibility, looks, occluded, warp, warp_valid)

    monkeypatch.setattr(StreamingStudent, "step", spy)
    video = stream_student(student, moving)
    frames, seen = warp_moved(moving)
    assert len(video) == 33 and len(given) == 3
    np.testing.assert_array_equal(np.concatenate([w for w, _ in given]), frames)
    np.testing.assert_array_equal(np.concatenate([v for _, v in given]), seen)


def test_a_guided_student_is_evaluated_at_its_output_size_beside_a_hard_paste_of_the_warp(moving, monkeypatch,
                                                                                          tmp_path):
    """A student whose guided decoder paints out 2x: the held-out clip is at the frames' size, its DiT
    gets the first frame and the tracks at the model's (half) size, and the hard-paste row keeps
    exactly the warp's pixels where the warp sees the picture."""
    import dataclasses

    from motionworld.eval.methods import stream_student
    from motionworld.eval.suite import NETWORK_FILLED, STUDENT_NETWORK, STUDENT_PASTED, EvalSettings, main_table
    from motionworld.model.config import preset
    from motionworld.model.depth_net import DepthNet, DepthNetConfig, save_depth_net
    from motionworld.model.guided_decoder import hard_paste
    from motionworld.model.student import StreamingStudent

    c = dataclasses.replace(preset("tiny-guided"), height=48, width=48)
    student, seen_tracks, original = StreamingStudent(c, seed=0), [], StreamingStudent.step

    def spy(self, tracks, visibility, looks=None, occluded=None, warp=None, warp_valid=None):
        seen_tracks.append(np.asarray(tracks))
        return original(self, tracks, visibility, looks, occluded, warp, warp_valid)

    monkeypatch.setattr(StreamingStudent, "step", spy)
    import torch

    torch.manual_seed(0)
    save_depth_net(tmp_path / "depthnet", DepthNet(DepthNetConfig(widths=(8, 8, 16, 16, 32), blocks=(1,) * 5,
                                                                  decoder=(16, 16, 8, 8), heads=2,
                                                                  output="log_disparity")))
    table = main_table(student, None, [moving], EvalSettings(clips=1, frames=33, size=96,
                                                              depth_net=str(tmp_path / "depthnet")))
    rows = table["methods"]
    assert {"student", STUDENT_PASTED, "true frames through the VAE (latent ceiling)"} <= set(rows)
    # what a photo without depth gets from our network: its warp filled, and the student on its warp and tracks
    assert np.isfinite(rows[NETWORK_FILLED]["all"]["psnr_unseen"]) and np.isfinite(rows[STUDENT_NETWORK]["all"]["psnr"])
    assert rows[STUDENT_NETWORK]["all"]["psnr"] != pytest.approx(rows["student"]["all"]["psnr"])
    assert len(seen_tracks) == 4 * 3  # 3 chunks each: student, pasted, depth prior, our network
    np.testing.assert_allclose(seen_tracks[0], (moving["tracks"][:9] + 0.5) / 2 - 0.5, rtol=0, atol=1e-5)
    assert student.height == 48 and student.output_size == (96, 96)
    pasted, warp = rows[STUDENT_PASTED]["all"], rows["warp (true depth, objects moved)"]["all"]
    assert np.isfinite(pasted["psnr_seen"])
    assert pasted["psnr_unseen"] != pytest.approx(warp["psnr_unseen"])  # painted there, not black
    model_warp = warp_moved(moving, mesh_step=2)  # as the neural backend renders it at twice the model's size
    frames = stream_student(student, moving, warp=model_warp, finish=hard_paste)
    kept = model_warp[1] > 0.5
    np.testing.assert_array_equal(frames[kept], model_warp[0][kept])


def test_masked_psnr_and_ssim():
    import torch

    from motionworld.metrics.image import psnr, ssim

    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(2, 3, 32, 40, generator=g), torch.rand(2, 3, 32, 40, generator=g)
    everywhere = torch.ones(2, 32, 40, dtype=torch.bool)
    assert psnr(a, b, everywhere) == pytest.approx(psnr(a, b)) and ssim(a, b, everywhere) == pytest.approx(ssim(a, b))
    left = torch.zeros(2, 32, 40, dtype=torch.bool)
    left[..., :20] = True
    b[..., :20] = a[..., :20]  # equal on the left half only
    assert psnr(a, b, left) == float("inf") and psnr(a, b, ~left) < 20
    assert np.isnan(psnr(a, b, torch.zeros_like(left))) and np.isnan(ssim(a, b, torch.zeros_like(left)))
    inner = torch.zeros_like(left)
    inner[..., 8:24, 5:14] = True  # windows centred here lie inside the equal half
    assert ssim(a, b, inner) == pytest.approx(1.0) and ssim(a, b, ~left) < 0.2


def test_ssim_is_the_2d_gaussian_window_of_wang_et_al():
    """The separable, matrix-product form equals SSIM written out with the 11x11 window as a 2-D
    convolution (the textbook form, about 4.5x slower on this CPU), also at odd sizes."""
    import torch
    import torch.nn.functional as F

    from motionworld.metrics.image import ssim

    g = torch.Generator().manual_seed(1)
    a = torch.rand(3, 3, 29, 37, generator=g)
    b = (a + 0.2 * torch.randn(3, 3, 29, 37, generator=g)).clamp(0, 1)
    x = torch.arange(11.0) - 5
    w = torch.exp(-x ** 2 / 4.5)
    w = (w[:, None] * w[None, :] / w.sum() ** 2)[None, None]
    A, B = a.reshape(-1, 1, 29, 37), b.reshape(-1, 1, 29, 37)
    mu_a, mu_b = F.conv2d(A, w), F.conv2d(B, w)
    saa, sbb = F.conv2d(A * A, w) - mu_a ** 2, F.conv2d(B * B, w) - mu_b ** 2
    sab = F.conv2d(A * B, w) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ref = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (saa + sbb + c2))
    assert ssim(a, b) == pytest.approx(float(ref.mean()), abs=1e-6)
    assert 0.2 < ssim(a, b) < 0.9


def test_prior_tracks_cover_the_same_grid(clips):
    item = clips[0]
    tracks, vis = prior_tracks(item)
    assert tracks.shape == item["tracks"].shape and vis.shape == item["visibility"].shape
    np.testing.assert_allclose(tracks[0][vis[0]], item["tracks"][0][vis[0]], atol=1e-3)  # same pixels at frame 0
    assert vis[0].all()


def test_long_stream_stays_near_its_start():
    start = np.eye(4)
    poses = sway_poses(start, 400)
    assert np.abs(poses[:, :3, 3]).max() < 0.7  # within a step of where it began
    item = long_stream(7, frames=120, size=64, grid=20)
    assert item["video"].shape == (120, 64, 64, 3) and item["tracks"].shape == (120, 400, 2)
    assert item["visibility"].mean() > 0.5 and not item["moving_objects"]


def _report():
    def row(e, p, ssim=0.5, seen=None, unseen=None):
        a = {"epe": e, "psnr": p, "ssim": ssim, "clips": 2}
        if seen is not None:
            a.update(psnr_seen=seen, psnr_unseen=unseen, ssim_seen=ssim, ssim_unseen=ssim)
        return {"all": a, "camera_only": {**a, "clips": 1}, "objects": {**a, "clips": 1}}

    return {"student": "weights", "date": "2026-11-24",
            "settings": {"clips": 2, "frames": 81, "size": 128, "teacher_steps": 24, "w_t": 0.0, "w_m": 1.5},
            "main": {"seeds": [1, 2], "methods": {
                "hold first frame": row(6.0, 14.0), "teacher": row(2.0, 18.0),
                "warp (true depth, objects moved)": row(2.5, 15.0, 0.6, seen=25.0, unseen=8.0),
                "warp, objects moved, + inpainting (Telea)": row(2.5, 16.5, 0.62, seen=25.0, unseen=12.0),
                "student": row(3.0, 17.5, 0.63, seen=24.5, unseen=13.0)}},
            "speed": {"student": {"frames_per_s": 23.5, "size": "256x192", "first_frame_latency_s": 0.4,
                                  "layout": "c3s1w1", "steps": 3}},
            "away": {"frames": 321, "seed": 9, "away_span": [24, 264], "chunk_end": [8, 20],
                     "warp_psnr": [30.0, 29.0], "warp": {"before": 30.0, "away": 6.0, "after": 28.0},
                     "layouts": {"c3s1w1": {"chunk_end": [8, 20], "psnr": [25.0, 24.0], "epe": [1.0, 1.1],
                                            "psnr_before": 25.0, "psnr_away": 14.0, "psnr_after": 23.5}}},
            "long_horizon": {"frames": 2000, "seed": 5, "layouts": {"c3s1w1": {
                "chunk_end": [8, 20], "psnr": [18.0, 16.5], "epe": [1.0, 1.2], "seconds": 60,
                "psnr_at_100": 18.0, "psnr_at_end": 16.5, "epe_at_100": 1.0, "epe_at_end": 1.2}}}}


def test_quality_bar_and_markdown(tmp_path):
    bar = dict((what.split(":")[0], ok) for what, ok, _ in quality_bar(_report()))
    assert bar == {"student beats the held first frame on PSNR and EPE": True,
                   "student EPE within 2x the teacher's": True,
                   "motion": True,                # 3.0 <= 1.25 x 2.5 px
                   "fidelity": True,              # 17.5 dB and SSIM 0.63 above the warp + inpainting's 16.5, 0.62
                   "the picture is kept": True,   # 24.5 within 1 dB of 25.0
                   "holes": True,                 # 13.0 > 12.0
                   "with the sink, PSNR at frame 1999 within 1 dB of frame 100": False,  # 1.5 dB lost
                   "speed": True}
    text = markdown(_report(), "motionworld eval")
    assert "| student | 3.00 | 17.50 |" in text and "NOT met: with the sink" in text and "- met: fidelity" in text
    assert "the goal, +1.5 dB, not yet" in text
    assert "24 Euler steps with joint guidance w_t 0, w_m 1.5" in text
    assert "| c3s1w1 | 25.00 | 14.00 | 23.50 |" in text and "| warp (true depth) | 30.00 | 6.00 | 28.00 |" in text
    stronger = _report()  # a pull-push fill better than Telea in the holes becomes the bar
    stronger["main"]["methods"]["warp, objects moved, + pull-push fill"] = _report()["main"]["methods"][
        "warp, objects moved, + inpainting (Telea)"]
    stronger["main"]["methods"]["warp, objects moved, + pull-push fill"]["all"].update(psnr=15.0, psnr_unseen=13.5)
    holes = [(ok, text) for what, ok, text in quality_bar(stronger) if what.startswith("holes")]
    assert holes == [(False, "13.00 vs 13.50 dB (pull-push)")]
    blurred = _report()  # a PSNR win with a lower SSIM does not pass
    blurred["main"]["methods"]["student"]["all"].update(ssim=0.61)
    assert [ok for what, ok, _ in quality_bar(blurred) if what.startswith("fidelity")] == [False]
    slow = _report()
    slow["speed"]["student"].update(frames_per_s=30.0, size="128x128")  # fast, but smaller than the bar's frames
    assert [ok for what, ok, _ in quality_bar(slow) if what.startswith("speed")] == [False]
    paths = write_report(_report(), tmp_path, "motionworld eval")
    assert paths["away"].name == "away_and_back.png" and paths["away"].stat().st_size > 0


def test_the_report_compares_clip_by_clip_with_the_stronger_fill():
    from motionworld.eval.report import paired

    def clip(p, seen, unseen, ssim):
        return {"epe": 1.0, "psnr": p, "psnr_seen": seen, "psnr_unseen": unseen, "ssim": ssim}

    report = _report()
    report["main"]["per_clip"] = {  # the student ahead on one clip of three; a clip with no holes (NaN unseen)
        "warp, objects moved, + inpainting (Telea)": [clip(20, 30, 15, 0.7), clip(18, 28, 12, 0.6),
                                                      clip(25, 30, float("nan"), 0.8)],
        "student": [clip(23, 30, 18, 0.72), clip(17, 27, 12, 0.5), clip(24, 29, None, 0.7)],  # None: JSON's NaN
        "hold first frame": [clip(10, 10, 10, 0.1)] * 3}
    got = paired(report["main"]["per_clip"], "student", "warp, objects moved, + inpainting (Telea)")
    assert got["psnr"][0] == pytest.approx(1 / 3) and got["psnr"][2:] == (1, 3)
    assert got["psnr"][1] == pytest.approx(np.std([3, -1, -1], ddof=1) / np.sqrt(3))
    assert got["psnr_unseen"][0] == pytest.approx(1.5) and got["psnr_unseen"][2:] == (1, 2)  # NaN clips left out
    text = markdown(report, "motionworld eval")
    assert "Clip by clip against the stronger fill (warp, objects moved, + inpainting (Telea))" in text
    assert "| student | +0.33 ± 1.33 (1/3) | -0.67 ± 0.33 (0/3) | +1.50 ± 1.50 (1/2) | -0.060 ± 0.040 (1/3) |" in text


def test_the_walk_away_stream_leaves_the_first_view_and_comes_back_to_it():
    from motionworld.eval.heldout import away_and_back_poses, away_frames
    from motionworld.geometry.camera import ypr_from_rotation

    n = away_frames()
    assert n >= 20 * 16 and (n - 9) % 12 == 0
    poses = away_and_back_poses(np.eye(4), n)
    yaw = np.array([ypr_from_rotation(p[:3, :3])[0] for p in poses])
    assert np.abs(yaw[:20]).max() < 1e-6 and (yaw > 100).sum() >= 10 * 16  # 10 s with the first view behind
    np.testing.assert_allclose(poses[-40:], np.repeat(np.eye(4)[None], 40, 0), atol=1e-9)  # back where it began
    short = away_frames(stay=2.0)  # a shorter stay (eval --away-seconds): the same timeline, 8 s less away
    assert (short - 9) % 12 == 0 and n - 8 * 16 <= short < n - 8 * 16 + 12
    yaw = np.array([ypr_from_rotation(p[:3, :3])[0] for p in away_and_back_poses(np.eye(4), short, stay=2.0)])
    assert (yaw > 100).sum() >= 2 * 16 and (yaw > 100).sum() < 4 * 16 and abs(yaw[-1]) < 1e-6


@pytest.mark.slow
def test_eval_command_end_to_end(tmp_path):
    """Tiny random student and teacher: every section runs and the report is written."""
    from motionworld.cli import main
    from motionworld.model.bundles import save_teacher
    from motionworld.model.student import StreamingStudent, TrackVideoModules

    student = StreamingStudent("tiny", seed=0)
    student.save(tmp_path / "student")
    save_teacher(tmp_path / "teacher", TrackVideoModules(student.config), student.config, {"note": "random"})
    out = tmp_path / "report"
    assert main(["eval", "--student", str(tmp_path / "student"), "--teacher", str(tmp_path / "teacher"),
                 "--clips", "2", "--frames", "21", "--long-frames", "45", "--away-seconds", "2",
                 "--ablation-clips", "1", "--teacher-steps", "1", "--guidance", "0,1.5", "--out", str(out),
                 "--grid", str(tmp_path / "grid.mp4")]) == 0
    report = json.loads((out / "report.json").read_text())
    methods = report["main"]["methods"]
    assert set(methods) == {"true frames (tracker floor)", "true frames through the VAE (latent ceiling)",
                            "hold first frame", "warp (true depth)", "warp (true depth, objects moved)",
                            "warp, objects moved, + inpainting (Telea)", "warp, objects moved, + pull-push fill",
                            "teacher", "student", "student, depth prior",
                            "warp (our depth network), objects moved, + pull-push fill", "student, our depth network"}
    # (an unguided student that does not see the warp has no hard-paste row; the depth-network rows use the
    # network the shipped weights hold)
    assert all("psnr_seen" in r["all"] and "ssim_unseen" in r["all"] for r in methods.values())
    assert "| method | PSNR seen | PSNR unseen |" in (out / "report.md").read_text()
    vae_row = methods["true frames through the VAE (latent ceiling)"]["all"]
    assert np.isfinite(vae_row["psnr"]) and vae_row["psnr"] < 100  # a random VAE does not pass frames through
    assert methods["student"]["all"]["clips"] == 2 and np.isfinite(methods["student"]["all"]["psnr"])
    assert set(report["long_horizon"]["layouts"]) == {"c3s1w1", "c3s0w1", "grow"}
    assert len(report["ablations"]["teacher_guidance"]) == 5 and report["speed"]["student"]["frames_per_s"] > 0
    assert set(report["away"]["layouts"]) == {"c3s1w1", "c3s0w1", "grow"} and report["away"]["frames"] == 201
    assert all(np.isfinite(r["psnr_after"]) for r in report["away"]["layouts"].values())
    assert (out / "long_horizon.png").stat().st_size > 0 and (tmp_path / "grid.mp4").stat().st_size > 0
    assert (out / "away_and_back.png").stat().st_size > 0
    assert "looks around there for 2 s" in (out / "report.md").read_text()
    assert "Quality bar" in (out / "report.md").read_text() and report["command"].startswith("motionworld eval")
    assert (report["settings"]["w_t"], report["settings"]["w_m"]) == (0.0, 1.5)
    assert main(["eval", "--student", str(tmp_path / "student"), "--sections", "main,bogus"]) == 2
    assert main(["eval", "--student", str(tmp_path / "student"), "--guidance", "3"]) == 2
    assert main(["eval", "--student", str(tmp_path / "student"), "--away-seconds", "nan"]) == 2
