"""`DepthNet`: a small monocular depth network, picture in, relative inverse depth out.

    net = DepthNet(DepthNetConfig())
    disparity = net.predict(picture)      # uint8 [H, W, 3] -> float32 [H, W], larger = nearer

A U-Net in one file: a strided residual encoder (1/2 .. 1/32 of the picture), one self-attention
block at 1/32 so every part of the picture sees the whole layout (a horizon, a wall, the sky), and a
decoder that upsamples and merges the encoder's skips back to 1/2, where a 3x3 head reads the
disparity, upsampled to the picture. Fully convolutional, so it runs at the picture's own aspect:
the picture is padded to a multiple of 32 and the padding cut off again.

It is trained (`motionworld train depth`) either scale-and-shift invariant on disparity (MiDaS;
`output: disparity`, mapped to depth by `geometry.depth.disparity_to_depth`) or scale invariant on
log disparity (`output: log_disparity`, the shipped one: it learns the depth range too, and
`geometry.depth.network_depth` only has to place its nearest point).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import MotionWorldError
from ..limits import MAX_MODEL_BLOCKS
from .weights import build_checked, load_bundle, save_bundle

OUTPUTS = ("disparity", "log_disparity")
# The network's input colours: ImageNet's mean and std (what pictures of the world look like on average).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


@dataclass
class DepthNetConfig:
    widths: tuple[int, ...] = (24, 40, 80, 128, 192)   # encoder widths at 1/2, 1/4, 1/8, 1/16, 1/32
    blocks: tuple[int, ...] = (1, 1, 2, 2, 2)          # residual blocks after each downsampling
    decoder: tuple[int, ...] = (128, 80, 48, 32)       # decoder widths at 1/16, 1/8, 1/4, 1/2
    heads: int = 4                                     # attention heads of the 1/32 block
    # What the map means: "disparity" up to a scale and a shift (trained scale-and-shift invariant,
    # MiDaS), or "log_disparity" up to an additive constant, i.e. disparity up to a scale only (the
    # shipped network: a shift-free output needs no assumed near/far range; see docs/depth.md).
    output: str = "disparity"
    max_side: int = 512                                # pictures are resized to at most this (`predict`)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["widths"], d["blocks"], d["decoder"] = list(self.widths), list(self.blocks), list(self.decoder)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DepthNetConfig:
        known = {k: d[k] for k in ("widths", "blocks", "decoder", "heads", "output", "max_side", "extra") if k in d}
        for k in ("widths", "blocks", "decoder"):
            if k in known:
                known[k] = tuple(int(x) for x in known[k])
        config = cls(**known)
        config.check()
        return config

    def check(self) -> None:
        """A config whose network cannot be built says why in one line (ValueError)."""
        if len(self.widths) != 5 or len(self.blocks) != 5 or len(self.decoder) != 4:
            raise ValueError("a depth net has 5 encoder widths and blocks and 4 decoder widths")
        for b in self.blocks:  # built one by one: a forged count would hang before the shapes are compared
            if not 0 <= b <= MAX_MODEL_BLOCKS:
                raise ValueError(f"blocks {b}: each stage has 0 to {MAX_MODEL_BLOCKS} residual blocks")
        for w in (*self.widths, *self.decoder):
            if w < 1 or w % min(8, w):
                raise ValueError(f"width {w}: each width must be at most 8 or a multiple of 8 (group norm)")
        if self.heads < 1 or self.widths[4] % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide the last encoder width ({self.widths[4]})")
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {self.output!r}")
        if not 32 <= self.max_side <= 16384:
            raise ValueError(f"max_side must be in [32, 16384], got {self.max_side}")


def _norm(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, c), c)


class ResBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.conv1, self.norm1 = nn.Conv2d(c, c, 3, padding=1, bias=False), _norm(c)
        self.conv2, self.norm2 = nn.Conv2d(c, c, 3, padding=1, bias=False), _norm(c)

    def forward(self, x):
        y = F.gelu(self.norm1(self.conv1(x)))
        return F.gelu(x + self.norm2(self.conv2(y)))


class Down(nn.Module):
    """A stride-2 conv to the next width, then residual blocks."""

    def __init__(self, c_in: int, c_out: int, blocks: int):
        super().__init__()
        self.conv, self.norm = nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False), _norm(c_out)
        self.blocks = nn.Sequential(*[ResBlock(c_out) for _ in range(blocks)])

    def forward(self, x):
        return self.blocks(F.gelu(self.norm(self.conv(x))))


class GlobalAttention(nn.Module):
    """Pre-norm self-attention and MLP over the 1/32 grid, with a learned 2-D position code that is
    resized to the grid (so any aspect works)."""

    def __init__(self, c: int, heads: int, grid: int = 8):
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(1, c, grid, grid))
        self.norm1, self.attn = nn.LayerNorm(c), nn.MultiheadAttention(c, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(c)
        self.mlp = nn.Sequential(nn.Linear(c, 2 * c), nn.GELU(), nn.Linear(2 * c, c))

    def forward(self, x):
        B, C, H, W = x.shape
        pos = F.interpolate(self.pos, size=(H, W), mode="bilinear", align_corners=False)
        t = (x + pos).flatten(2).transpose(1, 2)
        h = self.norm1(t)
        t = t + self.attn(h, h, h, need_weights=False)[0]
        t = t + self.mlp(self.norm2(t))
        return t.transpose(1, 2).reshape(B, C, H, W)


class Up(nn.Module):
    """Upsample x2, concatenate the encoder's skip, one conv and one residual block."""

    def __init__(self, c_in: int, c_skip: int, c_out: int):
        super().__init__()
        self.conv, self.norm = nn.Conv2d(c_in + c_skip, c_out, 3, padding=1, bias=False), _norm(c_out)
        self.block = ResBlock(c_out)

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.block(F.gelu(self.norm(self.conv(torch.cat([x, skip], 1)))))


class DepthNet(nn.Module):
    STRIDE = 32

    def __init__(self, config: DepthNetConfig | None = None):
        super().__init__()
        self.config = c = config or DepthNetConfig()
        w = c.widths
        # 1. encoder: 1/2 .. 1/32
        self.down = nn.ModuleList([Down(3, w[0], c.blocks[0])] +
                                  [Down(w[i - 1], w[i], c.blocks[i]) for i in range(1, 5)])
        # 2. the whole layout at 1/32
        self.context = GlobalAttention(w[4], c.heads)
        # 3. decoder: 1/16 .. 1/2, each merging the encoder's skip of its scale
        d = c.decoder
        self.up = nn.ModuleList([Up(w[4], w[3], d[0]), Up(d[0], w[2], d[1]), Up(d[1], w[1], d[2]),
                                 Up(d[2], w[0], d[3])])
        # 4. head at 1/2
        self.head = nn.Sequential(nn.Conv2d(d[3], d[3], 3, padding=1), nn.GELU(), nn.Conv2d(d[3], 1, 1))
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        """rgb float [B, 3, H, W] in [0, 1] (any size; multiples of 32 keep every scale exact) ->
        [B, H, W]: disparity up to a scale and a shift, or log disparity up to a constant, as
        config.output says (larger = nearer either way)."""
        x = (rgb - self.mean) / self.std
        skips = []
        for down in self.down:
            x = down(x)
            skips.append(x)
        x = self.context(skips[-1])
        for up, skip in zip(self.up, reversed(skips[:-1])):
            x = up(x, skip)
        out = self.head(x)
        return F.interpolate(out, size=rgb.shape[-2:], mode="bilinear", align_corners=False)[:, 0]

    @torch.no_grad()
    def predict(self, picture: np.ndarray, max_side: int | None = None) -> np.ndarray:
        """uint8 [H, W, 3] -> float32 [H, W] relative (log) disparity at the picture's size. The
        picture is resized so its longest side is at most `max_side` (default: the config's, the
        scale the network was chosen to see pictures at), padded by replication to a multiple of 32,
        and the output resized back."""
        max_side = self.config.max_side if max_side is None else int(max_side)
        was_training = self.training
        self.eval()
        try:
            H, W = picture.shape[:2]
            # as_tensor copies a read-only picture (np.asarray of a PIL image) instead of warning about it
            x = torch.as_tensor(np.asarray(picture, np.float32)).permute(2, 0, 1)[None] / 255.0
            x = x.to(self.mean.device)
            s = min(1.0, max_side / max(H, W))
            h, w = max(1, round(H * s)), max(1, round(W * s))
            if (h, w) != (H, W):
                x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
            ph, pw = (-h) % self.STRIDE, (-w) % self.STRIDE
            if ph or pw:
                x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), mode="replicate")
            out = self(x)[:, ph // 2: ph // 2 + h, pw // 2: pw // 2 + w]
            if (h, w) != (H, W):
                out = F.interpolate(out[:, None], size=(H, W), mode="bilinear", align_corners=False)[:, 0]
            return out[0].float().cpu().numpy()
        finally:
            self.train(was_training)


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


# --- weights on disk ------------------------------------------------------------------------------
KIND = "motionworld-depth"
FILENAME = "depth.safetensors"


def save_depth_net(folder, net: DepthNet, extra: dict | None = None):
    """`folder`/depth.safetensors with its MANIFEST.json entry (config, sha256, provenance)."""
    tensors = {k: v.float() for k, v in net.state_dict().items()}
    return save_bundle(folder, tensors, net.config.to_dict(), kind=KIND, filename=FILENAME, extra=extra)


def load_depth_net(folder, device: str = "cpu") -> DepthNet:
    """The network in `folder` (checked against its manifest), in eval mode, float32."""
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    tensors, entry = load_bundle(folder, FILENAME, kind=KIND, device=device)
    try:
        config = DepthNetConfig.from_dict(entry["config"])
    except (TypeError, ValueError) as e:
        raise MotionWorldError(f"{folder / FILENAME}: the manifest's depth net config is not one ({e})") from None
    net = build_checked(lambda: DepthNet(config), {k: v.float() for k, v in tensors.items()}, str(folder / FILENAME))
    return net.to(device).eval()
