"""What a model sees of a clip made at its output size: a guided decoder paints `scale` times the
DiT's size, so the DiT reads the picture resized to its own size (as the neural backend resizes a
scene's picture) and the tracks in its own pixels. Shared by the evaluation and the guide stage."""
from __future__ import annotations

import numpy as np


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
