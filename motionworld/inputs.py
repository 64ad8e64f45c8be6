"""Files a command reads. Each must be a regular file (opening a FIFO or a device blocks the read
forever, or reads without end) and is remembered for the rest of the command, so that no output of
the same command is ever written over it (`outputs.check_output_target` asks `is_input`): not
through a symlink, a `..`, or a hard link to it."""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from .errors import MotionWorldError

# (resolved path, (device, inode)) of each file read in the current command; None outside a command
_READ: ContextVar[list[tuple[Path, tuple[int, int]]] | None] = ContextVar("motionworld_inputs", default=None)


class NotAFileError(MotionWorldError):
    """An input names a FIFO, a device or a socket instead of a file; `reason` says so without the name."""

    def __init__(self, what: str, path: Path, mode: int):
        self.reason = f"is {special_kind(mode)}, not a file; give a file"
        super().__init__(f"{what} {path} {self.reason}")


def check_regular_file(path: str | Path, what: str = "input") -> Path:
    """`path` when it is a regular file (or does not exist: the reader says so in its own words);
    a FIFO, device or socket is refused before anything opens it."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return path
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise NotAFileError(what, path, mode)
    return path


def special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def note_input(path: str | Path, what: str = "input") -> Path:
    """Check that `path` is a regular file and remember it as read by the current command."""
    path = check_regular_file(path, what)
    files = _READ.get()
    if files is not None:
        try:
            st = os.stat(path)
        except OSError:
            return path
        files.append((path.resolve(), (st.st_dev, st.st_ino)))
    return path


def is_input(path: str | Path) -> Path | None:
    """The input of the current command that `path` would write over (the same name after symlinks
    and `..`, or the same file through a hard link), else None."""
    files = _READ.get() or []
    path = Path(path)
    resolved = path.resolve()
    try:
        st = os.stat(path)
        ident = (st.st_dev, st.st_ino)
    except OSError:
        ident = None
    for name, file_id in files:
        if name == resolved or file_id == ident:
            return name
    return None


@contextmanager
def command_inputs(*paths: str | Path | None):
    """The scope of one command: `paths` and every file noted inside it are protected from its
    outputs. Scopes nest (an inner one adds to the outer's files)."""
    outer = _READ.get()
    files = list(outer or [])
    token = _READ.set(files)
    try:
        for p in paths:
            if p is not None and Path(p).exists():
                note_input(p)
        yield files
    finally:
        _READ.reset(token)
