"""The play core that every front-end drives: the window (pygame) and the web page (`serve`) are two
ways of feeding it input and showing its frames; the loop itself lives here once.

    front-end                                   Engine
    ---------                                   ------
    input state, each poll or message    ->     feed(state, seq)          (the latch's timeline)
    clicks on the picture (0..1 of it)   ->     press / move / release / pin / clear_pins
    pause, restart, record, save log     ->     toggle_pause / restart / toggle_recording / save_log
    every display tick                   ->     due_frame(now) -> Frame | None   (the playback clock)
    the HUD, five times a second         ->     hud(now), phase

A Player generates on its worker thread; the engine paces what it hands out, records the frames it
hands out, numbers the inputs so each frame says which input it applied, and measures input-to-frame
latency (from an input that changed something to the first frame that applied it).
"""
from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path

import numpy as np

from controllers.base import InputState
from controllers.drag import DragTool, pick
from controllers.latch import InputLatch

from ..errors import MotionWorldError
from ..geometry.camera import scale_pixels
from ..video import VideoWriter
from .hud import hud_lines
from .input_log import InputLog
from .player import Frame, PlaybackClock, Player
from .session import Session

log = logging.getLogger("motionworld.play")

LOADING, FIRST_FRAME, PLAYING, PAUSED = "loading the model", "first frame", "playing", "paused"


def rate(stamps, now: float, span: float = 1.0) -> float:
    """Events per second over the last `span` seconds of a sequence of perf_counter stamps."""
    n = 0
    for t in reversed(stamps):
        if now - t > span:
            break
        n += 1
    return n / span


def cache_label(session: Session) -> str:
    """The neural student's cache layout and its real number of sampling steps."""
    student = getattr(session.generator, "student", None)
    if student is None:
        return "no cache (warp)" if session.generator.name == "warp" else ""
    lay = student.layout
    window = "grow" if lay.window is None else lay.window
    steps = len(student.sigmas)  # one network evaluation per noise level
    return f"c{lay.chunk}s{lay.sink}w{window}, {steps} step{'s' * (steps != 1)}"


class Engine:
    def __init__(self, session: Session, log_header: dict, log_path=None, out_dir: str | Path = "captures"):
        self.session, self.world = session, session.world
        self.latch, self.drags = InputLatch(), DragTool()
        self.latch.attach_drags(self.drags)
        self.player = Player(session, latch=self.latch, log=InputLog(log_header, log_path))
        self.clock = PlaybackClock(self.world.fps)
        self.out_dir = Path(out_dir)
        self.cache_label = cache_label(session)
        self.weights_label = Path(str(session.spec.get("options", {}).get("weights", ""))).name
        self.recorder: VideoWriter | None = None
        self.recording_path: Path | None = None
        self.saved: list[Path] = []
        self.messages: list[tuple[float, str]] = []
        self.current: Frame | None = None
        self.shown = 0
        self.shown_at: deque[float] = deque(maxlen=4096)  # perf_counter of frames handed out
        self.latencies: deque[float] = deque(maxlen=256)  # seconds from an input to the first frame applying it
        self._seq = 0  # inputs numbered here when the front-end does not number them
        self._last_state: InputState | None = None
        self._sent: deque[tuple[int, float]] = deque(maxlen=4096)  # (seq, perf_counter) of inputs that changed
        self._applied = 0  # newest input seq a handed-out frame applied

    # ----- life
    def start(self) -> Engine:
        self.player.start()
        return self

    def close(self, status: str = "complete") -> None:
        """Finish a recording, stop the worker, end the input log (its last line says `status`)."""
        if self.recorder is not None:
            self.capture("recording", self.toggle_recording)
        self.player.stop(status=status)

    @property
    def phase(self) -> str:
        if self.player.paused:
            return PAUSED
        if self.current is not None:
            return PLAYING
        return FIRST_FRAME if self.session.started else LOADING

    def say(self, text: str, seconds: float = 4.0) -> None:
        log.info(text)
        self.messages.append((time.perf_counter() + seconds, text))

    def capture(self, what: str, action) -> None:
        """A capture that fails (disk full, no permission) is said; the session goes on."""
        try:
            action()
        except (OSError, MotionWorldError) as e:
            self.say(f"{what} failed: {e}", seconds=8.0)

    # ----- input
    def feed(self, state: InputState, seq: int | None = None, now: float | None = None) -> int:
        """The input state from now on (ignored while paused: it is not saved up). `seq` numbers it
        (a front-end's own numbering); without one, a state that differs from the last gets the
        next number. Returns the seq it got."""
        now = time.perf_counter() if now is None else now
        if seq is None:
            changed = state != self._last_state or state.mouse_rel != (0.0, 0.0)
            seq = self._seq + 1 if changed else self._seq
        if seq > self._seq:
            self._sent.append((seq, now))
            self._seq = seq
        self._last_state = state
        if not self.player.paused:
            self.latch.feed(state, now=now, seq=seq)
        return seq

    def scene_xy(self, u: float, v: float) -> tuple[float, float]:
        """A point given as fractions (0..1) across the shown picture, in scene pixels."""
        sh, sw = self.world.scene.image.shape[:2]
        return float(u) * sw, float(v) * sh

    def frame_to_scene(self, xy, frame_shape) -> tuple[float, float]:
        sh, sw = self.world.scene.image.shape[:2]
        return tuple(float(c) for c in scale_pixels(xy, sw / frame_shape[1], sh / frame_shape[0]))

    def press(self, xy) -> None:
        """Grab what is under a scene point: an object (it follows) or the point itself."""
        f = self.current
        if f is None:
            return
        sh, sw = self.world.scene.image.shape[:2]
        obj, depth = pick(xy, f.chunk.tracks[f.t], f.chunk.visibility[f.t], f.chunk.depth[f.t],
                          self.world.field.object_ids, float(np.hypot(sw, sh)))
        self.drags.press(xy, obj, depth)

    def move(self, xy) -> None:
        self.drags.move(xy)

    def release(self) -> None:
        self.drags.release()

    def pin(self, xy) -> None:
        self.drags.pin(xy)

    def clear_pins(self) -> None:
        self.drags.clear()

    # ----- commands
    def toggle_pause(self) -> None:
        self.player.set_paused(not self.player.paused)
        self.clock.reset()

    def restart(self) -> None:
        # Drags, pins and collected input belong to the old run: cleared before the worker can take them.
        self.drags.clear()
        self.latch.clear()
        self.player.restart()
        self.clock.reset()
        self.say("restarted from the first frame")

    def _stamp(self) -> str:
        return time.strftime("%Y%m%d-%H%M%S") + f"-{int(time.time() * 1000) % 1000:03d}"

    def out(self, suffix: str) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return self.out_dir / f"motionworld-{self._stamp()}{suffix}"

    def toggle_recording(self) -> Path | None:
        """Start recording the frames handed out, or stop and return the finished video's path."""
        if self.recorder is None:
            self.recording_path = self.out(".mp4")
            self.recorder = VideoWriter(self.recording_path, fps=self.world.fps)
            self.say(f"recording to {self.recording_path}")
            return None
        rec, self.recorder = self.recorder, None
        if rec.count:
            rec.close()
            self.saved.append(self.recording_path)
            self.say(f"saved {self.recording_path} ({rec.count} frames)")
            return self.recording_path
        rec.abort()
        self.say("recording stopped before any frame was shown; nothing saved")
        return None

    def save_log(self) -> Path | None:
        if self.player.log is None:
            self.say("this session keeps no input log")
            return None
        path = self.player.log.save(self.out(".jsonl"))
        self.saved.append(path)
        self.say(f"input log: {path} (motionworld replay {path})")
        return path

    # ----- frames
    def due_frame(self, now: float | None = None) -> Frame | None:
        """The next frame if the playback clock says one is due and one is ready (never waits)."""
        now = time.perf_counter() if now is None else now
        self.player.check()  # a generator error surfaces now, paused or not
        if self.player.paused or not self.clock.due(now):
            return None
        frame = self.player.next_frame()
        if frame is None:
            return None
        interval = self.clock.interval(self.player.generation_fps(), self.player.buffered(),
                                       self.session.generator.frames_for_next_chunk())
        self.clock.shown(now, interval)
        self._hand_out(frame, now)
        return frame

    def _hand_out(self, frame: Frame, now: float) -> None:
        self.current = frame
        self.shown += 1
        self.shown_at.append(now)
        if frame.input_seq > self._applied:  # the first frame to apply these inputs: from the oldest of them
            new = [t for s, t in self._sent if self._applied < s <= frame.input_seq]
            if new:
                self.latencies.append(now - min(new))
            self._applied = frame.input_seq
        if self.recorder is not None:
            try:
                self.recorder.write(frame.image)
            except (OSError, MotionWorldError, ValueError) as e:  # the encoder died (disk full): stop, keep playing
                rec, self.recorder = self.recorder, None
                rec.abort()
                self.say(f"recording stopped: {e}", seconds=8.0)

    # ----- figures
    def shown_fps(self, now: float) -> float:
        return rate(self.shown_at, now)

    def latency_ms(self) -> float | None:
        """Median input-to-frame latency over the recent inputs, ms."""
        return float(np.median(self.latencies) * 1000) if self.latencies else None

    def hud(self, now: float, input_hz: float | None = None) -> list[str]:
        self.messages = [(t, m) for t, m in self.messages if t > now]
        size = self.current.image.shape[:2] if self.current is not None else None
        return hud_lines(backend=self.session.generator.name, size=size, phase=self.phase,
                         generation_fps=self.player.generation_fps(), shown_fps=self.shown_fps(now),
                         video_fps=self.world.fps, latency_ms=self.latency_ms(), timing=self.player.last_timing(),
                         playback_rate=self.clock.rate, c2w=None if self.current is None else self.current.c2w,
                         cache=self.cache_label, recording=self.recorder is not None,
                         frame_index=None if self.current is None else self.current.index,
                         messages=[m for _, m in self.messages], input_hz=input_hz,
                         depth=self.world.scene.depth_label, weights=self.weights_label)
