"""Writing output files without ever losing the user's: every output is made under a temporary name
unique to this run (`.NAME.XXXXXX.tmp…` beside it) and moved into place only when complete, and a
path whose writing could remove or mix with other files is refused before any work."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import MotionWorldError


def check_output_target(path: str | Path, folder: bool = False) -> Path:
    """Refuse `.`, `..`, a filesystem root, the home folder, the working folder or a folder above
    it; a file output that is a folder; a folder output that exists and is not empty."""
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise MotionWorldError(f"output {str(path)!r} names no file or folder of its own; give a new name")
    if not path.parent.exists():
        raise MotionWorldError(f"output folder does not exist: {path.parent}")
    resolved = path.resolve()
    cwd = Path.cwd().resolve()
    if resolved in {Path(resolved.anchor), Path.home().resolve(), cwd, *cwd.parents}:
        raise MotionWorldError(f"output {path} is the working folder, a folder above it, the home folder or a "
                               "filesystem root; give a new name")
    if folder:
        if resolved.exists() and not resolved.is_dir():
            raise MotionWorldError(f"output {path} is a file, not a folder for PNG frames; give a new name")
        if resolved.is_dir() and any(resolved.iterdir()):
            raise MotionWorldError(f"output folder {path} exists and is not empty; give a new or empty folder "
                                   "(nothing in it was touched)")
    elif resolved.is_dir():
        raise MotionWorldError(f"output {path} is a folder; give a file name")
    return path


def temporary_beside(path: Path, folder: bool = False) -> Path:
    """A new, empty file (or folder) next to `path`, keeping its suffix (writers pick formats by it)."""
    prefix, parent = f".{path.name}.", path.parent
    if folder:
        return Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=parent))
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp" + path.suffix, dir=parent)
    os.close(fd)
    return Path(name)


def as_created(tmp: Path) -> Path:
    """Give a finished temporary file (or folder) the mode an output created in place would have:
    tempfile makes them owner-only (0600, 0700), but an output is the user's, under their umask."""
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod((0o777 if tmp.is_dir() else 0o666) & ~umask)
    return tmp


@contextmanager
def replacing(path: str | Path):
    """`with replacing(out) as tmp: write(tmp)`: `out` appears only if the block completes."""
    path = check_output_target(path)
    tmp = temporary_beside(path)
    try:
        yield tmp
        os.replace(as_created(tmp), path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
