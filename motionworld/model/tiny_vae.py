"""Tiny video autoencoder with TAEHV's design: per-frame 2-D convs, MemBlocks that also see their
own input from the previous frame, TPool (stack `stride` frames on channels, 1x1 conv) and TGrow
(the reverse). 8x spatial, 4x temporal, pixels [B, T, 3, H, W] in [0, 1].

Frame alignment: the encoder puts 3 copies of the first frame in front, so latent 0 is the first
frame alone and latent k >= 1 covers frames 4k-3..4k (Wan's grouping); the decoder turns T latents
into 4T frames and drops the first 3, giving 4T-3. `StreamingDecoder` decodes any number of
latents at a time with O(1) state and returns exactly what the whole-clip decode returns.

With a guided decoder (`VAEConfig.guide_widths`) the decode also takes each output frame's warp of
the picture and its validity, and paints `output_scale` times the decode's size
(`model.guided_decoder`)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .colour import from_opponent, opponent
from .config import VAEConfig
from .guided_decoder import GuidedDecoder


def conv(n_in: int, n_out: int, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=bias)


class Clamp(nn.Module):
    def forward(self, x):
        return torch.tanh(x / 3) * 3


class MemBlock(nn.Module):
    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.conv = nn.Sequential(conv(2 * n_in, n_out), nn.ReLU(), conv(n_out, n_out), nn.ReLU(), conv(n_out, n_out))
        self.skip = nn.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out else nn.Identity()

    def forward(self, x: torch.Tensor, past: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(torch.cat([x, past], 1)) + self.skip(x))


class TPool(nn.Module):
    def __init__(self, n_f: int, stride: int):
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(n_f * stride, n_f, 1, bias=False)


class TGrow(nn.Module):
    def __init__(self, n_f: int, stride: int):
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(n_f, n_f * stride, 1, bias=False)


def build_encoder(c: VAEConfig) -> nn.Sequential:
    n = c.encoder_width
    layers: list[nn.Module] = [conv(3, n), nn.ReLU()]
    for down in c.encoder_time_downscale:
        layers += [TPool(n, 2 if down else 1), conv(n, n, stride=2, bias=False)]
        layers += [MemBlock(n, n) for _ in range(c.encoder_blocks)]
    layers.append(conv(n, c.latent_channels))
    return nn.Sequential(*layers)


def build_decoder(c: VAEConfig) -> nn.Sequential:
    w = c.decoder_widths
    layers: list[nn.Module] = [Clamp(), conv(c.latent_channels, w[0]), nn.ReLU()]
    for i, up in enumerate(c.decoder_time_upscale):
        layers += [MemBlock(w[i], w[i]) for _ in range(c.decoder_blocks)]
        layers += [nn.Upsample(scale_factor=2), TGrow(w[i], 2 if up else 1), conv(w[i], w[i + 1], bias=False)]
    layers += [nn.ReLU(), conv(w[-1], 3)]
    return nn.Sequential(*layers)


def _run(seq: nn.Sequential, x: torch.Tensor, memory: dict | None) -> torch.Tensor:
    """x [B, T, C, H, W] through the blocks. `memory` maps a MemBlock's index to its last input frame
    (carried between calls for streaming); None means a whole clip starting from zeros."""
    for i, layer in enumerate(seq):
        b, t = x.shape[:2]
        if isinstance(layer, MemBlock):
            first = memory.get(i) if memory is not None else None
            if first is None:
                first = torch.zeros_like(x[:, :1])
            past = torch.cat([first, x[:, :-1]], 1)
            if memory is not None:
                memory[i] = x[:, -1:]
            x = layer(x.flatten(0, 1), past.flatten(0, 1)).unflatten(0, (b, t))
        elif isinstance(layer, TPool):
            if t % layer.stride:
                raise ValueError(f"TPool needs frames in groups of {layer.stride}, got {t}")
            x = layer.conv(x.reshape(b * t // layer.stride, layer.stride * x.shape[2], *x.shape[3:]))
            x = x.unflatten(0, (b, t // layer.stride))
        elif isinstance(layer, TGrow):
            y = layer.conv(x.flatten(0, 1))
            x = y.reshape(b, t * layer.stride, y.shape[1] // layer.stride, *y.shape[2:])
        else:
            x = layer(x.flatten(0, 1)).unflatten(0, (b, t))
    return x


def to_uint8_frames(video: torch.Tensor) -> torch.Tensor:
    """Decoded frames [T, 3, H, W] in [0, 1] -> uint8 [T, H, W, 3] on the CPU (rounded, clipped)."""
    return (video.float().permute(0, 2, 3, 1) * 255.0 + 0.5).clamp(0, 255).to(torch.uint8).cpu()


class TinyVAE(nn.Module):
    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.encoder = build_encoder(config)
        self.decoder = build_decoder(config)
        if config.output_scale != 1 and not config.guided:
            raise ValueError("VAEConfig.output_scale needs a guided decoder (guide_widths)")
        self.guide = (GuidedDecoder(config.guide_widths, config.output_scale, config.guide_fill) if config.guided
                      else None)
        self.time_downscale = 2 ** sum(config.encoder_time_downscale)
        self.time_upscale = 2 ** sum(config.decoder_time_upscale)

    @property
    def frames_to_trim(self) -> int:
        return self.time_upscale - 1

    def _stats(self, like: torch.Tensor):
        c = self.config
        if not c.latent_std:
            return None
        shape = (1, 1, -1, 1, 1)
        return (torch.tensor(c.latent_mean, dtype=like.dtype, device=like.device).view(shape),
                torch.tensor(c.latent_std, dtype=like.dtype, device=like.device).view(shape))

    def _colour_stats(self, like: torch.Tensor):
        c = self.config
        if not c.colour_std:
            return None
        shape = (3, 1, 1)
        return (torch.tensor(c.colour_mean, dtype=like.dtype, device=like.device).view(shape),
                torch.tensor(c.colour_std, dtype=like.dtype, device=like.device).view(shape))

    def pixels_in(self, frames: torch.Tensor) -> torch.Tensor:
        """RGB [..., 3, H, W] in [0, 1] -> what the encoder reads (whitened colours, if configured)."""
        stats = self._colour_stats(frames)
        return frames if stats is None else (opponent(frames) - stats[0]) / stats[1]

    def pixels_out(self, x: torch.Tensor) -> torch.Tensor:
        """What the decoder writes -> RGB (unclamped); the inverse of `pixels_in`."""
        stats = self._colour_stats(x)
        return x if stats is None else from_opponent(x * stats[1] + stats[0])

    def normalise(self, z: torch.Tensor) -> torch.Tensor:
        stats = self._stats(z)
        return z if stats is None else (z - stats[0]) / stats[1]

    def denormalise(self, z: torch.Tensor) -> torch.Tensor:
        stats = self._stats(z)
        return z if stats is None else z * stats[1] + stats[0]

    def encode_raw(self, frames: torch.Tensor) -> torch.Tensor:
        """The encoder's own output (before latent normalisation) of a whole clip; a clip that does not
        fill whole latent frames is padded at the end with its last frame."""
        k = self.time_downscale
        short = -(frames.shape[1] + k - 1) % k
        if short:
            frames = torch.cat([frames, frames[:, -1:].expand(-1, short, -1, -1, -1)], 1)
        return self._encode_raw(frames, True, None)

    def _encode_raw(self, frames: torch.Tensor, from_start: bool, memory: dict | None) -> torch.Tensor:
        k = self.time_downscale
        x = self.pixels_in(frames.to(self.encoder[0].weight.dtype))
        if from_start:  # latent 0 is the first frame alone: 3 copies of it in front
            x = torch.cat([x[:, :1].expand(-1, k - 1, -1, -1, -1), x], 1)
        if x.shape[1] % k:
            raise ValueError(f"a chunk of {frames.shape[1]} frames does not fill whole latent frames")
        return _run(self.encoder, x, memory)

    def encode_chunk(self, frames: torch.Tensor, from_start: bool, memory: dict | None = None) -> torch.Tensor:
        """Causal encode of a stream's frames [B, T, 3, H, W] (T a multiple of 4, or 1 + 4k from its
        start), with `memory` (a dict kept between calls) carrying the MemBlocks' last frames: the
        calls together give exactly `encode` of the whole clip."""
        return self.normalise(self._encode_raw(frames, from_start, memory))

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """frames [B, T, 3, H, W] in [0, 1] -> latents [B, T_lat, C, H/8, W/8]; T = 1 + 4k -> 1 + k latents
        (other lengths are padded at the end with the last frame)."""
        return self.normalise(self.encode_raw(frames))

    @property
    def scale(self) -> int:
        """Output pixels per latent cell along a side."""
        return 8 * self.config.output_scale

    def decode(self, latents: torch.Tensor, clamp: bool = True, warp: torch.Tensor | None = None,
               valid: torch.Tensor | None = None) -> torch.Tensor:
        """latents [B, T, C, h, w] -> frames [B, 4T-3, 3, s*h, s*w] in [0, 1] (whole clip at once; s =
        `scale`). A guided decoder takes the frames' warp [B, 4T-3, 3, s*h, s*w] in [0, 1] and validity
        [B, 4T-3, s*h, s*w] (none: nothing valid). clamp=False returns the raw output (training)."""
        x = self.pixels_out(self.decode_pixels(latents))
        if self.guide is not None:
            x = self.guide(x, warp, valid)
        return x.clamp(0, 1) if clamp else x

    def decode_plain(self, latents: torch.Tensor) -> torch.Tensor:
        """The decode without the guided decoder: frames [B, 4T-3, 3, 8h, 8w] in [0, 1] at the model's
        size (what training stages that work there compare)."""
        return self.pixels_out(self.decode_pixels(latents)).clamp(0, 1)

    def decode_pixels(self, latents: torch.Tensor) -> torch.Tensor:
        """The decoder's own output (in the space `pixels_in` maps to), unclamped: what training compares."""
        out = _run(self.decoder, self.denormalise(latents.to(self.decoder[1].weight.dtype)), None)
        return out[:, self.frames_to_trim:]

    def streaming_decoder(self) -> StreamingDecoder:
        return StreamingDecoder(self)


class StreamingDecoder:
    """Frame-causal decode with constant memory: feed latents in any grouping, get their frames."""

    def __init__(self, vae: TinyVAE):
        self.vae = vae
        self.finish = vae.guide  # what turns decoded frames and the warp into frames (e.g. `hard_paste`)
        self.reset()

    def reset(self) -> None:
        self.memory: dict[int, torch.Tensor] = {}
        self.started = False

    def __call__(self, latents: torch.Tensor, warp: torch.Tensor | None = None,
                 valid: torch.Tensor | None = None) -> torch.Tensor:
        """latents [B, T, C, h, w] -> frames [B, 4T (first call: 4T-3), 3, H, W] in [0, 1]; a guided
        decoder also takes those frames' warp and validity (see `TinyVAE.decode`)."""
        x = _run(self.vae.decoder, self.vae.denormalise(latents.to(self.vae.decoder[1].weight.dtype)), self.memory)
        if not self.started:
            x = x[:, self.vae.frames_to_trim:]
            self.started = True
        x = self.vae.pixels_out(x)
        if self.finish is not None:
            x = self.finish(x, warp, valid)
        return x.clamp(0, 1)
