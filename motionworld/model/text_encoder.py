"""Text encoders. Both return [B, max_tokens, dim] with zeros after each prompt's tokens (Wan's
convention for padded umT5 output), and the null text is the encoder's output for "".

- `WordTextEncoder`: the small learned encoder of the shipped model. Words in its vocabulary get
  their own embedding; any other word hashes (crc32, stable across runs) into shared buckets, so no
  prompt is ever rejected. A start token means "" still encodes to something learned.
- `UMT5TextEncoder`: umT5 through transformers, from a local folder (Wan 2.1 uses umt5-xxl, 512 tokens).
"""
from __future__ import annotations

import re
import zlib
from pathlib import Path

import torch
from torch import nn

from ..errors import MotionWorldError
from .config import TextConfig

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
PAD, START = 0, 1


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class WordTextEncoder(nn.Module):
    def __init__(self, config: TextConfig):
        super().__init__()
        self.config = config
        c = config
        self.vocab = {w: i + 2 for i, w in enumerate(dict.fromkeys(c.vocab))}
        self.token_embedding = nn.Embedding(2 + len(self.vocab) + c.hash_buckets, c.dim, padding_idx=PAD)
        self.position_embedding = nn.Parameter(torch.randn(c.max_tokens, c.dim) * 0.02)
        layer = nn.TransformerEncoderLayer(c.dim, c.heads, 4 * c.dim, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, c.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(c.dim)

    @property
    def dim(self) -> int:
        return self.config.dim

    def token_ids(self, text: str) -> list[int]:
        ids = [START]
        first_hash = 2 + len(self.vocab)
        for w in words(text):
            ids.append(self.vocab.get(w, first_hash + zlib.crc32(w.encode()) % self.config.hash_buckets))
        return ids[:self.config.max_tokens]

    def forward(self, prompts: list[str] | str) -> torch.Tensor:
        if isinstance(prompts, str):
            prompts = [prompts]
        n = self.config.max_tokens
        ids = torch.zeros(len(prompts), n, dtype=torch.long, device=self.position_embedding.device)
        for i, p in enumerate(prompts):
            t = self.token_ids(p)
            ids[i, :len(t)] = torch.tensor(t)
        keep = ids != PAD
        x = self.token_embedding(ids) + self.position_embedding
        x = self.norm(self.layers(x, src_key_padding_mask=~keep))
        return x * keep[..., None]


class UMT5TextEncoder:
    """umT5 encoder + tokenizer from a local transformers folder; nothing is downloaded."""

    def __init__(self, path: str | Path, max_tokens: int = 512, device="cpu", dtype=torch.float32):
        try:
            from transformers import AutoTokenizer, UMT5EncoderModel
        except ImportError as e:  # pragma: no cover - transformers is a dev/depth extra
            raise MotionWorldError("the umT5 text encoder needs transformers (pip install motionworld[depth])") from e
        path = Path(path)
        if not path.is_dir():
            raise MotionWorldError(f"{path}: umT5 folder not found (expected a transformers save_pretrained folder)")
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = UMT5EncoderModel.from_pretrained(str(path), local_files_only=True,
                                                      torch_dtype=dtype).to(device).eval()
        self.max_tokens = max_tokens

    @property
    def dim(self) -> int:
        return self.model.config.d_model

    @torch.no_grad()
    def __call__(self, prompts: list[str] | str) -> torch.Tensor:
        if isinstance(prompts, str):
            prompts = [prompts]
        tok = self.tokenizer(prompts, padding="max_length", max_length=self.max_tokens, truncation=True,
                             add_special_tokens=True, return_attention_mask=True, return_tensors="pt")
        dev = self.model.device
        mask = tok.attention_mask.to(dev)
        hidden = self.model(input_ids=tok.input_ids.to(dev), attention_mask=mask).last_hidden_state
        return hidden * mask[..., None].to(hidden.dtype)
