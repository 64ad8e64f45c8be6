"""Turning a batch into the DiT's inputs: clean latents, condition channels (tracks, the Wan I2V
image channels) and text, with condition dropout; and per-frame timesteps. Shared by the training
stages and by teacher sampling."""
from __future__ import annotations

import torch

from ..frames import latent_of_frame
from .config import StudentConfig
from .modules import TrackVideoModules
from .track_encoder import ID_RANGE, occluded_tracks, sample_appearance, sinusoidal_codes


def frame_timesteps(sigma: torch.Tensor, frames: int) -> torch.Tensor:
    """Per-frame DiT timesteps [B, F] (0..1000) for per-sample (or per-frame) sigmas; frame 0, the
    given first frame, is always clean."""
    t = sigma.float() * 1000.0
    t = t[:, None].expand(-1, frames).clone() if t.ndim == 1 else t.clone()
    t[:, 0] = 0.0
    return t


class Conditioner:
    """Batch -> (clean latents, condition channels, text embeddings), with condition dropout."""

    def __init__(self, modules: TrackVideoModules, config: StudentConfig):
        self.m, self.c = modules, config

    @torch.no_grad()
    def latents(self, video: torch.Tensor) -> torch.Tensor:
        """video [B, T, 3, H, W] in [0, 1] -> latents [B, C, F, h, w] (VAE frozen)."""
        return self.m.vae.encode(video).transpose(1, 2).float()

    def condition(self, batch: dict, latents: torch.Tensor, gen: torch.Generator, drop_tracks: torch.Tensor,
                  drop_latent_frames: torch.Tensor | None = None, drop_warp: torch.Tensor | None = None) -> torch.Tensor:
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
        feats = self.m.tracks(tracks, vis, codes, c.height, c.width, from_start=True, appearance=appearance,
                              occluded=occluded)
        if c.dit.warp_channels:
            feats = torch.cat([feats, self.warp(batch, latents, drop_warp)], 1)
        if not c.dit.image_channels:
            return feats
        image = latents.new_zeros(B, c.dit.image_channels, F, h, w)
        image[:, :4, 0] = 1
        image[:, 4:, 0] = latents[:, :, 0]
        return torch.cat([image, feats], 1)  # the DiT's order: image | tracks | warp

    def warp(self, batch: dict, latents: torch.Tensor, drop: torch.Tensor | None = None) -> torch.Tensor:
        """Warp features [B, warp_channels, F, h, w] from the batch's `warp` [B, T, 3, H, W] in [0, 1]
        and `warp_valid` [B, T, H, W]. A batch without them, and the samples `drop` [B] marks, get
        validity 0 everywhere: the model is told the geometry gives nothing."""
        T = batch["tracks"].shape[1]
        B, H, W = latents.shape[0], self.c.height, self.c.width
        warp = batch.get("warp")
        if warp is None:
            warp, valid = latents.new_zeros(B, T, 3, H, W), latents.new_zeros(B, T, H, W)
        else:
            valid = batch["warp_valid"].to(latents.dtype).clone()
            if drop is not None:
                valid[drop.to(valid.device)] = 0
        return self.m.warp(warp.to(latents.device), valid.to(latents.device), from_start=True)

    def text(self, captions: list[str], drop: torch.Tensor) -> torch.Tensor:
        return self.m.text([("" if d else cap) for cap, d in zip(captions, drop.tolist())])
