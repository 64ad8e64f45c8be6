"""Weights bundles of the model's parts: which file and manifest kind each part is saved under,
and loading and saving them (shapes checked against the manifest's config before building)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from ..errors import MotionWorldError
from .budget import Refused, check_student_config, check_vae_config
from .config import StudentConfig, VAEConfig
from .modules import TrackVideoModules
from .tiny_vae import TinyVAE
from .weights import MANIFEST, build_checked, load_bundle, save_bundle

VAE_KIND, TEACHER_KIND, STUDENT_KIND = "motionworld-vae", "motionworld-teacher", "motionworld-student"
BUNDLE_FILES = {VAE_KIND: "vae.safetensors", TEACHER_KIND: "teacher.safetensors",
                STUDENT_KIND: "student.safetensors"}


def _measured_removed(c: VAEConfig) -> VAEConfig:  # statistics a VAE measures on its data, not its shape
    return dataclasses.replace(c, latent_mean=(), latent_std=(), colour_mean=(), colour_std=())


def _check_vae(folder, have: VAEConfig, expect: VAEConfig) -> None:
    if _measured_removed(have) != _measured_removed(expect):
        raise MotionWorldError(f"{folder}: the VAE there has config {_measured_removed(have)}, "
                               f"the model needs {expect}")


def vae_config_check(folder: str | Path):
    """`load_bundle`'s `check` for a VAE export's config (parsed and bounded before building)."""
    manifest, filename = Path(folder) / MANIFEST, BUNDLE_FILES[VAE_KIND]

    def parse(data: dict) -> VAEConfig:
        try:
            config = VAEConfig.from_dict(data)
        except (TypeError, ValueError) as e:
            raise MotionWorldError(f"{manifest}: bad VAE config ({e})") from None
        try:
            check_vae_config(config, prefix="")
        except Refused as e:
            raise MotionWorldError(f"{manifest}: {filename} config {e}") from None
        return config

    return parse


def load_vae(folder: str | Path, expect: VAEConfig | None = None) -> TinyVAE:
    parse = vae_config_check(folder)
    tensors, entry = load_bundle(folder, BUNDLE_FILES[VAE_KIND], kind=VAE_KIND, check=parse)
    config = parse(entry["config"])
    if expect is not None:
        _check_vae(folder, config, expect)
    return build_checked(lambda: TinyVAE(config), tensors, str(Path(folder) / BUNDLE_FILES[VAE_KIND]))


def unguided(c: VAEConfig) -> VAEConfig:
    """The VAE config without a guided decoder."""
    return dataclasses.replace(c, guide_widths=(), output_scale=1, guide_fill=False)


def load_vae_for(folder: str | Path, expect: VAEConfig) -> TinyVAE:
    """The VAE exported in `folder`, as a model configured with `expect` needs it: one without a
    guided decoder gets a fresh guide when `expect` has one (an untrained guide barely changes the
    frames; `model.guided_decoder`)."""
    vae = load_vae(folder)
    if vae.config.guided or not expect.guided:
        _check_vae(folder, vae.config, expect)
        return vae
    _check_vae(folder, vae.config, unguided(expect))
    grown = TinyVAE(dataclasses.replace(vae.config, guide_widths=expect.guide_widths, output_scale=expect.output_scale,
                                        guide_fill=expect.guide_fill))
    grown.load_state_dict({**grown.state_dict(), **vae.state_dict()})
    return grown


def save_vae(folder: str | Path, vae: TinyVAE, extra: dict) -> Path:
    return save_bundle(folder, vae.state_dict(), vae.config.to_dict(), kind=VAE_KIND, filename=BUNDLE_FILES[VAE_KIND],
                       extra=extra)


def modules_config_check(folder: str | Path, filename: str):
    """`load_bundle`'s `check` for a student's or teacher's config: parsed, its counts bounded and its
    memory estimated (`budget.check_student_config`) before any tensor is read or module built."""
    manifest = Path(folder) / MANIFEST

    def parse(data: dict) -> StudentConfig:
        try:
            config = StudentConfig.from_dict(data)
        except (KeyError, TypeError, ValueError) as e:
            raise MotionWorldError(f"{manifest}: bad config ({e})") from None
        check_student_config(config, f"{manifest}: {filename} config")
        return config

    return parse


def load_modules(folder: str | Path, kind: str) -> tuple[TrackVideoModules, StudentConfig]:
    """A teacher ("motionworld-teacher") or student ("motionworld-student") exported by a stage."""
    filename = BUNDLE_FILES[kind]
    tensors, entry = load_bundle(folder, filename, kind=kind, check=modules_config_check(folder, filename))
    config = StudentConfig.from_dict(entry["config"])
    return build_checked(lambda: TrackVideoModules(config), tensors, str(Path(folder) / filename)), config


def extend_modules(old: TrackVideoModules, config: StudentConfig) -> TrackVideoModules:
    """`old` grown into `config`, which adds condition channels (e.g. `dit.warp_channels`), their
    encoders, or the track encoder's occlusion channel: every tensor of `old` is copied and the new
    input channels start at zero, so the grown model gives exactly the old one's outputs until it
    is trained (as `load_wan_weights(extend_channels=True)` does for Wan checkpoints)."""
    new = TrackVideoModules(config)
    own, src = new.state_dict(), old.state_dict()
    for name, value in src.items():
        if name not in own:
            raise MotionWorldError(f"cannot extend: {name} is not in the new configuration")
        if name == "dit.patch_embedding.weight" and value.shape[1] < own[name].shape[1] \
                and value.shape[2:] == own[name].shape[2:]:
            grown = torch.zeros_like(own[name])
            grown[:, :value.shape[1]] = value
            value = grown
        elif name == "tracks.proj.0.weight" and value.shape != own[name].shape:
            value = _with_occlusion_inputs(value, own[name], old.tracks.config, config.tracks)
        if value.shape != own[name].shape:
            raise MotionWorldError(f"cannot extend: {name} is {tuple(value.shape)}, the new configuration has "
                                   f"{tuple(own[name].shape)}")
        own[name] = value
    fresh = [n for n in own if n not in src and not n.startswith(("warp.", "vae.guide."))]
    if fresh:  # e.g. more layers: not a growth of inputs, the old model's outputs would not carry over
        raise MotionWorldError(f"cannot extend: {fresh[0]} is new and not a condition input's encoder")
    new.load_state_dict(own)
    return new


def _with_occlusion_inputs(value: torch.Tensor, target: torch.Tensor, old, new) -> torch.Tensor:
    """The track encoder's first conv grown by the occlusion count, the last of each frame's
    inputs (frames are stacked `temporal_stride` at a time, see `TrackEncoder.pack`)."""
    if old.occlusion or not new.occlusion or dataclasses.replace(old, occlusion=True) != new:
        return value  # not a growth this knows: the shape check refuses it
    k = new.temporal_stride
    d_old = value.shape[1] // k
    grown = torch.zeros_like(target).view(target.shape[0], k, d_old + 1, *target.shape[2:])
    grown[:, :, :d_old] = value.view(value.shape[0], k, d_old, *value.shape[2:])
    return grown.view_as(target)


def save_teacher(folder: str | Path, modules: TrackVideoModules, config: StudentConfig, extra: dict) -> Path:
    return save_bundle(folder, modules.state_dict(), config.to_dict(), kind=TEACHER_KIND,
                       filename=BUNDLE_FILES[TEACHER_KIND], extra=extra)
