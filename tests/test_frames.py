"""Frame arithmetic: one set of functions, and they agree with what the VAE actually does."""
import torch

from motionworld.frames import (
    CHUNK_LATENTS,
    TIME_STRIDE,
    chunk_frames,
    is_whole_chunks,
    is_whole_latents,
    latent_of_frame,
    video_frames,
    whole_chunks_text,
)
from motionworld.model.config import VAEConfig
from motionworld.model.tiny_vae import TinyVAE


def test_chunk_counts_are_nine_then_twelve():
    assert (TIME_STRIDE, CHUNK_LATENTS) == (4, 3)
    assert [chunk_frames(i, 3) for i in range(3)] == [9, 12, 12]
    assert video_frames(3) == 9 and video_frames(3, from_start=False) == 12 and video_frames(1) == 1
    assert whole_chunks_text(3) == "9 + 12k"
    assert [n for n in range(1, 50) if is_whole_chunks(n, 3)] == [9, 21, 33, 45]
    assert is_whole_chunks(2001, 3) and not is_whole_chunks(2000, 3)
    assert [n for n in range(0, 14) if is_whole_latents(n)] == [1, 5, 9, 13]


def test_latent_of_frame_inverts_video_frames():
    for latents in range(1, 8):
        last = video_frames(latents) - 1  # the last video frame of those latents
        assert latent_of_frame(last) == latents - 1 and latent_of_frame(last + 1) == latents
    assert latent_of_frame(torch.arange(6)).tolist() == [0, 1, 1, 1, 1, 2]


def test_the_vae_folds_frames_as_the_arithmetic_says():
    vae = TinyVAE(VAEConfig(encoder_width=8, encoder_blocks=1, decoder_widths=(16, 8, 8, 8), decoder_blocks=2))
    for latents in (1, 2, 3):
        video = torch.rand(1, video_frames(latents), 3, 16, 16)
        with torch.no_grad():
            assert vae.encode(video).shape[1] == latents
            assert vae.decode(vae.encode(video)).shape[1] == video_frames(latents)
