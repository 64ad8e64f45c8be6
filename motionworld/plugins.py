"""The registries: one table per extension point, which every part that names them reads.

    BACKENDS        frame generators (`--backend`, `mw.Session(backend=...)`, input logs, scenes)
    DEPTH_SOURCES   where a picture's depth comes from (a scene's `depth: {source: ...}`, `--depth`)
    STAGES          training stages (`motionworld train STAGE`, a config's `stage:`)
    CONTROLLERS     input devices and scripts

`_BUILTIN` below lists motionworld's own, each as "module:attribute" so nothing is imported until it
is asked for. A new one is one class and one line here. Beside them:
- another package adds its own with a Python entry point in the group's name, e.g. in its
  pyproject.toml `[project.entry-points."motionworld.backends"]` `sepia = "sepia_pkg:SepiaGenerator"`;
- a program or notebook calls `register(BACKENDS, "sepia", SepiaGenerator)` before it asks for it.
What each kind of class must provide, and a worked example of each, is in docs/extending.md; the
contract checks (`motionworld.checks`) test a registered one as the test suite tests ours.
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from .errors import MotionWorldError

BACKENDS = "motionworld.backends"
DEPTH_SOURCES = "motionworld.depth_sources"
STAGES = "motionworld.stages"
CONTROLLERS = "motionworld.controllers"

_BUILTIN = {
    BACKENDS: {
        "neural": "motionworld.backends:NeuralGenerator",
        "warp": "motionworld.backends:WarpGenerator",
        "tracks": "motionworld.backends:TrackPreviewGenerator",
    },
    DEPTH_SOURCES: {
        "file": "motionworld.geometry.depth:FileDepth",
        "prior": "motionworld.geometry.depth:PriorDepth",
        "network": "motionworld.geometry.depth:NetworkDepth",
        "estimator": "motionworld.geometry.depth:EstimatorDepth",
    },
    STAGES: {
        "vae": "motionworld.train.vae_stage:VAEStage",
        "teacher": "motionworld.train.teacher_stage:TeacherStage",
        "causal-init": "motionworld.train.causal_init:CausalInitStage",
        "distill": "motionworld.train.distill:DistillStage",
        "guide": "motionworld.train.guide_stage:GuideStage",
        "depth": "motionworld.train.depth_stage:DepthStage",
    },
    CONTROLLERS: {
        "keyboard": "controllers.keyboard:KeyboardController",
        "mouse": "controllers.mouse:MouseController",
        "gamepad": "controllers.gamepad:GamepadController",
        "scripted": "controllers.scripted:ScriptedController",
        "actions": "controllers.scripted:ActionController",
    },
}
_REGISTERED: dict[str, dict[str, object]] = {group: {} for group in _BUILTIN}
RESERVED = {STAGES: ("ship", "plot")}  # `motionworld train ship | plot` are not stages


def _kind(group: str) -> str:
    return group.rsplit(".", 1)[-1].replace("_", " ").rstrip("s")


def _targets(group: str) -> dict[str, object]:
    """Name -> "module:attribute" or the object itself: the built-ins, then entry points, then register()."""
    if group not in _BUILTIN:
        raise MotionWorldError(f"unknown extension point {group!r} (one of {', '.join(_BUILTIN)})")
    found: dict[str, object] = dict(_BUILTIN[group])
    for ep in entry_points(group=group):
        if ep.name not in RESERVED.get(group, ()):
            found[ep.name] = ep.value
    found.update(_REGISTERED[group])
    return found


def names(group: str) -> list[str]:
    """The registered names of a group, built-ins first in their table's order, then the rest sorted."""
    targets = _targets(group)
    builtin = [n for n in _BUILTIN[group] if n in targets]
    return builtin + sorted(set(targets) - set(builtin))


def register(group: str, name: str, target) -> None:
    """Add (or replace) `name` in a group for this process: `target` is the class itself or a
    "module:attribute" string."""
    _targets(group)  # the group exists
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise MotionWorldError(f"a {_kind(group)} name is a non-empty word, got {name!r}")
    if name in RESERVED.get(group, ()):
        raise MotionWorldError(f"{name!r} is taken (not a {_kind(group)} name: {', '.join(RESERVED[group])})")
    _REGISTERED[group][name] = target


def unregister(group: str, name: str) -> None:
    """Forget what register() added under `name` (built-ins and entry points stay)."""
    _REGISTERED[group].pop(name, None)


def load(group: str, name: str):
    """The object registered under `name`, or a clear error listing what exists."""
    targets = _targets(group)
    if name not in targets:
        raise MotionWorldError(f"unknown {_kind(group)} {name!r} (available: {', '.join(names(group))})")
    target = targets[name]
    if not isinstance(target, str):
        return target
    module, _, attr = target.partition(":")
    try:
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:  # another package's plugin, missing or broken: one line
        raise MotionWorldError(f"{_kind(group)} {name!r} ({target}) does not load: {type(e).__name__}: {e}") from None
    return obj


def try_load(group: str, name: str):
    """(the object, None), or (None, why it does not load): for listings (help texts, choices, the
    evaluation's rows) that must not fail because one installed plugin is broken."""
    try:
        return load(group, name), None
    except Exception as e:  # a plugin's own import may raise anything
        return None, str(e)
