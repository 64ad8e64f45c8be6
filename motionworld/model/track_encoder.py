"""Track encoder (MotionStream's track head, no ControlNet): every track carries a sinusoidal code
of a random ID; the code is written at the track's latent cell (pixel / VAE stride) times its
visibility, four consecutive video frames are stacked on channels (the VAE's 4x temporal packing;
latent 0 is the first frame alone, repeated like the VAE pads it), and 1x1x1 convs map the result
to the DiT's track channels. Off-screen, NaN and invisible tracks write nothing.

Three states (with `TrackConfig.occlusion`): a visible track writes its code; an occluded one (on
screen, behind a surface: the engine's z-test knows where it is) counts in an occlusion channel; an
unspecified one (no control there: off screen, NaN, or dropped in training) writes nothing. Where
the caller gives no occlusion mask, `occluded_tracks` derives it: finite, on screen, not visible.

With `appearance_dim` (our addition, not in MotionStream) each track also carries the first frame's
latent sampled where it starts; per cell these are averaged and a coverage channel (1 where any
visible track landed) follows, so each frame's map is the first frame moved by the tracks, with
holes marked. A small model trained briefly learns to copy a feature from the same cell far more
easily than to match random IDs across frames through attention."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import TrackConfig

ID_RANGE = 4096  # IDs are drawn without replacement from [0, ID_RANGE)


def sinusoidal_codes(ids: torch.Tensor, dim: int) -> torch.Tensor:
    """[N] integer IDs -> [N, dim] codes [sin | cos] at geometric frequencies."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=ids.device) / half)
    angles = ids.float()[:, None] * freqs
    return torch.cat([angles.sin(), angles.cos()], -1)


def draw_ids(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    if n > ID_RANGE:
        raise ValueError(f"at most {ID_RANGE} tracks can carry distinct IDs, got {n}")
    return torch.randperm(ID_RANGE, generator=generator)[:n]


def sample_appearance(first_latent: torch.Tensor, start: torch.Tensor, stride: int) -> torch.Tensor:
    """The first frame's latent [B, C, h, w] sampled (bilinear) at each track's first-frame pixel
    position [B, N, 2] -> [B, N, C]. Pixel centres are whole numbers (the picture spans -0.5 to
    W - 0.5), so latent cell j's centre is pixel stride * j + (stride - 1) / 2. Near the border the
    edge cells are repeated; NaN or off-picture starts give zeros."""
    B, C, h, w = first_latent.shape
    xy = start.float()
    size = torch.tensor([w * stride, h * stride], dtype=xy.dtype, device=xy.device)
    inside = (torch.isfinite(xy) & (xy >= -0.5) & (xy < size - 0.5)).all(-1)
    norm = torch.where(inside[..., None], 2 * (xy + 0.5) / size - 1, torch.zeros_like(xy))
    sampled = F.grid_sample(first_latent.float(), norm[:, :, None], mode="bilinear", padding_mode="border",
                            align_corners=False)  # [B, C, N, 1]
    return sampled[..., 0].transpose(1, 2) * inside[..., None]


def occluded_tracks(tracks: torch.Tensor, visibility: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Tracks known to be hidden [..., T, N] bool: a finite position on the picture that is not
    visible (the engine and the synthetic ground truth give NaN behind the camera and positions off
    screen for points outside the view, so the rest of the invisible ones are occluded)."""
    xy = tracks.float()
    finite = torch.isfinite(xy).all(-1)
    xy = torch.nan_to_num(xy, nan=-1.0, posinf=-1.0, neginf=-1.0)
    inside = (xy[..., 0] >= 0) & (xy[..., 0] < width) & (xy[..., 1] >= 0) & (xy[..., 1] < height)
    return finite & inside & ~visibility.bool()


class TrackEncoder(nn.Module):
    def __init__(self, config: TrackConfig):
        super().__init__()
        self.config = config
        c = config
        per_frame = c.code_dim + (c.appearance_dim + 1 if c.appearance_dim else 0) + int(c.occlusion)
        self.proj = nn.Sequential(nn.Conv3d(per_frame * c.temporal_stride, c.hidden, 1), nn.SiLU(),
                                  nn.Conv3d(c.hidden, c.out_channels, 1))

    def rasterize(self, tracks: torch.Tensor, visibility: torch.Tensor, codes: torch.Tensor,
                  height: int, width: int, appearance: torch.Tensor | None = None,
                  occluded: torch.Tensor | None = None) -> torch.Tensor:
        """tracks [B, T, N, 2] pixel (x, y), visibility [B, T, N], codes [B, N, d] (and appearance
        [B, N, A], occluded [B, T, N]) -> [B, T, d (+ A + 1) (+ 1), h, w]: ID codes summed per cell,
        appearance averaged, coverage, and (with `occlusion`) the count of occluded tracks."""
        s = self.config.spatial_stride
        b, t = tracks.shape[:2]
        h, w = height // s, width // s
        xy = tracks.float()
        finite = torch.isfinite(xy).all(-1)
        xy = torch.nan_to_num(xy, nan=-1.0, posinf=-1.0, neginf=-1.0)
        inside = (xy[..., 0] >= 0) & (xy[..., 0] < w * s) & (xy[..., 1] >= 0) & (xy[..., 1] < h * s)
        valid = (visibility.bool() & finite & inside)[..., None].float()
        cell = (xy[..., 1] // s).long().clamp(0, h - 1) * w + (xy[..., 0] // s).long().clamp(0, w - 1)
        per_track = codes.to(torch.float32)
        if appearance is not None:
            ones = appearance.new_ones(*appearance.shape[:2], 1)
            per_track = torch.cat([per_track, appearance.to(torch.float32), ones], -1)
        values = per_track[:, None] * valid  # [B, T, N, d (+ A + 1)]
        grid = torch.zeros(b, t, h * w, values.shape[-1], device=tracks.device)
        grid.scatter_add_(2, cell[..., None].expand_as(values), values)
        if appearance is not None:
            d, count = codes.shape[-1], grid[..., -1:]
            grid = torch.cat([grid[..., :d], grid[..., d:-1] / count.clamp(min=1), (count > 0).float()], -1)
        if self.config.occlusion:
            hidden = torch.zeros(b, t, h * w, 1, device=tracks.device)
            if occluded is not None:
                known = (occluded.bool() & ~visibility.bool() & finite & inside)[..., None].float()
                hidden.scatter_add_(2, cell[..., None], known)
            grid = torch.cat([grid, hidden], -1)
        return grid.transpose(2, 3).reshape(b, t, -1, h, w)

    def pack(self, frames: torch.Tensor, from_start: bool) -> torch.Tensor:
        """[B, T, d, h, w] video-rate maps -> [B, 4d, T_latent, h, w]; with from_start the first frame
        alone forms latent 0 (repeated 4x)."""
        k = self.config.temporal_stride
        if from_start:
            frames = torch.cat([frames[:, :1].expand(-1, k - 1, -1, -1, -1), frames], 1)
        b, t, d, h, w = frames.shape
        if t % k:
            raise ValueError(f"track frames do not fill whole latent frames ({t} after padding, stride {k})")
        return frames.reshape(b, t // k, k * d, h, w).transpose(1, 2)

    def forward(self, tracks: torch.Tensor, visibility: torch.Tensor, codes: torch.Tensor,
                height: int, width: int, from_start: bool, appearance: torch.Tensor | None = None,
                occluded: torch.Tensor | None = None) -> torch.Tensor:
        """Track features [B, out_channels, T_latent, h, w] for a span of video frames. `appearance`
        [B, N, appearance_dim] (see `sample_appearance`) is required when the config has one.
        `occluded` [B, T, N] marks tracks known to be hidden (used with `occlusion`; None: none are)."""
        if tracks.ndim == 3:
            tracks, visibility, codes = tracks[None], visibility[None], codes if codes.ndim == 3 else codes[None]
            occluded = occluded[None] if occluded is not None and occluded.ndim == 2 else occluded
        if codes.ndim == 2:
            codes = codes[None].expand(tracks.shape[0], -1, -1)
        if tracks.shape[-1] != 2 or visibility.shape != tracks.shape[:-1] or codes.shape[1] != tracks.shape[2]:
            raise ValueError(f"tracks must be [T, N, 2] with visibility [T, N] and one code per track; got "
                             f"{tuple(tracks.shape)}, {tuple(visibility.shape)}, {tuple(codes.shape)}")
        want = self.config.appearance_dim
        if want and (appearance is None or tuple(appearance.shape) != (tracks.shape[0], tracks.shape[2], want)):
            got = None if appearance is None else tuple(appearance.shape)
            raise ValueError(f"this track encoder needs appearance [B, N, {want}] for {tracks.shape[2]} tracks, "
                             f"got {got}")
        if not want and appearance is not None:
            raise ValueError("this track encoder has no appearance channels (appearance_dim 0)")
        if occluded is not None and occluded.shape != visibility.shape:
            raise ValueError(f"occluded must be shaped like visibility {tuple(visibility.shape)}, "
                             f"got {tuple(occluded.shape)}")
        maps = self.rasterize(tracks, visibility, codes, height, width, appearance, occluded)
        packed = self.pack(maps, from_start).to(self.proj[0].weight.dtype)
        return self.proj(packed)
