"""The DiT's inputs. `condition_channels` is the one place the condition channels are put together
(the Wan I2V image channels | track features | warp features): the training stages and teacher
sampling reach it through `Conditioner` (a batch of whole clips, with condition dropout), the
streaming student chunk by chunk (`StreamingStudent.condition`), and the model benchmark for its
bidirectional clip. Also clean latents, text with dropout, and per-frame timesteps."""
from __future__ import annotations

import torch

from ..frames import latent_of_frame
from .config import StudentConfig
from .guided_decoder import downscaled
from .modules import TrackVideoModules
from .track_encoder import ID_RANGE, occluded_tracks, sample_appearance, sinusoidal_codes


def frame_timesteps(sigma: torch.Tensor, frames: int) -> torch.Tensor:
    """Per-frame DiT timesteps [B, F] (0..1000) for per-sample (or per-frame) sigmas; frame 0, the
    given first frame, is always clean."""
    t = sigma.float() * 1000.0
    t = t[:, None].expand(-1, frames).clone() if t.ndim == 1 else t.clone()
    t[:, 0] = 0.0
    return t


def condition_channels(modules: TrackVideoModules, config: StudentConfig, size: tuple[int, int],
                       tracks: torch.Tensor, visibility: torch.Tensor, codes: torch.Tensor, latent_frames: int, *,
                       occluded: torch.Tensor | None = None, appearance: torch.Tensor | None = None,
                       first_latent: torch.Tensor | None = None, warp: torch.Tensor | None = None,
                       warp_valid: torch.Tensor | None = None, from_start: bool = True,
                       warp_memory: dict | None = None, timing: dict | None = None, clock=None,
                       started: float | None = None) -> torch.Tensor:
    """The DiT's condition channels [B, image + tracks + warp, F, h, w] for F latent frames of frames
    `size` (height, width) in model pixels (the config's, or a picture-aspect model's for its picture).

    - tracks [B, T, N, 2] in model pixels with their three states: visible (`visibility` [B, T, N]),
      occluded (`occluded`, for a model with `tracks.occlusion`) and unspecified (neither); `codes`
      [B, N, code_dim] are their identities and `appearance` [B, N, appearance_dim] their first-frame
      looks (for a model with `tracks.appearance_dim`).
    - the image channels (`dit.image_channels`) mark latent frame 0 as given and carry
      `first_latent` [B, C, h, w] there; without it (a later chunk of a stream) they are zero.
    - the warp [B, T, 3, H, W] in [0, 1] and its validity [B, T, H, W] at the model's size (for a
      model with `dit.warp_channels`); `warp_memory` carries a warp encoder's state across chunks.
    `from_start` says the frames begin the video (the first chunk, or a whole clip). With `timing`,
    the seconds (by `clock`) the track and warp features took go in it as "tracks" and "warp" (the
    tracks' from `started` where the caller began on them earlier)."""
    c = config
    start = (clock() if started is None else started) if timing is not None else 0.0
    feats = modules.tracks(tracks, visibility, codes, *size, from_start=from_start,
                           appearance=appearance, occluded=occluded)
    parts = [feats]  # the DiT's order: image | tracks | warp
    if c.dit.image_channels:
        B, _, _, h, w = feats.shape
        image = feats.new_zeros(B, c.dit.image_channels, latent_frames, h, w)
        if first_latent is not None:
            image[:, :4, 0] = 1
            image[:, 4:, 0] = first_latent.to(feats.dtype)
        parts.insert(0, image)
    if timing is not None:
        now = clock()  # one sync on a GPU, not two
        timing["tracks"], start = now - start, now
    if c.dit.warp_channels:
        parts.append(modules.warp(warp, warp_valid, from_start=from_start, memory=warp_memory).to(feats.dtype))
        if timing is not None:
            timing["warp"] = clock() - start
    return parts[0] if len(parts) == 1 else torch.cat(parts, 1)


def warp_at_model_size(warp: torch.Tensor, valid: torch.Tensor, output_scale: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A warp [B, T, 3, H, W] and validity [B, T, H, W] at a guided decoder's output size, brought to
    the model's size (1/output_scale), where the DiT reads them."""
    return downscaled(warp, output_scale), downscaled(valid[:, :, None], output_scale)[:, :, 0]


class Conditioner:
    """Batch -> (clean latents, condition channels, text embeddings), with condition dropout."""

    def __init__(self, modules: TrackVideoModules, config: StudentConfig):
        self.m, self.c = modules, config

    @torch.no_grad()
    def latents(self, video: torch.Tensor) -> torch.Tensor:
        """video [B, T, 3, H, W] in [0, 1] -> latents [B, C, F, h, w] (VAE frozen)."""
        return self.m.vae.encode(video).transpose(1, 2).float()

    def condition(self, batch: dict, latents: torch.Tensor, gen: torch.Generator, drop_tracks: torch.Tensor,
                  drop_latent_frames: torch.Tensor | None = None,
                  drop_warp: torch.Tensor | None = None) -> torch.Tensor:
        """Track features (+ the Wan I2V image channels) [B, extra, F, h, w].

        drop_tracks [B] bool zeroes a sample's tracks; drop_latent_frames [B, F] bool zeroes the
        tracks of single latent frames (the video frames they cover). Dropped tracks are unspecified,
        not occluded: with `tracks.occlusion` the ground truth's occluded tracks (`occluded_tracks`)
        are marked, and a drop clears both. With `dit.warp_channels`, the warp's features follow
        the tracks' (`warp`); drop_warp [B] bool hides a sample's warp."""
        c = self.c
        B, _, F, h, w = latents.shape
        tracks, vis = batch["tracks"], batch["visibility"].clone()
        occluded = occluded_tracks(tracks, vis, c.height, c.width) if c.tracks.occlusion else None
        kept = torch.ones_like(vis)
        kept[drop_tracks.to(vis.device)] = False
        if drop_latent_frames is not None:
            frame_of = torch.clamp(latent_of_frame(torch.arange(vis.shape[1]), c.tracks.temporal_stride), max=F - 1)
            kept &= ~drop_latent_frames[:, frame_of, None].to(vis.device)
        vis &= kept
        if occluded is not None:
            occluded &= kept
        ids = torch.stack([torch.randperm(ID_RANGE, generator=gen)[:tracks.shape[2]] for _ in range(B)])
        codes = sinusoidal_codes(ids.reshape(-1), c.tracks.code_dim).reshape(B, -1, c.tracks.code_dim).to(vis.device)
        appearance = None
        if c.tracks.appearance_dim:  # the first latent frame is the given picture in every stage
            appearance = sample_appearance(latents[:, :, 0], tracks[:, 0], c.tracks.spatial_stride)
        warp, valid = self.warp_inputs(batch, latents, drop_warp) if c.dit.warp_channels else (None, None)
        return condition_channels(self.m, c, (c.height, c.width), tracks, vis, codes, F, occluded=occluded,
                                  appearance=appearance, first_latent=latents[:, :, 0], warp=warp, warp_valid=valid)

    def warp_inputs(self, batch: dict, latents: torch.Tensor,
                    drop: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's `warp` [B, T, 3, H, W] in [0, 1] and `warp_valid` [B, T, H, W] on the latents'
        device. A batch without them, and the samples `drop` [B] marks, get validity 0 everywhere:
        the model is told the geometry gives nothing."""
        T = batch["tracks"].shape[1]
        B, H, W = latents.shape[0], self.c.height, self.c.width
        warp = batch.get("warp")
        if warp is None:
            warp, valid = latents.new_zeros(B, T, 3, H, W), latents.new_zeros(B, T, H, W)
        else:
            valid = batch["warp_valid"].to(latents.dtype).clone()
            if drop is not None:
                valid[drop.to(valid.device)] = 0
        return warp.to(latents.device), valid.to(latents.device)

    def text(self, captions: list[str], drop: torch.Tensor) -> torch.Tensor:
        return self.m.text([("" if d else cap) for cap, d in zip(captions, drop.tolist())])
