"""Scripted controllers: play a camera path (or an action string) in real time."""
from __future__ import annotations

import numpy as np

from motionworld.geometry.actions import action_path
from motionworld.geometry.paths import CameraPath
from motionworld.geometry.rig import ControlCommand

from .base import Controller, InputState


class ScriptedController(Controller):
    """Plays `path` (absolute poses: rebase it on the scene's start camera first) from t = 0."""

    name = "scripted"
    per_frame = True

    def __init__(self, path: CameraPath, loop: bool = False, default_fov: float = np.nan):
        self.path = path
        self.loop = loop
        self.default_fov = default_fov
        self.time = 0.0

    @property
    def finished(self) -> bool:
        return not self.loop and self.time >= self.path.duration

    def reset(self) -> None:
        self.time = 0.0

    def update(self, inputs: InputState, dt: float) -> ControlCommand:
        self.time += dt
        t = self.time
        if self.loop and self.path.duration > 0 and t > self.path.duration:
            t -= self.path.duration * np.floor((t - 1e-12) / self.path.duration)  # the end pose is shown, then t wraps
        c2w, fov = self.path.sample([t], self.default_fov)
        return ControlCommand(pose=c2w[0], fov_deg=None if np.isnan(fov[0]) else float(fov[0]))


class ActionController(ScriptedController):
    """Plays a SANA-WM action string ("w-16,jw-8") from `start_pose` at 16 frames per second."""

    name = "actions"

    def __init__(self, actions: str, start_pose: np.ndarray | None = None, loop: bool = False, fps: float = 16.0,
                 **speeds):
        path = action_path(actions, fps=fps, **speeds)
        if start_pose is not None:
            path = path.rebased(start_pose)
        super().__init__(path, loop)
