"""Gymnasium environment `MotionWorld-v0` (optional extra `gym`): an agent walks into a picture.

    import gymnasium, motionworld.play.gym_env   # importing registers the id
    env = gymnasium.make("MotionWorld-v0", scene="scenes/garden/scene.yaml")

One step is one chunk of video (12 frames, 0.75 s; the first is 9): the action is held over it, as
a player's input is in the window. Action: five numbers in [-1, 1], the camera's velocity (right,
up, forward) and turn rate (yaw right, pitch up), as fractions of the scene's move and turn
speeds. Observation: the chunk's last frame, uint8 [H, W, 3]; after reset, the picture itself.
There is no task, so the reward is 0 unless a `reward_fn(frames, c2w) -> float` is given; an
episode is truncated after `max_chunks` steps. `info` has the camera pose and the frame index.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .. import plugins
from ..geometry.rig import ControlCommand
from .defaults import default_scene
from .session import Session

ENV_ID = "MotionWorld-v0"


class MotionWorldEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 16}

    def __init__(self, scene=None, backend: str = "warp", max_chunks: int = 32, reward_fn=None,
                 render_mode: str | None = None, **backend_options):
        if isinstance(backend, str) and "max_size" in plugins.load(plugins.BACKENDS, backend).Options.model_fields:
            backend_options.setdefault("max_size", 128)  # a small observation, for a backend with a frame size
        self.session = Session(scene or default_scene(), backend, **backend_options)
        self.max_chunks = int(max_chunks)
        self.reward_fn = reward_fn
        self.render_mode = render_mode
        h, w = self.session.frame_size
        self.observation_space = spaces.Box(0, 255, (h, w, 3), np.uint8)
        self.action_space = spaces.Box(-1.0, 1.0, (5,), np.float32)
        self._last = None
        self._chunks = 0

    def _info(self) -> dict:
        return {"c2w": self.session.c2w.copy(), "frame": self.session.frame_index}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None and hasattr(self.session.generator, "seed"):
            self.session.generator.seed = int(seed)  # the neural backend's noise
        self.session.reset()
        self._chunks = 0
        self._last = self.session.picture().copy()
        return self._last.copy(), self._info()

    def step(self, action):
        a = np.clip(np.asarray(action, dtype=float).reshape(5), -1.0, 1.0)
        a = np.where(np.isfinite(a), a, 0.0)  # a NaN action stands still rather than poisoning the pose
        frames = self.session.next_chunk(ControlCommand(move=a[:3], turn=a[3:5]))
        self._chunks += 1
        self._last = frames[-1]
        reward = 0.0 if self.reward_fn is None else float(self.reward_fn(frames, self.session.c2w))
        return self._last.copy(), reward, False, self._chunks >= self.max_chunks, self._info()

    def render(self):
        return None if self._last is None else self._last.copy()

    def close(self):
        self.session.close()


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="motionworld.play.gym_env:MotionWorldEnv")
