"""`motionworld bench --model`: streaming speed of the student, measured the way a player sees it.

Figures (all from one run): per-chunk latency split (track encode; for a model that sees the warp
of the picture, rendering that warp (OpenGL, at the output size) and encoding it; each DiT step, the
clean cache pass, the (guided) decode), throughput in generated frames per second over the steady chunks, first-frame
latency (start() plus the first chunk; cold = the process's first stream, warm = after a 2-chunk
warm-up stream), peak memory after 10 chunks and at the end, the median chunk latency over chunks
10-59 and over the last 50 chunks plus the median of every block of 100 chunks (single chunks are
too noisy on a shared CPU),
and, measured in the same run, the speed of two comparison modes: no sink with a window that grows
to 6 chunks (Self-Forcing's sliding window, c3s0w6), and re-running the bidirectional DiT with full
attention over a whole 81-frame clip (21 latents) with the same number of steps. For a guided
model, also the throughput of the unguided 128x128 CPU preset (`cpu`) in the same run, as a ratio.

The default preset is the geometry-guided CPU model (`cpu-guided`: 128x96 latents' worth, frames
painted out to 256x192), so `motionworld bench --model` with no flags measures it."""
from __future__ import annotations

import resource
import statistics
import time
from dataclasses import replace

import numpy as np
import torch
from PIL import Image

from ..frames import video_frames
from ..model.attention import FullAttention
from ..model.conditioning import condition_channels, warp_at_model_size
from ..model.config import preset
from ..model.sampler import few_step, step_levels
from ..model.student import StreamingStudent
from ..raster.mesh_warp import MeshWarpRenderer


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


class DriftingGrid:
    """A 50x50 grid of tracks drifting and swaying like a walking camera (cheap, deterministic)."""

    def __init__(self, height: int, width: int, n: int = 50):
        xs, ys = np.meshgrid(np.linspace(0.5, width - 0.5, n), np.linspace(0.5, height - 0.5, n))
        self.base = np.stack([xs.ravel(), ys.ravel()], -1).astype(np.float32)
        self.centre = np.array([width / 2, height / 2], np.float32)
        self.frame = 0

    def next(self, frames: int):
        t = self.frame + np.arange(frames, dtype=np.float32)
        self.frame += frames
        zoom = 1 + 0.01 * (t % 48)[:, None, None]
        sway = np.stack([3 * np.sin(t / 9), 2 * np.cos(t / 13)], -1)[:, None]
        tracks = (self.base - self.centre) * zoom + self.centre + sway
        h, w = 2 * self.centre[1], 2 * self.centre[0]
        vis = (tracks[..., 0] >= 0) & (tracks[..., 0] < w) & (tracks[..., 1] >= 0) & (tracks[..., 1] < h)
        return tracks, vis


class SwayingWarp:
    """The warp of a picture on a wall with a box in front, the camera swaying sideways and stepping
    back and forth: rendered for real (`MeshWarpRenderer`, validity included) at the output size."""

    def __init__(self, picture: np.ndarray, mesh_step: int = 1):
        H, W = picture.shape[:2]
        depth = np.full((H, W), 4.0, np.float32)
        depth[H // 4:3 * H // 4, W // 3:2 * W // 3] = 2.0
        self.K = np.array([[W, 0, W / 2], [0, W, H / 2], [0, 0, 1]], np.float64)
        self.renderer = MeshWarpRenderer(mesh_step=mesh_step)
        self.renderer.start(picture, depth, self.K, np.eye(4))
        self.frame = 0

    def next(self, frames: int):
        t = self.frame + np.arange(frames)
        self.frame += frames
        c2w = np.tile(np.eye(4), (frames, 1, 1))
        c2w[:, 0, 3], c2w[:, 2, 3] = 0.2 * np.sin(t / 9), 0.3 * np.sin(t / 23)
        return self.renderer.step(c2w, self.K, validity=True)

    def close(self) -> None:
        self.renderer.release()


def _stream(student: StreamingStudent, image: np.ndarray, chunks: int, progress=None):
    grid = DriftingGrid(student.height, student.width)
    warp = None
    if student.sees_warp:
        H, W = student.output_size
        picture = np.asarray(Image.fromarray(image).resize((W, H), Image.Resampling.BILINEAR))
        warp = SwayingWarp(picture, student.config.vae.output_scale)  # as the neural backend renders it
    t0 = time.perf_counter()
    student.start(image, "a garden path between brick walls", seed=0)
    records, frames = [], 0
    for i in range(chunks):
        start = time.perf_counter()
        n = student.frames_for_next_chunk()
        timing = {}
        frames_in = {}
        if warp is not None:
            frames_in["warp"], frames_in["warp_valid"] = warp.next(n)
            timing["warp_render"] = time.perf_counter() - start
        out = student.step(*grid.next(n), **frames_in)
        elapsed = student._sync() - start
        frames += out.shape[0]
        records.append({"wall": elapsed, "frames": out.shape[0], **timing, **student.last_timing})
        if i == 0:
            first_latency = student._sync() - t0
        if i == 9:
            peak_10 = _peak_mb(student.device)
        if progress is not None:
            progress.update(1)
    if warp is not None:
        warp.close()
    return records, first_latency, (peak_10 if chunks >= 10 else _peak_mb(student.device))


def _steady_fps(records: list[dict]) -> float:
    steady = records[1:] if len(records) > 1 else records
    return sum(r["frames"] for r in steady) / sum(r["wall"] for r in steady)


@torch.no_grad()
def _bidirectional_clip(student: StreamingStudent, latents: int = 21) -> float:
    """Seconds to generate one whole clip with full attention over all its latents (no cache)."""
    m, dit = student.modules, student.modules.dit
    h, w = student.height // 8, student.width // 8
    frames = video_frames(latents)
    tracks, vis = DriftingGrid(student.height, student.width).next(frames)
    start = student._sync()
    appearance = None
    if student.config.tracks.appearance_dim:  # the cost does not depend on what the tracks carry
        appearance = torch.zeros(1, tracks.shape[1], student.config.tracks.appearance_dim, device=student.device)
    # nothing valid in the warp (the cost does not depend on it either), at the output size for a guided decoder
    warp = student._warp_inputs(None, None, frames) if student.sees_warp else ()
    model_warp = warp_at_model_size(*warp, student.config.vae.output_scale) if warp else (None, None)
    cond = condition_channels(m, student.config, (student.height, student.width),
                              torch.as_tensor(tracks)[None].to(student.device),
                              torch.as_tensor(vis)[None].to(student.device), student._codes_for(tracks.shape[1])[None],
                              latents, appearance=appearance, warp=model_warp[0], warp_valid=model_warp[1])
    pt, ph, pw = dit.config.patch_size
    full = FullAttention(dit.rope, latents // pt, h // ph, w // pw)
    shape = (1, dit.config.in_channels, latents, h, w)
    gen = torch.Generator().manual_seed(0)
    noise = lambda: torch.randn(shape, generator=gen).to(student.device)

    def predict(x, sigma):
        inputs = dit._inputs(x, cond)
        return dit._run(inputs, torch.full((1, latents), sigma * 1000.0, device=student.device), student.text_kv,
                        full).float()

    x0 = few_step(predict, noise(), student.sigmas, noise)
    m.vae.decode(x0.transpose(1, 2), warp=warp[0] if warp else None, valid=warp[1] if warp else None)
    return student._sync() - start


DEFAULT_PRESET = "cpu-guided"
UNGUIDED = {"cpu-guided": "cpu", "tiny-guided": "tiny"}  # what a guided preset is compared with (weights: cpu)


def bench_model(config: str = DEFAULT_PRESET, weights=None, height: int | None = None, width: int | None = None,
                steps: int = 3, chunk: int = 3, sink: int = 1, window: int | None = 1, chunks: int = 500,
                device: str = "cpu", dtype: str = "float32", compare: bool = True, compare_chunks: int = 40,
                progress: bool = True) -> dict:
    from tqdm import tqdm


    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    if weights is not None:
        student = StreamingStudent.load(weights, device=device, dtype=torch_dtype)
        cfg = student.config
    else:
        cfg = preset(config)
        cfg = replace(cfg, height=height or cfg.height, width=width or cfg.width)
        student = StreamingStudent(cfg, device=device, dtype=torch_dtype, seed=0)
    student.configure(chunk=chunk, sink=sink, window=window, steps=step_levels(steps))
    image = (np.random.default_rng(0).random((student.height, student.width, 3)) * 255).astype(np.uint8)
    total = chunks + (compare_chunks if compare else 0)
    bar = tqdm(total=total, desc="bench", unit="chunk", disable=not progress, leave=False)

    _, cold_latency, _ = _stream(student, image, 2)
    records, first_latency, peak_10 = _stream(student, image, chunks, bar)
    peak_end = _peak_mb(student.device)
    steady = records[1:] if len(records) > 1 else records
    parts = [k for k in records[-1] if k not in ("wall", "frames", "total")]  # in the order they run
    split = {k: statistics.mean(r.get(k, 0.0) for r in steady) for k in parts}
    early = [r["wall"] for r in records[10:60]] or [records[-1]["wall"]]
    late = [r["wall"] for r in records[-50:]]
    result = {
        "config": config if weights is None else str(weights),
        "device": str(student.device), "dtype": dtype, "height": student.output_size[0],
        "width": student.output_size[1], "model_height": student.height, "model_width": student.width,
        "guided": student.config.vae.guided, "sees_warp": student.sees_warp,
        "chunk": chunk, "sink": sink, "window": window, "steps": steps, "chunks": chunks,
        "parameters_m": round(sum(p.numel() for p in student.modules.parameters()) / 1e6, 2),
        "fps": _steady_fps(records),
        "first_frame_latency_s": first_latency,
        "first_frame_latency_cold_s": cold_latency,
        "chunk_latency_s": {"10": statistics.median(early), "last": statistics.median(late)},
        "latency_drift": statistics.median(late) / statistics.median(early) - 1,
        "chunk_latency_by_100_s": [statistics.median(r["wall"] for r in records[i:i + 100])
                                   for i in range(0, len(records), 100)],
        "split_s": split,
        "peak_rss_mb": peak_end,
        "peak_rss_mb_after_10_chunks": peak_10,
        "frames_per_chunk": records[-1]["frames"],
    }
    if compare:
        student.configure(chunk=chunk, sink=0, window=6, steps=step_levels(steps))
        w6, _, _ = _stream(student, image, compare_chunks, bar)
        result["compare"] = {f"c{chunk}s0w6_fps": _steady_fps(w6[7:])}
        clip = _bidirectional_clip(student)
        result["compare"]["bidirectional_81_frames_fps"] = 81 / clip
        result["compare"]["bidirectional_clip_s"] = clip
        result["ratio_to_s0w6"] = result["fps"] / result["compare"][f"c{chunk}s0w6_fps"]
        result["ratio_to_bidirectional"] = result["fps"] / result["compare"]["bidirectional_81_frames_fps"]
        if student.sees_warp and student.device.type == "cpu":  # what the warp and the bigger frames cost
            name = UNGUIDED.get(config if weights is None else "", "cpu")
            base = StreamingStudent(name, device=device, dtype=torch_dtype, seed=0)
            base.configure(chunk=chunk, sink=sink, window=window, steps=step_levels(steps))
            base_image = (np.random.default_rng(0).random((base.height, base.width, 3)) * 255).astype(np.uint8)
            unguided, _, _ = _stream(base, base_image, compare_chunks, bar)
            result["compare"]["unguided"] = {"preset": name, "width": base.width, "height": base.height,
                                             "fps": _steady_fps(unguided)}
            result["ratio_to_unguided"] = result["fps"] / result["compare"]["unguided"]["fps"]
    bar.close()
    return result


def format_report(r: dict) -> str:
    ms = lambda s: f"{1000 * s:.1f} ms"
    window = "grow" if r["window"] is None else r["window"]
    lines = [
        f"model {r['config']} ({r['parameters_m']} M parameters) on {r['device']} {r['dtype']}, "
        f"{r['width']}x{r['height']} frames"
        + (f" from a {r['model_width']}x{r['model_height']} model"
           if (r['width'], r['height']) != (r['model_width'], r['model_height']) else "")
        + (" that sees the warp of the picture" if r["sees_warp"] else "")
        + f", c{r['chunk']}s{r['sink']}w{window}, {r['steps']} steps, {r['chunks']} chunks",
        "per-chunk split (mean over steady chunks): " + ", ".join(f"{k} {ms(v)}" for k, v in r["split_s"].items()),
        f"throughput: {r['fps']:.1f} generated frames/s ({r['frames_per_chunk']} frames per chunk)",
        f"first-frame latency: {r['first_frame_latency_s']:.3f} s (the process's first stream: "
        f"{r['first_frame_latency_cold_s']:.3f} s)",
        f"chunk latency (median): chunks 10-59 {ms(r['chunk_latency_s']['10'])}, last 50 "
        f"{ms(r['chunk_latency_s']['last'])} ({100 * r['latency_drift']:+.1f} %); per 100 chunks: "
        + ", ".join(ms(v) for v in r["chunk_latency_by_100_s"]),
        f"peak memory: {r['peak_rss_mb_after_10_chunks']:.0f} MB after 10 chunks, {r['peak_rss_mb']:.0f} MB at the end",
    ]
    if "compare" in r:
        c = r["compare"]
        w6 = next(k for k in c if k.endswith("s0w6_fps"))
        lines.append(f"same run: {w6[:-4]} {c[w6]:.1f} frames/s (ratio {r['ratio_to_s0w6']:.2f}x); bidirectional "
                     f"81-frame clip {c['bidirectional_clip_s']:.2f} s = {c['bidirectional_81_frames_fps']:.1f} "
                     f"frames/s (ratio {r['ratio_to_bidirectional']:.2f}x)")
        if "unguided" in c:
            u = c["unguided"]
            lines.append(f"same run, the unguided {u['preset']} preset at {u['width']}x{u['height']}: {u['fps']:.1f} "
                         f"frames/s (this model runs at {r['ratio_to_unguided']:.2f}x its speed)")
    return "\n".join(lines)
