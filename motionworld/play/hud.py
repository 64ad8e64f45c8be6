"""The HUD's text: figures about the stream, as lines (pure: the window draws them)."""
from __future__ import annotations

import numpy as np

from ..geometry.camera import ypr_from_rotation


def hud_lines(*, backend: str, size: tuple[int, int], generation_fps: float | None, display_fps: float,
              timing, playback_rate: float, c2w: np.ndarray | None, cache: str, paused: bool, recording: bool,
              frame_index: int, messages: list[str] = (), input_hz: float | None = None,
              depth: str = "") -> list[str]:
    h, w = size
    gen = "--" if generation_fps is None else f"{generation_fps:5.1f}"
    polled = "" if input_hz is None else f"   input {input_hz:3.0f} Hz"
    depth = f"  depth {depth}" if depth else ""
    lines = [f"{backend}  {w}x{h}  {cache}{depth}",
             f"generated {gen} fps   display {display_fps:3.0f} fps{polled}   frame {frame_index}"]
    if timing is not None:
        split = "  ".join(f"{k} {v * 1000:.0f}" for k, v in timing.split.items())
        lines.append(f"chunk {timing.frames} frames in {timing.latency_s * 1000:.0f} ms ({split} ms)")
    if playback_rate < 0.995:
        lines.append(f"generation slower than real time: playing at {playback_rate:.2f}x")
    if c2w is not None:
        yaw, pitch, _ = ypr_from_rotation(c2w[:3, :3])
        x, y, z = c2w[:3, 3]
        lines.append(f"camera ({x:+.2f}, {y:+.2f}, {z:+.2f})  heading {yaw:+.0f}  pitch {pitch:+.0f}")
    status = [s for s, on in (("PAUSED", paused), ("REC", recording)) if on]
    if status:
        lines.append("  ".join(status))
    lines.extend(messages)
    lines.append("? keys")
    return lines
