"""A picture given where a scene file is expected: the scene made for it on the fly.

`motionworld play photo.jpg` walks into any picture. Its depth comes from the first of these that
works, each step down said in one line with its reason (`depth_candidates`):
- `photo.yaml` beside the picture, a scene file (its `depth:` source, objects, paths: all of it);
- what the user asked for: `--depth` or `MOTIONWORLD_DEPTH_MODEL` (`prior`, `network`, a local
  transformers model folder or a hub id);
- Depth Anything V2 Small through transformers (`pip install 'motionworld[depth]'`), from the hub
  cache, or fetched into it once where the hub can be reached;
- our own depth network, where the shipped weights hold one (`depth.safetensors`);
- the `prior` (a ground plane and a backdrop: a guess that knows nothing of the picture).
The scene made on the fly is exactly the file `motionworld scene new photo.jpg` writes next to the
picture (`scene_text`), so what plays is what the user then edits.
"""
from __future__ import annotations

import os
from pathlib import Path

from . import plugins
from .geometry.depth import HUB_DEPTH_MODEL, depth_network_verdict, has_depth_network
from .images import SUPPORTED as PICTURE_SUFFIXES

DEPTH_MODEL_ENV = "MOTIONWORLD_DEPTH_MODEL"
_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")  # the formats images.SUPPORTED reads


def is_picture(path: str | Path) -> bool:
    """A picture file rather than a scene file: by its name, or by its first bytes (a photo saved
    without a suffix, or as .yaml by mistake, is still not read as text)."""
    path = Path(path)
    if path.suffix.lower() in PICTURE_SUFFIXES:
        return True
    if not path.is_file():  # also a FIFO or a device: opening it to look would block
        return False
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
    """The depth the user asked for in MOTIONWORLD_DEPTH_MODEL, or None."""
    folder = os.environ.get(DEPTH_MODEL_ENV, "").strip()
    return folder or None


def requested_depth(value: str) -> dict:
    """The scene's `depth:` block for a `--depth` / MOTIONWORLD_DEPTH_MODEL value: a depth source's
    name (`prior`, `network`), a folder of our depth network (a `train depth` export), else a
    transformers model (a local folder or a hub id)."""
    named = value in plugins.names(plugins.DEPTH_SOURCES)
    if named and getattr(plugins.load(plugins.DEPTH_SOURCES, value), "by_name", False):
        return {"source": value}
    local = Path(value).expanduser()
    if has_depth_network(local):
        return {"source": "network", "weights": str(local.resolve())}
    # a folder here is a folder (from the working folder, not the picture's); only a name that is
    # no path here is a hub id
    return {"source": "estimator", "model": str(local.resolve()) if local.exists() else value}


def depth_candidates(requested: str | None) -> list[tuple[dict, str, str | None]]:
    """The depth blocks to try for a picture without a scene file, best first: (block, the words
    that say where it comes from, why it is skipped without a try or None). The prior, which cannot
    fail, is last."""
    import importlib.util

    out: list[tuple[dict, str, str | None]] = []
    if requested:
        out.append((requested_depth(requested), f"the depth asked for ({requested})", None))
    no_transformers = importlib.util.find_spec("transformers") is None
    out.append(({"source": "estimator", "model": HUB_DEPTH_MODEL}, "Depth Anything V2 Small (transformers, hub cache)",
                "transformers is not installed (pip install 'motionworld[depth]')" if no_transformers else None))
    out.append(({"source": "network"}, "our depth network (the shipped weights)", _network_skipped()))
    out.append(({"source": "prior"}, "the prior, a guess (a ground plane and a backdrop)", None))
    return out


def _network_skipped() -> str | None:
    """Why the chain passes over the shipped depth network, or None: it is there only where its
    evaluation beat the prior and a flat plane (what `train ship --depth-default` recorded)."""
    if not has_depth_network():
        return "the shipped weights hold none (depth.safetensors)"
    default, verdict = depth_network_verdict()
    return None if default else f"not the default ({verdict}); --depth network uses it"


def _depth_block(depth: dict, stem: str) -> str:
    source = depth.get("source", "prior")
    what = getattr(plugins.load(plugins.DEPTH_SOURCES, source), "summary", "")
    lines = [f"  source: {source}".ljust(30) + (f"# {what}" if what else "")]
    lines += [f"  {k}: {_quoted(v) if isinstance(v, str) else v}" for k, v in depth.items() if k != "source"]
    others = "" if source == "prior" else "  # or `source: prior` (a guess), or\n"
    return ("\n".join(lines) + "\n"
            "  # For the picture's own depth, replace the lines above with a depth map\n"
            "  # (`motionworld depth` writes one, and says the scale):\n"
            "  #   source: file\n"
            f"  #   path: {stem}_depth.png   # 16-bit PNG, .npy or .npz, the picture's size\n"
            "  #   kind: depth             # or disparity\n"
            "  #   scale: 0.001            # stored value x scale = depth in world units\n"
            + others +
            "  # a depth network: `source: network` (ours, shipped) or a transformers model\n"
            "  #   source: estimator\n"
            "  #   model: depth-anything/Depth-Anything-V2-Small-hf   # a hub id or a local folder\n")


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scene_text(picture: str | Path, scene_file: str | Path | None = None, depth: dict | None = None) -> str:
    """The commented scene.yaml of a picture: `scene_file` is where it will live (default: beside
    the picture, as `photo.yaml`); the image is named relative to it; `depth` is its `depth:` block
    (default: the prior)."""
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
{_depth_block(depth or {"source": "prior"}, picture.stem)}camera:
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
    'network', 'estimator depth-anything/Depth-Anything-V2-Small-hf' (each source says it)."""
    try:
        return plugins.load(plugins.DEPTH_SOURCES, source).label(options)
    except Exception:  # a third-party source without a label, or one that no longer loads
        return source
