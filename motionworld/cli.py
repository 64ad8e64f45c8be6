"""Command line: motionworld play | serve | render | replay | validate | scene | depth | tracks | path | bench | eval |
weights | data | train.

Errors caused by input print one line each (`error: ...`) and exit with status 2.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from .data import commands as data_commands
from .depth_files import check_depth_outputs, save_depth_map, save_preview
from .errors import MotionWorldError, SceneError, Terminated
from .eval.heldout import AWAY_STAY
from .eval.report import check_report_folder, grid_video, write_report
from .frames import CHUNK_LATENTS, is_whole_chunks, whole_chunks_text
from .geometry.path_io import save_nerfstudio
from .images import read_rgb
from .inputs import command_inputs
from .limits import MAX_CLIP_FRAMES, MAX_CLIPS, MAX_FRAMES, check_seconds, check_seed, limit_malloc_arenas
from .outputs import check_output_place, check_output_target, replacing
from .picture_scene import is_picture, scene_text
from .play import commands
from .play.defaults import SHIPPED_WEIGHTS, scene_path
from .play.web.server import ServeOptions, serve
from .play.window import NoDisplayError
from .scene import load_scene, picture_scene
from .strict_yaml import YAMLReadError, read_yaml
from .train.config import STAGES, load_config
from .train.log import plot_log
from .world import World

DEPTH_HELP = ("the depth of a picture without a scene file beside it: prior, network (ours), a transformers model "
              "folder or a hub id (default: MOTIONWORLD_DEPTH_MODEL, else Depth Anything V2 Small where transformers "
              "has it, else our network, else the prior)")
SCENE_HELP = ("a scene.yaml, a picture (its scene is made on the fly: see `scene new`) or a shipped scene's name "
              "(default: garden)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motionworld", description="Walk into a still image.")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check scene files (or pictures); one line per problem")
    v.add_argument("scenes", nargs="+", type=Path)

    sc = sub.add_parser("scene", help="scene files: write one for a picture")
    scsub = sc.add_subparsers(dest="scene_command", required=True)
    sn = scsub.add_parser("new", help="write a commented scene file for a picture (beside it: photo.jpg -> photo.yaml, "
                                      "which `play photo.jpg` then plays)")
    sn.add_argument("picture", type=Path)
    sn.add_argument("-o", "--output", type=Path, help="where to write it (default: beside the picture, same name, .yaml)")
    sn.add_argument("--force", action="store_true", help="replace an existing file")
    sn.add_argument("--depth", help=DEPTH_HELP)

    dp = sub.add_parser("depth", help="a picture's depth as play gets it: a map a scene reads, and a preview")
    dp.add_argument("picture", type=Path)
    dp.add_argument("-o", "--output", type=Path, required=True,
                    help="the map: .png (16-bit, with the scale to read it by) or .npy (float32 depth)")
    dp.add_argument("--preview", type=Path, help="the colourised preview beside the picture (default: OUTPUT's "
                                                 "name + _preview.jpg; 'none' for no preview)")
    dp.add_argument("--depth", help=DEPTH_HELP)
    dp.add_argument("--force", action="store_true", help="replace existing output files")

    def path_args(q):
        q.add_argument("scene", type=Path, nargs="?", help=SCENE_HELP)
        g = q.add_mutually_exclusive_group()
        g.add_argument("--path", help="a path name from the scene, or a file (.yaml segments, nerfstudio .json, "
                                      "RealEstate10K .txt, COLMAP images.txt); default: the scene's default path")
        g.add_argument("--actions", help="an action string, e.g. 'w-32,lw-16,none-8'")
        q.add_argument("--seconds", type=float, help="length to render (default: the whole path)")
        q.add_argument("--grid", type=int, help="tracks per side (default: the scene's)")

    backends = ["auto", "neural", "warp", "tracks"]
    backend_help = ("auto (default): the scene's generator, the neural student with trained weights, else the warp "
                    "renderer; neural: the streaming student; warp: the reference renderer, the picture on its "
                    "depth mesh; tracks: the projected tracks on the dimmed picture")

    def generator_args(q, size):
        q.add_argument("--depth", help=DEPTH_HELP)
        q.add_argument("--weights", type=Path, help="a weights folder for the neural backend (default: the shipped weights/)")
        q.add_argument("--size", type=int, default=size, help=f"longest side of warp/tracks frames (default {size})")
        q.add_argument("--seed", type=int, help="noise seed of the neural backend (default: the scene's)")

    pl = sub.add_parser("play", help="open a window and walk into a scene")
    pl.add_argument("scene", type=Path, nargs="?", help=SCENE_HELP)
    pl.add_argument("--backend", choices=backends, default="auto", help=backend_help)
    generator_args(pl, 384)  # smaller than render's: the warp renderer keeps up with real time on a CPU
    pl.add_argument("--window-size", default="1024x640", help="WIDTHxHEIGHT of the window (default 1024x640)")
    pl.add_argument("--fullscreen", action="store_true")
    pl.add_argument("--out-dir", type=Path, default=Path("captures"),
                    help="where F12 screenshots, F9 recordings and F8 input logs go (default captures/)")
    pl.add_argument("--log", type=Path, help="write the input log to this file as the session runs")
    pl.add_argument("--seconds", type=float, help="close the window after this many seconds")
    pl.add_argument("--fallback-render", type=Path, metavar="VIDEO",
                    help="if no window can be opened, render the scene's default path to VIDEO instead")

    sv = sub.add_parser("serve", help="serve the world to a web browser: the model runs here, a person plays from a page")
    sv.add_argument("scene", type=Path, nargs="?", help=SCENE_HELP)
    sv.add_argument("--backend", choices=backends, default="auto", help=backend_help)
    generator_args(sv, 384)
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only; "
                                                        "any other needs --token)")
    sv.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    sv.add_argument("--max-sessions", type=int, help="players at once (default 1 on a CPU, 4 with CUDA)")
    sv.add_argument("--token", help="a secret every request must carry (the printed address has it)")
    sv.add_argument("--log", type=Path, help="a folder: each player's input log (and dropped pictures) goes there, "
                                             "for `motionworld replay`")
    sv.add_argument("--idle", type=float, default=300.0,
                    help="end a session after this many seconds without input (watching does not count; default 300)")

    r = sub.add_parser("render", help="render a camera path to a video file (headless)")
    path_args(r)
    r.add_argument("-o", "--output", type=Path, required=True, help=".mp4/.mkv/.webm/.gif or a folder for PNGs")
    r.add_argument("--backend", choices=backends, help=backend_help + " (tracks is the default with --preview-tracks)")
    generator_args(r, 640)
    r.add_argument("--preview-tracks", action="store_true", help="draw the projected tracks on the frames")
    r.add_argument("--log", type=Path, help="also write the input log (for `motionworld replay`)")

    rp = sub.add_parser("replay", help="make the video of an input log again, checking it is bit-exact")
    rp.add_argument("log", type=Path)
    rp.add_argument("-o", "--output", type=Path, help="write the frames to a video file or PNG folder")

    t = sub.add_parser("tracks", help="write the tracks of a camera path to .npz")
    path_args(t)
    t.add_argument("-o", "--output", type=Path, required=True)

    x = sub.add_parser("path", help="export a camera path as nerfstudio camera_path.json")
    path_args(x)
    x.add_argument("-o", "--output", type=Path, required=True)

    b = sub.add_parser("bench", help="measure streaming speed (generated fps, latency split, memory)")
    b.add_argument("--model", action="store_true", help="benchmark the streaming student")
    b.add_argument("--depth", action="store_true", help="benchmark a picture's depth: our network (--weights: a folder "
                   "with depth.safetensors; default the shipped one) and the estimator where it loads")
    b.add_argument("--repeats", type=int, default=10, help="--depth: timed runs per size (default 10)")
    b.add_argument("--preset", default="cpu-guided", help="model preset with random weights: cpu-guided (default: the "
                   "geometry-guided CPU model), cpu (unguided, 128x128), tiny, tiny-guided, wan1.3b")
    b.add_argument("--weights", type=Path, help="a weights folder (student.safetensors + MANIFEST.json) instead")
    b.add_argument("--size", help="WIDTHxHEIGHT of the model, multiples of 16 (default: the preset's; a guided preset "
                   "paints frames output_scale times that)")
    b.add_argument("--steps", type=int, default=3)
    b.add_argument("--chunk", type=int, default=3, help="latent frames per chunk (default 3)")
    b.add_argument("--sink", type=int, default=1, help="sink chunks (default 1)")
    b.add_argument("--window", default="1", help="window chunks, or 'grow' (default 1)")
    b.add_argument("--chunks", type=int, default=500, help="chunks to stream (default 500)")
    b.add_argument("--device", default="cpu")
    b.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    b.add_argument("--no-compare", action="store_true", help="skip the s0w6 and bidirectional comparison runs")
    b.add_argument("--json", action="store_true", help="print the figures as one JSON object")

    ev = sub.add_parser("eval", help="evaluate a student against baselines on held-out worlds; JSON + Markdown report")
    ev.add_argument("--student", type=Path, default=SHIPPED_WEIGHTS, help="student weights folder (default: the shipped weights/)")
    ev.add_argument("--teacher", type=Path, help="teacher weights folder (teacher.safetensors); without it the "
                                                  "teacher rows and the guidance sweep are skipped")
    ev.add_argument("--clips", type=int, default=32, help="held-out clips (default 32)")
    ev.add_argument("--frames", type=int, default=81, help="frames per clip (default 81)")
    ev.add_argument("--heldout", type=Path, help="held-out shards (motionworld data synth --split heldout); "
                                                 "default: generated on the fly")
    ev.add_argument("--long-frames", type=int, default=2001,
                    help=f"length of the long-horizon stream, {whole_chunks_text(CHUNK_LATENTS)} (default 2001: frame 2000 is its last)")
    ev.add_argument("--away-seconds", type=float, default=AWAY_STAY,
                    help=f"how long the walk-away stream keeps the first view out of sight, in [2, 60] s (default {AWAY_STAY:g})")
    ev.add_argument("--ablation-clips", type=int, default=8)
    ev.add_argument("--teacher-steps", type=int, default=24)
    ev.add_argument("--guidance", default="3,1.5", metavar="W_T,W_M",
                    help="the teacher row's joint guidance, text and motion weights (default 3,1.5, MotionStream's; "
                         "use the guidance the student was distilled with); the ablations sweep others")
    ev.add_argument("--sections", default="main,long,away,ablations,speed",
                    help="comma-separated, from main, long, away, ablations, speed (the default: all of those) and "
                         "depth (the depth a picture gets: no student needed)")
    ev.add_argument("--depth-net", type=Path, help="our depth network's folder for the depth section (default: the "
                                                   "shipped weights' depth.safetensors, where they hold one)")
    ev.add_argument("--depth-views", type=int, default=32, help="held-out synthetic views of the depth section (default 32)")
    ev.add_argument("--out", type=Path, default=Path("reports/eval"), help="report folder (default reports/eval)")
    ev.add_argument("--grid", type=Path, help="also write the held-out grid video here (e.g. docs/heldout.mp4)")

    tr = sub.add_parser("train", help="train a stage: vae | teacher | causal-init | distill | guide | depth; plot a log")
    tsub = tr.add_subparsers(dest="stage", required=True)
    for stage in STAGES:
        ts = tsub.add_parser(stage, help=f"run the {stage} stage")
        ts.add_argument("--config", type=Path, required=True, help="a YAML file, e.g. configs/micro/{stage}.yaml")
        ts.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in the run folder")
        ts.add_argument("--out", help="run folder (overrides the config's out)")
        ts.add_argument("--steps", type=int, help="total steps (overrides optim.steps)")
        ts.add_argument("--stop-after", type=int, help="stop after this many steps (checkpointed, not exported); "
                                                       "--resume continues")
        ts.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
        ts.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set optim.lr=3e-4 (YAML value syntax)")
    sh = tsub.add_parser("ship", help="assemble the shipped weights folder (float16 where it does not change the frames)")
    sh.add_argument("--student", type=Path, help="a causal-init, distill or guide export folder")
    sh.add_argument("--depth", type=Path, help="a `train depth` export: our depth network, put into --out beside "
                                               "the student (the other files stay)")
    sh.add_argument("--depth-default", action="store_true", help="a picture without depth gets this network (say "
                                                                     "so only where it beat the prior and a flat plane)")
    sh.add_argument("--depth-verdict", default="", help="the measured why of --depth-default or of its absence, "
                                                        "said when the depth chain skips the network")
    sh.add_argument("--depth-max-side", type=int, help="the picture size the shipped depth network reads (its "
                                                       "config's max_side)")
    sh.add_argument("--teacher", type=Path, help="a teacher export folder, shipped too (for motionworld eval)")
    sh.add_argument("--out", type=Path, default=Path("weights"), help="default weights/")
    sh.add_argument("--float32", action="store_true", help="keep float32")
    sh.add_argument("--vae", type=Path, help="a VAE export whose decoder replaces the models' (a vae.decoder_only "
                                             "fine-tune of their VAE)")
    tp = tsub.add_parser("plot", help="draw the curves of a log.jsonl to PNG")
    tp.add_argument("log", type=Path)
    tp.add_argument("-o", "--output", type=Path, help="default: next to the log, .png")

    w = sub.add_parser("weights", help="weights folders: bring an older export's manifest up to date")
    wsub = w.add_subparsers(dest="weights_command", required=True)
    wm = wsub.add_parser("migrate", help="add config_sha256 to the entries of a manifest written before configs "
                                         "were hashed (where each file's own sha256 still matches)")
    wm.add_argument("folder", type=Path)

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
    db = dsub.add_parser("bench", help="measure generation speed; prints 'N frames/s'")
    db.add_argument("--size", type=int, default=128)
    db.add_argument("--frames", type=int, default=81)
    db.add_argument("--clips", type=int, default=12, help="clips to time after one warm-up clip (default 12)")
    db.add_argument("--workers", type=int, default=1)
    db.add_argument("--msaa", type=int, default=1)
    db.add_argument("--json", action="store_true")
    dp = dsub.add_parser("preview", help="an mp4 grid of clips with their tracks drawn on")
    dp.add_argument("dataset", type=Path)
    dp.add_argument("-o", "--output", type=Path, help="default: DATASET/preview.mp4")
    dp.add_argument("--clips", type=int, default=4, help="clips in the grid (default 4)")
    dp.add_argument("--start", type=int, default=0, help="first clip index (default 0)")
    dp.add_argument("--scale", type=int, default=3, help="pixel upscale before drawing (default 3)")
    dp.add_argument("--every", type=int, default=2, help="draw every n-th track along each grid axis (default 2)")
    return p


def _check_path_choice(args) -> None:
    for option in ("path", "actions"):
        value = getattr(args, option, None)
        if value is not None and not value.strip():  # '' would quietly play the default path
            raise MotionWorldError(f"--{option} is empty; give a {'path name or file' if option == 'path' else 'action string'}"
                                   " (or leave the option out for the scene's default path)")


def _world_and_path(args):
    _check_path_choice(args)
    _check_grid(args.grid)
    check_seconds(args.seconds)
    world = World(scene_path(args.scene), grid=args.grid)
    spec = args.actions if args.actions is not None else (args.path or world.default_path())
    return world, spec


def _check_grid(grid: int | None) -> None:
    if grid is not None and not 2 <= grid <= 512:
        raise MotionWorldError(f"--grid must be in [2, 512], got {grid}")


def _validate(args) -> int:

    bad = 0
    for path in args.scenes:
        try:
            s = load_scene(path)
        except SceneError as e:
            bad += 1
            for p in e.problems:
                print(f"error: {p}", file=sys.stderr)
            continue
        names = ", ".join(s.paths) or "none"
        print(f"ok: {path} ({s.width}x{s.height}, depth {s.depth_label}, "
              f"{len(s.objects)} object(s), paths: {names})")
    return 2 if bad else 0


def _scene(args) -> int:
    picture, out = args.picture, args.output or args.picture.with_suffix(".yaml")
    if not is_picture(picture):
        raise MotionWorldError(f"{picture}: not a picture (png, jpg, webp, bmp, tif, gif); `scene new` writes the "
                               "scene file of a picture")
    if out.exists() and not args.force:
        raise MotionWorldError(f"{out} exists; edit it, or pass --force to replace it")
    read_rgb(picture)  # a missing or broken picture is said before anything is written
    made = picture_scene(picture, args.depth)  # the depth the picture plays with
    print(made.note)
    with replacing(out) as tmp:  # the file appears only once it is written and its scene loads
        tmp.write_text(scene_text(picture, out, depth=made.depth_block), encoding="utf-8")
        try:
            load_scene(tmp)
        except SceneError as e:  # told as the file it would have been, not our temporary name
            raise SceneError([replace(p, file=str(out)) for p in e.problems]) from None
    print(f"wrote {out}: edit it (depth, prompt, objects, paths), then `motionworld play {picture}`")
    return 0


def _depth(args) -> int:
    picture = args.picture
    if not is_picture(picture):
        raise MotionWorldError(f"{picture}: not a picture (png, jpg, webp, bmp, tif, gif)")
    preview = args.preview or args.output.with_name(args.output.stem + "_preview.jpg")
    outputs = [args.output] + ([preview] if str(preview) != "none" else [])
    check_depth_outputs(picture, outputs, force=args.force)  # before any work: nothing of the user's is overwritten
    scene = load_scene(picture, depth=args.depth)
    print(scene.note or f"{picture.name}: depth {scene.depth_label}")
    block = save_depth_map(args.output, scene.depth)
    wrote = [str(args.output)]
    if str(preview) != "none":
        save_preview(preview, scene.depth, scene.image)
        wrote.append(str(preview))
    d = scene.depth
    print(f"wrote {', '.join(wrote)}: depth {scene.depth_label}, {d.shape[1]}x{d.shape[0]}, "
          f"{d.min():.3g} to {d.max():.3g} units; a scene reads it with depth: "
          + "{" + ", ".join(f"{k}: {v}" for k, v in block.items()) + "}")
    return 0


def _render(args) -> int:
    _check_path_choice(args)
    _check_grid(args.grid)
    _check_size(args.size)
    check_seconds(args.seconds)
    check_seed(args.seed)
    backend = args.backend or ("tracks" if args.preview_tracks else "auto")
    result = commands.render(scene_path(args.scene), args.output, path=args.path, actions=args.actions, seconds=args.seconds,
                             backend=backend, weights=args.weights, size=args.size, seed=args.seed, depth=args.depth,
                             preview_tracks=args.preview_tracks, grid=args.grid, log_path=args.log)
    lat = np.array(result.chunk_latency_s) * 1000
    print(f"wrote {args.output} ({result.frames} frames, {result.frames / result.fps:.2f} s at {result.fps:g} fps) in "
          f"{result.seconds:.2f} s ({result.frames / max(result.seconds, 1e-9):.1f} frames/s); chunk latency median "
          f"{np.median(lat):.0f} ms, max {lat.max():.0f} ms ({len(lat)} chunks); frames sha256 {result.digest[:16]}")
    return 0


def _check_device(device: str, auto: bool = False) -> None:
    """--device: cpu, cuda or cuda:N (and auto where it is allowed); CUDA only where there is one."""
    import re

    if not (device == "cpu" or re.fullmatch(r"cuda(:\d{1,2})?", device) or (auto and device == "auto")):
        raise MotionWorldError(f"--device {device!r}: choose {'auto, ' if auto else ''}cpu, cuda or cuda:N")
    if device.startswith("cuda"):
        import torch

        index = int(device.partition(":")[2] or 0)
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise MotionWorldError(f"--device {device}: no such CUDA device is available here")


def _check_size(size: int) -> None:
    if not 16 <= size <= 8192:
        raise MotionWorldError(f"--size must be in [16, 8192], got {size}")


def _window_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise MotionWorldError(f"--window-size must look like 1024x640, got {text!r}") from None
    if not (64 <= w <= 16384 and 64 <= h <= 16384):
        raise MotionWorldError(f"--window-size {text}: each side must be in [64, 16384]")
    return w, h


def _play(args) -> int:

    _check_size(args.size)
    size = _window_size(args.window_size)
    check_seconds(args.seconds)
    check_seed(args.seed)
    scene = scene_path(args.scene)
    try:
        result = commands.play(scene, backend=args.backend, weights=args.weights, size=args.size, seed=args.seed,
                               depth=args.depth,
                              window_size=size, fullscreen=args.fullscreen, out_dir=args.out_dir, log_path=args.log,
                              max_seconds=args.seconds)
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
    _check_size(args.size)
    check_seed(args.seed)
    if not 0 <= args.port <= 65535:
        raise MotionWorldError(f"--port {args.port}: must be in [0, 65535]")
    sessions = args.max_sessions
    if sessions is None:
        import torch

        sessions = 4 if torch.cuda.is_available() else 1
    if not 1 <= sessions <= 64:
        raise MotionWorldError(f"--max-sessions {sessions}: must be in [1, 64]")
    if not 1.0 <= args.idle <= 86400.0:
        raise MotionWorldError(f"--idle {args.idle:g}: must be in [1, 86400] seconds")
    if args.token is not None and not 8 <= len(args.token) <= 256:
        raise MotionWorldError("--token must be 8 to 256 characters")
    if args.log is not None:
        check_output_place(args.log)
        if args.log.exists() and not args.log.is_dir():
            raise MotionWorldError(f"--log {args.log}: serve writes one log per player into a folder; this is a file")
    options = ServeOptions(scene_path(args.scene), args.backend, args.weights, args.size, args.seed, args.depth,
                           sessions, args.token, args.log, args.idle)
    serve(options, args.host, args.port)
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


def _bench(args) -> int:
    import json

    from .eval.bench import bench_model, format_report

    if args.depth:
        from .eval.depth_bench import bench_depth, format_depth_report

        if not 1 <= args.repeats <= 1000:
            raise MotionWorldError("--repeats must be in [1, 1000]")
        depth = bench_depth(args.weights, repeats=args.repeats)
        print(json.dumps(depth) if args.json else format_depth_report(depth))
        if not args.model:
            return 0
    if not args.model:
        raise MotionWorldError("choose what to benchmark: --model or --depth")
    width = height = None
    if args.size:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise MotionWorldError(f"--size must look like 160x128, got {args.size!r}") from None
        if width % 16 or height % 16 or not (0 < width <= 8192 and 0 < height <= 8192):
            raise MotionWorldError(f"--size {args.size}: width and height must be multiples of 16 in [16, 8192]")
    if args.window == "grow":
        window = None
    else:
        try:
            window = int(args.window)
        except ValueError:
            raise MotionWorldError(f"--window must be a number of chunks or 'grow', got {args.window!r}") from None
    if not (1 <= args.chunks <= 100_000 and 1 <= args.steps <= 50 and 1 <= args.chunk <= 16 and 0 <= args.sink <= 16
            and (window is None or 0 <= window <= 64)):
        raise MotionWorldError("--chunks must be in [1, 100000], --steps in [1, 50], --chunk in [1, 16], --sink in "
                               "[0, 16] and --window in [0, 64] (or grow)")
    _check_device(args.device)
    try:
        result = bench_model(args.preset, weights=args.weights, height=height, width=width, steps=args.steps,
                             chunk=args.chunk, sink=args.sink, window=window, chunks=args.chunks, device=args.device,
                             dtype=args.dtype, compare=not args.no_compare, progress=not args.json)
    except ValueError as e:
        raise MotionWorldError(str(e)) from None
    print(json.dumps(result) if args.json else format_report(result))
    return 0


def _eval(args) -> int:
    from .eval.suite import SECTIONS, EvalSettings, evaluate

    sections = [x.strip() for x in args.sections.split(",") if x.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise MotionWorldError(f"--sections: unknown {', '.join(sorted(unknown))} (choose {', '.join(SECTIONS)})")
    whole = whole_chunks_text(CHUNK_LATENTS)
    if not (1 <= args.clips <= MAX_CLIPS and args.frames <= MAX_CLIP_FRAMES and is_whole_chunks(args.frames, CHUNK_LATENTS)
            and 45 <= args.long_frames <= MAX_FRAMES and is_whole_chunks(args.long_frames, CHUNK_LATENTS)):
        raise MotionWorldError(f"--clips must be in [1, {MAX_CLIPS}], --frames {whole} up to {MAX_CLIP_FRAMES} (e.g. 81), "
                               f"--long-frames {whole} in [45, {MAX_FRAMES}] (e.g. 2001)")
    if not 2 <= args.away_seconds <= 60:  # at least one whole chunk while away; also refuses nan
        raise MotionWorldError(f"--away-seconds {args.away_seconds:g}: must be in [2, 60]")
    try:
        w_t, w_m = (float(x) for x in args.guidance.split(","))
    except ValueError:
        raise MotionWorldError(f"--guidance {args.guidance!r}: expected two numbers W_T,W_M, e.g. 3,1.5") from None
    if not (w_t >= 0 and w_m >= 0):  # also refuses nan
        raise MotionWorldError(f"--guidance {args.guidance!r}: the weights must be >= 0")
    if not 1 <= args.depth_views <= MAX_CLIPS:
        raise MotionWorldError(f"--depth-views must be in [1, {MAX_CLIPS}]")
    check_report_folder(args.out)  # before the evaluation: its report never replaces a user's file
    if args.grid is not None:
        check_output_target(args.grid)
    from .model.student import StreamingStudent

    needs_student = set(sections) - {"depth"}
    # held-out clips are made at the frames' size
    height, size = StreamingStudent.load(args.student).output_size if needs_student else (None, 128)
    settings = EvalSettings(clips=args.clips, frames=args.frames, size=size, height=height,
                            heldout_root=None if args.heldout is None else str(args.heldout),
                            long_frames=args.long_frames, away_seconds=args.away_seconds, ablation_clips=min(args.ablation_clips, args.clips),
                            teacher_steps=args.teacher_steps, w_t=w_t, w_m=w_m, sections=sections,
                            grid_clips=4 if args.grid else 0, depth_views=args.depth_views,
                            depth_net=None if args.depth_net is None else str(args.depth_net))
    grid: list = []
    report = evaluate(args.student, args.teacher, settings, progress=lambda m: print(m, file=sys.stderr), grid=grid)
    command = "motionworld " + " ".join(str(a) for a in args.argv)
    paths = write_report(report, args.out, command)
    print((args.out / "report.md").read_text())
    if args.grid and grid:
        n = grid_video(grid, args.grid)
        paths["grid"] = args.grid
        print(f"wrote {args.grid} ({n} frames)")
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def _weights(args) -> int:
    from .model.weights import add_config_hashes

    added = add_config_hashes(args.folder)
    print(f"{args.folder / 'MANIFEST.json'}: " + (f"added config_sha256 to {', '.join(added)}" if added
                                                 else "every entry already has its config_sha256; nothing to do"))
    return 0


def _data(args) -> int:

    return {"synth": data_commands.synth, "bench": data_commands.bench, "preview": data_commands.preview}[args.data_command](args)


def _train(args) -> int:

    if args.stage == "ship":
        from .train.ship import ship, ship_depth

        if args.student is None and args.depth is None:
            raise MotionWorldError("train ship: give --student (and --teacher), --depth, or both")
        if args.depth is not None and args.student is None:
            d = ship_depth(args.depth, args.out, fp16=not args.float32, max_side=args.depth_max_side,
                           picture_default=args.depth_default, verdict=args.depth_verdict)
            print(f"wrote {d['file']} ({d['megabytes']:.1f} MB; float16 check: relative error "
                  f"{d['float16_check_relative_error']:.2g})")
            return 0
        r = ship(args.student, args.out, args.teacher, fp16=not args.float32, vae=args.vae)
        check = r["float16_check_psnr_db"]
        print(f"wrote {', '.join(r['files'])} ({r['megabytes']:.1f} MB)"
              + ("" if check is None else f"; float16 check: frames agree to {check:.1f} dB"))
        if args.depth is not None:  # the folder was built anew: the depth network goes in after
            d = ship_depth(args.depth, args.out, fp16=not args.float32, max_side=args.depth_max_side,
                           picture_default=args.depth_default, verdict=args.depth_verdict)
            print(f"wrote {d['file']} ({d['megabytes']:.1f} MB)")
        return 0
    if args.stage == "plot":
        output = args.output or args.log.with_suffix(".png")
        if output.suffix.lower() != ".png":
            raise MotionWorldError(f"-o {output}: the plot is a PNG; name the file {output.stem}.png")
        keys = plot_log(args.log, output)
        print(f"wrote {output} ({', '.join(keys)})")
        return 0
    from .train.trainer import train

    _check_device(args.device, auto=True)
    if args.stop_after is not None and args.stop_after < 1:
        raise MotionWorldError(f"--stop-after must be a number of steps >= 1, got {args.stop_after}")
    overrides = {}
    for item in args.set:
        key, eq, value = item.partition("=")
        if not eq:
            raise MotionWorldError(f"--set {item!r}: expected KEY=VALUE")
        try:
            overrides[key] = read_yaml(value)[0]
        except YAMLReadError as e:
            raise MotionWorldError(f"--set {item!r}: the value is not YAML ({e})") from None
    if args.out:
        overrides["out"] = args.out
    if args.steps is not None:
        overrides["optim.steps"] = args.steps
    cfg = load_config(args.config, overrides, labels={"out": "--out", "optim.steps": "--steps"})
    if cfg.stage != args.stage:
        raise MotionWorldError(f"{args.config}: is a config for stage {cfg.stage!r}, not {args.stage!r}")
    result = train(cfg, resume=args.resume, device=args.device, stop_after=args.stop_after,
                   command="motionworld " + " ".join(str(a) for a in args.argv))
    if result["rank"] == 0 and result["export"] is None:
        print(f"{cfg.stage}: stopped after {result['steps']} of {cfg.optim.steps} steps; continue with --resume")
    elif result["rank"] == 0:
        shown = ", ".join(f"{k} {v:.4g}" for k, v in result["metrics"].items())
        print(f"{cfg.stage}: {result['steps']} steps ({result['steps_per_s']:.2f} steps/s on {result['world_size']} "
              f"process(es)); {shown}; exported {result['export']}")
    return 0


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name))
# arguments naming files a command reads (`log` is read by replay and train plot, written by play and render)
INPUT_ARGS = ("scene", "scenes", "picture", "path", "config", "dataset", "heldout", "weights", "student", "teacher",
              "vae", "depth_net")


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
    args = _parser().parse_args(argv)
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
    handlers = {"weights": _weights, "play": _play, "serve": _serve, "replay": _replay, "eval": _eval, "validate": _validate, "scene": _scene, "depth": _depth, "render": _render, "tracks": _tracks, "path": _path, "bench": _bench,
                "data": _data, "train": _train}
    try:
        with command_inputs(*_declared_inputs(args)):  # no output of the command is written over these
            return handlers[args.command](args)
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
