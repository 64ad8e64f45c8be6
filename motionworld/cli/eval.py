"""`motionworld eval`: a student against baselines on held-out worlds; a JSON and Markdown report."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import MotionWorldError
from ..eval.heldout import AWAY_STAY
from ..eval.report import check_report_folder, grid_video, write_report
from ..frames import CHUNK_LATENTS, is_whole_chunks, whole_chunks_text
from ..limits import MAX_CLIP_FRAMES, MAX_CLIPS, MAX_FRAMES
from ..outputs import check_output_target
from ..play.defaults import SHIPPED_WEIGHTS
from .options import command_line, in_range, named

WHOLE = whole_chunks_text(CHUNK_LATENTS)  # '9 + 12k': the frame counts that are whole chunks
LONG_FRAMES_MIN = 45
AWAY_RANGE = (2.0, 60.0)  # at least one whole chunk while away


def add(sub) -> None:
    ev = sub.add_parser("eval", help="evaluate a student against baselines on held-out worlds; JSON + Markdown report")
    ev.add_argument("--student", type=Path, default=SHIPPED_WEIGHTS,
                    help="student weights folder (default: the shipped weights/)")
    ev.add_argument("--teacher", type=Path, help="teacher weights folder (teacher.safetensors); without it the "
                                                  "teacher rows and the guidance sweep are skipped")
    ev.add_argument("--clips", type=in_range("--clips", 1, MAX_CLIPS), default=32, help="held-out clips (default 32)")
    ev.add_argument("--frames", type=_whole_chunks("--frames", 0, MAX_CLIP_FRAMES, "up to {high} (e.g. 81)"),
                    default=81, help="frames per clip (default 81)")
    ev.add_argument("--heldout", type=Path, help="held-out shards (motionworld data synth --split heldout); "
                                                 "default: generated on the fly")
    ev.add_argument("--long-frames", type=_whole_chunks("--long-frames", LONG_FRAMES_MIN, MAX_FRAMES,
                                                        "in [{low}, {high}] (e.g. 2001)"), default=2001,
                    help=f"length of the long-horizon stream, {WHOLE} (default 2001: frame 2000 is its last)")
    ev.add_argument("--away-seconds", type=in_range("--away-seconds", *AWAY_RANGE, float,
                                                    "{option} {value:g}: must be in [{low:g}, {high:g}]"),
                    default=AWAY_STAY, help=f"how long the walk-away stream keeps the first view out of sight, in "
                                            f"[2, 60] s (default {AWAY_STAY:g})")
    ev.add_argument("--ablation-clips", type=int, default=8)
    ev.add_argument("--teacher-steps", type=int, default=24)
    ev.add_argument("--guidance", type=_guidance, default="3,1.5", metavar="W_T,W_M",
                    help="the teacher row's joint guidance, text and motion weights (default 3,1.5, MotionStream's; "
                         "use the guidance the student was distilled with); the ablations sweep others")
    ev.add_argument("--sections", type=_sections, default="main,long,away,ablations,speed",
                    help="comma-separated, from main, long, away, ablations, speed (the default: all of those) and "
                         "depth (the depth a picture gets: no student needed)")
    ev.add_argument("--depth-net", type=Path, help="our depth network's folder for the depth section (default: the "
                                                   "shipped weights' depth.safetensors, where they hold one)")
    ev.add_argument("--depth-views", type=in_range("--depth-views", 1, MAX_CLIPS), default=32,
                    help="held-out synthetic views of the depth section (default 32)")
    ev.add_argument("--out", type=Path, default=Path("reports/eval"), help="report folder (default reports/eval)")
    ev.add_argument("--grid", type=Path, help="also write the held-out grid video here (e.g. docs/heldout.mp4)")
    ev.set_defaults(handler=_eval)


def _whole_chunks(option: str, low: int, high: int, bounds: str):
    """An argparse type: a frame count of whole chunks within [low, high]."""

    def parse(text: str) -> int:
        frames = int(text)
        if not (low <= frames <= high and is_whole_chunks(frames, CHUNK_LATENTS)):
            raise MotionWorldError(f"{option} must be {WHOLE} {bounds.format(low=low, high=high)}, got {frames}")
        return frames

    return named("int", parse)


def _guidance(text: str) -> tuple[float, float]:
    """--guidance W_T,W_M: two weights >= 0."""
    try:
        w_t, w_m = (float(x) for x in text.split(","))
    except ValueError:
        raise MotionWorldError(f"--guidance {text!r}: expected two numbers W_T,W_M, e.g. 3,1.5") from None
    if not (w_t >= 0 and w_m >= 0):  # also refuses nan
        raise MotionWorldError(f"--guidance {text!r}: the weights must be >= 0")
    return w_t, w_m


def _sections(text: str) -> list[str]:
    """--sections: comma-separated names from eval.suite.SECTIONS."""
    from ..eval.suite import SECTIONS

    sections = [x.strip() for x in text.split(",") if x.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise MotionWorldError(f"--sections: unknown {', '.join(sorted(unknown))} (choose {', '.join(SECTIONS)})")
    return sections


def _eval(args) -> int:
    from ..eval.suite import EvalSettings, evaluate
    from ..model.student import StreamingStudent

    check_report_folder(args.out)  # before the evaluation: its report never replaces a user's file
    if args.grid is not None:
        check_output_target(args.grid)
    needs_student = set(args.sections) - {"depth"}
    # held-out clips are made at the frames' size
    height, size = StreamingStudent.load(args.student).output_size if needs_student else (None, 128)
    w_t, w_m = args.guidance
    settings = EvalSettings(clips=args.clips, frames=args.frames, size=size, height=height,
                            heldout_root=None if args.heldout is None else str(args.heldout),
                            long_frames=args.long_frames, away_seconds=args.away_seconds,
                            ablation_clips=min(args.ablation_clips, args.clips), teacher_steps=args.teacher_steps,
                            w_t=w_t, w_m=w_m, sections=args.sections, grid_clips=4 if args.grid else 0,
                            depth_views=args.depth_views,
                            depth_net=None if args.depth_net is None else str(args.depth_net))
    grid: list = []
    report = evaluate(args.student, args.teacher, settings, progress=lambda m: print(m, file=sys.stderr), grid=grid)
    paths = write_report(report, args.out, command_line(args))
    print((args.out / "report.md").read_text())
    if args.grid and grid:
        n = grid_video(grid, args.grid)
        paths["grid"] = args.grid
        print(f"wrote {args.grid} ({n} frames)")
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
