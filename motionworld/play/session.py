"""`Session`: a world you can drive one video frame at a time, without motionworld's window.

    session = mw.Session("scenes/garden/scene.yaml", backend="warp")
    frame = session.tick(ControlCommand(move=np.array([0, 0, 1.0])))   # uint8 [H, W, 3]

Each tick is 1/16 s of video. When the frames of the current chunk are used up, the tick samples
its input, holds it for the next chunk (12 frames; 9 for the first, which starts with the picture
itself), advances the camera rig and the objects over those frames, projects the tracks and asks
the generator for the chunk; later ticks play the chunk out. So control latency is one chunk, as in
the window. Inputs are `ControlCommand`s, or `InputState`s read through a controller; a scripted
controller (`per_frame = True`) is asked every frame instead, so a path plays exactly.

A held command's rates (move, turn) apply to every frame of the chunk; its `look_deg` (mouse look,
an amount rather than a rate) is the turn for the whole chunk, spread evenly over its frames. The
window and the web page instead hand over an `InputSpan` (`controllers.latch`): what was held and
for how long since the last chunk, spread over the frames by time, so a key held t seconds moves
the camera speed x t whatever the chunk's length.

`next_chunk` is the same step one chunk at a time (the window's worker thread uses it), and
`play_chunk` replays a logged chunk exactly: the rig commands and drags of every chunk are in
`last_record`, which is what `motionworld replay` reads back.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import replace

import numpy as np

from .. import arguments as A
from .. import plugins
from ..backends import Chunk
from ..errors import ArgumentError, MotionWorldError
from ..geometry.drag import DragState, DragTracker, apply_offsets
from ..geometry.rig import ControlCommand
from ..scene import load_scene
from ..world import World

POSES_KEPT = 4096  # c2w of the last 4096 frames (4.3 minutes) are kept; a stream of hours keeps no more


def make_generator(backend, **options):
    """A registered backend by name (`motionworld.plugins.BACKENDS`: 'neural', 'warp', 'tracks' and
    any added) made from its options, or a generator object as it is."""
    if not isinstance(backend, str):
        if not all(callable(getattr(backend, m, None)) for m in ("start", "step", "frames_for_next_chunk")):
            raise ArgumentError(f"backend must be a backend's name ({', '.join(plugins.names(plugins.BACKENDS))}) "
                                f"or a generator object (with start, step and frames_for_next_chunk), "
                                f"got {A.shown(backend)}")
        return backend
    return plugins.load(plugins.BACKENDS, backend).from_options(**options)


class Session:
    """A world driven one video frame at a time (see the module's docstring): `tick(inputs)` returns
    the next frame, `run(inputs)` a frame per input, `close()` lets the generator go.

    `scene` is a `World`, a `Scene` or a scene file's path; `backend` a registered backend's name
    ("warp", the default; "neural", "tracks" or any added to `motionworld.plugins.BACKENDS`) or a
    generator object (with start, step and frames_for_next_chunk); `controller` what turns
    InputStates into ControlCommands (default None: ticks take ControlCommands or None);
    `backend_options` are the keyword options the backend's `from_options` takes (e.g. `max_size`
    for "warp", `weights` and `seed` for "neural", whose weights default to the shipped ones).
    Holds `world`, `generator`, `rig` and, after each chunk, `last_chunk` and `last_record`."""

    def __init__(self, scene, backend="warp", controller=None, **backend_options):
        self.world = scene if isinstance(scene, World) else World(scene)
        self.generator = make_generator(backend, **backend_options)
        self.spec = {"scene": str(self.world.scene.file or ""), "backend": self.generator.name,
                     "options": {k: v for k, v in backend_options.items()  # None too: window=None (grow) is a choice
                                 if v is None or isinstance(v, (str, int, float, bool))}}
        self.controller = controller
        self.fps = self.world.fps
        self.reset()

    @classmethod
    def from_spec(cls, spec: dict, controller=None, world: World | None = None) -> Session:
        """Returns a session from `spec`, a JSON-able description {"scene": path, "backend": name,
        "options": {...}} (what an input log's header holds; the option "grid" is the world's track
        grid), with `controller` as in the constructor and `world` an already loaded World to use
        instead of loading the spec's scene (default None)."""
        options = dict(spec.get("options") or {})
        grid = options.pop("grid", None)
        if world is None:
            world = World(load_scene(spec["scene"], depth=spec.get("depth")), grid=grid)
        try:
            session = cls(world, spec["backend"], controller=controller, **options)
        except TypeError as e:  # an option the backend does not take
            raise MotionWorldError(f"backend {spec['backend']!r}: bad options {sorted(options)} ({e})") from None
        session.spec = dict(spec)
        return session

    # ----- state
    def reset(self) -> None:
        """Back to the picture: the rig returns to the start camera, objects to time 0. The
        generator restarts on the next tick, in the thread that ticks (GL contexts are per thread)."""
        self.rig = self.world.rig()
        if self.controller is not None:
            self.controller.reset()
        self.drag = DragTracker(len(self.world.scene.objects))
        self._started = False
        self.frame_index = 0  # video frames generated so far
        self.queue: deque = deque()
        self.poses: deque[np.ndarray] = deque(maxlen=POSES_KEPT)  # the latest frames' c2w; bounded for long streams
        self.last_chunk: Chunk | None = None
        self.last_record: dict | None = None
        self.last_timing: dict = {}
        self.last_input_seqs: list[int] = []  # per updated frame of the last chunk: the input seq it applied

    def start(self) -> None:
        """Start the generator now (else the next tick does), in the calling thread."""
        self._ensure_started()

    @property
    def started(self) -> bool:
        """The generator is up (its model loaded); the first chunk may still be in the making."""
        return self._started

    @property
    def needs_input(self) -> bool:
        """The next tick starts a chunk, so its input is the one that counts (a host that polls
        input more often should collect it until then: `controllers.latch.InputLatch`)."""
        return not self.queue

    def _ensure_started(self) -> None:
        if not self._started:
            self.generator.start(self.world)
            self._started = True

    @property
    def c2w(self) -> np.ndarray:
        """The camera's pose now (the rig's 4x4 c2w)."""
        return self.rig.c2w

    @property
    def frame_size(self) -> tuple[int, int]:
        """(height, width) of the frames the generator makes."""
        self._ensure_started()
        return self.generator.height, self.generator.width

    def picture(self) -> np.ndarray:
        """The scene's picture at the generator's resolution (what frame 0 shows), uint8 [H, W, 3]."""
        self._ensure_started()
        return self.generator.picture

    # ----- driving
    def _chunk_commands(self, inputs, updates: int) -> list[ControlCommand]:
        """The rig command for each of the chunk's `updates` frames."""
        self.last_input_seqs = [0] * updates
        if callable(getattr(inputs, "commands", None)):  # an InputSpan (live input as a timeline): spread by time
            if self.controller is None:
                raise MotionWorldError("Session got an InputSpan but the session has no controller")
            commands, self.last_input_seqs = inputs.commands(self.controller, updates, self.rig.sprint)
            return commands
        per_frame = getattr(self.controller, "per_frame", False) and not isinstance(inputs, ControlCommand)
        dt = 1.0 / self.fps
        if per_frame:
            return [self.controller.update(inputs, dt) for _ in range(updates)]
        if inputs is None:
            command = ControlCommand()
        elif isinstance(inputs, ControlCommand):
            command = inputs
        elif self.controller is None:
            raise MotionWorldError("Session.tick got an InputState but the session has no controller")
        else:
            command = self.controller.update(inputs, updates * dt)  # rates are per second; look is per chunk
        return [replace(command, look_deg=np.asarray(command.look_deg, dtype=float) / max(updates, 1))] * updates

    def next_chunk(self, inputs=None, drag: DragState | None = None) -> np.ndarray:
        """Generate the next chunk from one input, `inputs` (a ControlCommand, an InputState, an
        InputSpan or None; held for the chunk), with the live `drag` (default none); returns its
        frames, uint8 [n, H, W, 3]."""
        self._ensure_started()
        n = self.generator.frames_for_next_chunk()
        updates = n - 1 if self.frame_index == 0 else n
        return self.play_chunk(self._chunk_commands(inputs, updates), drag)

    def play_chunk(self, commands: list[ControlCommand], drag: DragState | None = None) -> np.ndarray:
        """Generate the next chunk from explicit per-frame rig `commands` (what a log holds: one per
        frame, less frame 0 for the first chunk) and the `drag` (default none); returns its frames,
        uint8 [n, H, W, 3]."""
        self._ensure_started()
        t_start = time.perf_counter()
        drag = drag or DragState()
        n = self.generator.frames_for_next_chunk()
        first = self.frame_index == 0
        if len(commands) != n - first:
            raise MotionWorldError(f"chunk at frame {self.frame_index} needs {n - first} commands, got {len(commands)}")
        dt = 1.0 / self.fps
        start_c2w = self.rig.c2w
        poses, fovs = [], []
        if first:
            poses.append(start_c2w)  # frame 0 is the picture's own camera
            fovs.append(np.nan)
        for command in commands:
            poses.append(self.rig.update(command, dt))
            fovs.append(np.nan if self.rig.fov_deg is None else self.rig.fov_deg)
        c2w = np.stack(poses)
        times = (self.frame_index + np.arange(n)) / self.fps
        K0 = self.world.intrinsics(np.array(fovs[:1]))[0]
        offsets, extra = self.drag.advance(drag, start_c2w, K0, n)
        objects = apply_offsets(self.world.object_transforms(times), offsets)
        tr = self.world.tracks_for_poses(c2w, times, np.array(fovs), object_transforms=objects)
        t_tracks = time.perf_counter()
        chunk = Chunk(c2w, tr.K, times, tr.tracks, tr.visibility, objects, tr.depth, extra,
                      np.array(["drag"] * len(drag.drags) + ["pin"] * len(drag.pins)))
        frames = self.generator.step(chunk)
        self.last_timing = {"camera+tracks": t_tracks - t_start, "generate": time.perf_counter() - t_tracks}
        if len(frames) != n:
            raise MotionWorldError(f"generator {self.generator.name} returned {len(frames)} frames for a chunk of {n}")
        self.last_record = {"frame": self.frame_index, "commands": commands, "drag": drag}
        self.frame_index += n
        self.last_chunk = chunk
        self.poses.extend(c2w)
        return frames

    def tick(self, inputs=None, drag: DragState | None = None) -> np.ndarray:
        """Returns the next video frame (uint8 [H, W, 3]); generates a chunk from `inputs` and `drag`
        (as `next_chunk`) when the last one is used up, else they are not used."""
        if not self.queue:
            self.queue.extend(self.next_chunk(inputs, drag))
        return self.queue.popleft()

    def run(self, inputs) -> np.ndarray:
        """Returns the frames for `inputs`, an iterable of ControlCommands, InputStates or None, one
        tick each: uint8 [T, H, W, 3]."""
        if isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
            raise ArgumentError(f"inputs must be an iterable of inputs (ControlCommands, InputStates or None), "
                                f"got {A.shown(inputs)}")
        return np.stack([self.tick(i) for i in inputs])

    def close(self) -> None:
        """Close the generator (GL contexts, caches); after `reset()` the next tick starts it again."""
        self.generator.close()

