"""Contract checks for the things a registry holds (`motionworld.plugins`), as Gymnasium's
`check_env` is for an environment: run one on a backend or depth source you wrote before you rely on
it. The test suite runs them on every registered one, ours and any installed.

    check_backend("warp")                       # a registered name, or a generator object
    check_depth_source("prior")                 # a registered name, with its scene options
    check_stage("vae")                          # a registered training stage

Each raises `ContractError` naming the rule broken, and returns what it measured.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import plugins
from .errors import MotionWorldError
from .geometry.camera import Camera
from .geometry.rig import ControlCommand
from .play.defaults import default_scene
from .play.session import Session, make_generator
from .scene import load_scene
from .train.config import config_model, section_of
from .world import World


class ContractError(MotionWorldError):
    """A registered thing does not keep its kind's contract."""


def _require(ok: bool, what: str, rule: str) -> None:
    if not ok:
        raise ContractError(f"{what}: {rule}")


def check_backend(backend, scene=None, chunks: int = 3, **options) -> dict:
    """Stream `chunks` chunks (default 3) of a walk through `scene` (a World or a scene file; default:
    the shipped garden) with `backend` (a registered name, built from `options`, else from its
    `default_options` for the scene; or a generator object) and check what every backend promises:

    - `name` is a word and, for a registered one, its `default_options` pass its `Options` schema (so
      an input log can hold them) and `from_options` builds it from them;
    - after `start(world)`, `picture` is uint8 [height, width, 3];
    - each `step(chunk)` returns uint8 [n, height, width, 3] for n = `frames_for_next_chunk()` > 0
      (the first chunk's frames include frame 0, the picture);
    - a restart plays the same number of frames per chunk again, and `close()` may be called twice.

    Returns {"name", "frames", "size", "chunk_frames"}."""
    world = scene if isinstance(scene, World) else World(load_scene(scene or default_scene()))
    what = f"backend {backend!r}" if isinstance(backend, str) else f"backend {type(backend).__name__}"
    if isinstance(backend, str):
        cls = plugins.load(plugins.BACKENDS, backend)
        _require(getattr(cls, "name", None) == backend, what, f"its class's `name` must be {backend!r}")
        which = "the options given" if options else "its default options"
        if not options:
            options = cls.default_options(world.scene)
        logged = {k: v for k, v in options.items() if v is None or isinstance(v, (str, int, float, bool))}
        try:  # what a session spec and an input log hold of them (objects such as student= are not logged)
            cls.Options.model_validate(logged)
        except Exception as e:  # pydantic's ValidationError, or a broken schema
            raise ContractError(f"{what}: {which} do not pass its Options schema ({e})") from None
    generator = make_generator(backend, **options)
    name = getattr(generator, "name", None)
    _require(isinstance(name, str) and name.strip() and " " not in name, what, "`name` must be a word")
    session = Session(world, generator)
    try:
        runs = [_stream(session, generator, what, chunks) for _ in range(2)]  # the second run after a restart
    finally:
        session.close()
        generator.close()  # twice: a front-end may close what a session already closed
    _require(runs[0]["chunk_frames"] == runs[1]["chunk_frames"], what,
             f"a restart must make chunks of the same lengths ({runs[0]['chunk_frames']} "
             f"then {runs[1]['chunk_frames']})")
    return {"name": name, **runs[0]}


def _stream(session: Session, generator, what: str, chunks: int) -> dict:
    session.reset()
    session.start()
    picture = np.asarray(generator.picture)
    H, W = int(generator.height), int(generator.width)
    _require(picture.dtype == np.uint8 and picture.shape == (H, W, 3), what,
             f"after start(), picture must be uint8 [{H}, {W}, 3] (height, width), got {picture.dtype} {picture.shape}")
    walk = ControlCommand(move=np.array([0.2, 0.0, 1.0]), turn=np.array([10.0, 0.0]))
    lengths, frames = [], 0
    for i in range(chunks):
        n = generator.frames_for_next_chunk()
        _require(isinstance(n, (int, np.integer)) and n > 0, what, f"frames_for_next_chunk() must be > 0, got {n!r}")
        out = np.asarray(session.next_chunk(walk))
        _require(out.dtype == np.uint8 and out.shape == (n, H, W, 3), what,
                 f"chunk {i}: step() must return uint8 [{n}, {H}, {W}, 3] as frames_for_next_chunk() said, "
                 f"got {out.dtype} {out.shape}")
        lengths.append(int(n))
        frames += int(n)
    return {"frames": frames, "size": (W, H), "chunk_frames": lengths}


def check_depth_source(source: str, options: dict | None = None, picture: np.ndarray | None = None,
                       base_dir: str | Path = ".") -> dict:
    """Build the registered depth source named `source` from `options`, the rest of its scene `depth:`
    block (default none: `{"source": source}` alone), with relative file names resolved against
    `base_dir` (default "."), and check its contract on `picture`, uint8 [H, W, 3] (default: the
    shipped garden's picture), seen by a 50-degree camera:

    - it has an `Options` schema whose `source` is its name, a `summary` line, and `label(options)`;
    - `load(image, camera)` returns a float32 [H, W] map of the picture's size, every value finite
      and > 0 (z-depth in world units).

    Returns {"name", "label", "shape", "range"}."""
    what = f"depth source {source!r}"
    cls = plugins.load(plugins.DEPTH_SOURCES, source)
    _require(getattr(cls, "name", None) == source, what, f"its class's `name` must be {source!r}")
    _require(isinstance(getattr(cls, "summary", None), str) and cls.summary, what, "it needs a one-line `summary`")
    block = {"source": source, **(options or {})}
    try:
        parsed = cls.Options.model_validate(block)
    except Exception as e:  # pydantic's ValidationError, or no Options at all
        raise ContractError(f"{what}: its Options schema must take the scene's depth block {block} ({e})") from None
    depth_source = cls(parsed, Path(base_dir))
    if picture is None:
        picture = load_scene(default_scene()).image
    H, W = picture.shape[:2]
    camera = Camera.from_fov(W, H, 50.0)
    depth = np.asarray(depth_source.load(picture, camera))
    _require(depth.shape == (H, W), what,
             f"load() must return a map of the picture's size [{H}, {W}], got {depth.shape}")
    _require(depth.dtype == np.float32, what, f"load() must return float32, got {depth.dtype}")
    _require(bool(np.isfinite(depth).all()) and bool((depth > 0).all()), what,
             "every depth must be finite and > 0")
    label = cls.label(block)
    _require(isinstance(label, str) and label, what, "label(options) must name it in a few words")
    return {"name": source, "label": label, "shape": depth.shape, "range": (float(depth.min()), float(depth.max()))}


def check_stage(name: str) -> dict:
    """Check the class of the training stage registered as `name`: a `Stage` whose `Settings` model is
    what a training config reads its section with (the stage's name, `-` as `_`), with the methods
    the trainer calls.
    (Running a stage needs data and minutes; tests/test_train.py runs each built-in one.)

    Returns {"name", "section"}."""
    from .train.trainer import Stage

    what = f"training stage {name!r}"
    cls = plugins.load(plugins.STAGES, name)
    _require(isinstance(cls, type) and issubclass(cls, Stage), what,
             "must be a subclass of motionworld.train.trainer.Stage")
    section = section_of(name)
    _require(section.isidentifier(), what, f"its name must make a config key ({section!r} is not one)")
    fields = config_model().model_fields
    _require(section in fields and fields[section].annotation is cls.Settings, what,
             f"a training config must read its section {section!r} with its Settings")
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    _require(not missing, what, f"must implement {', '.join(missing)}")
    return {"name": name, "section": section}
