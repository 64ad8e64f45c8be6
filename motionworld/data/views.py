"""What a model sees of a clip made at its output size: a guided decoder paints `scale` times the
DiT's size, so the DiT reads the picture resized to its own size (as the neural backend resizes a
scene's picture) and the tracks in its own pixels; `stream_clip` streams a clip through a student
that way, as the neural backend streams a scene. Shared by the evaluation and the guide stage."""
from __future__ import annotations

import numpy as np

from ..frames import chunk_frames


def model_view(item: dict, scale: int, frames: bool = False) -> dict:
    """The item as a model painting out `scale` x its size sees it: tracks in its pixels, the first
    frame (with `frames`, every frame) resized to its size as the neural backend resizes pictures."""
    if scale == 1:
        return item
    from PIL import Image

    video = item["video"] if frames else item["video"][:1]
    H, W = item["video"].shape[1] // scale, item["video"].shape[2] // scale
    small = np.stack([np.asarray(Image.fromarray(f).resize((W, H), Image.Resampling.LANCZOS)) for f in video])
    # pixel (x, y) of a frame `scale` x bigger -> the model's: centres map to centres
    return {**item, "video": small, "tracks": (item["tracks"] + 0.5) / scale - 0.5}


def stream_clip(student, item: dict, tracks=None, visibility=None, seed: int = 0, warp=None,
                finish=None) -> np.ndarray:
    """Stream the item (video uint8 [T, H, W, 3] at the student's output size, tracks and visibility
    in its pixels, caption) through the student (its current cache layout and levels), chunk by
    chunk, for as many whole chunks as the clip holds: its DiT gets `model_view` of it. A student
    that sees the warp of the picture gets `warp` ((frames uint8 [T, H, W, 3], validity [T, H, W]),
    none: nothing valid). `finish` (e.g. `hard_paste`) replaces its guided decoder for this stream."""
    tracks = item["tracks"] if tracks is None else tracks
    visibility = item["visibility"] if visibility is None else visibility
    video = item["video"]
    scale = student.config.vae.output_scale
    if len(video) < chunk_frames(0, student.layout.chunk):  # (the student may hold a previous stream's cache)
        raise ValueError(f"a clip of {len(video)} frames is shorter than the student's first chunk")
    H, W = video.shape[1:3]
    if H % (16 * scale) or W % (16 * scale) or (student.config.aspect == "fixed" and (H, W) != student.output_size):
        raise ValueError(f"clip is {W}x{H}, the student generates {student.output_size[1]}x{student.output_size[0]}")
    view = model_view({**item, "tracks": np.asarray(tracks, np.float32)}, scale)
    tracks = view["tracks"]
    student.start(view["video"][0], item.get("caption", ""), seed=seed)
    if finish is not None:
        student.decoder.finish = finish
    out, t = [], 0
    while t < len(video):
        n = student.frames_for_next_chunk()
        if t + n > len(video):
            break
        frames, valid = (warp[0][t:t + n], warp[1][t:t + n]) if warp is not None else (None, None)
        out.append(student.step(tracks[t:t + n], visibility[t:t + n], warp=frames, warp_valid=valid))
        t += n
    return np.concatenate(out)
