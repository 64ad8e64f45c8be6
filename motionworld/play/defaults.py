"""Which scene and which generator a command uses when the user does not say.

The default scene is the garden shipped in `scenes/`; a shipped scene can also be named by its
folder (`motionworld play plaza`). Both are found as package data (`motionworld.shipped`). The backend `auto` follows the scene's
`generator.backend`: `model` means the neural student with the scene's weights, else the shipped
`weights/` folder; when neither exists (no trained weights yet), the warp renderer stands in and
the caller is told so in one line.
"""
from __future__ import annotations

from pathlib import Path

from .. import shipped
from ..errors import MotionWorldError
from ..scene import has_student_weights, weights_folder

DEFAULT_SCENE = shipped.scenes_folder() / "garden" / "scene.yaml"
SHIPPED_WEIGHTS = shipped.weights_folder()


def default_scene() -> Path:
    if not DEFAULT_SCENE.is_file():
        raise MotionWorldError(f"the default scene is missing ({DEFAULT_SCENE}); pass a scene file")
    return DEFAULT_SCENE


def shipped_scenes() -> list[str]:
    return sorted(p.parent.name for p in shipped.scenes_folder().glob("*/scene.yaml"))


def scene_path(given: str | Path | None) -> Path:
    """The scene file a command runs: the one given; a shipped scene named by its folder (`garden`,
    `plaza`) where no such file or folder exists here; the shipped garden when none is given."""
    if given is None:
        return default_scene()
    given = Path(given)
    if not given.exists() and given.suffix == "" and len(given.parts) == 1 and given.name in shipped_scenes():
        return shipped.scenes_folder() / given.name / "scene.yaml"
    return given


def session_spec(scene, backend: str = "auto", weights: str | Path | None = None, size: int | None = None,
                 seed: int | None = None) -> tuple[dict, str | None]:
    """A Session spec ({"scene", "backend", "options"}) and a note for the user (or None).

    `scene` is a loaded Scene; `size` is the longest side for the warp and tracks backends."""
    gen = scene.spec.generator if scene.spec is not None else None
    note = None
    if backend == "auto":
        backend = "warp" if gen is not None and gen.backend == "warp" else "neural"
        if backend == "neural" and weights is None:
            if gen is not None and gen.weights:
                weights = weights_folder(Path(scene.file).parent / gen.weights)
            elif has_student_weights(SHIPPED_WEIGHTS):
                weights = SHIPPED_WEIGHTS
            else:
                backend = "warp"
                note = f"no trained weights found ({SHIPPED_WEIGHTS / 'student.safetensors'}); using the warp renderer"
    if backend == "neural":
        if weights is None:
            weights = SHIPPED_WEIGHTS
        weights = weights_folder(weights)
        options = {"weights": str(weights.resolve()), "seed": int(seed if seed is not None else (gen.seed if gen else 0))}
        if gen is not None:
            options.update(sink=gen.sink, window=gen.window)
    elif backend in ("warp", "tracks"):
        options = {"max_size": int(size or 640)}
    else:
        raise MotionWorldError(f"unknown backend {backend!r} (choose auto, neural, warp or tracks)")
    return {"scene": str(scene.file), "backend": backend, "options": options}, note
