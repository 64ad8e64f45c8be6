"""`motionworld eval`: how good the shipped student is, against baselines, on held-out worlds.

Sections of the report (each a function here, each usable alone):
- `main_table`: first frame held, warp with ground-truth depth (objects still, and objects moved
  by their true masks and motion), that warp with its holes inpainted (OpenCV's Telea), teacher,
  student, and the student driven by depth-prior tracks; EPE (classical tracker on the generated
  video against the input tracks, visible points only), PSNR and SSIM against the true frames
  (frame 0, which is given, left out), also over the pixels the moved warp sees and over those it
  does not; over all clips and split into camera-only and camera + moving objects.
- `long_horizon`: one 2,000-frame stream near its start; per-chunk PSNR and EPE for the sink +
  rolling window (c3s1w1), no sink (c3s0w1) and a growing window.
- `away_and_back`: a stream whose camera turns its back on the first view for 10 s and returns;
  per-chunk PSNR and EPE per layout, against the warp's, before, away and after.
- `ablations`: chunk 1 vs 3, steps 2 / 3 / 4 (student), and a w_t, w_m sweep (teacher).
- `speed`: the bench figures of the student and the teacher's time per clip, and their ratio.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch

from ..errors import MotionWorldError
from ..frames import FPS, chunk_frames
from ..geometry.depth import has_depth_network, shipped_depth_folder
from ..metrics.image import masked_mean, psnr, ssim_map
from ..metrics.klt import track_epe
from ..model.bundles import TEACHER_KIND, load_modules
from ..model.depth_net import load_depth_net
from ..model.guided_decoder import hard_paste
from ..model.sampler import step_levels
from ..model.student import StreamingStudent
from ..raster.overlay import draw_points, track_colors
from .bench import bench_model
from .depth_section import depth_section
from .heldout import AWAY_HOLD, AWAY_STAY, AWAY_TURN, away_and_back_poses, away_frames, heldout_items, long_stream
from .methods import (
    hold_first,
    inpainted,
    network_depth_tracks,
    prior_depth,
    prior_tracks,
    pull_push_filled,
    stream_student,
    teacher_video,
    vae_roundtrip,
    warp_gt,
    warp_moved,
)
from .report import NETWORK_FILLED, STUDENT_NETWORK, WARP_FILLED, WARP_INPAINTED, WARP_MOVED

STUDENT_PASTED = "student, hard paste of the warp"


def clip_size(s: EvalSettings):
    """(width, height) of the held-out clips: an int when square (as shards store it)."""
    return s.size if s.height in (None, s.size) else (s.size, s.height)


@dataclass
class EvalSettings:
    clips: int = 32
    frames: int = 81
    size: int = 128  # the clips' width (the student's frames' size)
    height: int | None = None  # their height, if not square
    heldout_root: str | None = None  # shards from `motionworld data synth --split heldout`; default: on the fly
    seed: int = 0  # noise seed of the generators
    seed_start: int = 1000  # first held-out world (those before are what training's eval hook watches)
    teacher_steps: int = 24
    w_t: float = 3.0
    w_m: float = 1.5
    long_frames: int = 2001  # 9 + 12k: the stream ends on a whole chunk
    long_seed: int = 5000  # a held-out world index far from the clips'
    away_seconds: float = AWAY_STAY  # how long the walk-away stream keeps the first view out of sight
    ablation_clips: int = 8
    guidance_sweep: list = field(default_factory=lambda: [[0.0, 0.0], [3.0, 0.0], [0.0, 1.5], [3.0, 1.5], [5.0, 3.0]])
    bench_chunks: int = 100
    grid_clips: int = 4  # held-out clips in the grid video
    sections: list = field(default_factory=lambda: ["main", "long", "away", "ablations", "speed"])
    depth_views: int = 32  # held-out synthetic views of the depth section
    depth_net: str | None = None  # our depth network's folder (default: the shipped weights', if any)


def _unit(video: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1, 2).float() / 255.0


def score(video: np.ndarray, item: dict, tracks=None, visibility=None, seen=None) -> dict:
    """EPE against the tracks the video was made from (default the item's), PSNR and SSIM against
    the item's frames; frame 0 is left out of PSNR/SSIM since every method is given it. With `seen`
    (the warp's validity [T, H, W]), PSNR and SSIM also over the pixels the warp sees and over the
    ones it does not (what geometry gives, and what a model has to paint)."""
    T = min(len(video), len(item["video"]))
    tracks = item["tracks"] if tracks is None else tracks
    visibility = item["visibility"] if visibility is None else visibility
    gen, real = _unit(video[1:T]), _unit(item["video"][1:T])
    structure = ssim_map(gen, real)  # once: the seen and unseen SSIMs are means over parts of it
    out = {"epe": track_epe(torch.from_numpy(video[:T]), torch.from_numpy(np.asarray(tracks[:T], np.float32)),
                            torch.from_numpy(np.asarray(visibility[:T]))),
           "psnr": psnr(gen, real), "ssim": float(structure.mean())}
    if seen is not None:
        mask = torch.from_numpy(np.asarray(seen[1:T]) > 0.5)
        out.update(psnr_seen=psnr(gen, real, mask), psnr_unseen=psnr(gen, real, ~mask),
                   ssim_seen=masked_mean(structure, mask), ssim_unseen=masked_mean(structure, ~mask))
    return out


def _mean(rows: list[dict]) -> dict:
    """Means over clips of each figure (non-finite values left out; `clips` counts the rows, and
    `<figure>_clips` says how many were finite where fewer were)."""
    keys = rows[0].keys() if rows else []
    out = {}
    for k in keys:
        vals = [r[k] for r in rows if r[k] == r[k] and np.isfinite(r[k])]
        out[k] = float(np.mean(vals)) if vals else float("nan")
        if len(vals) < len(rows):
            out[f"{k}_clips"] = len(vals)
    out["clips"] = len(rows)
    return out


def _aggregate(per_clip: dict[str, list[dict]], moving: list[bool]) -> dict:
    out = {}
    for name, rows in per_clip.items():
        out[name] = {"all": _mean(rows),
                     "camera_only": _mean([r for r, m in zip(rows, moving) if not m]),
                     "objects": _mean([r for r, m in zip(rows, moving) if m])}
    return out


def _with_tracks(video: np.ndarray, item: dict, every: int = 3) -> np.ndarray:
    """The video with a sparse subset of the item's tracks drawn on (for the grid video)."""

    H, W = video.shape[1:3]
    n = int(round(np.sqrt(item["tracks"].shape[1])))
    keep = np.zeros((n, n), bool)
    keep[::every, ::every] = True
    keep = keep.ravel()
    colours = track_colors(item["tracks"][0][keep], W, H, item["object_ids"][keep])
    out = video.copy()
    for t in range(len(out)):
        draw_points(out[t], item["tracks"][t][keep], colours, 1, item["visibility"][t][keep])
    return out


def shipped_layout(student) -> None:
    """Back to the student's own layout and levels (from its config) after a variant."""
    student.configure(chunk=student.config.chunk, sink=student.config.sink, window=student.config.window,
                      steps=student.config.steps)


def main_table(student, teacher, items: list[dict], s: EvalSettings, progress=None, grid: list | None = None) -> dict:
    """Every method on every held-out clip. `teacher` is (modules, config) or None. With `grid` (a
    list), the first clips' truth | student | teacher videos, tracks drawn, are appended to it."""

    # The true clip itself: its PSNR is infinite, its EPE is the tracker's own error (the floor).
    per_clip: dict[str, list[dict]] = {"true frames (tracker floor)": [],
                                       "true frames through the VAE (latent ceiling)": [],
                                       "hold first frame": [], "warp (true depth)": []}
    with_objects = all("object_slots" in it and "object_motion" in it for it in items)  # older shards lack them
    if with_objects:
        per_clip[WARP_MOVED], per_clip[WARP_INPAINTED], per_clip[WARP_FILLED] = [], [], []
    if teacher is not None:
        per_clip["teacher"] = []
    per_clip["student"] = []
    pasted = with_objects and student.sees_warp
    if pasted:
        per_clip[STUDENT_PASTED] = []
    per_clip["student, depth prior"] = []
    depth_net = _depth_net_folder(s) if with_objects else None
    if depth_net is not None:
        per_clip[NETWORK_FILLED], per_clip[STUDENT_NETWORK] = [], []
    shipped_layout(student)
    step = student.config.vae.output_scale  # the model's warp: one mesh vertex per model pixel, as at inference
    for i, item in enumerate(items):
        seen = moved = warp = filled = None
        if with_objects:
            moved, seen = warp_moved(item)  # the baseline rows: a vertex per pixel
            per_clip[WARP_MOVED].append(score(moved, item, seen=seen))
            filled = inpainted(moved, seen)
            per_clip[WARP_INPAINTED].append(score(filled, item, seen=seen))
            per_clip[WARP_FILLED].append(score(pull_push_filled(moved, seen), item, seen=seen))
            warp = (moved, seen) if step == 1 else warp_moved(item, mesh_step=step)
        per_clip["true frames (tracker floor)"].append(score(item["video"], item, seen=seen))
        per_clip["true frames through the VAE (latent ceiling)"].append(
            score(vae_roundtrip(student.modules.vae, item, warp), item, seen=seen))
        per_clip["hold first frame"].append(score(hold_first(item), item, seen=seen))
        per_clip["warp (true depth)"].append(score(warp_gt(item), item, seen=seen))
        teacher_frames = None
        if teacher is not None:
            modules, config = teacher
            teacher_frames = teacher_video(modules, config, item, s.teacher_steps, s.w_t, s.w_m, seed=s.seed + i,
                                           warp=warp)
            per_clip["teacher"].append(score(teacher_frames, item, seen=seen))
        student_frames = stream_student(student, item, seed=s.seed + i, warp=warp)
        per_clip["student"].append(score(student_frames, item, seen=seen))
        if pasted:  # the same stream (same seed), the decoded frames with the warp pasted over them
            per_clip[STUDENT_PASTED].append(score(stream_student(student, item, seed=s.seed + i, warp=warp,
                                                                 finish=hard_paste), item, seen=seen))
        if grid is not None and len(grid) < s.grid_clips:  # truth | warp + inpainting | student | teacher
            baseline = [filled] if filled is not None else [warp_gt(item)]
            row = ([item["video"][: len(student_frames)]] + baseline + [student_frames]
                   + ([teacher_frames] if teacher_frames is not None else []))
            grid.append([_with_tracks(v[: len(student_frames)], item) for v in row])
        # Driven by prior tracks, scored like every row against the true motion; how well it followed
        # the tracks it was given is kept as well.
        depth = prior_depth(item)
        tr, vis = prior_tracks(item, depth=depth)
        prior_warp = warp_moved(item, depth, step) if warp is not None and student.sees_warp else None
        prior_video = stream_student(student, item, tr, vis, seed=s.seed + i, warp=prior_warp)
        row = score(prior_video, item, seen=seen)
        row["epe_vs_input"] = score(prior_video, item, tr, vis)["epe"]
        per_clip["student, depth prior"].append(row)
        if depth_net is not None:  # what a photo without depth gets from our network: warp, tracks, student
            depth, tr, vis = network_depth_tracks(item, str(depth_net))
            per_clip[NETWORK_FILLED].append(score(pull_push_filled(*warp_moved(item, depth)), item, seen=seen))
            net_warp = warp_moved(item, depth, step) if student.sees_warp else None
            net_video = stream_student(student, item, tr, vis, seed=s.seed + i, warp=net_warp)
            row = score(net_video, item, seen=seen)
            row["epe_vs_input"] = score(net_video, item, tr, vis)["epe"]
            per_clip[STUDENT_NETWORK].append(row)
        if progress:
            progress(f"main table: clip {i + 1}/{len(items)}")
    table = _aggregate(per_clip, [it["moving_objects"] for it in items])
    return {"methods": table, "per_clip": per_clip, "seeds": [int(it["seed"]) for it in items]}


def _depth_net_folder(s: EvalSettings) -> Path | None:
    """Our depth network's folder: `s.depth_net`, else the shipped weights' where they hold one."""
    return Path(s.depth_net) if s.depth_net else (shipped_depth_folder() if has_depth_network() else None)


def _chunk_series(video: np.ndarray, item: dict, first: int, size: int) -> tuple[list, list, list]:
    """Per chunk: the frame it ends at, PSNR against the truth, EPE of tracks re-extracted within it."""
    ends, ps, es = [], [], []
    t = 0
    n = first
    while t + n <= len(video):
        sl = slice(t, t + n)
        ps.append(psnr(_unit(video[sl]), _unit(item["video"][sl])))
        if n > 1:
            es.append(track_epe(torch.from_numpy(video[sl]), torch.from_numpy(item["tracks"][sl]),
                                torch.from_numpy(item["visibility"][sl])))
        else:
            es.append(float("nan"))
        ends.append(t + n - 1)
        t += n
        n = size
    return ends, ps, es


def long_horizon(student, s: EvalSettings, progress=None) -> dict:
    """The same long stream under three cache layouts; per-chunk PSNR and EPE, and the summary
    the quality bar asks for: the three chunks around frame 100 against the last three. The warp
    renderer's PSNR on the same chunks is kept too, since what the camera sees changes along the
    stream (a drop both share is the view, not the model)."""

    item = long_stream(s.long_seed, s.long_frames, clip_size(s))
    chunk = student.layout.chunk
    first, size = chunk_frames(0, chunk), chunk_frames(1, chunk)
    ends, warp_ps, _ = _chunk_series(warp_gt(item), item, first, size)
    out = {"frames": s.long_frames, "seed": int(item["seed"]), "warp_psnr": warp_ps, "layouts": {}}
    at_100 = int(np.argmin(np.abs(np.array(ends) - 100)))
    near = slice(max(0, at_100 - 1), at_100 + 2)
    for name, sink, window in (("c3s1w1", 1, 1), ("c3s0w1", 0, 1), ("grow", 1, None)):
        student.configure(chunk=chunk, sink=sink, window=window, steps=step_levels(3))
        t0 = time.perf_counter()
        video = stream_student(student, item, seed=s.seed)
        seconds = time.perf_counter() - t0
        ends, ps, es = _chunk_series(video, item, first, size)
        out["layouts"][name] = {"chunk_end": ends, "psnr": ps, "epe": es, "seconds": seconds,
                                "psnr_at_100": float(np.mean(ps[near])), "psnr_at_end": float(np.mean(ps[-3:])),
                                "epe_at_100": float(np.nanmean(es[near])), "epe_at_end": float(np.nanmean(es[-3:])),
                                "warp_psnr_at_100": float(np.mean(warp_ps[near])),
                                "warp_psnr_at_end": float(np.mean(warp_ps[-3:]))}
        if progress:
            progress(f"long horizon: {name} done ({seconds:.0f} s)")
    shipped_layout(student)
    return out


def away_and_back(student, s: EvalSettings, progress=None) -> dict:
    """The walk-away stream (`away_and_back_poses`): the camera holds the first view, turns its back
    on it for `s.away_seconds` and comes back. Per-chunk PSNR and EPE per cache layout, the warp's PSNR (which
    knows the first view again on return, and nothing while away), and the summary: PSNR over the
    chunks before the turn, while away and after the return."""

    frames = away_frames(stay=s.away_seconds)
    item = long_stream(s.long_seed, frames, clip_size(s), poses=partial(away_and_back_poses, stay=s.away_seconds),
                       caption="the camera turns away and comes back")
    chunk = student.layout.chunk
    first, size = chunk_frames(0, chunk), chunk_frames(1, chunk)
    ends, warp_ps, _ = _chunk_series(warp_gt(item), item, first, size)
    # back: on the first view
    leave, back = round(AWAY_HOLD * FPS), round((AWAY_HOLD + 2 * AWAY_TURN + s.away_seconds) * FPS)
    turn = AWAY_TURN * FPS
    starts = [0] + [e + 1 for e in ends[:-1]]
    phase = {"before": [i for i, e in enumerate(ends) if e < leave],
             "away": [i for i, (a, e) in enumerate(zip(starts, ends)) if a >= leave + turn and e < back - turn],
             "after": [i for i, a in enumerate(starts) if a >= back]}
    out = {"frames": frames, "away_seconds": s.away_seconds, "seed": int(item["seed"]), "chunk_end": ends,
           "warp_psnr": warp_ps, "away_span": [leave, back], "layouts": {}}
    out["warp"] = {k: float(np.mean([warp_ps[i] for i in v])) for k, v in phase.items()}
    for name, sink, window in (("c3s1w1", 1, 1), ("c3s0w1", 0, 1), ("grow", 1, None)):
        student.configure(chunk=chunk, sink=sink, window=window, steps=step_levels(3))
        video = stream_student(student, item, seed=s.seed)
        _, ps, es = _chunk_series(video, item, first, size)
        out["layouts"][name] = {"chunk_end": ends, "psnr": ps, "epe": es,
                                **{f"psnr_{k}": float(np.mean([ps[i] for i in v])) for k, v in phase.items()}}
        if progress:
            progress(f"walk away and back: {name} done")
    shipped_layout(student)
    return out


def ablations(student, teacher, items: list[dict], s: EvalSettings, progress=None) -> dict:

    items = items[: s.ablation_clips]
    out = {"clips": len(items), "student": {}, "teacher_guidance": {}}
    variants = [("chunk 1, 3 steps", 1, 3), ("chunk 3, 2 steps", 3, 2), ("chunk 3, 3 steps", 3, 3),
                ("chunk 3, 4 steps", 3, 4)]
    for name, chunk, steps in variants:
        student.configure(chunk=chunk, sink=1, window=1, steps=step_levels(steps))
        out["student"][name] = _mean([score(stream_student(student, it, seed=s.seed + i), it)
                                      for i, it in enumerate(items)])
        if progress:
            progress(f"ablation: {name}")
    shipped_layout(student)
    if teacher is not None:
        modules, config = teacher
        for w_t, w_m in s.guidance_sweep:
            name = f"w_t {w_t:g}, w_m {w_m:g}"
            out["teacher_guidance"][name] = _mean([score(teacher_video(modules, config, it, s.teacher_steps, w_t, w_m,
                                                                       seed=s.seed + i), it)
                                                   for i, it in enumerate(items)])
            if progress:
                progress(f"guidance sweep: {name}")
    return out


def speed(student_dir, student, teacher, item: dict, s: EvalSettings) -> dict:
    """The shipped student's bench figures (its own layout and steps) and the teacher's time for
    one clip after a warm-up run, in one run."""

    lay = student.layout
    bench = bench_model(weights=student_dir, chunk=lay.chunk, sink=lay.sink, window=lay.window,
                        steps=len(student.sigmas), chunks=s.bench_chunks, compare=False, progress=False)
    out = {"student": {"frames_per_s": bench["fps"], "first_frame_latency_s": bench["first_frame_latency_s"],
                       "chunk_latency_s": bench["chunk_latency_s"]["last"], "split_s": bench["split_s"],
                       "size": f"{bench['width']}x{bench['height']}", "steps": bench["steps"],
                       "layout": f"c{bench['chunk']}s{bench['sink']}w{bench['window']}"}}
    if teacher is not None:
        modules, config = teacher
        teacher_video(modules, config, item, 1, s.w_t, s.w_m, seed=s.seed)  # warm-up: allocations, caches
        t0 = time.perf_counter()
        teacher_video(modules, config, item, s.teacher_steps, s.w_t, s.w_m, seed=s.seed)
        seconds = time.perf_counter() - t0
        out["teacher"] = {"seconds_per_clip": seconds, "frames_per_s": len(item["video"]) / seconds,
                          "first_frame_latency_s": seconds}
        fps = out["student"].get("frames_per_s")
        if fps:
            out["student_over_teacher_throughput"] = fps / out["teacher"]["frames_per_s"]
    return out


SECTIONS = ("main", "long", "away", "ablations", "speed", "depth")


def depth_report(s: EvalSettings, progress=None) -> dict:
    """The depth section with our network from `s.depth_net`, else the shipped weights' (if any)."""
    folder = _depth_net_folder(s)
    net = load_depth_net(folder) if folder is not None else None
    out = depth_section(net, views=s.depth_views, progress=progress)
    out["network"] = None if folder is None else str(folder)
    return out


def evaluate(student_dir, teacher_dir=None, settings: EvalSettings | None = None, progress=None,
             grid: list | None = None) -> dict:
    """Run the chosen sections; returns the report (JSON-able). `grid` collects videos (main_table)."""

    s = settings or EvalSettings()
    report = {"date": time.strftime("%Y-%m-%d"), "settings": asdict(s), "student": str(student_dir),
              "teacher": None if teacher_dir is None else str(teacher_dir)}
    if "depth" in s.sections:
        report["depth"] = depth_report(s, progress)
    if not set(s.sections) - {"depth"}:
        return report
    student = StreamingStudent.load(student_dir)
    H, W = student.output_size
    if (W, H) != (s.size, s.height or s.size):
        raise MotionWorldError(f"the held-out worlds are {s.size}x{s.height or s.size}; this student makes {W}x{H}")
    teacher = None
    if teacher_dir is not None:
        modules, config = load_modules(teacher_dir, TEACHER_KIND)
        if (config.height * config.vae.output_scale, config.width * config.vae.output_scale) != (H, W):
            raise MotionWorldError(f"the teacher works at {config.width}x{config.height}, the student at "
                                   f"{student.width}x{student.height}")
        teacher = (modules.eval(), config)
    items = (heldout_items(s.clips, s.frames, clip_size(s), s.heldout_root, s.seed_start)
             if {"main", "ablations", "speed"} & set(s.sections) else [])
    if "main" in s.sections:
        report["main"] = main_table(student, teacher, items, s, progress, grid)
    if "long" in s.sections:
        report["long_horizon"] = long_horizon(student, s, progress)
    if "away" in s.sections:
        report["away"] = away_and_back(student, s, progress)
    if "ablations" in s.sections:
        report["ablations"] = ablations(student, teacher, items, s, progress)
    if "speed" in s.sections:
        report["speed"] = speed(student_dir, student, teacher, items[0], s)
    return report
