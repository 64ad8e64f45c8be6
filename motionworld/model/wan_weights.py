"""Load Wan 2.1 transformer weights into `CausalWanTransformer`: diffusers layout, the original
Wan layout (renamed key by key, including the norm2/norm3 swap and the head modulation), and
'extend channels' (a checkpoint with fewer patch-embedding input channels than the model: the
new track/image channels start at zero, so the model initially behaves exactly like Wan)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from ..errors import MotionWorldError

# original Wan (wan/modules/model.py) -> diffusers names; applied to the part after `blocks.N.`
_ORIGINAL_TOP = {
    "patch_embedding": "patch_embedding",
    "text_embedding.0": "condition_embedder.text_embedder.linear_1",
    "text_embedding.2": "condition_embedder.text_embedder.linear_2",
    "time_embedding.0": "condition_embedder.time_embedder.linear_1",
    "time_embedding.2": "condition_embedder.time_embedder.linear_2",
    "time_projection.1": "condition_embedder.time_proj",
    "head.head": "proj_out",
    "img_emb.proj.0": "condition_embedder.image_embedder.norm1",
    "img_emb.proj.1": "condition_embedder.image_embedder.ff.net.0.proj",
    "img_emb.proj.3": "condition_embedder.image_embedder.ff.net.2",
    "img_emb.proj.4": "condition_embedder.image_embedder.norm2",
}
_ATTN = {"q": "to_q", "k": "to_k", "v": "to_v", "o": "to_out.0", "norm_q": "norm_q", "norm_k": "norm_k",
         "k_img": "add_k_proj", "v_img": "add_v_proj", "norm_k_img": "norm_added_k"}
_BLOCK = {"norm3": "norm2",  # original norm3 is the affine cross-attention norm; diffusers calls it norm2
          "ffn.0": "ffn.net.0.proj", "ffn.2": "ffn.net.2"}


def original_to_diffusers_key(key: str) -> str:
    """Map one original-layout key to its diffusers name; raises KeyError for keys it does not know."""
    if key == "head.modulation":
        return "scale_shift_table"
    m = re.fullmatch(r"blocks\.(\d+)\.(.+)\.(weight|bias)", key) or re.fullmatch(r"blocks\.(\d+)\.(modulation)()", key)
    if m:
        n, part, leaf = m.groups()
        if part == "modulation":
            return f"blocks.{n}.scale_shift_table"
        a = re.fullmatch(r"(self_attn|cross_attn)\.(\w+)", part)
        if a and a.group(2) in _ATTN:
            which = "attn1" if a.group(1) == "self_attn" else "attn2"
            return f"blocks.{n}.{which}.{_ATTN[a.group(2)]}.{leaf}"
        if part in _BLOCK:
            return f"blocks.{n}.{_BLOCK[part]}.{leaf}"
        raise KeyError(key)
    m = re.fullmatch(r"(.+)\.(weight|bias)", key)
    if m and m.group(1) in _ORIGINAL_TOP:
        return f"{_ORIGINAL_TOP[m.group(1)]}.{m.group(2)}"
    raise KeyError(key)


def is_original_layout(state_dict: dict) -> bool:
    return any(k.startswith("head.head") or ".self_attn." in k for k in state_dict)


def convert_original(state_dict: dict) -> dict:
    out = {}
    for key, value in state_dict.items():
        try:
            out[original_to_diffusers_key(key)] = value
        except KeyError:
            raise MotionWorldError(f"unknown key in an original-layout Wan checkpoint: {key}") from None
    return out


def _undo_norm_out_linear(sd: dict) -> dict:
    """Newer diffusers store the head modulation as norm_out.linear (identity x2 weight, bias = table)."""
    if "norm_out.linear.bias" not in sd:
        return sd
    sd = dict(sd)
    w, b = sd.pop("norm_out.linear.weight", None), sd.pop("norm_out.linear.bias")
    d = b.numel() // 2
    if w is not None and not torch.equal(w.float(), torch.eye(d).repeat(2, 1).to(w.device)):
        raise MotionWorldError("norm_out.linear.weight is not the identity: this checkpoint's head modulation "
                               "cannot be expressed as a scale_shift_table")
    sd["scale_shift_table"] = b.reshape(1, 2, d)
    return sd


def read_state_dict(path: str | Path) -> dict:
    """A .safetensors file, or a folder with diffusion_pytorch_model*.safetensors (sharded or not)."""
    from safetensors.torch import load_file

    p = Path(path)
    if p.is_dir():
        index = p / "diffusion_pytorch_model.safetensors.index.json"
        if index.exists():
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            sd = {}
            for shard in shards:
                sd.update(load_file(str(p / shard)))
            return sd
        files = sorted(p.glob("*.safetensors"))
        if not files:
            raise MotionWorldError(f"{p}: no .safetensors files in this folder")
        p = files[0] if len(files) == 1 else p / "diffusion_pytorch_model.safetensors"
    if not p.exists():
        raise MotionWorldError(f"{p}: weights file not found")
    if p.suffix != ".safetensors":
        raise MotionWorldError(f"{p}: only .safetensors weights are read (never pickles)")
    return load_file(str(p))


def load_wan_weights(model: torch.nn.Module, source, extend_channels: bool = False) -> dict:
    """Load a Wan transformer checkpoint (path or state dict, either layout) into `model`, strictly.

    extend_channels: if the checkpoint's patch embedding has fewer input channels than the model
    (a T2V checkpoint into a model with track/image channels), copy it into the first channels and
    zero the rest. Returns a small report."""
    sd = read_state_dict(source) if isinstance(source, (str, Path)) else dict(source)
    layout = "original" if is_original_layout(sd) else "diffusers"
    if layout == "original":
        sd = convert_original(sd)
    sd = _undo_norm_out_linear(sd)
    own = model.state_dict()
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} key(s), e.g. {missing[0]}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} key(s), e.g. {unexpected[0]}")
        raise MotionWorldError("Wan checkpoint does not match the model: " + "; ".join(parts))
    extended = 0
    key = "patch_embedding.weight"
    src, dst = sd[key], own[key]
    if src.shape != dst.shape and extend_channels and src.shape[0] == dst.shape[0] and src.shape[2:] == dst.shape[2:] \
            and src.shape[1] < dst.shape[1]:
        grown = torch.zeros_like(dst, dtype=src.dtype)
        grown[:, :src.shape[1]] = src
        extended = dst.shape[1] - src.shape[1]
        sd[key] = grown
    for name, value in sd.items():
        if value.shape != own[name].shape:
            hint = " (use extend_channels=True to add condition channels)" if name == key else ""
            raise MotionWorldError(f"Wan checkpoint {name}: shape {tuple(value.shape)} but the model has "
                                   f"{tuple(own[name].shape)}{hint}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in sd.items()}, strict=True)
    return {"layout": layout, "extended_channels": extended, "tensors": len(sd)}
