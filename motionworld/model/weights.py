"""Weights on disk: safetensors only, with MANIFEST.json holding the config, provenance and the
sha256 of every file. Loading refuses a file whose hash or tensor set does not match."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from ..checksums import sha256_file
from ..errors import MotionWorldError

MANIFEST = "MANIFEST.json"


def save_bundle(folder: str | Path, tensors: dict[str, torch.Tensor], config: dict, *, kind: str,
                filename: str = "model.safetensors", extra: dict | None = None) -> Path:
    """Write tensors + MANIFEST.json (config, sha256, sizes). Writes to temp names, then renames."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    tmp = folder / (filename + ".tmp")
    # clone: never hand a view of live (possibly FSDP-gathered) parameter storage to numpy
    save_file({k: v.detach().cpu().clone().contiguous() for k, v in tensors.items()}, str(tmp), metadata={"kind": kind})
    tmp.chmod(0o644)  # safetensors creates the file owner-only; shipped weights are for every user to read
    tmp.replace(target)
    manifest_path = folder / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest.setdefault("files", {})
    manifest["files"][filename] = {"sha256": sha256_file(target), "bytes": target.stat().st_size, "kind": kind,
                                   "config": config, **(extra or {})}
    tmp_manifest = folder / (MANIFEST + ".tmp")
    tmp_manifest.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp_manifest.replace(manifest_path)
    return target


def load_bundle(folder: str | Path, filename: str = "model.safetensors", kind: str | None = None,
                device="cpu") -> tuple[dict[str, torch.Tensor], dict]:
    """Check the manifest's sha256 and kind, return (tensors, manifest entry)."""
    from safetensors.torch import load_file

    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        raise MotionWorldError(f"{manifest_path}: weights manifest not found")
    try:
        manifest = json.loads(manifest_path.read_text())
        entry = manifest["files"][filename]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise MotionWorldError(f"{manifest_path}: no valid entry for {filename} ({e.__class__.__name__})") from None
    path = folder / filename
    if not path.exists():
        raise MotionWorldError(f"{path}: weights file listed in the manifest is missing")
    digest = sha256_file(path)
    if digest != entry.get("sha256"):
        raise MotionWorldError(f"{path}: sha256 {digest[:12]}… does not match the manifest "
                               f"({str(entry.get('sha256'))[:12]}…); the file is corrupt or was replaced")
    if kind is not None and entry.get("kind") != kind:
        raise MotionWorldError(f"{path}: holds {entry.get('kind')!r} weights, expected {kind!r}")
    return load_file(str(path), device=str(device)), entry


def load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], where: str) -> None:
    """Strict load with a one-line error naming the first mismatch."""
    own = module.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing or unexpected:
        first = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        raise MotionWorldError(f"{where}: weights do not match the model ({len(missing)} missing, "
                               f"{len(unexpected)} unexpected; {first})")
    for k, v in tensors.items():
        if v.shape != own[k].shape:
            raise MotionWorldError(f"{where}: {k} has shape {tuple(v.shape)}, the model expects {tuple(own[k].shape)}")
    module.load_state_dict({k: v.to(own[k].dtype) for k, v in tensors.items()})
