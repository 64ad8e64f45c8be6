"""Model configurations: the DiT, the tiny VAE, the track encoder, the text encoder and the
streaming student that ties them together. Plain dataclasses so a config round-trips through JSON
(it is stored in every weights manifest)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import MISSING, asdict, dataclass, field, fields

from ..frames import CHUNK_LATENTS, TIME_STRIDE
from ..limits import MAX_CONFIG_INT


class _JSONConfig:
    """to_dict / from_dict for the config dataclasses; nested configs are named in `_parts`."""
    _parts: dict = {}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        if not isinstance(data, dict):
            raise ValueError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
        data = dict(data)
        for key, sub in cls._parts.items():
            if key in data:
                data[key] = sub.from_dict(data[key])
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown keys {unknown}")
        for key, value in data.items():
            if key not in cls._parts:
                _check_value(f"{cls.__name__}.{key}", value, known[key])
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def _check_value(name: str, value, f) -> None:
    """A stored config value has its field's type, and integers stay below MAX_CONFIG_INT: a config
    read from a manifest never asks for an absurd model."""
    default = f.default if f.default_factory is MISSING else f.default_factory()
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_CONFIG_INT
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    elif isinstance(default, tuple):
        ok = isinstance(value, (list, tuple)) and len(value) <= MAX_CONFIG_INT and all(
            isinstance(v, (bool, int, float, str)) and (not isinstance(v, float) or math.isfinite(v)) for v in value)
    else:
        ok = True
    if not ok:
        raise ValueError(f"{name}: {str(value)[:40]!r} is not a valid {type(default).__name__}"
                         + (f" in [0, {MAX_CONFIG_INT}]" if type(default) is int else ""))


@dataclass(frozen=True)
class DiTConfig(_JSONConfig):
    """Hyper-parameters of `CausalWanTransformer`, named as in diffusers' WanTransformer3DModel.

    `in_channels` is the latent channel count; `image_channels`, `track_channels` and
    `warp_channels` are extra condition channels concatenated after the latent (in that order)
    before patchify."""
    patch_size: tuple = (1, 2, 2)
    num_attention_heads: int = 12
    attention_head_dim: int = 128
    in_channels: int = 16
    out_channels: int = 16
    text_dim: int = 4096
    freq_dim: int = 256
    ffn_dim: int = 8960
    num_layers: int = 30
    cross_attn_norm: bool = True
    eps: float = 1e-6
    rope_max_seq_len: int = 1024
    image_channels: int = 0
    track_channels: int = 0
    warp_channels: int = 0

    @property
    def dim(self) -> int:
        return self.num_attention_heads * self.attention_head_dim

    @property
    def patch_in_channels(self) -> int:
        return self.in_channels + self.image_channels + self.track_channels + self.warp_channels


@dataclass(frozen=True)
class VAEConfig(_JSONConfig):
    """TAEHV-style tiny video autoencoder. `encoder_blocks`/`decoder_blocks` are MemBlocks per stage."""
    latent_channels: int = 16
    encoder_width: int = 64
    encoder_blocks: int = 3
    decoder_widths: tuple = (256, 128, 64, 64)
    decoder_blocks: int = 3
    encoder_time_downscale: tuple = (True, True, False)
    decoder_time_upscale: tuple = (False, True, True)
    # Per-channel latent statistics measured after training: encode() returns (z - mean) / std so
    # the diffusion model sees unit-scale latents; decode() undoes it. Empty = identity (taew2_1's
    # latents are already in Wan's normalised space).
    latent_mean: tuple = ()
    latent_std: tuple = ()
    # Pixels the networks see, in the opponent colour space (luminance, red-green, yellow-blue) and
    # scaled per axis: (opponent(rgb) - mean) / std. Luminance carries ~10x the variance of either
    # colour axis, and a VAE trained on raw RGB learns red-green last (ours had dropped it after 2,000
    # steps); whitened pixels train all three at once. Empty = raw RGB (taew2_1).
    colour_mean: tuple = ()
    colour_std: tuple = ()
    # The guided decoder (`model.guided_decoder`): conv widths of the net that finishes each decoded
    # frame with the warp of the picture; empty = none (the decode is the frame). `output_scale`:
    # its frames are this many times the decode's size (8x the latent grid), the detail from the warp.
    guide_widths: tuple = ()
    output_scale: int = 1
    # The guide also paints with the warp filled across its holes (`guided_decoder.pull_push_fill`).
    guide_fill: bool = False

    @property
    def guided(self) -> bool:
        return bool(self.guide_widths)


@dataclass(frozen=True)
class TrackConfig(_JSONConfig):
    """Track encoder: `code_dim` sinusoidal ID channels per video frame, 4 frames per latent frame,
    then 1x1x1 convs (`hidden` wide) to `out_channels` (= the DiT's track_channels).
    `appearance_dim` > 0 (= the VAE's latent channels) also carries, per track, the first frame's
    latent where the track starts, averaged per cell, plus one coverage channel: the first frame
    moved by the tracks, so the DiT reads where content goes instead of matching IDs across frames.
    `occlusion` adds one channel per frame counting the tracks known to be occluded at each cell, so
    the three states of a track differ: visible (its code), occluded (this channel), unspecified
    (nothing). Without it occluded and unspecified tracks both write nothing."""
    code_dim: int = 64
    appearance_dim: int = 0
    hidden: int = 128
    out_channels: int = 16
    spatial_stride: int = 8
    temporal_stride: int = TIME_STRIDE
    occlusion: bool = False


@dataclass(frozen=True)
class TextConfig(_JSONConfig):
    """Small learned text encoder: words from `vocab` get their own embedding, other words hash into
    `hash_buckets` shared ones; `layers` transformer layers; output padded with zeros to `max_tokens`."""
    dim: int = 256
    layers: int = 2
    heads: int = 4
    max_tokens: int = 32
    hash_buckets: int = 1024
    vocab: tuple = ()


@dataclass(frozen=True)
class WarpConfig(_JSONConfig):
    """Warp encoder: what the DiT reads of each video frame's warp of the picture (RGB where valid)
    and its validity map. `encoder` "learned": stride-2 convs (`widths`, one per halving: 3 for the
    VAE's 8x) to the latent grid, 4 frames per latent frame stacked, then a 1x1x1 conv to
    `out_channels` (= the DiT's warp_channels). "vae": the model's own VAE encoder (frozen) on the
    warp where valid, plus the validity per latent cell: latent_channels + 1 channels, in the space
    the DiT predicts, which a micro model learns to use far sooner (`docs/model.md`)."""
    widths: tuple = (16, 32, 32)
    out_channels: int = 16
    temporal_stride: int = TIME_STRIDE
    encoder: str = "learned"


@dataclass(frozen=True)
class StudentConfig(_JSONConfig):
    """Everything the streaming student needs: modules, resolution, cache layout and sampling."""
    dit: DiTConfig = field(default_factory=DiTConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)
    tracks: TrackConfig = field(default_factory=TrackConfig)
    text: TextConfig = field(default_factory=TextConfig)
    warp: WarpConfig = field(default_factory=WarpConfig)  # used when dit.warp_channels > 0
    height: int = 480
    width: int = 832
    chunk: int = CHUNK_LATENTS
    sink: int = 1
    window: int = 1
    steps: tuple = (1.0, 2 / 3, 1 / 3)  # un-shifted noise levels of the few-step sampler
    shift: float = 5.0
    # "fixed": every picture is resized to width x height (the models trained so far, at 128x128);
    # "picture": the picture keeps its aspect at about width x height pixels, sides multiples of 16
    aspect: str = "fixed"

    _parts = {"dit": DiTConfig, "vae": VAEConfig, "tracks": TrackConfig, "text": TextConfig, "warp": WarpConfig}


WAN_1_3B = DiTConfig()  # Wan2.1-T2V-1.3B, diffusers defaults for that checkpoint

TAEW2_1 = VAEConfig()  # module tree and keys of the public taew2_1 checkpoint
SLIM_VAE = VAEConfig(encoder_width=32, encoder_blocks=1, decoder_widths=(96, 48, 24, 16), decoder_blocks=1)


def preset(name: str) -> StudentConfig:
    """Named student configurations: 'wan1.3b' (832x480, Wan 1.3B DiT + taew2_1), 'cpu' (the shipped
    real-time CPU model, 128x128), 'cpu-guided' (the geometry-guided CPU model: it sees the warp of
    the picture, keeps the picture's aspect at 128x96's pixel count and paints frames twice that size),
    'tiny' and 'tiny-guided' (tests)."""
    if name == "wan1.3b":
        return StudentConfig(dit=DiTConfig(track_channels=16), vae=TAEW2_1, text=TextConfig(dim=4096, max_tokens=512))
    if name == "cpu":
        return StudentConfig(
            dit=DiTConfig(num_attention_heads=4, attention_head_dim=64, text_dim=256, ffn_dim=1024, num_layers=8,
                          track_channels=32),
            vae=SLIM_VAE, tracks=TrackConfig(hidden=128, out_channels=32, appearance_dim=SLIM_VAE.latent_channels),
            text=TextConfig(dim=256, layers=2, heads=4, max_tokens=32), height=128, width=128)
    if name == "cpu-guided":  # the geometry-guided CPU model: 128x96 latents' worth, frames painted out to 256x192
        c = preset("cpu")
        vae = dataclasses.replace(SLIM_VAE, guide_widths=(16, 16), output_scale=2)
        return dataclasses.replace(
            c, dit=dataclasses.replace(c.dit, warp_channels=17), vae=vae,
            warp=WarpConfig(out_channels=17, encoder="vae"),
            tracks=dataclasses.replace(c.tracks, occlusion=True), height=96, width=128, aspect="picture")
    if name == "tiny-guided":
        c = preset("tiny")
        return dataclasses.replace(
            c, dit=dataclasses.replace(c.dit, warp_channels=17),
            vae=dataclasses.replace(c.vae, guide_widths=(8,), output_scale=2),
            warp=WarpConfig(out_channels=17, encoder="vae"), tracks=dataclasses.replace(c.tracks, occlusion=True),
            aspect="picture")
    if name == "tiny":
        return StudentConfig(
            dit=DiTConfig(num_attention_heads=2, attention_head_dim=16, text_dim=32, freq_dim=32, ffn_dim=64,
                          num_layers=2, track_channels=4),
            vae=VAEConfig(encoder_width=8, encoder_blocks=1, decoder_widths=(16, 8, 8, 8), decoder_blocks=1),
            tracks=TrackConfig(code_dim=16, hidden=16, out_channels=4, appearance_dim=16),
            text=TextConfig(dim=32, layers=1, heads=2, max_tokens=8, hash_buckets=64), height=64, width=64)
    raise ValueError(f"unknown model preset {name!r} (choose from {', '.join(PRESETS)})")


PRESETS = ("wan1.3b", "cpu", "cpu-guided", "tiny", "tiny-guided")
