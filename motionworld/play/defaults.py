"""Which scene and which generator a command uses when the user does not say.

The default scene is the garden shipped in `scenes/`; a shipped scene can also be named by its
folder (`motionworld play plaza`). Both are found as package data (`motionworld.shipped`). The
backend `auto` follows the scene's `generator.backend`: `model` means the neural student with the
scene's weights, else the shipped `weights/` folder; when neither exists (no trained weights yet),
the warp renderer stands in and the caller is told so in one line. Each backend's own defaults are
its `default_options`.
"""
from __future__ import annotations

from pathlib import Path

from .. import plugins, shipped
from ..errors import MotionWorldError
from ..scene import has_student_weights

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

    `scene` is a loaded Scene; `backend` a registered backend (`plugins.BACKENDS`) or "auto"; the
    backend's `default_options` fill in what the user did not name (`size` is the longest side)."""
    note = None
    if backend == "auto":
        backend, note = auto_backend(scene, weights)
    cls = plugins.load(plugins.BACKENDS, backend)
    options = cls.default_options(scene, weights=weights, size=size, seed=seed)
    return {"scene": str(scene.file), "backend": backend, "options": options}, note


def auto_backend(scene, weights: str | Path | None = None) -> tuple[str, str | None]:
    """What `--backend auto` means for a scene, and a note for the user (or None): the scene's
    `generator.backend` (`model` is the neural student); the student needs trained weights (named,
    the scene's, or the shipped ones), and where there are none the warp renderer stands in."""
    gen = scene.spec.generator if scene.spec is not None else None
    backend = "neural" if gen is None or gen.backend == "model" else gen.backend
    if backend == "neural" and weights is None and not (gen is not None and gen.weights) \
            and not has_student_weights(SHIPPED_WEIGHTS):
        return "warp", f"no trained weights found ({SHIPPED_WEIGHTS / 'student.safetensors'}); using the warp renderer"
    return backend, None
