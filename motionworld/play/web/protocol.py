"""The page <-> server messages (docs/serve.md): frames down as a 16-byte header and a JPEG, input
and commands up as small JSON objects. Parsing is strict: anything off the protocol is a
`ProtocolError` whose reason the server sends back before it closes that one socket."""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass

from controllers.base import GamepadState, InputState

FRAME_HEADER = struct.Struct("<4I")  # index, input_seq, restart, chunk_frame
MAX_TEXT_BYTES = 4096
MAX_PICTURE_BYTES = 32 * 1024 * 1024
MAX_RATE = 400.0  # messages a second, averaged over RATE_WINDOW_S
RATE_WINDOW_S = 2.0
MAX_KEYS = 16
MAX_MOUSE = 10_000.0  # pixels of motion in one message
MAX_SEQ = 2**32 - 1
COMMANDS = ("pause", "reset", "record")
DRAG_ACTIONS = ("press", "move", "release", "pin", "clear")
CLOSE_POLICY, CLOSE_TOO_BIG = 1008, 1009  # WebSocket close codes


class ProtocolError(Exception):
    """A message off the protocol: `reason` goes to the page, `code` closes the socket."""

    def __init__(self, reason: str, code: int = CLOSE_POLICY):
        super().__init__(reason)
        self.reason, self.code = reason, code


@dataclass(frozen=True)
class Message:
    type: str
    seq: int
    t: float
    state: InputState | None = None  # input
    frame: int | None = None  # ack
    action: str | None = None  # drag
    xy: tuple[float, float] | None = None  # drag, fractions across the frame


def frame_message(jpeg: bytes, index: int, input_seq: int, restart: int, chunk_frame: int) -> bytes:
    return FRAME_HEADER.pack(index & MAX_SEQ, input_seq & MAX_SEQ, restart & MAX_SEQ, chunk_frame & MAX_SEQ) + jpeg


def read_frame_header(data: bytes) -> tuple[int, int, int, int]:
    return FRAME_HEADER.unpack_from(data)


def _number(d: dict, key: str, low: float, high: float) -> float:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not low <= v <= high:
        raise ProtocolError(f"{key} must be a number in [{low:g}, {high:g}], got {json.dumps(v)[:40]}")
    return float(v)


def _pair(d: dict, key: str, bound: float) -> tuple[float, float]:
    v = d.get(key)
    if not isinstance(v, list) or len(v) != 2:
        raise ProtocolError(f"{key} must be a list of two numbers")
    return _number({key: v[0]}, key, -bound, bound), _number({key: v[1]}, key, -bound, bound)


def _ints(d: dict, key: str, low: int, high: int, most: int) -> frozenset[int]:
    v = d.get(key, [])
    if not isinstance(v, list) or len(v) > most or not all(type(x) is int and low <= x <= high for x in v):
        raise ProtocolError(f"{key} must be a list of at most {most} integers in [{low}, {high}]")
    return frozenset(v)


def _pad(v) -> GamepadState:
    if v is None:
        return GamepadState()
    if not isinstance(v, dict) or set(v) - {"left", "right", "lt", "rt", "sprint"}:
        raise ProtocolError("pad must be null or {left, right, lt, rt, sprint}")
    sprint = v.get("sprint", False)
    if not isinstance(sprint, bool):
        raise ProtocolError("pad.sprint must be true or false")
    return GamepadState(True, _pair(v, "left", 1.0), _pair(v, "right", 1.0), _number(v, "lt", 0.0, 1.0),
                        _number(v, "rt", 0.0, 1.0), sprint=sprint)


FIELDS = {"input": {"keys", "mouse", "buttons", "captured", "pad"}, "ack": {"frame"}, "drag": {"action", "x", "y"},
          **{c: set() for c in COMMANDS}}


def parse(text: str | bytes, last_seq: int) -> Message:
    """One text message from the page; its seq must be above `last_seq`."""
    if len(text) > MAX_TEXT_BYTES:
        raise ProtocolError(f"message of {len(text)} bytes (at most {MAX_TEXT_BYTES})", 1009)
    try:
        d = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("message is not JSON") from None
    if not isinstance(d, dict):
        raise ProtocolError("message is not a JSON object")
    kind = d.get("type")
    if kind not in FIELDS:
        raise ProtocolError(f"unknown message type {json.dumps(kind)[:40]}")
    extra = set(d) - FIELDS[kind] - {"type", "seq", "t"}
    if extra:
        raise ProtocolError(f"{kind}: unknown field {sorted(extra)[0]!r}")
    seq = d.get("seq")
    if type(seq) is not int or not last_seq < seq <= MAX_SEQ:
        raise ProtocolError(f"{kind}: seq must be an integer above the last one ({last_seq}), "
                            f"got {json.dumps(seq)[:40]}")
    t = _number(d, "t", 0.0, 1e12)
    if kind == "input":
        captured = d.get("captured", False)
        if not isinstance(captured, bool):
            raise ProtocolError("input: captured must be true or false")
        state = InputState(_ints(d, "keys", 0, 511, MAX_KEYS),
                           _pair(d, "mouse", MAX_MOUSE) if "mouse" in d else (0.0, 0.0),
                           _ints(d, "buttons", 1, 3, 3), captured, _pad(d.get("pad")))
        return Message(kind, seq, t, state=state)
    if kind == "ack":
        frame = d.get("frame")
        if type(frame) is not int or not 0 <= frame <= MAX_SEQ:
            raise ProtocolError("ack: frame must be a frame index")
        return Message(kind, seq, t, frame=frame)
    if kind == "drag":
        action = d.get("action")
        if action not in DRAG_ACTIONS:
            raise ProtocolError(f"drag: action must be one of {', '.join(DRAG_ACTIONS)}")
        xy = None if action in ("release", "clear") else (_number(d, "x", 0.0, 1.0), _number(d, "y", 0.0, 1.0))
        return Message(kind, seq, t, action=action, xy=xy)
    return Message(kind, seq, t)


class RateLimit:
    """At most MAX_RATE messages a second over a sliding RATE_WINDOW_S (a token bucket)."""

    def __init__(self, rate: float = MAX_RATE, window_s: float = RATE_WINDOW_S):
        self.rate, self.capacity = rate, rate * window_s
        self.tokens, self.at = self.capacity, None

    def allow(self, now: float) -> bool:
        if self.at is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
