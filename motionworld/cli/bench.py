"""`motionworld bench`: streaming speed of the student (generated fps, latency split, memory) and of a
picture's depth."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import MotionWorldError
from ..limits import MAX_CHUNK_LATENTS, MAX_SAMPLER_STEPS, MAX_SINK_CHUNKS, MAX_WINDOW_CHUNKS
from .options import check_cuda, device, in_range

SIDE_RANGE = (16, 8192)  # --size: a benchmarked model's width and height (its config's budget then says what fits)


def add(sub) -> None:
    b = sub.add_parser("bench", help="measure streaming speed (generated fps, latency split, memory)")
    b.add_argument("--model", action="store_true", help="benchmark the streaming student")
    b.add_argument("--depth", action="store_true", help="benchmark a picture's depth: our network (--weights: a folder "
                   "with depth.safetensors; default the shipped one) and the estimator where it loads")
    b.add_argument("--repeats", type=in_range("--repeats", 1, 1000), default=10,
                   help="--depth: timed runs per size (default 10)")
    b.add_argument("--preset", default="cpu-guided", help="model preset with random weights: cpu-guided (default: the "
                   "geometry-guided CPU model), cpu (unguided, 128x128), tiny, tiny-guided, wan1.3b")
    b.add_argument("--weights", type=Path, help="a weights folder (student.safetensors + MANIFEST.json) instead")
    b.add_argument("--size", type=_model_size, help="WIDTHxHEIGHT of the model, multiples of 16 (default: the "
                   "preset's; a guided preset paints frames output_scale times that)")
    b.add_argument("--steps", type=in_range("--steps", 1, MAX_SAMPLER_STEPS), default=3)
    b.add_argument("--chunk", type=in_range("--chunk", 1, MAX_CHUNK_LATENTS), default=3,
                   help="latent frames per chunk (default 3)")
    b.add_argument("--sink", type=in_range("--sink", 0, MAX_SINK_CHUNKS), default=1, help="sink chunks (default 1)")
    b.add_argument("--window", type=_window, default="1", help="window chunks, or 'grow' (default 1)")
    b.add_argument("--chunks", type=in_range("--chunks", 1, 100_000), default=500,
                   help="chunks to stream (default 500)")
    b.add_argument("--device", type=device(), default="cpu")
    b.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    b.add_argument("--no-compare", action="store_true", help="skip the s0w6 and bidirectional comparison runs")
    b.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    b.set_defaults(handler=_bench)


def _model_size(text: str) -> tuple[int, int]:
    """--size WIDTHxHEIGHT: multiples of 16 within SIDE_RANGE."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise MotionWorldError(f"--size must look like 160x128, got {text!r}") from None
    low, high = SIDE_RANGE
    if width % 16 or height % 16 or not (low <= width <= high and low <= height <= high):
        raise MotionWorldError(f"--size {text}: width and height must be multiples of 16 in [{low}, {high}]")
    return width, height


def _window(text: str) -> int | None:
    """--window: chunks the KV cache keeps, in [0, MAX_WINDOW_CHUNKS], or 'grow' (None: all of them)."""
    if text == "grow":
        return None
    try:
        window = int(text)
    except ValueError:
        raise MotionWorldError(f"--window must be a number of chunks or 'grow', got {text!r}") from None
    if not 0 <= window <= MAX_WINDOW_CHUNKS:
        raise MotionWorldError(f"--window must be in [0, {MAX_WINDOW_CHUNKS}] (or grow), got {window}")
    return window


def _bench(args) -> int:
    from ..eval.bench import bench_model, format_report

    if args.depth:
        from ..eval.depth_bench import bench_depth, format_depth_report

        depth = bench_depth(args.weights, repeats=args.repeats)
        print(json.dumps(depth) if args.json else format_depth_report(depth))
        if not args.model:
            return 0
    if not args.model:
        raise MotionWorldError("choose what to benchmark: --model or --depth")
    check_cuda(args.device)
    width, height = args.size or (None, None)
    try:
        result = bench_model(args.preset, weights=args.weights, height=height, width=width, steps=args.steps,
                             chunk=args.chunk, sink=args.sink, window=args.window, chunks=args.chunks,
                             device=args.device, dtype=args.dtype, compare=not args.no_compare, progress=not args.json)
    except ValueError as e:
        raise MotionWorldError(str(e)) from None
    print(json.dumps(result) if args.json else format_report(result))
    return 0
