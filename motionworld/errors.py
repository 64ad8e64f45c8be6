"""Errors a user can act on. The CLI prints them as one line each and exits non-zero."""
from __future__ import annotations

from dataclasses import dataclass


class MotionWorldError(Exception):
    """Base class for errors caused by input (files, options, data), never by a bug."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    file: str
    line: int | None
    key_path: str
    message: str

    def __str__(self) -> str:
        where = self.file or "<scene>"  # as the user gave it: several scene.yaml files stay apart
        if self.line is not None:
            where += f":{self.line}"
        key = f" {self.key_path}:" if self.key_path else ""
        return f"{where}:{key} {self.message}"


class SceneError(MotionWorldError):
    """A scene file (or something it points to) is invalid; holds every problem found.

    `problems` is the list of `Problem`s (file, line, key path, message), kept as `self.problems`;
    the error's message is them one a line, each as `file:line: key.path: message`."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PathFileError(MotionWorldError):
    """A camera-path file or action string cannot be read."""


class DepthError(MotionWorldError):
    """A depth map cannot be loaded or does not fit the image. `key` names the option at fault."""

    def __init__(self, message: str, key: str = ""):
        self.key = key
        super().__init__(message)


class TrackError(MotionWorldError):
    """Tracks given by a caller are malformed."""


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM, SIGHUP, SIGQUIT; `args[0]` is the signal). Raised in
    the main thread like KeyboardInterrupt, so every `finally` and writer abort runs and nothing
    half-written is left behind."""


class ArgumentError(MotionWorldError, ValueError):
    """A value passed to the Python API is of the wrong kind or out of range (NaN, a negative
    size, a folder where a file is written). Also a ValueError, as such values were before."""
