"""Model pieces shared by the training stages: configs from a training config, loading the results
of earlier stages, and turning a batch into the DiT's inputs (latents, conditions, text)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from ..errors import MotionWorldError
from ..model.config import StudentConfig, VAEConfig, preset
from ..model.student import StudentModules
from ..model.tiny_vae import TinyVAE
from ..model.track_encoder import ID_RANGE, sample_appearance, sinusoidal_codes
from ..model.weights import build_checked, load_bundle, save_bundle
from .config import TrainConfig

VAE_KIND, TEACHER_KIND = "motionworld-vae", "motionworld-teacher"


def student_config(cfg: TrainConfig) -> StudentConfig:
    c = preset(cfg.model)
    if cfg.vae_model is not None:
        vae = preset(cfg.vae_model).vae
        c = dataclasses.replace(c, vae=vae, dit=dataclasses.replace(c.dit, in_channels=vae.latent_channels,
                                                                     out_channels=vae.latent_channels),
                                tracks=dataclasses.replace(c.tracks, appearance_dim=vae.latent_channels
                                                           if c.tracks.appearance_dim else 0))
    if cfg.size is not None:
        c = dataclasses.replace(c, height=cfg.size, width=cfg.size)
    if cfg.chunk is not None:
        c = dataclasses.replace(c, chunk=cfg.chunk)
    if cfg.shift is not None:
        c = dataclasses.replace(c, shift=cfg.shift)
    if cfg.track_appearance is not None:
        dim = c.vae.latent_channels if cfg.track_appearance else 0
        c = dataclasses.replace(c, tracks=dataclasses.replace(c.tracks, appearance_dim=dim))
    if (c.height, c.width) != (cfg.data.size, cfg.data.size):
        raise MotionWorldError(f"the model works at {c.width}x{c.height} but data.size is {cfg.data.size}")
    if (cfg.data.frames - 1) % 4:
        raise MotionWorldError(f"data.frames must be 1 + 4k (whole latent frames), got {cfg.data.frames}")
    return c


def load_vae(folder: str | Path, expect: VAEConfig | None = None) -> TinyVAE:
    tensors, entry = load_bundle(folder, "vae.safetensors", kind=VAE_KIND)
    try:
        config = VAEConfig.from_dict(entry["config"])
    except (TypeError, ValueError) as e:
        raise MotionWorldError(f"{Path(folder) / 'MANIFEST.json'}: bad VAE config ({e})") from None
    def measured_removed(c: VAEConfig) -> VAEConfig:  # statistics a VAE measures on its data, not its shape
        return dataclasses.replace(c, latent_mean=(), latent_std=(), colour_mean=(), colour_std=())

    bare = measured_removed(config)
    if expect is not None and bare != measured_removed(expect):
        raise MotionWorldError(f"{folder}: the VAE there has config {bare}, the model needs {expect}")
    return build_checked(lambda: TinyVAE(config), tensors, str(Path(folder) / "vae.safetensors"))


def save_vae(folder: str | Path, vae: TinyVAE, extra: dict) -> Path:
    return save_bundle(folder, vae.state_dict(), vae.config.to_dict(), kind=VAE_KIND, filename="vae.safetensors",
                       extra=extra)


def load_modules(folder: str | Path, kind: str) -> tuple[StudentModules, StudentConfig]:
    """A teacher ("motionworld-teacher") or student ("motionworld-student") exported by a stage."""
    filename = "teacher.safetensors" if kind == TEACHER_KIND else "student.safetensors"
    tensors, entry = load_bundle(folder, filename, kind=kind)
    try:
        config = StudentConfig.from_dict(entry["config"])
    except (TypeError, ValueError) as e:
        raise MotionWorldError(f"{Path(folder) / 'MANIFEST.json'}: bad config ({e})") from None
    return build_checked(lambda: StudentModules(config), tensors, str(Path(folder) / filename)), config


def save_teacher(folder: str | Path, modules: StudentModules, config: StudentConfig, extra: dict) -> Path:
    return save_bundle(folder, modules.state_dict(), config.to_dict(), kind=TEACHER_KIND,
                       filename="teacher.safetensors", extra=extra)


def frame_timesteps(sigma: torch.Tensor, frames: int) -> torch.Tensor:
    """Per-frame DiT timesteps [B, F] (0..1000) for per-sample (or per-frame) sigmas; frame 0, the
    given first frame, is always clean."""
    t = sigma.float() * 1000.0
    t = t[:, None].expand(-1, frames).clone() if t.ndim == 1 else t.clone()
    t[:, 0] = 0.0
    return t


def flow_matching_loss(dit, x0: torch.Tensor, sigma: torch.Tensor, condition: torch.Tensor, text: torch.Tensor,
                       gen: torch.Generator) -> torch.Tensor:
    """Rectified-flow loss: x = (1 - s) x0 + s e, the model predicts v = e - x0; latent frame 0 is
    given clean and not scored."""
    noise = torch.randn(x0.shape, generator=gen).to(x0.device)  # CPU generator: the same draws on any device
    sigma = sigma.to(x0.device)
    s = sigma[:, None, None, None, None]
    x = (1 - s) * x0 + s * noise
    x[:, :, 0] = x0[:, :, 0]
    v = dit(x, frame_timesteps(sigma, x0.shape[2]), text, condition=condition).float()
    return (v[:, :, 1:] - (noise - x0)[:, :, 1:]).pow(2).mean()


class Conditioner:
    """Batch -> (clean latents, condition channels, text embeddings), with condition dropout."""

    def __init__(self, modules: StudentModules, config: StudentConfig):
        self.m, self.c = modules, config

    @torch.no_grad()
    def latents(self, video: torch.Tensor) -> torch.Tensor:
        """video [B, T, 3, H, W] in [0, 1] -> latents [B, C, F, h, w] (VAE frozen)."""
        return self.m.vae.encode(video).transpose(1, 2).float()

    def condition(self, batch: dict, latents: torch.Tensor, gen: torch.Generator, drop_tracks: torch.Tensor,
                  drop_latent_frames: torch.Tensor | None = None) -> torch.Tensor:
        """Track features (+ the Wan I2V image channels) [B, extra, F, h, w].

        drop_tracks [B] bool zeroes a sample's tracks; drop_latent_frames [B, F] bool zeroes the
        tracks of single latent frames (the video frames they cover)."""
        c = self.c
        B, _, F, h, w = latents.shape
        tracks, vis = batch["tracks"], batch["visibility"].clone()
        vis[drop_tracks.to(vis.device)] = False
        if drop_latent_frames is not None:
            frame_of = torch.clamp((torch.arange(vis.shape[1]) + 3) // 4, max=F - 1)  # video frame -> latent
            vis &= ~drop_latent_frames[:, frame_of, None].to(vis.device)
        ids = torch.stack([torch.randperm(ID_RANGE, generator=gen)[:tracks.shape[2]] for _ in range(B)])
        codes = sinusoidal_codes(ids.reshape(-1), c.tracks.code_dim).reshape(B, -1, c.tracks.code_dim).to(vis.device)
        appearance = None
        if c.tracks.appearance_dim:  # the first latent frame is the given picture in every stage
            appearance = sample_appearance(latents[:, :, 0], tracks[:, 0], c.tracks.spatial_stride)
        feats = self.m.tracks(tracks, vis, codes, c.height, c.width, from_start=True, appearance=appearance)
        if not c.dit.image_channels:
            return feats
        image = latents.new_zeros(B, c.dit.image_channels, F, h, w)
        image[:, :4, 0] = 1
        image[:, 4:, 0] = latents[:, :, 0]
        return torch.cat([image, feats], 1)

    def text(self, captions: list[str], drop: torch.Tensor) -> torch.Tensor:
        return self.m.text([("" if d else cap) for cap, d in zip(captions, drop.tolist())])
