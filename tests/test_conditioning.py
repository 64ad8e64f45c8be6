"""The model's conditioning is put together in one place (`model.conditioning.condition_channels`):
the same clip through the training path (`Conditioner.condition`) and the streaming path
(`StreamingStudent.condition`) gives the same tensors, for a model with every kind of input."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from motionworld.model.conditioning import Conditioner, warp_at_model_size
from motionworld.model.config import preset
from motionworld.model.student import StreamingStudent


def every_input_config():
    """tiny-guided (warp channels, occlusion, appearance, a guided decoder at 2x) with Wan I2V image channels."""
    c = preset("tiny-guided")
    return dataclasses.replace(c, aspect="fixed", dit=dataclasses.replace(c.dit, image_channels=c.dit.in_channels + 4))


@torch.no_grad()
def test_training_and_streaming_build_the_same_conditioning_for_one_clip():
    config, seed = every_input_config(), 5
    student = StreamingStudent(config, seed=0)
    rng = np.random.default_rng(0)
    picture = (rng.random((config.height, config.width, 3)) * 255).astype(np.uint8)
    student.start(picture, "", seed=seed)
    n = student.frames_for_next_chunk()
    tracks = torch.as_tensor(rng.uniform(-8, 72, (n, 30, 2)), dtype=torch.float32)  # some off-screen
    visibility = torch.as_tensor(rng.random((n, 30)) > 0.3)
    H, W = student.output_size
    warp = (rng.random((n, H, W, 3)) * 255).astype(np.uint8)
    valid = rng.random((n, H, W)) > 0.4
    warp_in = student._warp_inputs(warp, valid, n)
    streamed = student.condition(tracks, visibility, warp_in=warp_in)

    conditioner = Conditioner(student.modules, config)
    video = torch.as_tensor(picture).permute(2, 0, 1)[None, None].float().div(255).expand(1, n, -1, -1, -1)
    model_warp, model_valid = warp_at_model_size(*warp_in, config.vae.output_scale)
    batch = {"tracks": tracks[None], "visibility": visibility[None], "warp": model_warp, "warp_valid": model_valid}
    ids = torch.Generator().manual_seed(seed + 1)  # the track identities a stream started with this seed uses
    trained = conditioner.condition(batch, conditioner.latents(video), ids, torch.zeros(1, dtype=torch.bool))

    extra = config.dit.image_channels + config.dit.track_channels + config.dit.warp_channels
    assert streamed.shape == trained.shape == (1, extra, config.chunk, config.height // 8, config.width // 8)
    image, tracks_and_warp = config.dit.image_channels, slice(config.dit.image_channels, None)
    assert torch.equal(streamed[:, :4, 0], torch.ones_like(streamed[:, :4, 0]))  # frame 0 is given
    torch.testing.assert_close(streamed[:, :image], trained[:, :image], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(streamed[:, tracks_and_warp], trained[:, tracks_and_warp], atol=1e-5, rtol=1e-4)
    assert streamed[:, -config.dit.warp_channels:].abs().sum() > 0  # the warp reached its channels
