"""Plugins found by name through Python entry points (controllers, depth sources).

Groups: `motionworld.controllers`, `motionworld.depth_sources`. The table below is the one list of the
built-ins (pyproject.toml declares the same entry points for an installed copy; a test keeps the two
equal). Third-party packages add their own by declaring entry points in these groups. When motionworld runs from a source tree that was not
installed (no metadata), the built-in table below stands in for its own entry points.
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from .errors import MotionWorldError

CONTROLLERS = "motionworld.controllers"
DEPTH_SOURCES = "motionworld.depth_sources"

_BUILTIN = {
    CONTROLLERS: {
        "keyboard": "controllers.keyboard:KeyboardController",
        "mouse": "controllers.mouse:MouseController",
        "gamepad": "controllers.gamepad:GamepadController",
        "scripted": "controllers.scripted:ScriptedController",
        "actions": "controllers.scripted:ActionController",
    },
    DEPTH_SOURCES: {
        "file": "motionworld.geometry.depth:FileDepth",
        "prior": "motionworld.geometry.depth:PriorDepth",
        "network": "motionworld.geometry.depth:NetworkDepth",
        "estimator": "motionworld.geometry.depth:EstimatorDepth",
    },
}


def _targets(group: str) -> dict[str, str]:
    found = dict(_BUILTIN.get(group, {}))
    for ep in entry_points(group=group):
        found[ep.name] = ep.value
    return found


def names(group: str) -> list[str]:
    return sorted(_targets(group))


def load(group: str, name: str):
    """The object registered under `name`, or a clear error listing what exists."""
    targets = _targets(group)
    if name not in targets:
        kind = group.rsplit(".", 1)[-1].replace("_", " ").rstrip("s")
        raise MotionWorldError(f"unknown {kind} {name!r} (available: {', '.join(sorted(targets))})")
    module, _, attr = targets[name].partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj
