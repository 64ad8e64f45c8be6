"""`motionworld play | serve`: a person walks into a scene, in a window here or from a web page."""
from __future__ import annotations

from pathlib import Path

from ..errors import MotionWorldError
from ..outputs import check_output_place
from ..play import commands
from ..play.defaults import scene_path
from ..play.web.server import ServeOptions, serve
from ..play.window import NoDisplayError
from .options import SCENE_HELP, backend_arg, generator_args, in_range, seconds, window_size

SERVE_RANGE = "{option} {value}: must be in [{low}, {high}]"


def add(sub) -> None:
    pl = sub.add_parser("play", help="open a window and walk into a scene")
    pl.add_argument("scene", type=Path, nargs="?", help=SCENE_HELP)
    backend_arg(pl)
    generator_args(pl, 384)  # smaller than render's: the warp renderer keeps up with real time on a CPU
    pl.add_argument("--window-size", type=window_size, default="1024x640",
                    help="WIDTHxHEIGHT of the window (default 1024x640)")
    pl.add_argument("--fullscreen", action="store_true")
    pl.add_argument("--out-dir", type=Path, default=Path("captures"),
                    help="where F12 screenshots, F9 recordings and F8 input logs go (default captures/)")
    pl.add_argument("--log", type=Path, help="write the input log to this file as the session runs")
    pl.add_argument("--seconds", type=seconds(), help="close the window after this many seconds")
    pl.add_argument("--fallback-render", type=Path, metavar="VIDEO",
                    help="if no window can be opened, render the scene's default path to VIDEO instead")
    pl.set_defaults(handler=_play)

    sv = sub.add_parser("serve",
                        help="serve the world to a web browser: the model runs here, a person plays from a page")
    sv.add_argument("scene", type=Path, nargs="?", help=SCENE_HELP)
    backend_arg(sv)
    generator_args(sv, 384)
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only; "
                                                        "any other needs --token)")
    sv.add_argument("--port", type=in_range("--port", 0, 65535, message=SERVE_RANGE), default=8765,
                    help="port (default 8765; 0 picks a free one)")
    sv.add_argument("--max-sessions", type=in_range("--max-sessions", 1, 64, message=SERVE_RANGE),
                    help="players at once (default 1 on a CPU, 4 with CUDA)")
    sv.add_argument("--token", type=_token, help="a secret every request must carry (the printed address has it)")
    sv.add_argument("--log", type=Path, help="a folder: each player's input log (and dropped pictures) goes there, "
                                             "for `motionworld replay`")
    sv.add_argument("--idle", type=in_range("--idle", 1.0, 86400.0, float, "{option} {value:g}: must be in [{low:g}, "
                                            "{high:g}] seconds"), default=300.0,
                    help="end a session after this many seconds without input (watching does not count; default 300)")
    sv.set_defaults(handler=_serve)


def _token(text: str) -> str:
    if not 8 <= len(text) <= 256:
        raise MotionWorldError("--token must be 8 to 256 characters")
    return text


def _play(args) -> int:
    scene = scene_path(args.scene)
    try:
        result = commands.play(scene, backend=args.backend, weights=args.weights, size=args.size, seed=args.seed,
                               depth=args.depth, window_size=args.window_size, fullscreen=args.fullscreen,
                               out_dir=args.out_dir, log_path=args.log, max_seconds=args.seconds)
    except NoDisplayError as e:
        if args.fallback_render is None:
            raise
        print(f"{e}; rendering the scene's default path headless to {args.fallback_render} instead")
        r = commands.render(scene, args.fallback_render, backend=args.backend, weights=args.weights, size=args.size,
                            seed=args.seed, depth=args.depth)
        print(f"wrote {args.fallback_render} ({r.frames} frames in {r.seconds:.1f} s)")
        return 0
    for path in result["saved"]:
        print(f"saved {path}")
    return 0


def _serve(args) -> int:
    sessions = args.max_sessions
    if sessions is None:
        import torch

        sessions = 4 if torch.cuda.is_available() else 1
    if args.log is not None:
        check_output_place(args.log)
        if args.log.exists() and not args.log.is_dir():
            raise MotionWorldError(f"--log {args.log}: serve writes one log per player into a folder; this is a file")
    options = ServeOptions(scene_path(args.scene), args.backend, args.weights, args.size, args.seed, args.depth,
                           sessions, args.token, args.log, args.idle)
    serve(options, args.host, args.port)
    return 0
