"""`motionworld validate | scene new | depth`: scene files and a picture's depth."""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from ..depth_files import check_depth_outputs, save_depth_map, save_preview
from ..errors import MotionWorldError, SceneError
from ..images import read_rgb
from ..outputs import replacing
from ..picture_scene import is_picture, scene_text
from ..scene import load_scene, picture_scene
from .options import depth_help


def add(sub) -> None:
    v = sub.add_parser("validate", help="check scene files (or pictures); one line per problem")
    v.add_argument("scenes", nargs="+", type=Path)
    v.set_defaults(handler=_validate)

    sc = sub.add_parser("scene", help="scene files: write one for a picture")
    scsub = sc.add_subparsers(dest="scene_command", required=True)
    sn = scsub.add_parser("new", help="write a commented scene file for a picture (beside it: photo.jpg -> photo.yaml, "
                                      "which `play photo.jpg` then plays)")
    sn.add_argument("picture", type=Path)
    sn.add_argument("-o", "--output", type=Path,
                    help="where to write it (default: beside the picture, same name, .yaml)")
    sn.add_argument("--force", action="store_true", help="replace an existing file")
    sn.add_argument("--depth", help=depth_help())
    sn.set_defaults(handler=_scene_new)

    dp = sub.add_parser("depth", help="a picture's depth as play gets it: a map a scene reads, and a preview")
    dp.add_argument("picture", type=Path)
    dp.add_argument("-o", "--output", type=Path, required=True,
                    help="the map: .png (16-bit, with the scale to read it by) or .npy (float32 depth)")
    dp.add_argument("--preview", type=Path, help="the colourised preview beside the picture (default: OUTPUT's "
                                                 "name + _preview.jpg; 'none' for no preview)")
    dp.add_argument("--depth", help=depth_help())
    dp.add_argument("--force", action="store_true", help="replace existing output files")
    dp.set_defaults(handler=_depth)


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


def _scene_new(args) -> int:
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
