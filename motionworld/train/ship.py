"""`motionworld train ship`: the shipped `weights/` folder from training exports.

Copies the student (and, if given, the teacher) into one folder, stored as float16 where that
does not change what the model makes: the student streams the same random picture and tracks
with the float32 and the float16 weights, and float16 is kept only if the frames agree to at least
`min_psnr` dB (they are loaded back as float32 either way). The manifest records, for each file,
its sha256, size, config and the whole recipe that made it: every stage's command, data, seeds,
steps and final metrics, found by following each export's `init` back to the VAE.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ..errors import MotionWorldError
from ..model.bundles import VAE_KIND, modules_config_check, unguided, vae_config_check
from ..model.config import StudentConfig, VAEConfig
from ..model.depth_net import FILENAME, KIND, DepthNet, load_depth_net
from ..model.student import StreamingStudent, TrackVideoModules
from ..model.weights import MANIFEST, load_bundle, load_into, read_manifest, save_bundle
from ..outputs import as_created, check_output_folder, check_output_place

STUDENT_FILE, TEACHER_FILE, DEPTH_FILE = "student.safetensors", "teacher.safetensors", FILENAME
LIMIT_BYTES = 60_000_000  # 60 MB


def recipe(folder: str | Path, say=print) -> list[dict]:
    """The stages behind an export, oldest first: each export's provenance, following `init`
    (relative paths in `init` are taken from the folder training ran in, the current one)."""
    chain, seen = [], set()
    todo = [(Path(folder), None)]  # (export folder, "parent export via init.key" that named it)
    while todo:
        f, named_by = todo.pop()
        if f.resolve() in seen:
            continue
        seen.add(f.resolve())
        if not (f / MANIFEST).exists():
            say(f"note: {f} (named in a stage's init) is gone; the recipe in the manifest lacks it")
            continue
        for name, entry in json.loads((f / MANIFEST).read_text())["files"].items():
            if entry.get("stage") is None:
                continue  # a shipped copy, not an export
            # named_by says why a stage is here: a warm start (init.teacher from an older run) pulls in
            # that run's whole chain, VAE included, beside the VAE this run actually decodes with
            chain.append({"export": str(f), "file": name, "sha256": entry["sha256"], "named_by": named_by,
                          **{k: entry.get(k) for k in ("stage", "command", "invocations", "steps", "seed", "data",
                                                     "metrics", "init")}})
            todo.extend((Path(p), f"{f} init.{key}") for key, p in (entry.get("init") or {}).items())
    order = {"vae": 0, "teacher": 1, "causal-init": 2, "distill": 3, "guide": 4}
    return sorted(chain, key=lambda c: order.get(c["stage"], 9))


def _recipe_of(folder: Path, entry: dict, say) -> list[dict]:
    """The recipe of an export; a folder `ship` wrote (trained/student-guided) already carries its
    whole recipe, which following its `init` could no longer find."""
    return entry.get("recipe") or recipe(folder, say)


def _half(tensors: dict) -> dict:
    return {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}


def _student_frames(tensors: dict, entry: dict, seed: int = 0) -> np.ndarray:
    """Three chunks streamed from a fixed random picture and drifting tracks."""

    config = StudentConfig.from_dict(entry["config"])
    modules = TrackVideoModules(config)
    load_into(modules, {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}, "ship check")
    student = StreamingStudent(config, modules=modules)
    rng = np.random.default_rng(seed)
    image = (rng.random((student.height, student.width, 3)) * 255).astype(np.uint8)
    g = np.stack(np.meshgrid(np.linspace(4, student.width - 5, 12), np.linspace(4, student.height - 5, 12)),
                 -1).reshape(-1, 2)
    student.start(image, "a test", seed=seed)
    out, t = [], 0
    for _ in range(3):
        n = student.frames_for_next_chunk()
        tracks = (g[None] + np.arange(t, t + n)[:, None, None] * np.array([0.5, 0.2])).astype(np.float32)
        out.append(student.step(tracks, np.ones(tracks.shape[:2], bool)))
        t += n
    return np.concatenate(out)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def _teacher_agrees(tensors: dict, entry: dict, tolerance: float = 1e-2) -> float:
    """Relative difference of the teacher's velocity on a fixed random input, float16 vs float32
    weights."""

    config = StudentConfig.from_dict(entry["config"])
    outs = []
    for t in (tensors, _half(tensors)):
        modules = TrackVideoModules(config)
        load_into(modules, {k: v.float() if v.is_floating_point() else v for k, v in t.items()}, "ship check")
        dit = modules.dit.eval()
        g = torch.Generator().manual_seed(0)
        c = config.dit
        x = torch.randn(1, c.in_channels, 4, config.height // 8, config.width // 8, generator=g)
        cond = torch.randn(1, c.image_channels + c.track_channels + c.warp_channels, 4, config.height // 8,
                           config.width // 8, generator=g)
        text = torch.randn(1, 8, c.text_dim, generator=g)
        with torch.no_grad():
            outs.append(dit(x, torch.full((1, 4), 500.0), text, condition=cond, attention="full").float())
    return float((outs[1] - outs[0]).norm() / outs[0].norm().clamp_min(1e-12))


def with_decoder(tensors: dict, entry: dict, vae_folder: str | Path, owner: str) -> tuple[dict, dict]:
    """`tensors` (a student's or teacher's) and their manifest entry with the decoder of the VAE
    exported in `vae_folder`, which must share their encoder and latent statistics (a
    `vae.decoder_only` or `vae.guide_only` fine-tune of theirs): a decoder is only interchangeable
    over the same latent space. A guided decoder comes along (and into the config) with it."""

    v_tensors, v_entry = load_bundle(vae_folder, "vae.safetensors", kind=VAE_KIND, check=vae_config_check(vae_folder))
    v_config, own = VAEConfig.from_dict(v_entry["config"]), VAEConfig.from_dict(entry["config"]["vae"])
    if unguided(v_config) != unguided(own):
        raise MotionWorldError(f"{vae_folder}: its VAE config or latent statistics differ from the {owner}'s; "
                               "only a decoder fine-tuned with vae.decoder_only or vae.guide_only can be swapped in")
    out = {k: v for k, v in tensors.items() if not k.startswith("vae.guide.")}
    for name, value in v_tensors.items():
        key = f"vae.{name}"
        if name.startswith("guide."):
            out[key] = value
            continue
        if key not in tensors:
            raise MotionWorldError(f"{vae_folder}: {name} has no counterpart in the {owner}")
        # Exports made before frozen parts were kept out of the EMA carry ~1e-7 of rounding drift.
        if name.startswith("encoder.") and not torch.allclose(tensors[key].float(), value.float(),
                                                              rtol=1e-4, atol=1e-5):
            raise MotionWorldError(f"{vae_folder}: its encoder ({name}) differs from the one the {owner} was trained "
                                   "on; only a decoder fine-tuned with vae.decoder_only can be swapped in")
        out[key] = value.to(tensors[key].dtype)
    return out, {**entry, "config": {**entry["config"], "vae": v_config.to_dict()}}


DEPTH_MAX_SIDE_CHECK = 256  # the picture size of the float16 check of a depth network


def _shipped_entries(folder: Path) -> dict | None:
    """The manifest entries of a weights folder `ship` wrote, each with the `stored_dtype` that only
    `ship` records (a user's own folder of models has none), else None."""
    try:
        files = read_manifest(folder)["files"]
    except MotionWorldError:
        return None
    return files if all(isinstance(e, dict) and "stored_dtype" in e for e in files.values()) else None


def _takes_a_depth_network(folder: Path) -> bool:
    """A weights folder whose manifest gets a depth entry added: readable, and a depth.safetensors
    already there is one it lists (weights it describes, not a file of the user's own)."""
    try:
        files = read_manifest(folder)["files"]
    except MotionWorldError:
        return False
    return not (folder / FILENAME).exists() or FILENAME in files


def is_shipped_folder(folder: Path) -> bool:
    """A weights folder `ship` wrote, holding MANIFEST.json and only the files it lists."""
    files = _shipped_entries(folder)
    return files is not None and all(p.name == MANIFEST or p.name in files for p in folder.iterdir())


def check_ship_folder(out: Path) -> Path:
    """`--out` of ship: new, empty, or a folder ship made before (it is replaced whole, or gets a
    depth network added); anything else is refused before any work, so no user's file is lost."""
    check_output_place(out)
    if out.exists() and not out.is_dir():
        raise MotionWorldError(f"--out {out} is a file, not a weights folder; give a folder name")
    if out.is_dir() and any(out.iterdir()) and not is_shipped_folder(out):
        raise MotionWorldError(f"--out {out} holds files that `train ship` did not write; give a new or empty folder "
                               "(nothing in it was touched)")
    return out


def ship_depth(export: str | Path, out: str | Path = "weights", fp16: bool = True, max_side: int | None = None,
               max_error: float = 1e-2, picture_default: bool = False, verdict: str = "") -> dict:
    """Put our depth network (a `train depth` export) into the weights folder `out` beside the
    student, as `depth.safetensors` with its manifest entry (the other files and entries stay):
    float16 where its log-disparity on a fixed picture moves by less than `max_error` (relative),
    the recipe of the export, and `max_side` (the picture size it reads) set in its config.
    `picture_default` says whether a picture without depth gets it (only when its evaluation beat the
    prior and a flat plane), `verdict` the measured why, which the depth chain says when it skips it."""
    export, out = Path(export), Path(out)
    # only depth.safetensors and the manifest's entry for it are written; other files stay as they are
    check_output_folder(out, (FILENAME, MANIFEST), _takes_a_depth_network, "--out")
    if max_side is not None and not 32 <= int(max_side) <= 16384:
        raise MotionWorldError(f"--depth-max-side must be in [32, 16384], got {max_side}")
    net = load_depth_net(export)
    config = replace(net.config, max_side=int(max_side)) if max_side else net.config
    tensors = {k: v.detach().clone() for k, v in net.state_dict().items()}
    rng = np.random.default_rng(0)
    picture = (rng.random((DEPTH_MAX_SIDE_CHECK * 3 // 4, DEPTH_MAX_SIDE_CHECK, 3)) * 255).astype(np.uint8)
    half = DepthNet(config)
    half.load_state_dict({k: v.half().float() for k, v in tensors.items()})
    full = DepthNet(config)
    full.load_state_dict(tensors)
    a, b = full.predict(picture), half.predict(picture)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise MotionWorldError(f"{export}: the depth network gives NaN or infinite values; not shipped")
    error = float(np.linalg.norm(a - b) / max(np.linalg.norm(a - a.mean()), 1e-12))
    use_half = fp16 and error <= max_error
    stored = {k: v.half() for k, v in tensors.items()} if use_half else tensors
    entry = read_manifest(export)["files"][FILENAME]
    extra = {k: entry.get(k) for k in ("stage", "steps", "seed", "data", "metrics")}
    extra.update(stored_dtype="float16" if use_half else "float32", float16_check_relative_error=error,
                 picture_default=bool(picture_default), verdict=str(verdict),
                 recipe=_recipe_of(export, entry, print))
    size = sum(v.numel() * v.element_size() for v in stored.values())
    others = sum(p.stat().st_size for p in out.glob("*.safetensors") if p.name != FILENAME) if out.is_dir() else 0
    if size + others > LIMIT_BYTES:
        raise MotionWorldError(f"the weights would be {(size + others) / 1e6:.1f} MB, "
                               f"over the {LIMIT_BYTES / 1e6:g} MB limit; nothing was written")
    path = save_bundle(out, stored, config.to_dict(), kind=KIND, filename=FILENAME, extra=extra)
    return {"file": str(path), "megabytes": path.stat().st_size / 1e6, "float16_check_relative_error": error}


def ship(student: str | Path, out: str | Path = "weights", teacher: str | Path | None = None, fp16: bool = True,
         min_psnr: float = 40.0, max_teacher_error: float = 1e-2, vae: str | Path | None = None, say=print) -> dict:
    """Build the weights folder next to `out`, check it, then put it in place of `out` (a previous
    weights folder is replaced whole, so no stale file survives; a depth network shipped there by
    `ship_depth` is carried over with its manifest entry). `out` must be new, empty or a folder
    ship made (`check_ship_folder`). With `vae`, the models get the decoder of that VAE export
    (see `with_decoder`)."""
    student, out = Path(student), check_ship_folder(Path(out))
    tensors, entry = load_bundle(student, STUDENT_FILE, check=modules_config_check(student, STUDENT_FILE))
    decoder = {}
    if vae is not None:
        tensors, entry = with_decoder(tensors, entry, vae, "student")
        decoder = {"decoder_from": recipe(vae, say)}
    stored, check = tensors, None
    if fp16:
        check = _psnr(_student_frames(tensors, entry), _student_frames(_half(tensors), entry))
        if check >= min_psnr:
            stored = _half(tensors)
        else:
            say(f"float16 changes the student's frames ({check:.1f} dB < {min_psnr:g} dB): shipping float32")
    # JSON has no infinity: a student already in float16 (a folder `ship` wrote) gives identical frames
    recorded = check if check is None or np.isfinite(check) else "identical"
    jobs = [(STUDENT_FILE, stored, entry, {"stored_dtype": "float16" if stored is not tensors else "float32",
                                           "float16_check_psnr_db": recorded, "recipe": _recipe_of(student, entry, say),
                                           **decoder})]
    if teacher is not None:
        t_tensors, t_entry = load_bundle(Path(teacher), TEACHER_FILE, check=modules_config_check(teacher, TEACHER_FILE))
        if vae is not None:
            t_tensors, t_entry = with_decoder(t_tensors, t_entry, vae, "teacher")
        error = _teacher_agrees(t_tensors, t_entry) if fp16 else None
        half = fp16 and error <= max_teacher_error
        if fp16 and not half:
            say(f"float16 changes the teacher's output by {error:.2g} (> {max_teacher_error:g}): shipping float32")
        jobs.append((TEACHER_FILE, _half(t_tensors) if half else t_tensors, t_entry,
                     {"stored_dtype": "float16" if half else "float32", "float16_check_relative_error": error,
                      "recipe": _recipe_of(teacher, t_entry, say), **decoder}))
    size = sum(sum(v.numel() * v.element_size() for v in t.values()) for _, t, _, _ in jobs)
    kept_depth = out / DEPTH_FILE if (out / DEPTH_FILE).is_file() else None  # our depth network stays
    size += kept_depth.stat().st_size if kept_depth else 0
    if size > LIMIT_BYTES:
        raise MotionWorldError(f"the weights would be {size / 1e6:.1f} MB, over the {LIMIT_BYTES / 1e6:g} MB limit; "
                               f"nothing was written")
    # a folder of this run's own beside `out` (never a name a user may hold), removed if anything fails
    building = Path(tempfile.mkdtemp(prefix=f".{out.name[:64]}.", suffix=".building", dir=out.parent))
    old = None
    try:
        files = _build_folder(building, jobs, out, kept_depth)
        check_ship_folder(out)  # still new, empty or ours: it is replaced now
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name[:64]}.", suffix=".old", dir=out.parent))
            out.rename(old / out.name)
        as_created(building).rename(out)
    except BaseException:
        if old is not None and not out.exists():  # put the previous folder back as it was
            (old / out.name).rename(out)
        shutil.rmtree(building, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    total = sum((out / name).stat().st_size for name in files)
    return {"files": {name: str(out / name) for name in files}, "megabytes": total / 1e6,
            "float16_check_psnr_db": check}


def _build_folder(building: Path, jobs: list, out: Path, kept_depth: Path | None) -> dict:
    files = {}
    for name, t, e, extra in jobs:
        files[name] = save_bundle(building, t, e["config"], kind=e["kind"], filename=name, extra={
            **{k: e.get(k) for k in ("stage", "steps", "seed", "data", "metrics")}, **extra})
    if kept_depth is not None:
        shutil.copy2(kept_depth, building / DEPTH_FILE)
        manifest = json.loads((building / MANIFEST).read_text())
        manifest["files"][DEPTH_FILE] = read_manifest(out)["files"][DEPTH_FILE]
        (building / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return files
