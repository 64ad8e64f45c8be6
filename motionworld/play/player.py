"""Player: runs a Session on a worker thread and hands its frames to whoever shows or writes them.

The window and headless `render` both use it, so the frames a person sees and the frames a script
writes come from the same loop:

    worker thread                               display (or writer) thread
    -------------                               --------------------------
    wait until fewer than a chunk is buffered   poll input -> latch.feed(...)
    inputs, drags = latch.take()                frame = player.next_frame()   (never blocks)
    frames = session.next_chunk(inputs, drags)  show / write it
    log the chunk, queue its frames

Nothing is dropped: every generated frame is queued and shown once. The worker keeps just enough
queued to play while the next chunk is made (at most a chunk), so input reaches the picture about
one chunk after it is given, plus the time to make a chunk. A worker error is kept and
raised on the display thread by `check()`, never swallowed.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..backends import Chunk
from ..errors import Terminated
from ..raster.gl import release_thread_context
from .input_log import InputLog, chunk_record
from .session import Session


@dataclass
class Frame:
    """One generated frame and what the overlay and HUD need to know about it."""

    image: np.ndarray  # uint8 [H, W, 3]
    index: int  # video frame since the last restart
    chunk: Chunk
    t: int  # index within the chunk
    restart: int  # how many restarts came before it
    input_seq: int = 0  # the front-end's number of the newest input this frame applied

    @property
    def c2w(self) -> np.ndarray:
        return self.chunk.c2w[self.t]


@dataclass
class ChunkTiming:
    frames: int
    latency_s: float  # from taking the input to the frames being queued
    split: dict  # seconds: camera+tracks, generate
    done_at: float  # perf_counter


class Player:
    def __init__(self, session: Session, latch=None, log: InputLog | None = None, max_frames: int | None = None,
                 ahead_chunks: float = 1.0):
        self.session = session
        self.latch = latch
        self.log = log
        self.max_frames = max_frames  # stop generating after this many frames (headless render)
        self.ahead_chunks = ahead_chunks
        self.timings: deque[ChunkTiming] = deque(maxlen=16)  # recent chunks, for the generation rate
        self.latencies: list[float] = []  # every chunk's latency, for a render's summary
        self.error: BaseException | None = None
        self.restarts = 0
        self.generated = 0  # frames generated since the last restart
        self._frames: deque[Frame] = deque()
        self._cond = threading.Condition()
        self._paused = False
        self._restart = False
        self._stop = False
        self._busy = False
        self._dropped = 0  # frames a restart threw away unshown (the log records them)
        self._thread: threading.Thread | None = None

    # ----- control (any thread)
    def start(self) -> Player:
        self._thread = threading.Thread(target=self._run, name="motionworld-generator", daemon=True)
        self._thread.start()
        return self

    @property
    def paused(self) -> bool:
        return self._paused

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            if self._paused and not paused:
                self._restart_input_span()  # the paused time moves nothing; keys still held go on
            self._paused = bool(paused)
            self._cond.notify_all()

    def restart(self) -> None:
        """Back to the first frame: queued frames are dropped and the session resets."""
        with self._cond:
            if not self._restart:
                self._dropped = len(self._frames)
            else:
                self._dropped += len(self._frames)
            self._restart = True
            self._frames.clear()
            self._cond.notify_all()

    def stop(self, timeout: float | None = 30.0, status: str = "complete") -> None:
        """Stop the worker. The log's last line says how the run ended (`status`: complete,
        interrupted, terminated, failed: why) and how many generated frames were never taken, so a
        replay ends where the user's video ended."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.log is not None:
            with self._cond:
                unshown = len(self._frames)
            self.log.add({"end": True, "unshown": unshown, "status": status})
            self.log.close()

    @property
    def busy(self) -> bool:
        """A chunk is being generated right now."""
        return self._busy

    @property
    def finished(self) -> bool:
        """The worker is done (max_frames reached, stopped, or failed) and every frame was taken."""
        with self._cond:
            return (self._thread is not None and not self._thread.is_alive()) and not self._frames

    def buffered(self) -> int:
        with self._cond:
            return len(self._frames)

    # ----- frames (display thread)
    def next_frame(self) -> Frame | None:
        """The next generated frame, or None if none is ready (never waits)."""
        self.check()
        with self._cond:
            frame = self._frames.popleft() if self._frames else None
            self._cond.notify_all()
        return frame

    def wait_frame(self, timeout: float | None = None) -> Frame | None:
        """The next frame, waiting for it; None when the worker has finished and nothing is left."""
        deadline = None if timeout is None else time.perf_counter() + timeout
        with self._cond:
            while not self._frames:
                self._raise_if_failed()
                if self._thread is None or not self._thread.is_alive():
                    return None
                left = None if deadline is None else deadline - time.perf_counter()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(0.1 if left is None else min(left, 0.1))
            frame = self._frames.popleft()
            self._cond.notify_all()
            return frame

    def check(self) -> None:
        with self._cond:
            self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            err, self.error = self.error, None
            raise err

    # ----- figures
    def generation_fps(self) -> float | None:
        """Generated frames per second of generation time over the recent chunks."""
        with self._cond:
            recent = list(self.timings)
        busy = sum(t.latency_s for t in recent)
        return sum(t.frames for t in recent) / busy if busy > 0 else None

    def last_timing(self) -> ChunkTiming | None:
        with self._cond:
            return self.timings[-1] if self.timings else None

    # ----- the worker
    def _want_more(self) -> bool:
        if self._paused or (self.max_frames is not None and self.generated >= self.max_frames):
            return False
        return len(self._frames) < self._ahead_frames()

    def _ahead_frames(self) -> float:
        """How many frames to keep queued: enough to play while the next chunk is made (the slowest
        of the last three chunks, a fifth more, and a frame), at most `ahead_chunks` chunks. Every
        queued frame is input latency, so a fast generator keeps only a few."""
        most = self.ahead_chunks * self.session.generator.frames_for_next_chunk()
        recent = list(self.timings)[-3:]
        if not recent:
            return most
        return min(most, max(1.0, max(t.latency_s for t in recent) * 1.2 * self.session.fps + 1))

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while not (self._stop or self._restart or self._want_more()):
                        if self.max_frames is not None and self.generated >= self.max_frames:
                            return
                        self._cond.wait(0.05)
                    if self._stop:
                        return
                    restart, self._restart = self._restart, False
                if restart:
                    self.session.reset()
                    with self._cond:
                        dropped, self._dropped = self._dropped, 0
                        self.generated = 0
                        self.restarts += 1
                    if self.log is not None:
                        self.log.add({"reset": True, "unshown": dropped})
                    continue
                self._generate_chunk()
        except BaseException as e:  # handed to the display thread, which reports it
            with self._cond:
                self.error = e
                self._cond.notify_all()
        finally:
            self._busy = False
            self.session.close()  # GL resources belong to this thread
            release_thread_context()  # and so does its GL context: a thread that ends would leak it (38 MB a player)

    def _restart_input_span(self) -> None:
        restart = getattr(self.latch, "restart_span", None)  # a stand-in latch (a benchmark's) may keep no time
        if restart is not None:
            restart()

    def _generate_chunk(self) -> None:
        self._busy = True
        self.session.start()  # (re)starting the generator is not part of a chunk's latency
        first = self.session.frame_index == 0
        if first:
            self._restart_input_span()  # while the model loaded no video was made: that time moves nothing
        t0 = time.perf_counter()
        inputs, drag = self.latch.take() if self.latch is not None else (None, None)
        all_frames = self.session.next_chunk(inputs, drag)
        chunk = self.session.last_chunk
        seqs = [0] * first + list(self.session.last_input_seqs)
        done = time.perf_counter()
        with self._cond:
            self._busy = False
            # A restart that came in while this chunk was made: it belongs to the old run.
            keep = 0 if self._restart else len(all_frames)
            if self.max_frames is not None:
                keep = min(keep, self.max_frames - self.generated)
            if self.log is not None:  # what was generated, and how much of it goes on
                self.log.add(chunk_record(self.session.last_record, all_frames, keep))
            start = self.generated
            for t in range(keep):
                self._frames.append(Frame(all_frames[t], start + t, chunk, t, self.restarts,
                                          seqs[t] if t < len(seqs) else 0))
            self.generated += keep
            self.timings.append(ChunkTiming(len(all_frames), done - t0, dict(self.session.last_timing), done))
            self.latencies.append(done - t0)
            self._cond.notify_all()


class PlaybackClock:
    """When to show the next frame: every 1/fps seconds, or, when generation is slower than real
    time, at the generation rate so the video slows down evenly instead of stuttering."""

    def __init__(self, fps: float):
        self.fps = float(fps)
        self.next_due: float | None = None
        self.rate = 1.0  # playback speed relative to real time, for the HUD

    def interval(self, generation_fps: float | None, buffered: int, chunk_frames: int) -> float:
        real = 1.0 / self.fps
        if generation_fps is None or generation_fps >= self.fps or buffered >= chunk_frames:
            return real
        return 1.0 / max(generation_fps, 1e-3)

    def due(self, now: float) -> bool:
        return self.next_due is None or now >= self.next_due

    def shown(self, now: float, interval: float) -> None:
        """A frame went up at `now`; the next is due one interval later (without drifting
        behind if the display loop was late)."""
        base = now if self.next_due is None or now - self.next_due > interval else self.next_due
        self.next_due = base + interval
        self.rate = (1.0 / interval) / self.fps

    def reset(self) -> None:
        self.next_due = None


def end_status(error: BaseException) -> str:
    """How a run ended, for the input log's last line."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if isinstance(error, Terminated):
        return "terminated"
    return f"failed: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
