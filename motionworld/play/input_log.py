"""Input logs: what a session consumed, chunk by chunk, so `motionworld replay` can make the same
video again bit for bit.

A log is JSON lines. The first line describes the session (scene file and its sha256, backend and
its options, seed: everything `Session.from_spec` needs). Then one line per generated chunk: the
video frame it starts at, the rig command of each of its frames (a live input is held for the chunk,
so it is written once with a count), the drags and pins, the sha256 of all the chunk's frames and,
when fewer went on to the viewer or the file, how many did (`keep`: a render's last chunk is cut to
the path's length; a chunk made while a restart was pending is dropped). A restart (R in the
window) is a line `{"reset": true, "unshown": n}` and the end `{"end": true, "unshown": n}`: n
frames already generated were never shown. Floats are written with `repr`, which JSON reads back
exactly.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

import numpy as np

from .. import strict_json
from ..errors import MotionWorldError
from ..geometry.drag import DragState
from ..geometry.rig import ControlCommand
from ..inputs import note_input
from ..limits import MAX_FRAMES, check_file_size
from ..outputs import check_output_target
from .log_schema import FORMAT, check_header, check_line


def command_to_json(c: ControlCommand) -> dict:
    d = {}
    for key in ("move", "turn", "look_deg"):
        v = np.asarray(getattr(c, key), dtype=float)
        if np.any(v):
            d[key] = [float(x) for x in v]
    if c.sprint:
        d["sprint"] = True
    if c.pose is not None:
        d["pose"] = [float(x) for x in np.asarray(c.pose, dtype=float).ravel()]
    if c.fov_deg is not None:
        d["fov_deg"] = float(c.fov_deg)
    if c.seconds is not None:
        d["seconds"] = float(c.seconds)
    return d


def command_from_json(d: dict) -> ControlCommand:
    c = ControlCommand()
    for key in ("move", "turn", "look_deg"):
        if key in d:
            setattr(c, key, np.array(d[key], dtype=float))
    c.sprint = bool(d.get("sprint", False))
    if "pose" in d:
        c.pose = np.array(d["pose"], dtype=float).reshape(4, 4)
    if "fov_deg" in d:
        c.fov_deg = float(d["fov_deg"])
    if "seconds" in d:
        c.seconds = float(d["seconds"])
    return c


def frames_digest(frames: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(frames, dtype=np.uint8).tobytes()).hexdigest()


def chunk_record(record: dict, frames: np.ndarray, keep: int | None = None) -> dict:
    """A session's `last_record` as a log line; `keep` frames of it went on (default all)."""
    commands = record["commands"]
    if commands and all(c is commands[0] for c in commands):
        cmds = {"hold": command_to_json(commands[0]), "count": len(commands)}
    else:
        cmds = [command_to_json(c) for c in commands]
    line = {"frame": int(record["frame"]), "commands": cmds, "sha256": frames_digest(frames)}
    if keep is not None and keep != len(frames):
        line["keep"] = int(keep)
    if record["drag"]:
        line["drag"] = record["drag"].to_json()
    return line


def record_commands(line: dict) -> list[ControlCommand]:
    cmds = line["commands"]
    if isinstance(cmds, dict):
        return [command_from_json(cmds["hold"])] * int(cmds["count"])
    return [command_from_json(c) for c in cmds]


def record_drag(line: dict) -> DragState:
    return DragState.from_json(line.get("drag"))


class InputLog:
    """Collects a session's lines in memory; with a path, also appends them to the file as they come."""

    def __init__(self, header: dict, path: str | Path | None = None):
        self.header = {"format": FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S"), **header}
        self.lines: list[dict] = []
        self._lock = threading.Lock()
        self.path = None if path is None else Path(path)
        self._file = None
        if self.path is not None:
            if not self.path.parent.exists():
                raise MotionWorldError(f"input log folder does not exist: {self.path.parent}")
            check_output_target(self.path)  # not a folder, an input, a FIFO or device, ".", the working folder
            self._file = open_locked(self.path)
            self._write(self.header)

    def _write(self, line: dict) -> None:
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()

    def add(self, line: dict) -> None:
        with self._lock:
            self.lines.append(line)
            if self._file is not None:  # (after close, lines are only kept in memory)
                self._write(line)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        with self._lock:
            text = "".join(json.dumps(x) + "\n" for x in [self.header, *self.lines])
        path.write_text(text)
        return path

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def open_locked(path: Path):
    """`path` opened for writing from its start, held under an exclusive lock for the session: a
    second run given the same `--log` is refused before it truncates or mixes lines into it."""
    import fcntl

    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise MotionWorldError(f"input log {path} is being written by another motionworld run; give this run's "
                               "log a name of its own") from None
    os.ftruncate(fd, 0)
    return os.fdopen(fd, "w")


def read_log(path: str | Path) -> tuple[dict, list[dict]]:
    """The header and the lines of a log, each checked against the format (`log_schema`): types,
    ranges and keys, so a hand-edited or corrupt log is refused with its line number before replay."""
    path = note_input(path, "input log")
    if not path.is_file():
        raise MotionWorldError(f"input log not found: {path}")
    lines, numbers = [], []
    try:
        check_file_size(path)
    except ValueError as e:
        raise MotionWorldError(f"{path}: {e}") from None
    try:
        with open(path, encoding="utf-8") as f:
            for n, text in enumerate(f, 1):
                if text.strip():
                    lines.append(_json_line(path, n, text))
                    numbers.append(n)
    except UnicodeDecodeError as e:
        raise MotionWorldError(f"{path}: not a text file ({e.reason})") from None
    if not lines or lines[0].get("format") != FORMAT:
        raise MotionWorldError(f"{path}:1: not a motionworld input log (expected format {FORMAT!r})")
    check_header(lines[0], f"{path}:{numbers[0]}")
    frames = 0
    for n, line in zip(numbers[1:], lines[1:]):
        check_line(line, f"{path}:{n}")
        if "commands" in line:
            cmds = line["commands"]
            frames += cmds["count"] if isinstance(cmds, dict) else len(cmds)
            if frames > MAX_FRAMES:  # replaying it would run for hours
                raise MotionWorldError(f"{path}:{n}: the log asks for more than {MAX_FRAMES} frames "
                                       "(an hour at 16 fps), the most one session may hold")
    return lines[0], lines[1:]


def _json_line(path: Path, n: int, text: str) -> dict:
    try:
        value = strict_json.loads(text)
    except json.JSONDecodeError as e:
        raise MotionWorldError(f"{path}:{n}: not a JSON line ({e.msg})") from None
    except (ValueError, RecursionError) as e:
        raise MotionWorldError(f"{path}:{n}: not a JSON line ({e})") from None
    if not isinstance(value, dict):
        raise MotionWorldError(f"{path}:{n}: expected a JSON object")
    return value


def kept_frames(lines: list[dict]) -> list[int]:
    """How many frames of each chunk line reached the viewer (0 for reset and end lines): the
    chunk's own `keep`, less the frames a later restart or the end left unshown."""
    keep = [0] * len(lines)
    for i, line in enumerate(lines):
        if "commands" in line:
            count = line["commands"]["count"] if isinstance(line["commands"], dict) else len(line["commands"])
            keep[i] = int(line.get("keep", count + (line["frame"] == 0)))
        elif line.get("reset") or line.get("end"):
            unshown = int(line.get("unshown", 0))
            for j in range(i - 1, -1, -1):  # take them off the chunks before, last first
                if unshown <= 0 or lines[j].get("reset"):
                    break
                cut = min(unshown, keep[j])
                keep[j] -= cut
                unshown -= cut
    return keep
