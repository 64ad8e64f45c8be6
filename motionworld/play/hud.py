"""The HUD's text: what is true about the stream now, as lines (pure: a front-end draws them)."""
from __future__ import annotations

import numpy as np

from ..geometry.camera import ypr_from_rotation


def hud_lines(*, backend: str, size: tuple[int, int] | None, phase: str, generation_fps: float | None,
              shown_fps: float, video_fps: float, latency_ms: float | None, timing, playback_rate: float,
              c2w: np.ndarray | None, cache: str, recording: bool, frame_index: int | None, messages=(),
              input_hz: float | None = None, depth: str = "", weights: str = "") -> list[str]:
    """`phase`: loading the model, first frame, playing or paused. `size` is (height, width) of the
    frames, None before the first; generated fps is frames per second of generation time, shown fps
    frames put up per second, video fps the rate the video is meant to play at."""
    what = backend + (f" {weights}" if weights else "")
    if size is not None:
        what += f"  {size[1]}x{size[0]}"
    lines = ["  ".join(x for x in (what, cache, f"depth {depth}" if depth else "") if x)]
    if size is None or phase != "playing":
        lines.append(phase.upper() if phase == "paused" else phase + " ...")
    gen = "--" if generation_fps is None else f"{generation_fps:.1f}"
    polled = "" if input_hz is None else f"   input {input_hz:.0f} Hz"
    latency = "" if latency_ms is None else f"   latency {latency_ms:.0f} ms"
    lines.append(f"generated {gen} fps   shown {shown_fps:.1f} fps   video {video_fps:g} fps{latency}{polled}")
    if timing is not None:
        split = "  ".join(f"{k} {v * 1000:.0f}" for k, v in timing.split.items())
        lines.append(f"chunk {timing.frames} frames in {timing.latency_s * 1000:.0f} ms ({split} ms)")
    if frame_index is not None:
        lines.append(f"frame {frame_index}")
    if playback_rate < 0.995:
        lines.append(f"generation slower than real time: playing at {playback_rate:.2f}x")
    if c2w is not None:
        yaw, pitch, _ = ypr_from_rotation(c2w[:3, :3])
        x, y, z = c2w[:3, 3]
        lines.append(f"camera ({x:+.2f}, {y:+.2f}, {z:+.2f})  heading {yaw:+.0f}  pitch {pitch:+.0f}")
    if recording:
        lines.append("REC")
    lines.extend(messages)
    lines.append("? keys")
    return lines
