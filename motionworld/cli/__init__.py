"""Command line: motionworld play | serve | render | replay | validate | scene | depth | tracks | path | bench | eval |
weights | data | train.

Each module here declares its commands' arguments beside their handlers (`add(subparsers)` sets
`handler=`); options.py holds what several share and the checks that refuse a value out of range
where it is parsed. Errors caused by input print one line each (`error: ...`) and exit with status 2.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from ..errors import MotionWorldError, SceneError, Terminated
from ..inputs import command_inputs
from ..limits import limit_malloc_arenas
from . import bench, data, play, render, scene, train, weights
from . import eval as evaluation

# in the order `motionworld --help` lists the commands
COMMANDS = (scene, play, render, bench, evaluation, train, weights, data)
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name))
# arguments naming files a command reads (`log` is read by replay and train plot, written by play and render)
INPUT_ARGS = ("scene", "scenes", "picture", "path", "config", "dataset", "heldout", "weights", "student", "teacher",
              "vae", "depth_net")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motionworld", description="Walk into a still image.")
    sub = p.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add(sub)
    return p


def _terminate(signum, frame):
    raise Terminated(signum)


def _declared_inputs(args) -> list[Path]:
    """The files a command's arguments name for reading; a folder (weights, a dataset) gives the
    files directly in it. Outputs are checked against these before any work."""
    names = list(INPUT_ARGS) + (["log"] if args.command in ("replay", "train") else [])
    if args.command == "train" and getattr(args, "stage", None) == "ship":
        names.append("depth")
    found = []
    for name in names:
        value = getattr(args, name, None)
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, (str, Path)) or not str(item):
                continue
            p = Path(item)
            if p.is_dir():
                found += [f for f in sorted(p.iterdir())[:1000] if f.is_file()]
            elif p.is_file():
                found.append(p)
    return found


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame's import banner is noise on a command line
    try:
        args = build_parser().parse_args(argv)
    except MotionWorldError as e:  # a value out of range, refused as it is parsed (cli.options)
        print(f"error: {e}", file=sys.stderr)
        return 2
    limit_malloc_arenas()  # long play/render streams keep a flat RSS (see limits.MALLOC_ARENAS)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for reports that say how they were made
    # SIGTERM, SIGHUP (the terminal closed) and SIGQUIT unwind like Ctrl-C, so writers remove their
    # temporary output and logs get their end line (the main thread only can set handlers; a host
    # embedding main() elsewhere keeps its own)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, _terminate) for s in STOP_SIGNALS} if main_thread else {}
    try:
        return _run(args)
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)


def _run(args) -> int:
    try:
        with command_inputs(*_declared_inputs(args)):  # no output of the command is written over these
            return args.handler(args)
    except SceneError as e:
        for p in e.problems:
            print(f"error: {p}", file=sys.stderr)
        return 2
    except MotionWorldError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a file we were told to write could not be written
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Terminated as e:
        signum = e.args[0] if e.args else signal.SIGTERM
        print(f"terminated ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + int(signum)
