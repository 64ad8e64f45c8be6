"""Writing output files without ever losing the user's. One guard (`check_output_place`) is asked
by every writer: an output may not be an input of the running command (`inputs`), a FIFO or a
device, or a folder the user lives in; a folder output holds only what motionworld wrote there
(`check_output_folder`). Every output is made under a temporary name unique to this run
(`.NAME.XXXXXX.tmp…` beside it) and moved into place only when complete. See docs/safety.md."""
from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import MotionWorldError
from .inputs import is_input, special_kind

NAME_MAX = 255  # bytes of one file name (Linux, macOS)
TEMP_NAME_KEEP = 64  # characters of the output's name a temporary name beside it starts with


def check_output_target(path: str | Path, folder: bool = False) -> Path:
    """`check_output_place`, and refuse a file output that is a folder or a folder output that
    exists and is not empty. A regular file that is none of those is replaced, as `-o` asks."""
    path = check_output_place(path)
    resolved = path.resolve()
    if folder:
        if resolved.exists() and not resolved.is_dir():
            raise MotionWorldError(f"output {path} is a file, not a folder for PNG frames; give a new name")
        if resolved.is_dir() and any(resolved.iterdir()):
            raise MotionWorldError(f"output folder {path} exists and is not empty; give a new or empty folder "
                                   "(nothing in it was touched)")
    elif resolved.is_dir():
        raise MotionWorldError(f"output {path} is a folder; give a file name")
    return path


def check_output_place(path: str | Path) -> Path:
    """Refuse `.`, `..`, a filesystem root, the home folder, the working folder or a folder above
    it; a FIFO, device or socket (writing there replaces it, or writes into a device); any input of
    the running command, also through a symlink, `..` or a hard link (`inputs.is_input`)."""
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise MotionWorldError(f"output {str(path)!r} names no file or folder of its own; give a new name")
    size = len(os.fsencode(path.name))
    if size > NAME_MAX:
        raise MotionWorldError(f"output name {path.name[:40]}… is {size} bytes long, over the {NAME_MAX} a file name "
                               "may have; give a shorter name")
    if not path.parent.exists():
        raise MotionWorldError(f"output folder does not exist: {path.parent}")
    resolved = path.resolve()
    try:
        mode = os.stat(resolved).st_mode
    except OSError:
        mode = None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise MotionWorldError(f"output {path} is {special_kind(mode)}, not a file; give a new name")
    source = is_input(path)
    if source is not None:
        shown = "" if source == path.absolute() else f" ({source})"
        raise MotionWorldError(f"output {path} is an input of this command{shown}; give the output a name of its own")
    cwd = Path.cwd().resolve()
    if resolved in {Path(resolved.anchor), Path.home().resolve(), cwd, *cwd.parents}:
        raise MotionWorldError(f"output {path} is the working folder, a folder above it, the home folder or a "
                               "filesystem root; give a new name")
    return path


def temporary_beside(path: Path, folder: bool = False) -> Path:
    """A new, empty file (or folder) next to `path`, keeping its suffix (writers pick formats by it)."""
    # the name's start only: a temporary name must fit NAME_MAX where the output's own name just does
    prefix, parent = f".{path.name[:TEMP_NAME_KEEP]}.", path.parent
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


def check_output_folder(folder: str | Path, names: tuple[str, ...], ours, what: str) -> Path:
    """A folder a command writes the files `names` into (a report, a training run): new, holding
    none of those names, or one that `ours(folder)` recognises as made by the same kind of command
    before. A folder holding a file of one of those names that motionworld did not write is
    refused, so a user's own `report.md` or `log.jsonl` is never replaced; other files in it are
    never touched."""
    folder = check_output_place(folder)
    if folder.exists() and not folder.is_dir():
        raise MotionWorldError(f"{what} {folder} is a file, not a folder; give a folder name")
    taken = [n for n in names if (folder / n).exists() or (folder / n).is_symlink()]
    if taken and not ours(folder):
        raise MotionWorldError(f"{what} {folder} holds {', '.join(taken)} that motionworld did not write; "
                               "give a new or empty folder (nothing in it was touched)")
    return folder
