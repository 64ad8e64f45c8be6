"""`motionworld render | replay | tracks | path`: a camera path made headless into a video, its
tracks or a nerfstudio camera path; an input log made into its video again."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..errors import MotionWorldError
from ..geometry.path_io import save_nerfstudio
from ..outputs import check_output_target, replacing
from ..play import commands
from ..play.defaults import scene_path
from ..world import World
from .options import backend_arg, generator_args, path_args


def add(sub) -> None:
    r = sub.add_parser("render", help="render a camera path to a video file (headless)")
    path_args(r)
    r.add_argument("-o", "--output", type=Path, required=True, help=".mp4/.mkv/.webm/.gif or a folder for PNGs")
    backend_arg(r, default=None, more=" (tracks is the default with --preview-tracks)")
    generator_args(r, 640)
    r.add_argument("--preview-tracks", action="store_true", help="draw the projected tracks on the frames")
    r.add_argument("--log", type=Path, help="also write the input log (for `motionworld replay`)")
    r.set_defaults(handler=_render)

    rp = sub.add_parser("replay", help="make the video of an input log again, checking it is bit-exact")
    rp.add_argument("log", type=Path)
    rp.add_argument("-o", "--output", type=Path, help="write the frames to a video file or PNG folder")
    rp.set_defaults(handler=_replay)

    t = sub.add_parser("tracks", help="write the tracks of a camera path to .npz")
    path_args(t)
    t.add_argument("-o", "--output", type=Path, required=True)
    t.set_defaults(handler=_tracks)

    x = sub.add_parser("path", help="export a camera path as nerfstudio camera_path.json")
    path_args(x)
    x.add_argument("-o", "--output", type=Path, required=True)
    x.set_defaults(handler=_path)


def _render(args) -> int:
    backend = args.backend or ("tracks" if args.preview_tracks else "auto")
    result = commands.render(scene_path(args.scene), args.output, path=args.path, actions=args.actions,
                             seconds=args.seconds, backend=backend, weights=args.weights, size=args.size,
                             seed=args.seed, depth=args.depth, preview_tracks=args.preview_tracks, grid=args.grid,
                             log_path=args.log)
    lat = np.array(result.chunk_latency_s) * 1000
    print(f"wrote {args.output} ({result.frames} frames, {result.frames / result.fps:.2f} s at {result.fps:g} fps) in "
          f"{result.seconds:.2f} s ({result.frames / max(result.seconds, 1e-9):.1f} frames/s); chunk latency median "
          f"{np.median(lat):.0f} ms, max {lat.max():.0f} ms ({len(lat)} chunks); frames sha256 {result.digest[:16]}")
    return 0


def _replay(args) -> int:
    r = commands.replay(args.log, args.output)
    where = f" to {args.output}" if args.output else ""
    print(f"replayed {r.chunks} chunks, {r.frames} frames{where}; frames sha256 {r.digest[:16]}")
    if r.mismatches:
        first = ", ".join(f"line {n} (frame {f})" for n, f in r.mismatches[:5])
        print(f"error: {len(r.mismatches)} of {r.chunks} chunks differ from the log: {first}", file=sys.stderr)
        return 1
    print(f"bit-exact: all {r.chunks} chunks match the frames recorded in the log")
    return 0


def _world_and_path(args):
    world = World(scene_path(args.scene), grid=args.grid)
    spec = args.actions if args.actions is not None else (args.path or world.default_path())
    return world, spec


def _tracks(args) -> int:
    output = args.output
    if output.suffix.lower() != ".npz":  # numpy would add .npz and write a file the user did not name
        raise MotionWorldError(f"-o {output}: tracks are written as .npz; name the file {output.name}.npz")
    check_output_target(output)
    world, spec = _world_and_path(args)
    r = world.tracks(spec, seconds=args.seconds)
    with replacing(output) as tmp:
        np.savez_compressed(tmp, tracks=r.tracks, visibility=r.visibility, depth=r.depth, c2w=r.c2w, K=r.K,
                            object_ids=r.object_ids, times=r.times)
    print(f"wrote {output}: tracks {r.tracks.shape}, {r.visibility.mean() * 100:.1f}% visible")
    return 0


def _path(args) -> int:
    check_output_target(args.output)
    world, spec = _world_and_path(args)
    cam = world.scene.camera
    with replacing(args.output) as tmp:
        save_nerfstudio(tmp, world.absolute(spec), cam.width, cam.height, cam.fov_deg, world.fps, args.seconds)
    print(f"wrote {args.output}")
    return 0
