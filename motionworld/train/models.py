"""What the training stages build from a training config: the model's config (the preset with the
config's overrides) and the rectified-flow loss. Loading and saving the stages' results is
`model.bundles`; turning a batch into the DiT's inputs is `model.conditioning`."""
from __future__ import annotations

import dataclasses

import torch

from .. import plugins
from ..errors import MotionWorldError
from ..frames import is_whole_latents
from ..model.conditioning import frame_timesteps
from ..model.config import StudentConfig, preset
from .config import TrainConfig


def scale_for(c: StudentConfig, stage: str) -> int:
    """How many times the model's size a stage's clips are: a guided VAE's output scale for a stage
    that trains what paints at the output size (`Stage.output_scaled`: vae, guide and their
    subclasses), else 1."""
    return c.vae.output_scale if getattr(plugins.load(plugins.STAGES, stage), "output_scaled", False) else 1


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
    if cfg.warp_channels is not None:
        n = cfg.warp_channels
        c = dataclasses.replace(c, dit=dataclasses.replace(c.dit, warp_channels=n),
                                warp=dataclasses.replace(c.warp, out_channels=n or c.warp.out_channels))
    if c.dit.warp_channels and not cfg.data.warp:
        raise MotionWorldError("the model sees the warp of the picture (warp_channels) but data.warp is off")
    if cfg.track_occlusion is not None:
        c = dataclasses.replace(c, tracks=dataclasses.replace(c.tracks, occlusion=cfg.track_occlusion))
    if cfg.data.warp and cfg.data.warp_mesh_step != scale_for(c, cfg.stage):
        raise MotionWorldError(f"data.warp_mesh_step must be {scale_for(c, cfg.stage)} here: "
                               "inference puts one warp mesh vertex per model pixel "
                               "(a guided VAE's clips are output_scale times the model's size)")
    width, height = cfg.data.frame_size
    scale = scale_for(c, cfg.stage)  # a guided decoder learns to paint at its output size
    if (c.height * scale, c.width * scale) != (height, width):
        what = "a guided VAE paints" if scale != 1 else "the model works at"
        raise MotionWorldError(f"{what} {c.width * scale}x{c.height * scale} but the data (data.size, data.height) "
                               f"are {width}x{height}")
    if not is_whole_latents(cfg.data.frames, c.tracks.temporal_stride):
        raise MotionWorldError(f"data.frames must be 1 + {c.tracks.temporal_stride}k (whole latent frames), "
                               f"got {cfg.data.frames}")
    return c


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
