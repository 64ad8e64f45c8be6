"""The CLI refuses an option's value out of range where argparse parses it (cli.options and each
command's module), before any file is read or any work starts: one `error:` line, exit 2."""
from __future__ import annotations

import re

import pytest

from motionworld.cli import build_parser
from motionworld.errors import MotionWorldError
from tests.conftest import one_error


@pytest.mark.parametrize("args,match", [
    (["render", "-o", "a.mp4", "--size", "8"], "--size must be in [16, 8192], got 8"),
    (["render", "-o", "a.mp4", "--grid", "1"], "--grid must be in [2, 512], got 1"),
    (["render", "-o", "a.mp4", "--seed", "-1"], "--seed must be a whole number in [0, 4294967295]"),
    (["tracks", "-o", "t.npz", "--seconds", "nan"], "--seconds must be a positive number"),
    (["path", "-o", "p.json", "--actions", " "], "--actions is empty"),
    (["play", "--window-size", "10x10"], "--window-size 10x10: each side must be in [64, 16384]"),
    (["play", "--seconds", "0"], "--seconds must be a positive number"),
    (["serve", "--port", "65536"], "--port 65536: must be in [0, 65535]"),
    (["serve", "--max-sessions", "0"], "--max-sessions 0: must be in [1, 64]"),
    (["serve", "--idle", "0"], "--idle 0: must be in [1, 86400] seconds"),
    (["serve", "--token", "short"], "--token must be 8 to 256 characters"),
    (["bench", "--steps", "0"], "--steps must be in [1, 50], got 0"),
    (["bench", "--chunk", "17"], "--chunk must be in [1, 16], got 17"),
    (["bench", "--sink", "-1"], "--sink must be in [0, 16], got -1"),
    (["bench", "--window", "65"], "--window must be in [0, 64] (or grow), got 65"),
    (["bench", "--chunks", "0"], "--chunks must be in [1, 100000], got 0"),
    (["bench", "--repeats", "1001"], "--repeats must be in [1, 1000], got 1001"),
    (["bench", "--size", "100x64"], "--size 100x64: width and height must be multiples of 16 in [16, 8192]"),
    (["bench", "--device", "meta"], "--device 'meta': choose cpu, cuda or cuda:N"),
    (["eval", "--clips", "0"], "--clips must be in [1, 1000000], got 0"),
    (["eval", "--frames", "10"], "--frames must be 9 + 12k up to 4096 (e.g. 81), got 10"),
    (["eval", "--long-frames", "33"], "--long-frames must be 9 + 12k in [45, 57600] (e.g. 2001), got 33"),
    (["eval", "--away-seconds", "61"], "--away-seconds 61: must be in [2, 60]"),
    (["eval", "--guidance", "3"], "--guidance '3': expected two numbers W_T,W_M"),
    (["eval", "--sections", "main,bogus"], "--sections: unknown bogus"),
    (["eval", "--depth-views", "0"], "--depth-views must be in [1, 1000000], got 0"),
    (["train", "vae", "--config", "c.yaml", "--stop-after", "0"], "--stop-after must be a number of steps >= 1"),
    (["train", "vae", "--config", "c.yaml", "--set", "novalue"], "--set 'novalue': expected KEY=VALUE"),
    (["train", "vae", "--config", "c.yaml", "--device", "gpu"], "--device 'gpu': choose auto, cpu, cuda or cuda:N"),
])
def test_values_out_of_range_are_refused_as_they_are_parsed(args, match, capsys):
    with pytest.raises(MotionWorldError, match=re.escape(match)):
        build_parser().parse_args(args)
    one_error(capsys, *args, match=match)  # main() says it in one line, exit 2 (the files named do not exist)


def test_parsed_values_reach_the_handlers_converted():
    bench = build_parser().parse_args(["bench", "--size", "160x128", "--window", "grow"])
    assert bench.size == (160, 128) and bench.window is None
    assert build_parser().parse_args(["bench"]).window == 1  # the default "1", converted as typed text is
    assert build_parser().parse_args(["play"]).window_size == (1024, 640)
    ev = build_parser().parse_args(["eval", "--guidance", "0,1.5", "--sections", " main , depth"])
    assert ev.guidance == (0.0, 1.5) and ev.sections == ["main", "depth"]
    tr = build_parser().parse_args(["train", "vae", "--config", "c.yaml", "--set", "a.b=[1, 2]", "--set", "c=x"])
    assert dict(tr.set) == {"a.b": [1, 2], "c": "x"}


def test_text_that_is_not_a_number_stays_argparses_refusal(capsys):
    """Not a number at all: argparse's usage line and exit 2, naming the type as before."""
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["render", "-o", "a.mp4", "--size", "abc"])
    assert e.value.code == 2 and "argument --size: invalid int value: 'abc'" in capsys.readouterr().err
