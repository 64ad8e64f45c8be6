"""`TrackVideoModules`: the networks of one track-conditioned video model (causal DiT, track
encoder, tiny VAE, optional learned text encoder, optional warp encoder). The student, the teacher
and the DMD critic are each one, under the prefixes their weights files use."""
from __future__ import annotations

from torch import nn

from .config import StudentConfig
from .text_encoder import WordTextEncoder
from .tiny_vae import TinyVAE
from .track_encoder import TrackEncoder
from .transformer import CausalWanTransformer
from .warp_encoder import LatentWarpEncoder, WarpEncoder


class TrackVideoModules(nn.Module):
    """dit, tracks, vae and text: the parts a weights file of the student, teacher or critic holds."""

    def __init__(self, config: StudentConfig):
        super().__init__()
        c = config
        if c.dit.track_channels != c.tracks.out_channels:
            raise ValueError(f"DiT track_channels ({c.dit.track_channels}) != track encoder out_channels "
                             f"({c.tracks.out_channels})")
        if c.dit.image_channels not in (0, c.dit.in_channels + 4):
            raise ValueError("image_channels must be 0 or in_channels + 4 (Wan I2V layout), "
                             f"got {c.dit.image_channels}")
        if c.vae.latent_channels != c.dit.in_channels:
            raise ValueError("VAE latent channels and DiT in_channels differ")
        if c.tracks.appearance_dim not in (0, c.vae.latent_channels):
            raise ValueError(f"track appearance_dim must be 0 or the VAE's latent channels ({c.vae.latent_channels}), "
                             f"got {c.tracks.appearance_dim}")
        if c.height % 16 or c.width % 16:
            raise ValueError(f"resolution {c.width}x{c.height} must be a multiple of 16")
        self.dit = CausalWanTransformer(c.dit)
        self.tracks = TrackEncoder(c.tracks)
        self.vae = TinyVAE(c.vae)
        self.text = WordTextEncoder(c.text) if c.text.dim == c.dit.text_dim else None
        if c.dit.warp_channels and c.warp.out_channels != c.dit.warp_channels:
            raise ValueError(f"DiT warp_channels ({c.dit.warp_channels}) != warp encoder out_channels "
                             f"({c.warp.out_channels})")
        if c.warp.encoder not in ("learned", "vae"):
            raise ValueError(f"warp encoder must be 'learned' or 'vae', got {c.warp.encoder!r}")
        if c.dit.warp_channels and c.warp.encoder == "vae" and c.dit.warp_channels != c.vae.latent_channels + 1:
            raise ValueError(f"a warp read through the VAE gives latent_channels + 1 = {c.vae.latent_channels + 1} "
                             f"channels; the DiT has warp_channels {c.dit.warp_channels}")
        if c.dit.warp_channels and c.warp.encoder == "learned" and 2 ** len(c.warp.widths) != 8:
            raise ValueError("the warp encoder must halve 3 times to the VAE's 8x grid, "
                             f"has {len(c.warp.widths)} convs")
        self.warp = None
        if c.dit.warp_channels:
            self.warp = WarpEncoder(c.warp) if c.warp.encoder == "learned" else LatentWarpEncoder(c.warp, self.vae)
