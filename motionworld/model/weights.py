"""Weights on disk: safetensors only, with MANIFEST.json holding the config, provenance and the
sha256 of every file and of its config. Loading refuses a file whose hash, config hash or tensor set
does not match, and compares tensor shapes against the config's model built on the meta device
(no memory) before the real model is built, so a config that names a huge model fails in one line."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import torch

from .. import strict_json
from ..checksums import sha256_file
from ..errors import MotionWorldError
from ..limits import check_file_size
from ..outputs import replacing

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
                                   "config": config, "config_sha256": config_digest(config), **(extra or {})}
    tmp_manifest = folder / (MANIFEST + ".tmp")
    tmp_manifest.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp_manifest.replace(manifest_path)
    return target


def add_config_hashes(folder: str | Path) -> list[str]:
    """Give each manifest entry written before configs were hashed its `config_sha256`, where the
    file's own sha256 still matches (the export is as it was written); returns the files given one.
    An entry whose hash is there but does not match is left as it is: that config was edited."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    added = []
    for name, entry in manifest["files"].items():
        if not isinstance(entry, dict) or "config_sha256" in entry:
            continue
        if not isinstance(entry.get("config"), dict):
            raise MotionWorldError(f"{folder / MANIFEST}: {name} has no config to hash")
        path = folder / name
        if not path.is_file() or sha256_file(path) != entry.get("sha256"):
            raise MotionWorldError(f"{path}: missing, or its sha256 does not match the manifest; not migrated")
        entry["config_sha256"] = config_digest(entry["config"])
        added.append(name)
    if added:
        with replacing(folder / MANIFEST) as tmp:
            tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    return added


def config_digest(config: dict) -> str:
    """sha256 of a config as canonical JSON: the manifest's config is verified like the file is."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def read_manifest(folder: str | Path) -> dict:
    manifest_path = Path(folder) / MANIFEST
    if not manifest_path.is_file():
        raise MotionWorldError(f"{manifest_path}: weights manifest not found")
    try:
        check_file_size(manifest_path)
        text = manifest_path.read_text()
        manifest = strict_json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise MotionWorldError(f"{manifest_path}: not a readable weights manifest ({e})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise MotionWorldError(f"{manifest_path}: not a weights manifest (no 'files' mapping)")
    return manifest


def load_bundle(folder: str | Path, filename: str = "model.safetensors", kind: str | None = None,
                device="cpu", check: Callable[[dict], object] | None = None) -> tuple[dict[str, torch.Tensor], dict]:
    """Check the manifest's sha256 (of the file and of its config) and kind, return (tensors, manifest entry).
    `check(config)` judges the entry's config (e.g. `model.budget`) before the tensors are read."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    manifest_path = folder / MANIFEST
    entry = read_manifest(folder)["files"].get(filename)
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise MotionWorldError(f"{manifest_path}: no valid entry for {filename} (with a config)")
    path = folder / filename
    if not path.is_file():
        raise MotionWorldError(f"{path}: weights file listed in the manifest is missing")
    digest = sha256_file(path)
    if digest != entry.get("sha256"):
        raise MotionWorldError(f"{path}: sha256 {digest[:12]}… does not match the manifest "
                               f"({str(entry.get('sha256'))[:12]}…); the file is corrupt or was replaced")
    if "config_sha256" not in entry:
        raise MotionWorldError(f"{manifest_path}: {filename} has no config_sha256 (written before configs were "
                               f"hashed); `motionworld weights migrate {folder}` adds it")
    if config_digest(entry["config"]) != entry.get("config_sha256"):
        raise MotionWorldError(f"{manifest_path}: the config of {filename} does not match its config_sha256 "
                               "(edited by hand, or written before configs were hashed)")
    if kind is not None and entry.get("kind") != kind:
        raise MotionWorldError(f"{path}: holds {entry.get('kind')!r} weights, expected {kind!r}")
    if check is not None:
        check(entry["config"])
    try:
        return load_file(str(path), device=str(device)), entry
    except (SafetensorError, OSError, ValueError) as e:  # a pickle, a truncated file, a foreign format
        raise MotionWorldError(f"{path}: not a readable safetensors file ({e})") from None


def build_checked(factory: Callable[[], torch.nn.Module], tensors: dict[str, torch.Tensor],
                  where: str) -> torch.nn.Module:
    """`factory()` loaded with `tensors`, after the names and shapes were compared on a copy built on
    the meta device: a config whose model does not fit the file is refused before any allocation."""
    try:
        with torch.device("meta"):
            skeleton = factory()
    except (ValueError, TypeError, RuntimeError, IndexError, ZeroDivisionError,
            AssertionError) as e:  # sizes torch refuses
        raise MotionWorldError(f"{where}: the manifest's config cannot be built ({e})") from None
    _compare(skeleton.state_dict(), tensors, where)
    del skeleton
    module = factory()
    load_into(module, tensors, where)
    return module


def _compare(own: dict, tensors: dict, where: str) -> None:
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing or unexpected:
        first = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        raise MotionWorldError(f"{where}: weights do not match the model ({len(missing)} missing, "
                               f"{len(unexpected)} unexpected; {first})")
    for k, v in tensors.items():
        if v.shape != own[k].shape:
            raise MotionWorldError(f"{where}: {k} has shape {tuple(v.shape)}, the model expects {tuple(own[k].shape)}")


def load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], where: str) -> None:
    """Strict load with a one-line error naming the first mismatch."""
    own = module.state_dict()
    _compare(own, tensors, where)
    module.load_state_dict({k: v.to(own[k].dtype) for k, v in tensors.items()})
