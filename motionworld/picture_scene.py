"""A picture given where a scene file is expected: the scene made for it on the fly.

`motionworld play photo.jpg` walks into any picture. Its depth comes, in this order, from
- `photo.yaml` beside the picture, a scene file (its `depth:` source, objects, paths: all of it);
- the `estimator` depth source, when a local depth model folder is configured
  (`MOTIONWORLD_DEPTH_MODEL`);
- the `prior` (a ground plane and a backdrop: a guess that knows nothing of the picture).
The scene made on the fly is exactly the file `motionworld scene new photo.jpg` writes next to the
picture (`scene_text`), so what plays is what the user then edits.
"""
from __future__ import annotations

import os
from pathlib import Path

from .images import SUPPORTED as PICTURE_SUFFIXES

DEPTH_MODEL_ENV = "MOTIONWORLD_DEPTH_MODEL"
_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")  # the formats images.SUPPORTED reads


def is_picture(path: str | Path) -> bool:
    """A picture file rather than a scene file: by its name, or by its first bytes (a photo saved
    without a suffix, or as .yaml by mistake, is still not read as text)."""
    path = Path(path)
    if path.suffix.lower() in PICTURE_SUFFIXES:
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head.startswith(_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def companion_scene(picture: str | Path) -> Path | None:
    """`photo.yaml` beside `photo.jpg`, when there is one."""
    candidate = Path(picture).with_suffix(".yaml")
    return candidate if candidate.is_file() and not is_picture(candidate) else None


def depth_model() -> str | None:
    """The local depth model folder the estimator is configured with, or None."""
    folder = os.environ.get(DEPTH_MODEL_ENV, "").strip()
    return folder or None


def _depth_block(model: str | None, stem: str) -> str:
    if model is not None:
        return (f"  source: estimator           # a monocular depth model from a local folder ({DEPTH_MODEL_ENV})\n"
                f"  model: {_quoted(model)}\n")
    return ("  source: prior               # a guess: a ground plane and a backdrop, whatever the picture shows.\n"
            "  # For the picture's own depth, replace the line above with a depth map:\n"
            "  #   source: file\n"
            f"  #   path: {stem}_depth.png   # 16-bit PNG, .npy or .npz, the picture's size\n"
            "  #   kind: depth             # or disparity\n"
            "  #   scale: 0.001            # stored value x scale = depth in world units\n"
            "  # or a depth model from a local folder (transformers):\n"
            "  #   source: estimator\n"
            "  #   model: /path/to/depth-anything-small\n")


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scene_text(picture: str | Path, scene_file: str | Path | None = None, model: str | None = None) -> str:
    """The commented scene.yaml of a picture: `scene_file` is where it will live (default: beside
    the picture, as `photo.yaml`); the image is named relative to it."""
    picture = Path(picture)
    scene_file = Path(scene_file) if scene_file is not None else picture.with_suffix(".yaml")
    image = os.path.relpath(picture.resolve(), scene_file.resolve().parent)
    return f"""# The scene of {picture.name}, written by `motionworld scene new`. Edit it, check it with
# `motionworld validate {scene_file.name}`, walk into it with `motionworld play {picture.name}`
# (this file beside the picture is what it plays) or `motionworld play {scene_file.name}`.
# Every key but version and image may be left out; the README's Scenes section and
# docs/controls.md (Scene options) list them all.
version: 1
image: {_quoted(Path(image).as_posix())}
prompt: ''                    # what the picture shows, in a few words (the model's text condition)
depth:
{_depth_block(model, picture.stem)}camera:
  fov_deg: 50                 # vertical field of view the picture was taken with
  move_speed: 1.0             # world units per second (WASD; Shift sprints)
  turn_speed_deg: 60
tracks:
  grid: 50                    # N x N point tracks of the picture steer the model
# objects:                    # things that move on their own: a mask image (non-zero = the object) or a box
#   - name: boat
#     box: [100, 200, 180, 260]        # x0 y0 x1 y1 in pixels
#     path:
#       loop: true
#       keyframes:
#         - {{t: 0, position: [0, 0, 0]}}
#         - {{t: 3, position: [1, 0, 0]}}   # world units, from where it stands in the picture
#         - {{t: 6, position: [0, 0, 0]}}
paths:                        # camera paths for `motionworld render` (--path NAME)
  walk:                       # a few steps in, a look left and right
    - dolly: {{distance: 1.5, seconds: 3, ease: true}}
    - pan: {{degrees: -15, seconds: 1.5, ease: true}}
    - pan: {{degrees: 30, seconds: 2, ease: true}}
  look:                       # standing still, looking around
    - pan: {{degrees: -20, seconds: 2, ease: true}}
    - pan: {{degrees: 40, seconds: 3, ease: true}}
controls:
  default_path: walk
"""


def depth_label(source: str, options: dict) -> str:
    """What the HUD and the notes say of a scene's depth: 'prior', 'file garden_depth.png',
    'estimator depth-anything-small'."""
    if source == "file":
        return f"file {Path(str(options.get('path', ''))).name}"
    if source == "estimator":
        return f"estimator {Path(str(options.get('model', ''))).name}"
    return source
