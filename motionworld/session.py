"""`Session`: a world you can drive one video frame at a time, without motionworld's window.

    session = mw.Session("scenes/garden/scene.yaml", backend="warp")
    frame = session.tick(ControlCommand(move=np.array([0, 0, 1.0])))   # uint8 [H, W, 3]

Each tick is 1/16 s of video. When the frames of the current chunk are used up, the tick samples
its input, holds it for the next chunk (12 frames; 9 for the first, which starts with the picture
itself), advances the camera rig and the objects over those frames, projects the tracks and asks
the generator for the chunk; later ticks play the chunk out. So control latency is one chunk, as in
the window. Inputs are `ControlCommand`s, or `InputState`s read through a controller; a scripted
controller (`per_frame = True`) is asked every frame instead, so a path plays exactly.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np

from .errors import MotionWorldError
from .generators import Chunk, NeuralGenerator, WarpGenerator
from .geometry.rig import ControlCommand
from .world import World


def make_generator(backend, **options):
    """'warp', 'neural' (with student=StreamingStudent or weights=folder), or a generator object."""
    if not isinstance(backend, str):
        return backend
    if backend == "warp":
        return WarpGenerator(**options)
    if backend == "neural":
        student = options.pop("student", None)
        if student is None:
            from .model.student import StreamingStudent

            weights = options.pop("weights", None)
            if weights is None:
                raise MotionWorldError("the neural backend needs weights (a folder with student.safetensors)")
            student = StreamingStudent.load(weights)
        return NeuralGenerator(student, **options)
    raise MotionWorldError(f"unknown backend {backend!r} (choose warp or neural)")


class Session:
    def __init__(self, scene, backend="warp", controller=None, **backend_options):
        self.world = scene if isinstance(scene, World) else World(scene)
        self.generator = make_generator(backend, **backend_options)
        self.controller = controller
        self.fps = self.world.fps
        self.reset()

    # ----- state
    def reset(self) -> None:
        """Back to the picture: the rig returns to the start camera, objects to time 0."""
        self.rig = self.world.rig()
        if self.controller is not None:
            self.controller.reset()
        self.generator.start(self.world)
        self.frame_index = 0  # video frames generated so far
        self.queue: deque = deque()
        self.poses: list[np.ndarray] = []
        self.last_chunk: Chunk | None = None

    @property
    def c2w(self) -> np.ndarray:
        return self.rig.c2w

    # ----- driving
    def _command(self, inputs) -> ControlCommand:
        if inputs is None:
            return ControlCommand()
        if isinstance(inputs, ControlCommand):
            return inputs
        if self.controller is None:
            raise MotionWorldError("Session.tick got an InputState but the session has no controller")
        return self.controller.update(inputs, 1.0 / self.fps)

    def _next_chunk(self, command: ControlCommand, inputs=None) -> None:
        n = self.generator.frames_for_next_chunk()
        dt = 1.0 / self.fps
        per_frame = getattr(self.controller, "per_frame", False) and not isinstance(inputs, ControlCommand)
        poses, fovs = [], []
        used = False  # the tick's own command drives the chunk's first new frame
        for i in range(n):
            if self.frame_index == 0 and i == 0:
                poses.append(self.rig.c2w)  # frame 0 is the picture's own camera
            else:
                if per_frame and used:
                    command = self._command(inputs)  # scripted playback: every frame has its own pose
                used = True
                poses.append(self.rig.update(command, dt))
            fovs.append(np.nan if self.rig.fov_deg is None else self.rig.fov_deg)
        c2w = np.stack(poses)
        times = (self.frame_index + np.arange(n)) / self.fps
        tr = self.world.tracks_for_poses(c2w, times, np.array(fovs))
        chunk = Chunk(c2w, tr.K, times, tr.tracks, tr.visibility, self.world.object_transforms(times))
        frames = self.generator.step(chunk)
        if len(frames) != n:
            raise MotionWorldError(f"generator {self.generator.name} returned {len(frames)} frames for a chunk of {n}")
        self.frame_index += n
        self.last_chunk = chunk
        self.queue.extend(frames)
        self.poses.extend(c2w)

    def tick(self, inputs=None) -> np.ndarray:
        """The next video frame (uint8 [H, W, 3]); generates a chunk when the last one is used up."""
        if not self.queue:
            self._next_chunk(self._command(inputs), inputs)
        return self.queue.popleft()

    def run(self, inputs) -> np.ndarray:
        """Frames for a sequence of inputs, one per tick: uint8 [T, H, W, 3]."""
        return np.stack([self.tick(i) for i in inputs])

    def close(self) -> None:
        self.generator.close()


def open_session(scene: str | Path, backend: str = "warp", **options) -> Session:
    return Session(scene, backend, **options)
