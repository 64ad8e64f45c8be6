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
from pathlib import Path

import numpy as np

from ..errors import MotionWorldError
from ..model.weights import MANIFEST, load_bundle, save_bundle

STUDENT_FILE, TEACHER_FILE = "student.safetensors", "teacher.safetensors"
LIMIT_MB = 60.0


def _entry(folder: Path) -> tuple[str, dict]:
    manifest = json.loads((folder / MANIFEST).read_text())
    (name, entry), = manifest["files"].items()
    return name, entry


def recipe(folder: str | Path) -> list[dict]:
    """The stages behind an export, oldest first: each export's provenance, following `init`."""
    chain, seen = [], set()
    todo = [Path(folder)]
    while todo:
        f = todo.pop()
        if f.resolve() in seen or not (f / MANIFEST).exists():
            continue
        seen.add(f.resolve())
        name, entry = _entry(f)
        chain.append({"export": str(f), "file": name, "sha256": entry["sha256"],
                      **{k: entry.get(k) for k in ("stage", "command", "steps", "seed", "data", "metrics", "init")}})
        todo.extend(Path(p) for p in (entry.get("init") or {}).values())
    order = {"vae": 0, "teacher": 1, "causal-init": 2, "distill": 3}
    return sorted(chain, key=lambda c: order.get(c["stage"], 9))


def _half(tensors: dict) -> dict:
    return {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}


def _student_frames(tensors: dict, entry: dict, seed: int = 0) -> np.ndarray:
    """Three chunks streamed from a fixed random picture and drifting tracks."""
    from ..model.config import StudentConfig
    from ..model.student import StreamingStudent, StudentModules
    from ..model.weights import load_into

    config = StudentConfig.from_dict(entry["config"])
    modules = StudentModules(config)
    load_into(modules, {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}, "ship check")
    student = StreamingStudent(config, modules=modules)
    rng = np.random.default_rng(seed)
    image = (rng.random((student.height, student.width, 3)) * 255).astype(np.uint8)
    g = np.stack(np.meshgrid(np.linspace(4, student.width - 5, 12), np.linspace(4, student.height - 5, 12)), -1).reshape(-1, 2)
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


def ship(student: str | Path, out: str | Path = "weights", teacher: str | Path | None = None, fp16: bool = True,
         min_psnr: float = 40.0, say=print) -> dict:
    student, out = Path(student), Path(out)
    tensors, entry = load_bundle(student, STUDENT_FILE)
    stored, check = tensors, None
    if fp16:
        check = _psnr(_student_frames(tensors, entry), _student_frames(_half(tensors), entry))
        if check >= min_psnr:
            stored = _half(tensors)
        else:
            say(f"float16 changes the student's frames ({check:.1f} dB < {min_psnr:g} dB): shipping float32")
    out.mkdir(parents=True, exist_ok=True)
    extra = {k: entry.get(k) for k in ("stage", "steps", "seed", "data", "metrics")}
    files = {}
    files[STUDENT_FILE] = save_bundle(out, stored, entry["config"], kind=entry["kind"], filename=STUDENT_FILE, extra={
        **extra, "stored_dtype": "float16" if stored is not tensors else "float32",
        "float16_check_psnr_db": check, "recipe": recipe(student)})
    if teacher is not None:
        t_tensors, t_entry = load_bundle(Path(teacher), TEACHER_FILE)
        files[TEACHER_FILE] = save_bundle(out, _half(t_tensors) if fp16 else t_tensors, t_entry["config"],
                                          kind=t_entry["kind"], filename=TEACHER_FILE, extra={
                                              **{k: t_entry.get(k) for k in ("stage", "steps", "seed", "data", "metrics")},
                                              "stored_dtype": "float16" if fp16 else "float32",
                                              "recipe": recipe(teacher)})
    total_mb = sum(p.stat().st_size for p in files.values()) / 2 ** 20
    if total_mb > LIMIT_MB:
        raise MotionWorldError(f"{out}: the shipped weights are {total_mb:.1f} MB, over the {LIMIT_MB:g} MB limit")
    return {"files": {k: str(v) for k, v in files.items()}, "megabytes": total_mb, "float16_check_psnr_db": check}

