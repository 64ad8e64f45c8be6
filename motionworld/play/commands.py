"""The three ways to run a world: `play` (a window), `render` (headless, scripted) and `replay`
(an input log made again). All three drive a Session through the same Player loop."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from controllers import (
    CombinedController,
    GamepadController,
    KeyboardController,
    MouseController,
)
from controllers.scripted import ScriptedController

from ..checksums import sha256_file
from ..errors import MotionWorldError
from ..geometry.paths import FPS
from ..limits import check_seconds
from ..outputs import check_output_target
from ..raster.overlay import draw_chunk_tracks
from ..scene import Scene, load_scene
from ..video import VideoWriter
from ..world import World
from .defaults import default_scene, session_spec
from .engine import Engine
from .input_log import InputLog, frames_digest, kept_frames, read_log, record_commands, record_drag
from .player import Player, end_status
from .session import Session
from .window import NoDisplayError, Window, display_available


def controls_for(world: World):
    c = world.scene.spec.controls if world.scene.spec is not None else None
    mouse = MouseController(c.mouse_sensitivity_deg, c.invert_y) if c else MouseController()
    pad = GamepadController(c.gamepad_deadzone, c.gamepad_look_deg) if c else GamepadController()
    return CombinedController([KeyboardController(), mouse, pad])


def _scene(scene, depth: str | None):
    """A loaded scene (`depth` reaches a picture's scene made on the fly) or the Scene given."""
    return scene if isinstance(scene, Scene) else load_scene(scene, depth=depth)


def keep_depth(spec: dict, world: World) -> None:
    """A picture's scene made on the fly: its depth block goes into the session, so a replay makes
    the same scene (the chain may choose otherwise on another day or machine)."""
    if world.scene.depth_block is not None:
        spec["depth"] = dict(world.scene.depth_block)


def _log_header(spec: dict, world: World) -> dict:

    scene_file = Path(spec["scene"])
    return {"session": spec, "scene_sha256": sha256_file(scene_file), "fps": world.fps}


def play(scene=None, *, backend="auto", weights=None, size=384, seed=None, window_size=(1024, 640),
         fullscreen=False, out_dir="captures", log_path=None, max_seconds=None, depth=None, say=print) -> dict:
    """Open the window on a scene (default: the shipped garden) and run until it is closed. `depth`:
    what a picture without a scene file gets (`load_scene`)."""

    world = World(_scene(scene or default_scene(), depth))  # a broken scene is reported first, display or not
    if world.scene.note:
        say(world.scene.note)
    if log_path is not None:  # said before the display is: never a picture turned into a log
        check_output_target(log_path)
    if not display_available():  # before the backend is chosen (and its note said)
        raise NoDisplayError("no display to open a window on (DISPLAY is not set)")
    session = live_session(world, backend, weights, size, seed, say)
    window = make_window(session, log_path=log_path, size=window_size, fullscreen=fullscreen, out_dir=out_dir)
    window.run(max_seconds=max_seconds)
    return {"shown": window.shown, "saved": window.saved}


def live_session(world: World, backend="auto", weights=None, size=384, seed=None, say=print) -> Session:
    """A session a person drives (window or web page): the backend chosen as `session_spec` says (its
    note said), a picture's depth kept for replay, the scene's keyboard, mouse and gamepad controls."""
    spec, note = session_spec(world.scene, backend, weights, size, seed)
    if note:
        say(note)
    keep_depth(spec, world)
    return Session.from_spec(spec, controller=controls_for(world), world=world)


def make_engine(session: Session, log_path=None, out_dir="captures") -> Engine:
    """The play core on a session with a controller: input latch, drag tool, input log, player."""
    return Engine(session, _log_header(session.spec, session.world), log_path, out_dir=out_dir)


def make_window(session: Session, log_path=None, out_dir="captures", **window_options) -> Window:
    """A Window on a session with a controller (the engine wired up)."""
    engine = make_engine(session, log_path, out_dir)
    return Window(engine, title=f"motionworld - {session.world.scene.name}", **window_options)


@dataclass
class RenderResult:
    frames: int
    seconds: float
    fps: float
    chunk_latency_s: list = field(default_factory=list)
    digest: str = ""


def render(scene, output, *, path=None, actions=None, seconds=None, backend="auto", weights=None, size=640,
           seed=None, preview_tracks=False, grid=None, log_path=None, progress=True, depth=None,
           say=print) -> RenderResult:
    """Render a camera path (a scene path name, a path file or an action string) to a video file,
    through the same Player loop the window uses, without a window."""

    check_seconds(seconds)
    world = World(_scene(scene, depth), grid=grid)
    if world.scene.note:
        say(world.scene.note)
    writer = VideoWriter(output, fps=world.fps)  # a bad output name fails before any work
    spec_path = actions if actions is not None else (path or world.default_path())
    camera_path = world.absolute(spec_path)
    total = len(camera_path.frame_times(world.fps, seconds))
    spec, note = session_spec(world.scene, backend, weights, size, seed)
    if note:
        say(note)
    if grid is not None:
        spec["options"]["grid"] = grid
    keep_depth(spec, world)
    session = Session.from_spec(spec, controller=ScriptedController(camera_path), world=world)
    if log_path is not None and Path(log_path).resolve() in {Path(output).resolve(), Path(world.scene.file).resolve()}:
        raise MotionWorldError(f"--log {log_path}: is the output or the scene file; give the log a name of its own")
    # The log is opened only now that every input has been checked: it belongs to a run that started.
    log = InputLog(_log_header(session.spec, world), log_path) if log_path else None
    player = Player(session, log=log, max_frames=total).start()
    digest = _Digest()
    t0 = time.perf_counter()
    status = "failed"
    try:
        with writer, _progress(total, progress) as bar:
            while (frame := player.wait_frame()) is not None:
                image = frame.image
                if preview_tracks and spec["backend"] != "tracks":
                    image = draw_chunk_tracks(image.copy(), world, frame.chunk, frame.t)
                writer.write(image)
                digest.add(frame.image)
                bar.update(1)
        status = "complete"
    except BaseException as e:
        status = end_status(e)
        raise
    finally:
        player.stop(status=status)
    elapsed = time.perf_counter() - t0
    return RenderResult(writer.count, elapsed, world.fps, list(player.latencies), digest.hexdigest())


class _Digest:
    def __init__(self):
        import hashlib

        self.h = hashlib.sha256()

    def add(self, image: np.ndarray) -> None:
        self.h.update(np.ascontiguousarray(image).tobytes())

    def hexdigest(self) -> str:
        return self.h.hexdigest()


class _progress:
    def __init__(self, total: int, enabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc="render", unit="frame", disable=None if enabled else True)

    def __enter__(self):
        return self.bar

    def __exit__(self, *exc):
        self.bar.close()


@dataclass
class ReplayResult:
    frames: int
    chunks: int
    mismatches: list  # (line number, frame index) of chunks whose frames differ from the log
    digest: str


def replay(log_file, output=None, *, progress=True, say=print) -> ReplayResult:
    """Play an input log again: the same session, the same commands and drags per chunk. Each
    chunk's frames are checked against the digest the log recorded; the frames the viewer saw
    (or the render wrote) are written to `output`."""

    header, lines = read_log(log_file)
    spec = _replayable_session(log_file, header, lines, say)
    writer = VideoWriter(output, fps=FPS) if output is not None else None  # a bad output fails before any work
    session = Session.from_spec(spec)
    keep = kept_frames(lines)
    digest, mismatches, frames_out, chunks = _Digest(), [], 0, 0
    try:
        with _progress(sum(1 for x in lines if "commands" in x), progress) as bar:
            for i, line in enumerate(lines):
                n = i + 2  # file line number
                if line.get("reset"):
                    session.reset()
                    continue
                if "commands" not in line:
                    continue
                frames = _play_logged_chunk(session, line, f"{log_file}:{n}")
                if line.get("sha256") and frames_digest(frames) != line["sha256"]:
                    mismatches.append((n, line["frame"]))
                for f in frames[: keep[i]]:
                    digest.add(f)
                    if writer is not None:
                        writer.write(f)
                frames_out += keep[i]
                chunks += 1
                bar.update(1)
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        session.close()
    return ReplayResult(frames_out, chunks, mismatches, digest.hexdigest())


def _replayable_session(log_file, header: dict, lines: list, say) -> dict:
    """The session description of a log's header, once the log is known to be one that can be
    replayed (its scene still there, chunks in it); says so when the scene changed since."""
    spec = header.get("session")
    if not isinstance(spec, dict) or not isinstance(spec.get("scene"), str) or not isinstance(spec.get("backend"), str):
        raise MotionWorldError(f"{log_file}:1: the header has no session description")
    if not Path(spec["scene"]).is_file():
        raise MotionWorldError(f"{log_file}: the scene it was made with is gone: {spec['scene']}")
    if not any("commands" in line for line in lines):
        raise MotionWorldError(f"{log_file}: the log has no chunks to replay")
    if header.get("scene_sha256") and sha256_file(spec["scene"]) != header["scene_sha256"]:
        say(f"note: {spec['scene']} changed since the log was made; its frames will not match")
    return spec


def _play_logged_chunk(session: Session, line: dict, where: str) -> np.ndarray:
    """The frames of one chunk line of a log (`where`: its file:line), played on `session`, which
    must be at the frame the chunk starts at."""
    if line["frame"] != session.frame_index:
        raise MotionWorldError(f"{where}: chunk starts at frame {line['frame']} but the session "
                               f"is at frame {session.frame_index}")
    try:
        commands, drag = record_commands(line), record_drag(line)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise MotionWorldError(f"{where}: bad chunk line ({type(e).__name__}: {e})") from None
    return session.play_chunk(commands, drag)
