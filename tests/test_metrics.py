"""Colour: the opponent colour space, the chroma metric, and a VAE that works in whitened colours."""
import dataclasses

import torch

from motionworld.metrics.image import chroma_psnr, psnr
from motionworld.model.colour import from_opponent, opponent
from motionworld.model.config import preset
from motionworld.model.tiny_vae import TinyVAE


def _picture(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, 32, 32, generator=g) * 0.6 + 0.2


def test_opponent_axes_keep_the_error_energy_and_invert():
    x = _picture()
    assert torch.allclose(opponent(x).pow(2).sum(-3), x.pow(2).sum(-3), atol=1e-5)
    assert torch.allclose(from_opponent(opponent(x)), x, atol=1e-6)
    grey = x.mean(-3, keepdim=True).expand_as(x)
    assert opponent(grey)[:, 1:].abs().max() < 1e-6  # grey has no colour difference


def test_chroma_psnr_sees_lost_colour_that_a_brightness_change_does_not():
    x = _picture()
    grey = x.mean(-3, keepdim=True).expand_as(x)  # every colour gone, brightness kept
    brighter = x + 0.05  # colours kept, brightness off (26 dB)
    assert chroma_psnr(x, x) == float("inf")
    assert chroma_psnr(brighter, x) > 60  # only rounding
    assert chroma_psnr(grey, x) < 20 < psnr(brighter, x)


def test_a_vae_with_colour_statistics_reads_whitened_pixels_and_writes_rgb():
    mean, std = (0.6, 0.02, -0.05), (0.3, 0.05, 0.1)
    cfg = dataclasses.replace(preset("tiny").vae, colour_mean=mean, colour_std=std)
    vae = TinyVAE(cfg)
    x = _picture()[:, None]  # [B, 1 frame, 3, H, W]
    w = vae.pixels_in(x)
    assert torch.allclose(w, (opponent(x) - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1))
    assert torch.allclose(vae.pixels_out(w), x, atol=1e-5)
    plain = TinyVAE(preset("tiny").vae)
    plain.load_state_dict(vae.state_dict())  # the statistics are config, not weights
    with torch.no_grad():
        z, z_plain = vae.encode(x), plain.encode(x)
        assert not torch.allclose(z, z_plain)  # the encoder sees other pixels
        assert torch.allclose(vae.decode(z), vae.pixels_out(vae.decode_pixels(z)).clamp(0, 1))
        stream = vae.streaming_decoder()
        assert torch.allclose(stream(z), vae.decode(z), atol=1e-6)  # the streaming path converts too


def test_the_luminance_weight_scales_only_the_whitened_luminance_error():
    from motionworld.train.vae_stage import _Reconstruction

    cfg = dataclasses.replace(preset("tiny").vae, colour_mean=(0.6, 0.0, 0.0), colour_std=(0.3, 0.1, 0.1))
    vae = TinyVAE(cfg)
    x = torch.rand(1, 5, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        diff = vae.decode_pixels(vae.encode(x)) - vae.pixels_in(x)
        l2 = {w: _Reconstruction(vae, 0.0, 1.0, w)(x)[0].item() for w in (1.0, 3.0)}
        l1 = _Reconstruction(vae, 1.0, 0.0, 3.0)(x)[0].item()
    per_axis = diff.pow(2).transpose(0, 2).flatten(1).mean(1) / 3  # each axis's share of the mean
    assert abs(l2[1.0] - per_axis.sum().item()) < 1e-5 * l2[1.0]
    assert abs(l2[3.0] - (9 * per_axis[0] + per_axis[1:].sum()).item()) < 1e-5 * l2[3.0]
    abs_axis = diff.abs().transpose(0, 2).flatten(1).mean(1) / 3
    assert abs(l1 - (3 * abs_axis[0] + abs_axis[1:].sum()).item()) < 1e-5 * l1
