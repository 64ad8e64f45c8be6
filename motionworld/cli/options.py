"""What several commands share: the backend choices, the help texts, the argument groups (a camera
path, a generator) and the argparse `type=` checks that refuse a value out of range where it is parsed.

A check raises MotionWorldError naming the option; it passes through argparse (which only catches
its own errors, TypeError and ValueError) to `main()`, which prints it as one `error:` line and
exits with status 2, as for any other input error. Text that is not a number at all stays
argparse's own refusal (`invalid int value: 'x'`: its usage line and exit 2)."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from .. import plugins
from ..arguments import GRID_RANGE, SIZE_RANGE
from ..errors import MotionWorldError
from ..limits import check_seconds, check_seed


def backend_arg(parser, default: str | None = "auto", more: str = "") -> None:
    """--backend: "auto" or a registered backend (`plugins.BACKENDS`, read when the parser is built,
    so one registered at run time is a choice too), each with its summary in the help."""
    names = plugins.names(plugins.BACKENDS)
    summaries = "; ".join(f"{n}: {_summary(plugins.BACKENDS, n)}" for n in names)
    parser.add_argument("--backend", choices=["auto", *names], default=default,
                        help="auto (default): the scene's generator, the neural student with trained weights, else "
                             f"the warp renderer; {summaries}{more}")


def _summary(group: str, name: str) -> str:
    obj, why = plugins.try_load(group, name)
    return getattr(obj, "summary", "") if obj is not None else f"(does not load: {why})"


def depth_help() -> str:
    """--depth's help: the depth sources picked by name alone (`by_name`, from `plugins.DEPTH_SOURCES`)."""
    named = [n for n in plugins.names(plugins.DEPTH_SOURCES)
             if getattr(plugins.try_load(plugins.DEPTH_SOURCES, n)[0], "by_name", False)]
    return (f"the depth of a picture without a scene file beside it: {', '.join(named)}, a transformers model "
            "folder or a hub id (default: MOTIONWORLD_DEPTH_MODEL, else Depth Anything V2 Small where transformers "
            "has it, else our network, else the prior)")
SCENE_HELP = ("a scene.yaml, a picture (its scene is made on the fly: see `scene new`) or a shipped scene's name "
              "(default: garden)")

MAX_SIZE = 8192  # --size of play, serve and render: the longest side of warp/tracks frames (within SIZE_RANGE)
IN_RANGE = "{option} must be in [{low}, {high}], got {value}"


def named(name: str, parse: Callable) -> Callable:
    """`parse` as an argparse type named `name` (int, float, str)."""
    parse.__name__ = name  # argparse names the type in its refusal of text that is not one: "invalid int value"
    return parse


def in_range(option: str, low, high, kind: type = int, message: str = IN_RANGE) -> Callable:
    """An argparse type: a `kind` (int or float) within [low, high]; NaN never is. `message` is
    formatted with option, value, low and high."""

    def parse(text: str):
        value = kind(text)
        if not low <= value <= high:
            raise MotionWorldError(message.format(option=option, value=value, low=low, high=high))
        return value

    return named(kind.__name__, parse)


def seconds(option: str = "--seconds") -> Callable:
    """A length of video: a positive number of at most limits.MAX_SECONDS."""

    def parse(text: str) -> float:
        value = float(text)
        check_seconds(value, option)
        return value

    return named("float", parse)


def seed(option: str = "--seed") -> Callable:
    """A noise seed: a whole number in [0, limits.MAX_SEED]."""

    def parse(text: str) -> int:
        value = int(text)
        check_seed(value, option)
        return value

    return named("int", parse)


def not_empty(option: str, expected: str) -> Callable:
    """Text that may not be empty ('' for a path would quietly play the scene's default one)."""

    def parse(text: str) -> str:
        if not text.strip():
            raise MotionWorldError(f"{option} is empty; give a {expected} (or leave the option out for the scene's "
                                   "default path)")
        return text

    return named("str", parse)


def device(auto: bool = False) -> Callable:
    """--device: cpu, cuda or cuda:N (and auto where it is allowed). Whether this machine has that
    CUDA device is asked where the device is used (`check_cuda`)."""

    def parse(text: str) -> str:
        if not (text == "cpu" or re.fullmatch(r"cuda(:\d{1,2})?", text) or (auto and text == "auto")):
            raise MotionWorldError(f"--device {text!r}: choose {'auto, ' if auto else ''}cpu, cuda or cuda:N")
        return text

    return named("str", parse)


def check_cuda(device: str) -> None:
    """A --device cuda or cuda:N must be a CUDA device this machine has."""
    if device.startswith("cuda"):
        import torch

        index = int(device.partition(":")[2] or 0)
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise MotionWorldError(f"--device {device}: no such CUDA device is available here")


def window_size(text: str) -> tuple[int, int]:
    """WIDTHxHEIGHT of a window, each side in [64, 16384]."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise MotionWorldError(f"--window-size must look like 1024x640, got {text!r}") from None
    if not (64 <= w <= 16384 and 64 <= h <= 16384):
        raise MotionWorldError(f"--window-size {text}: each side must be in [64, 16384]")
    return w, h


def path_args(q) -> None:
    """The camera path of render, tracks and path: a scene, --path or --actions, --seconds, --grid."""
    q.add_argument("scene", type=Path, nargs="?", help=SCENE_HELP)
    g = q.add_mutually_exclusive_group()
    g.add_argument("--path", type=not_empty("--path", "path name or file"),
                   help="a path name from the scene, or a file (.yaml segments, nerfstudio .json, "
                        "RealEstate10K .txt, COLMAP images.txt); default: the scene's default path")
    g.add_argument("--actions", type=not_empty("--actions", "action string"),
                   help="an action string, e.g. 'w-32,lw-16,none-8'")
    q.add_argument("--seconds", type=seconds(), help="length to render (default: the whole path)")
    q.add_argument("--grid", type=in_range("--grid", *GRID_RANGE), help="tracks per side (default: the scene's)")


def generator_args(q, size: int) -> None:
    """The frames' generator of play, serve and render: --depth, --weights, --size, --seed."""
    q.add_argument("--depth", help=depth_help())
    q.add_argument("--weights", type=Path,
                   help="a weights folder (or its student.safetensors) for the neural backend (default: the "
                        "scene's generator.weights, else the shipped weights/)")
    q.add_argument("--size", type=in_range("--size", SIZE_RANGE[0], MAX_SIZE), default=size,
                   help=f"longest side of warp/tracks frames (default {size})")
    q.add_argument("--seed", type=seed(), help="noise seed of the neural backend (default: the scene's)")


def command_line(args) -> str:
    """The command as typed, for reports and exports that say how they were made."""
    return "motionworld " + " ".join(str(a) for a in args.argv)
