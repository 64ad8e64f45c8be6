"""A random synthetic world, drawn from a seed: ground, sky, backdrop, solids, moving objects,
lighting, camera trajectory and intrinsics. Pure data (numpy); `raster.py` draws it.

World axes are OpenCV's (y down); the ground is the plane y = 0 and the camera starts above it at
the origin looking along +z. Solids are placed around the camera (mostly ahead) at depths from
about 1.5 to 30 units, never on the camera's own trajectory; backdrops close the view at 15 to 45
units; a sky dome of radius 90 encloses everything, so every pixel has a surface and a depth.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from ...frames import FPS
from ...geometry.camera import intrinsics_from_fov
from .motion import CameraMotion, ObjectMotion, camera_motion, object_motion
from .textures import TextureBank

SKY_RADIUS = 90.0
MAX_MOVING = 3


@dataclass
class Material:
    layer: int  # texture bank layer
    detail: int  # a second (procedural) layer multiplied in at another scale
    natural: bool
    color_a: np.ndarray  # palette for grey patterns: value 0 -> a, 1 -> b; tint for natural layers
    color_b: np.ndarray
    tile: float  # world units per texture repeat
    detail_scale: float  # detail repeats per main repeat
    detail_amount: float
    angle: float  # texture rotation (radians)
    words: str  # "red and white striped"


@dataclass
class Solid:
    shape: str  # box, slab, sphere, cylinder, cone, panel, wall, hill, ground, sky
    size: tuple
    position: np.ndarray  # world position of the local origin at t = 0
    rotation: np.ndarray  # [3, 3] world rotation at t = 0
    material: Material
    role: str  # solid, backdrop, ground, sky
    moving: int = 0  # 0 static, k >= 1 the k-th moving object
    noun: str = ""
    floating: bool = False


@dataclass
class Lighting:
    sun_dir: np.ndarray  # unit vector towards the sun (world axes, so "up" is -y)
    sun_color: np.ndarray
    ambient: np.ndarray
    drift: float  # rad/s the sun turns about the vertical (slow lighting change)
    horizon: np.ndarray  # sky colours
    zenith: np.ndarray
    clouds: float


@dataclass
class WorldSpec:
    seed: int
    width: int
    height: int
    fps: float
    K: np.ndarray
    fov_deg: float
    camera: CameraMotion
    solids: list[Solid]
    motions: list[ObjectMotion]
    lighting: Lighting
    extra: dict = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return len(self.camera.c2w)

    def times(self) -> np.ndarray:
        return np.arange(self.frames) / self.fps

    def object_matrices(self) -> np.ndarray:
        """[T, 1 + MAX_MOVING, 4, 4]: slot 0 is the static world (identity), slot k moving object k."""
        T = self.frames
        out = np.repeat(np.eye(4)[None, None], T, axis=0).repeat(1 + MAX_MOVING, axis=1)
        for k, m in enumerate(self.motions):
            out[:, k + 1] = m.matrices(self.times())
        return out


# --- colours and words --------------------------------------------------------------------------
def colour_name(rgb) -> str:
    h, s, v = colorsys.rgb_to_hsv(*np.clip(rgb, 0, 1))
    if v < 0.18:
        return "black"
    if s < 0.18:
        return "white" if v > 0.8 else ("grey" if v > 0.4 else "dark grey")
    names = [(0.04, "red"), (0.10, "orange"), (0.17, "yellow"), (0.42, "green"), (0.54, "teal"), (0.71, "blue"),
             (0.82, "purple"), (0.95, "pink"), (1.01, "red")]
    name = next(n for edge, n in names if h < edge)
    if name == "orange" and v < 0.6:
        name = "brown"
    return ("dark " + name) if v < 0.45 and name != "brown" else name


PATTERN_WORDS = {"noise": "mottled", "stripes": "striped", "checks": "checkered", "gradient": "banded",
                 "bricks": "brick", "foliage": "leafy", "text": "lettered", "cells": "cobbled", "dots": "spotted"}


def _hsv(h, s, v) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, np.clip(s, 0, 1), np.clip(v, 0, 1)))


def random_material(rng: np.random.Generator, bank: TextureBank, tile=(0.5, 3.0), natural_p: float = 0.25,
                    kinds: tuple[str, ...] | None = None) -> Material:
    detail = int(rng.choice(bank.by_kind["noise"]))
    common = dict(detail=detail, tile=float(np.exp(rng.uniform(*np.log(tile)))), detail_scale=float(rng.uniform(2, 6)),
                  detail_amount=float(rng.uniform(0, 0.5)), angle=float(rng.uniform(0, 2 * np.pi)))
    if len(bank.natural) and rng.random() < natural_p and kinds is None:
        layer = int(rng.choice(bank.natural))
        tint = rng.uniform(0.8, 1.1, 3)
        return Material(layer, natural=True, color_a=tint, color_b=tint, words=bank.layers[layer].name, **common)
    kind = str(rng.choice(kinds or list(PATTERN_WORDS)))
    layer = int(rng.choice(bank.by_kind[kind]))
    h = rng.random()
    a = _hsv(h, rng.uniform(0.2, 0.95), rng.uniform(0.15, 0.7))
    scheme = rng.random()
    hb = h + (0.5 if scheme < 0.25 else rng.uniform(-0.08, 0.08))
    b = _hsv(hb, rng.uniform(0.0, 0.9), rng.uniform(0.55, 1.0))
    na, nb = colour_name(a), colour_name(b)
    colours = na if na == nb else f"{na} and {nb}"
    return Material(layer, natural=False, color_a=a, color_b=b, words=f"{colours} {PATTERN_WORDS[kind]}", **common)


def material_phrase(m: Material, noun: str) -> str:
    if m.natural:
        if m.words in ("brick", "grass", "gravel", "coins"):
            return f"{m.words} {noun}"
        return f"{noun} covered with a {m.words}"
    return f"{m.words} {noun}"


# --- layout ---------------------------------------------------------------------------------------
SHAPES = {"box": 3, "slab": 1, "sphere": 2, "cylinder": 2, "cone": 1, "panel": 1.5}


def _shape_size(rng, shape: str) -> tuple[tuple, str, float]:
    """(size, noun, bottom offset): bottom offset is how far the origin sits above the ground."""
    if shape == "box":
        s = np.exp(rng.uniform(np.log(0.3), np.log(2.5), 3))
        noun = "crate" if np.ptp(s) < 0.3 * s.max() else ("tower" if s[1] > 1.6 * max(s[0], s[2]) else "block")
        return tuple(s), noun, s[1] / 2
    if shape == "slab":
        s = np.array([rng.uniform(1.0, 4.0), rng.uniform(0.1, 0.4), rng.uniform(1.0, 4.0)])
        return tuple(s), "slab", s[1] / 2
    if shape == "sphere":
        r = float(np.exp(rng.uniform(np.log(0.2), np.log(1.5))))
        return (r,), "ball", r
    if shape == "cylinder":
        r, h = rng.uniform(0.15, 1.0), rng.uniform(0.3, 4.0)
        return (r, h), ("pillar" if h > 2.5 * r else "drum"), h / 2
    if shape == "cone":
        r, h = rng.uniform(0.2, 1.0), rng.uniform(0.5, 2.5)
        return (r, h), "cone", h / 2
    w, h = rng.uniform(0.8, 3.0), rng.uniform(0.6, 2.5)
    return (w, h), ("sign" if h < w else "panel"), h / 2


def _clear_of(path: np.ndarray, centre: np.ndarray, radius: float, margin: float) -> bool:
    d = np.linalg.norm(path[:, [0, 2]] - centre[[0, 2]], axis=-1)
    return bool(d.min() > radius + margin)


def _yaw(rng, spread=np.pi) -> np.ndarray:
    return Rotation.from_euler("y", rng.uniform(-spread, spread)).as_matrix()


def generate_world(seed: int, bank: TextureBank, width: int = 128, height: int = 128, frames: int = 81,
                   fps: float = FPS) -> WorldSpec:
    """Draw a world from `seed` (same seed, same bank -> the same world)."""
    rng = np.random.default_rng([int(seed), 20261124])
    fov = float(rng.uniform(45, 75))
    K = intrinsics_from_fov(width, height, fov)
    eye_height = float(rng.uniform(0.4, 2.2))
    solids: list[Solid] = []

    # Ground and sky.
    ground_kinds = ("noise", "cells", "bricks", "checks", "foliage", "stripes", "dots")
    gm = random_material(rng, bank, tile=(1.0, 6.0), natural_p=0.35,
                         kinds=None if rng.random() < 0.35 else ground_kinds)
    solids.append(Solid("ground", (2 * SKY_RADIUS,), np.zeros(3), np.eye(3), gm, "ground", noun="ground"))
    sky_h = rng.uniform(0.5, 0.7)
    light = Lighting(
        sun_dir=_sun(rng), sun_color=_hsv(rng.uniform(0.05, 0.15), rng.uniform(0, 0.35), rng.uniform(0.5, 1.0)),
        ambient=_hsv(rng.uniform(0.5, 0.7), rng.uniform(0, 0.3), rng.uniform(0.25, 0.6)),
        drift=float(rng.uniform(-0.25, 0.25) if rng.random() < 0.3 else 0.0),
        horizon=_hsv(sky_h + rng.uniform(-0.1, 0.1), rng.uniform(0.05, 0.4), rng.uniform(0.7, 1.0)),
        zenith=_hsv(sky_h, rng.uniform(0.3, 0.9), rng.uniform(0.35, 0.95)), clouds=float(rng.uniform(0, 0.8)))
    cloud = Material(int(rng.choice(bank.by_kind["noise"])), int(rng.choice(bank.by_kind["noise"])), False,
                     np.zeros(3), np.ones(3), tile=float(rng.uniform(80, 200)), detail_scale=3.0, detail_amount=0.3,
                     angle=0.0, words="sky")
    solids.append(Solid("sky", (SKY_RADIUS,), np.zeros(3), np.eye(3), cloud, "sky", noun="sky"))

    # A rough point of interest ahead: the camera may orbit it, solids gather around it.
    focus = np.array([rng.uniform(-1.5, 1.5), 0.0, rng.uniform(3.0, 8.0)])
    cam = camera_motion(rng, frames, fps, eye_height, focus)
    path = cam.c2w[:, :3, 3]

    # Backdrop: a street (two long walls) or a ring of walls and hills far away.
    layout = rng.choice(["open", "street", "ring"], p=[0.3, 0.3, 0.4])
    if layout == "street":
        half = rng.uniform(2.5, 6.0)
        for side in (-1, 1):
            m = random_material(rng, bank, tile=(1.0, 4.0))
            h = rng.uniform(3, 10)
            solids.append(Solid("box", (0.5, h, 80.0), np.array([side * (half + 0.25), -h / 2, 20.0]), np.eye(3), m,
                                "backdrop", noun="wall"))
    if layout in ("street", "ring"):
        for _ in range(int(rng.integers(2, 7))):
            ang = rng.uniform(-np.pi, np.pi) if rng.random() < 0.4 else rng.uniform(-0.8, 0.8)
            dist = rng.uniform(15, 45)
            m = random_material(rng, bank, tile=(2.0, 8.0))
            if rng.random() < 0.35:
                r = rng.uniform(6, 18)
                c = np.array([dist * np.sin(ang), r * rng.uniform(0.4, 0.85), dist * np.cos(ang)])
                solids.append(Solid("hill", (r,), c, np.eye(3), m, "backdrop", noun="hill"))
            else:
                w, h = rng.uniform(8, 30), rng.uniform(3, 15)
                c = np.array([dist * np.sin(ang), -h / 2, dist * np.cos(ang)])
                rot = Rotation.from_euler("y", ang + rng.uniform(-0.3, 0.3)).as_matrix()
                solids.append(Solid("box", (w, h, 1.0), c, rot, m, "backdrop", noun="wall"))

    # Solids, kept off the camera's path.
    names, weights = list(SHAPES), np.array(list(SHAPES.values()))
    count = int(rng.integers(4, 22))
    tries = 0
    placed = 0
    while placed < count and tries < 200:
        tries += 1
        shape = str(rng.choice(names, p=weights / weights.sum()))
        size, noun, lift = _shape_size(rng, shape)
        near_focus = rng.random() < 0.3
        if near_focus:
            centre = focus + [rng.uniform(-2, 2), 0, rng.uniform(-2, 2)]
        else:
            ang = rng.uniform(-0.9, 0.9) if rng.random() < 0.7 else rng.uniform(-np.pi, np.pi)
            dist = float(np.exp(rng.uniform(np.log(1.5), np.log(30))))
            centre = np.array([dist * np.sin(ang), 0.0, dist * np.cos(ang)])
        floating = shape in ("sphere", "box") and rng.random() < 0.15
        centre[1] = -lift - (rng.uniform(0.3, 2.5) if floating else 0.0)
        radius = float(np.linalg.norm(size)) / (2 if shape not in ("sphere",) else 1)
        if not _clear_of(path, centre, radius, 0.5):
            continue
        rot = _yaw(rng)
        if shape == "panel":  # roughly facing the start camera, turned and tilted
            rot = Rotation.from_euler("yx", [rng.uniform(-0.7, 0.7) + np.arctan2(centre[0], centre[2]),
                                             rng.uniform(-0.45, 0.45)]).as_matrix()
        m = random_material(rng, bank, tile=(0.3, 2.5))
        solids.append(Solid(shape, size, centre, rot, m, "solid", noun=noun, floating=floating))
        placed += 1

    # Up to three of the solids near the view move on their own.
    motions: list[ObjectMotion] = []
    n_moving = int(rng.choice([0, 1, 2, 3], p=[0.3, 0.35, 0.2, 0.15]))
    candidates = [s for s in solids if s.role == "solid" and s.shape != "slab" and np.linalg.norm(s.position) < 14]
    rng.shuffle(candidates)
    for s in candidates[:n_moving]:
        motions.append(object_motion(rng, s.position, s.rotation, floating=s.floating))
        s.moving = len(motions)

    return WorldSpec(int(seed), width, height, float(fps), K, fov, cam, solids, motions, light,
                     extra={"layout": str(layout), "eye_height": eye_height})


def _sun(rng) -> np.ndarray:
    elev = rng.uniform(0.2, 1.3)
    az = rng.uniform(-np.pi, np.pi)
    v = np.array([np.cos(elev) * np.sin(az), -np.sin(elev), np.cos(elev) * np.cos(az)])
    return v / np.linalg.norm(v)
