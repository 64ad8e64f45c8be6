"""The input-log format (`motionworld-input-log/1`) as a schema: every line a replay reads is
checked for its keys, types and ranges before anything is built from it. JSON values are taken
strictly (no "big" for a number, no 1e9 for a count), and counts are bounded by what a session can
make, so a corrupt log is one line naming its line number and key, never a traceback or a hang."""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from .. import plugins
from ..errors import MotionWorldError
from ..frames import FPS
from ..limits import MAX_FRAME_SECONDS
from ..strict_yaml import StrictModel

FORMAT = "motionworld-input-log/1"
MAX_CHUNK_FRAMES = 64  # frames of one chunk (16 latent frames x 4), the most a generator makes
MAX_EXTRA_TRACKS = 64  # drags and pins of one chunk
MAX_COORD = 1e6  # pixels and world units in a log; anything larger is not a session's


class _Strict(StrictModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)  # JSON: no "2" for 2


# --- the header --------------------------------------------------------------------------------
class SessionSpec(_Strict):
    scene: str = Field(min_length=1)
    backend: str  # a registered backend (plugins.BACKENDS); its Options check `options`
    options: dict = Field(default_factory=dict)
    # a picture played without a scene file: the `depth:` block its scene was made with, so a replay
    # makes the same scene whatever the depth chain would choose on the day
    depth: dict | None = None


class Header(_Strict):
    format: Literal["motionworld-input-log/1"]
    created: str = ""
    session: SessionSpec
    scene_sha256: str | None = Field(None, pattern="^[0-9a-f]{64}$")
    fps: float = Field(float(FPS), gt=0, le=240)


# --- chunk lines -------------------------------------------------------------------------------
class Command(_Strict):
    move: list[float] = Field(default_factory=lambda: [0.0] * 3, min_length=3, max_length=3)
    turn: list[float] = Field(default_factory=lambda: [0.0] * 2, min_length=2, max_length=2)
    look_deg: list[float] = Field(default_factory=lambda: [0.0] * 2, min_length=2, max_length=2)
    sprint: bool = False
    pose: list[float] | None = Field(None, min_length=16, max_length=16)
    fov_deg: float | None = Field(None, gt=1.0, lt=179.0)
    seconds: float | None = Field(None, ge=0.0, le=MAX_FRAME_SECONDS)  # live input: the player time it covers

    def check_bounds(self) -> None:
        for key in ("move", "turn", "look_deg", "pose"):
            values = getattr(self, key) or []
            if any(abs(v) > MAX_COORD for v in values):
                raise ValueError(f"{key}: values must be within +/-{MAX_COORD:g}")
        if self.pose is not None:
            m = np.array(self.pose).reshape(4, 4)
            R = m[:3, :3]
            rigid = np.allclose(R @ R.T, np.eye(3), atol=1e-6) and abs(np.linalg.det(R) - 1) < 1e-6
            if not rigid or not np.array_equal(m[3], [0, 0, 0, 1]):
                raise ValueError("pose: not a camera pose (a rotation and a translation, last row 0 0 0 1)")


class Hold(_Strict):
    hold: Command
    count: int = Field(ge=1, le=MAX_CHUNK_FRAMES)


class DragRecord(_Strict):
    id: int = Field(ge=0, le=2**31)
    start: list[float] = Field(min_length=2, max_length=2)
    current: list[float] = Field(min_length=2, max_length=2)
    object_id: int = Field(0, ge=0, le=1024)
    depth: float | None = Field(None, gt=0, le=MAX_COORD)


class DragRecords(_Strict):
    drags: list[DragRecord] = Field(default_factory=list, max_length=MAX_EXTRA_TRACKS)
    pins: list[list[float]] = Field(default_factory=list, max_length=MAX_EXTRA_TRACKS)


class ChunkLine(_Strict):
    frame: int = Field(ge=0, le=2**40)
    commands: dict | list  # a Hold, or one Command per frame: checked by check_line
    sha256: str | None = Field(None, pattern="^[0-9a-f]{64}$")
    keep: int | None = Field(None, ge=0, le=MAX_CHUNK_FRAMES + 1)
    drag: DragRecords | None = None


class ResetLine(_Strict):
    reset: Literal[True]
    unshown: int = Field(0, ge=0, le=2**40)


class EndLine(_Strict):
    end: Literal[True]
    unshown: int = Field(0, ge=0, le=2**40)
    status: str = ""


def _where(err: dict) -> str:
    """The key path, without the names pydantic gives the members of a union ('Hold', 'list[Command]')."""
    return ".".join(str(x) for x in err["loc"] if not (isinstance(x, str) and (x[:1].isupper() or "[" in x)))


def _raise(e: ValidationError, where: str, what: str, prefix: str = "") -> None:
    err = e.errors()[0]
    key = prefix + _where(err)
    more = f" (and {len(e.errors()) - 1} more problem(s))" if len(e.errors()) > 1 else ""
    raise MotionWorldError(f"{where}: bad {what}: {key + ': ' if key else ''}{err['msg']}{more}") from None


def check_header(header: dict, where: str) -> None:
    try:
        spec = Header.model_validate(header).session
    except ValidationError as e:
        _raise(e, where, "header")
    try:
        backend = plugins.load(plugins.BACKENDS, spec.backend)
    except MotionWorldError as e:
        raise MotionWorldError(f"{where}: bad header: session.backend: {e}") from None
    try:
        backend.Options.model_validate(spec.options)
    except ValidationError as e:
        _raise(e, where, "header", "session.options.")


_COMMANDS = TypeAdapter(list[Command], config=ConfigDict(strict=True))


def check_line(line: dict, where: str) -> None:
    """A chunk, reset or end line; a chunk's commands must be as many as it keeps frames for."""
    kind = ResetLine if "reset" in line else EndLine if "end" in line else ChunkLine
    what = {ResetLine: "reset line", EndLine: "end line", ChunkLine: "chunk line"}[kind]
    try:
        record = kind.model_validate(line)
    except ValidationError as e:
        _raise(e, where, what)
    if kind is not ChunkLine:
        return
    try:
        commands = Hold.model_validate(record.commands) if isinstance(record.commands, dict) else \
            _COMMANDS.validate_python(record.commands)
    except ValidationError as e:
        _raise(e, where, what, "commands.")
    listed = [commands.hold] if isinstance(commands, Hold) else commands
    if not 1 <= len(listed) <= MAX_CHUNK_FRAMES:
        raise MotionWorldError(f"{where}: bad chunk line: commands: a chunk has 1 to {MAX_CHUNK_FRAMES} commands, "
                               f"got {len(listed)}")
    try:
        for c in listed:
            c.check_bounds()
        for p in [x for d in (record.drag.drags if record.drag else []) for x in (d.start, d.current)] + \
                 (record.drag.pins if record.drag else []):
            if len(p) != 2 or any(abs(v) > MAX_COORD for v in p):
                raise ValueError(f"drag: points are two numbers within +/-{MAX_COORD:g}")
    except ValueError as e:
        raise MotionWorldError(f"{where}: bad chunk line: {e}") from None
    count = commands.count if isinstance(commands, Hold) else len(commands)
    if record.keep is not None and record.keep > count + (record.frame == 0):
        raise MotionWorldError(f"{where}: bad chunk line: keep: {record.keep} is more than the chunk's "
                               f"{count + (record.frame == 0)} frames")
