"""JSON read as data: standard numbers only (no NaN or Infinity, which Python's json takes by
default) and nesting bounded before the recursive parser meets it."""
from __future__ import annotations

import json
import re

from .limits import MAX_NESTING

# a string (skipped whole, escapes included) or a bracket
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_json_nesting(text: str, limit: int = MAX_NESTING) -> None:
    """Refuse JSON nested deeper than `limit`, before the recursive parser meets it. Brackets
    inside strings (a prompt, a path) are text, not nesting."""
    depth = 0
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token[0] == '"':
            continue
        depth += 1 if token in "[{" else -1
        if depth > limit:
            raise ValueError(f"nested deeper than {limit} levels")


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def loads(text: str):
    """json.loads, strictly. Raises ValueError (json.JSONDecodeError is one) naming what is wrong."""
    check_json_nesting(text)
    return json.loads(text, parse_constant=_no_constant)
