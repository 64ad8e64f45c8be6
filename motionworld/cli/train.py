"""`motionworld train STAGE | ship | plot`: run a training stage, assemble the shipped weights, plot a log."""
from __future__ import annotations

import math
from pathlib import Path

from .. import plugins
from ..errors import MotionWorldError
from ..strict_yaml import YAMLReadError, read_yaml
from ..train.config import load_config
from ..train.log import plot_log
from .options import check_cuda, command_line, device, in_range

STOP_AFTER = in_range("--stop-after", 1, math.inf, message="{option} must be a number of steps >= {low}, got {value}")


def add(sub) -> None:
    stages = plugins.names(plugins.STAGES)
    tr = sub.add_parser("train", help=f"train a stage: {' | '.join(stages)}; plot a log")
    tsub = tr.add_subparsers(dest="stage", required=True)
    for stage in stages:
        ts = tsub.add_parser(stage, help=f"run the {stage} stage")
        ts.add_argument("--config", type=Path, required=True, help="a YAML file, e.g. configs/micro/{stage}.yaml")
        ts.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in the run folder")
        ts.add_argument("--out", help="run folder (overrides the config's out)")
        ts.add_argument("--steps", type=int, help="total steps (overrides optim.steps)")
        ts.add_argument("--stop-after", type=STOP_AFTER, help="stop after this many steps (checkpointed, not "
                                                               "exported); --resume continues")
        ts.add_argument("--device", type=device(auto=True), default="auto",
                        help="auto (CUDA when available), cpu or cuda")
        ts.add_argument("--set", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set optim.lr=3e-4 (YAML value syntax)")
        ts.set_defaults(handler=_stage)
    sh = tsub.add_parser("ship",
                         help="assemble the shipped weights folder (float16 where it does not change the frames)")
    sh.add_argument("--student", type=Path, help="a causal-init, distill or guide export folder")
    sh.add_argument("--depth", type=Path, help="a `train depth` export: our depth network, put into --out beside "
                                               "the student (the other files stay)")
    sh.add_argument("--depth-default", action="store_true", help="a picture without depth gets this network (say so "
                                                                 "only where it beat the prior and a flat plane)")
    sh.add_argument("--depth-verdict", default="", help="the measured why of --depth-default or of its absence, "
                                                        "said when the depth chain skips the network")
    sh.add_argument("--depth-max-side", type=int, help="the picture size the shipped depth network reads (its "
                                                       "config's max_side)")
    sh.add_argument("--teacher", type=Path, help="a teacher export folder, shipped too (for motionworld eval)")
    sh.add_argument("--out", type=Path, default=Path("weights"), help="default weights/")
    sh.add_argument("--float32", action="store_true", help="keep float32")
    sh.add_argument("--vae", type=Path, help="a VAE export whose decoder replaces the models' (a vae.decoder_only "
                                             "fine-tune of their VAE)")
    sh.set_defaults(handler=_ship)
    tp = tsub.add_parser("plot", help="draw the curves of a log.jsonl to PNG")
    tp.add_argument("log", type=Path)
    tp.add_argument("-o", "--output", type=Path, help="default: next to the log, .png")
    tp.set_defaults(handler=_plot)


def _key_value(item: str) -> tuple[str, object]:
    """--set KEY=VALUE: the key and the value read as YAML."""
    key, eq, value = item.partition("=")
    if not eq:
        raise MotionWorldError(f"--set {item!r}: expected KEY=VALUE")
    try:
        return key, read_yaml(value)[0]
    except YAMLReadError as e:
        raise MotionWorldError(f"--set {item!r}: the value is not YAML ({e})") from None


def _stage(args) -> int:
    from ..train.trainer import train

    check_cuda(args.device)
    overrides = dict(args.set)
    if args.out:
        overrides["out"] = args.out
    if args.steps is not None:
        overrides["optim.steps"] = args.steps
    cfg = load_config(args.config, overrides, labels={"out": "--out", "optim.steps": "--steps"})
    if cfg.stage != args.stage:
        raise MotionWorldError(f"{args.config}: is a config for stage {cfg.stage!r}, not {args.stage!r}")
    result = train(cfg, resume=args.resume, device=args.device, stop_after=args.stop_after, command=command_line(args))
    if result["rank"] == 0 and result["export"] is None:
        print(f"{cfg.stage}: stopped after {result['steps']} of {cfg.optim.steps} steps; continue with --resume")
    elif result["rank"] == 0:
        shown = ", ".join(f"{k} {v:.4g}" for k, v in result["metrics"].items())
        print(f"{cfg.stage}: {result['steps']} steps ({result['steps_per_s']:.2f} steps/s on {result['world_size']} "
              f"process(es)); {shown}; exported {result['export']}")
    return 0


def _ship(args) -> int:
    from ..train.ship import ship, ship_depth

    if args.student is None and args.depth is None:
        raise MotionWorldError("train ship: give --student (and --teacher), --depth, or both")
    if args.student is not None:
        r = ship(args.student, args.out, args.teacher, fp16=not args.float32, vae=args.vae)
        check = r["float16_check_psnr_db"]
        print(f"wrote {', '.join(r['files'])} ({r['megabytes']:.1f} MB)"
              + ("" if check is None else f"; float16 check: frames agree to {check:.1f} dB"))
    if args.depth is not None:  # after the student: its folder is built anew, the depth network goes in after
        d = ship_depth(args.depth, args.out, fp16=not args.float32, max_side=args.depth_max_side,
                       picture_default=args.depth_default, verdict=args.depth_verdict)
        check = "" if args.student is not None else (f"; float16 check: relative error "
                                                      f"{d['float16_check_relative_error']:.2g}")
        print(f"wrote {d['file']} ({d['megabytes']:.1f} MB{check})")
    return 0


def _plot(args) -> int:
    output = args.output or args.log.with_suffix(".png")
    if output.suffix.lower() != ".png":
        raise MotionWorldError(f"-o {output}: the plot is a PNG; name the file {output.stem}.png")
    keys = plot_log(args.log, output)
    print(f"wrote {output} ({', '.join(keys)})")
    return 0
