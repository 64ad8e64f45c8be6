"""`motionworld data synth | bench | preview`: synthetic training worlds. The handlers, and the checks
of these options' ranges, are the data layer's (`motionworld.data.commands`)."""
from __future__ import annotations

from pathlib import Path

from ..data import commands


def add(sub) -> None:
    d = sub.add_parser("data", help="synthetic training worlds: write, benchmark, preview")
    dsub = d.add_subparsers(dest="data_command", required=True)
    ds = dsub.add_parser("synth", help="generate clips into safetensors shards with a manifest")
    ds.add_argument("--out", type=Path, required=True)
    ds.add_argument("--clips", type=int, required=True)
    ds.add_argument("--frames", type=int, default=81)
    ds.add_argument("--size", type=int, default=128, help="square frame size in pixels (default 128)")
    ds.add_argument("--grid", type=int, default=50, help="tracks per side (default 50)")
    ds.add_argument("--split", choices=["train", "heldout"], default="train")
    ds.add_argument("--seed-start", type=int, default=0, help="first seed within the split (default 0)")
    ds.add_argument("--clips-per-shard", type=int, default=16)
    ds.add_argument("--workers", type=int, default=1, help="generator processes (default 1)")
    ds.add_argument("--msaa", type=int, default=1, help="multisample antialiasing of the colour (default 1 = off)")
    ds.set_defaults(handler=commands.synth)
    db = dsub.add_parser("bench", help="measure generation speed; prints 'N frames/s'")
    db.add_argument("--size", type=int, default=128)
    db.add_argument("--frames", type=int, default=81)
    db.add_argument("--clips", type=int, default=12, help="clips to time after one warm-up clip (default 12)")
    db.add_argument("--workers", type=int, default=1)
    db.add_argument("--msaa", type=int, default=1)
    db.add_argument("--json", action="store_true")
    db.set_defaults(handler=commands.bench)
    dp = dsub.add_parser("preview", help="an mp4 grid of clips with their tracks drawn on")
    dp.add_argument("dataset", type=Path)
    dp.add_argument("-o", "--output", type=Path, help="default: DATASET/preview.mp4")
    dp.add_argument("--clips", type=int, default=4, help="clips in the grid (default 4)")
    dp.add_argument("--start", type=int, default=0, help="first clip index (default 0)")
    dp.add_argument("--scale", type=int, default=3, help="pixel upscale before drawing (default 3)")
    dp.add_argument("--every", type=int, default=2, help="draw every n-th track along each grid axis (default 2)")
    dp.set_defaults(handler=commands.preview)
