"""Single views of synthetic worlds with their exact depth: what the depth network learns from.

    views = DepthViews(width=256, height=192)
    rgb, depth = views.view(seed)          # uint8 [H, W, 3], float32 [H, W] camera z
    batch = views.batch(seeds, rng, out=(160, 120))   # augmented, for training

A view is a synthetic world's first frame (`synth.world_spec.generate_world`, which already draws
the field of view, the eye height, a street, a ring of walls or an open plain) with more of what
photographs show added by `dress_world`: rooms with ceilings, objects close in front of a far
background, things against a near wall, clutter, people-sized figures, and a pitched and rolled
camera. Training views then go through `photometric`: crops (another field of view), flips, colour,
exposure and white balance, blur, sensor noise and JPEG, so the network meets pictures that look
less like a renderer's.

The natural photographs the evaluation uses (`EVAL_PHOTOS`) are left out of the texture bank.
"""
from __future__ import annotations

import io

import numpy as np
from scipy.spatial.transform import Rotation

from .synth.raster import WorldRenderer
from .synth.textures import texture_bank
from .synth.world_spec import Solid, generate_world, random_material

# The real photographs with known depth that `eval --sections depth` scores: never a texture here.
EVAL_PHOTOS = ("motorcycle_left.png", "motorcycle_right.png")
LAYOUT_WEIGHTS = {"as_drawn": 0.2, "room": 0.2, "close": 0.15, "closeup": 0.2, "clutter": 0.1, "people": 0.15}
MAX_SOLIDS = 60  # the renderer's material table holds 64


def _camera_position(spec) -> np.ndarray:
    return spec.camera.c2w[0, :3, 3]


def _room(rng, spec, bank, solids: list[Solid]) -> None:
    """Four walls and a ceiling around the camera (the sky and far backdrop are hidden)."""
    cam = _camera_position(spec)
    eye = -cam[1]
    half_w, front, back = rng.uniform(1.5, 5.0), rng.uniform(2.5, 12.0), rng.uniform(0.8, 6.0)
    height = max(eye + rng.uniform(0.4, 2.5), 2.2)
    wall = random_material(rng, bank, tile=(0.8, 4.0))
    for side in (-1, 1):  # left and right
        solids.append(Solid("box", (0.2, height, front + back), np.array([cam[0] + side * half_w, -height / 2,
                                                                           cam[2] + (front - back) / 2]),
                            np.eye(3), wall if rng.random() < 0.7 else random_material(rng, bank), "solid",
                            noun="wall"))
    for z in (front, -back):  # ahead and behind
        solids.append(Solid("box", (2 * half_w, height, 0.2), np.array([cam[0], -height / 2, cam[2] + z]), np.eye(3),
                            wall if rng.random() < 0.5 else random_material(rng, bank), "solid", noun="wall"))
    solids.append(Solid("box", (2 * half_w, 0.2, front + back),
                        np.array([cam[0], -height - 0.1, cam[2] + (front - back) / 2]),
                        np.eye(3), random_material(rng, bank, tile=(0.5, 3.0)), "solid", noun="ceiling"))
    # furniture-sized boxes against the walls
    for _ in range(int(rng.integers(1, 6))):
        size = np.array([rng.uniform(0.3, 1.8), rng.uniform(0.3, 1.6), rng.uniform(0.3, 1.2)])
        x = cam[0] + rng.choice([-1, 1]) * (half_w - size[0] / 2 - 0.1) * rng.uniform(0.3, 1.0)
        z = cam[2] + rng.uniform(1.0, front - 0.3)
        solids.append(Solid("box", tuple(size), np.array([x, -size[1] / 2, z]), _yaw(rng, 0.3),
                            random_material(rng, bank), "solid", noun="box"))


def _yaw(rng, spread: float) -> np.ndarray:
    return Rotation.from_euler("y", rng.uniform(-spread, spread)).as_matrix()


def _ahead(rng, spec, dist: float, spread: float) -> np.ndarray:
    """A ground point about `dist` ahead of the camera, within `spread` radians of its view axis."""
    c2w = spec.camera.c2w[0]
    fwd = c2w[:3, 2].copy()
    fwd[1] = 0.0
    fwd /= max(np.linalg.norm(fwd), 1e-9)
    ang = rng.uniform(-spread, spread)
    d = Rotation.from_euler("y", ang).as_matrix() @ fwd
    p = c2w[:3, 3] + dist * d
    p[1] = 0.0
    return p


def _close(rng, spec, bank, solids: list[Solid]) -> None:
    """One to three things 0.6 to 2.5 units in front of the camera, before whatever is far."""
    eye = -_camera_position(spec)[1]
    for _ in range(int(rng.integers(1, 4))):
        dist = rng.uniform(0.6, 2.5)
        p = _ahead(rng, spec, dist, 0.5)
        kind = rng.choice(["box", "sphere", "cylinder", "panel"])
        if kind == "box":
            s = rng.uniform(0.15, 0.6, 3)
            lift = rng.uniform(0, eye) if rng.random() < 0.4 else s[1] / 2
            solids.append(Solid("box", tuple(s), p + [0, -lift, 0], _yaw(rng, np.pi), random_material(rng, bank),
                                "solid", noun="box"))
        elif kind == "sphere":
            r = rng.uniform(0.1, 0.4)
            solids.append(Solid("sphere", (r,), p + [0, -r - (rng.uniform(0, eye) if rng.random() < 0.3 else 0), 0],
                                np.eye(3), random_material(rng, bank), "solid", noun="ball"))
        elif kind == "cylinder":
            r, h = rng.uniform(0.05, 0.3), rng.uniform(0.5, 3.0)
            solids.append(Solid("cylinder", (r, h), p + [0, -h / 2, 0], np.eye(3), random_material(rng, bank),
                                "solid", noun="pole"))
        else:
            w, h = rng.uniform(0.3, 1.2), rng.uniform(0.3, 1.2)
            rot = Rotation.from_euler("yx", [rng.uniform(-0.6, 0.6), rng.uniform(-0.3, 0.3)]).as_matrix()
            solids.append(Solid("panel", (w, h), p + [0, -rng.uniform(h / 2, eye + 0.3), 0], rot,
                                random_material(rng, bank), "solid", noun="panel"))


def _closeup(rng, spec, bank, solids: list[Solid]) -> None:
    """A wall 1.2 to 6 units ahead, square to the view, and one to four things between it and the
    camera: a picture whose depth spans only 1.5:1 to 4:1 (a thing photographed against a wall),
    where the other layouts all reach the far backdrop."""
    eye = -_camera_position(spec)[1]
    wall_at = rng.uniform(1.2, 6.0)
    p = _ahead(rng, spec, wall_at, 0.0)
    fwd = p - _camera_position(spec)
    height = eye + 1.5 * wall_at + 1.0  # above the top of the view, pitched up 15 degrees
    facing = Rotation.from_euler("y", np.arctan2(fwd[0], fwd[2]) + rng.uniform(-0.3, 0.3)).as_matrix()
    solids.append(Solid("box", (4.0 * wall_at + 2.0, height, 0.2), p + [0, -height / 2, 0], facing,
                        random_material(rng, bank, tile=(0.5, 4.0), natural_p=0.5), "solid", noun="wall"))
    for _ in range(int(rng.integers(1, 5))):
        dist = wall_at * rng.uniform(0.35, 0.9)
        q = _ahead(rng, spec, dist, 0.4)
        s = dist * rng.uniform(0.1, 0.45, 3)
        kind = rng.choice(["box", "sphere", "cylinder"])
        if kind == "box":
            solids.append(Solid("box", tuple(s), q + [0, -s[1] / 2, 0], _yaw(rng, np.pi), random_material(rng, bank),
                                "solid", noun="box"))
        elif kind == "sphere":
            solids.append(Solid("sphere", (s[0] / 2,), q + [0, -s[0] / 2, 0], np.eye(3), random_material(rng, bank),
                                "solid", noun="ball"))
        else:
            solids.append(Solid("cylinder", (s[0] / 3, 2 * s[1]), q + [0, -s[1], 0], np.eye(3),
                                random_material(rng, bank), "solid", noun="pole"))


def _clutter(rng, spec, bank, solids: list[Solid]) -> None:
    """Many small things on the ground between 1 and 8 units ahead."""
    for _ in range(int(rng.integers(8, 25))):
        p = _ahead(rng, spec, float(np.exp(rng.uniform(np.log(1.0), np.log(8.0)))), 0.8)
        s = rng.uniform(0.08, 0.5, 3)
        if rng.random() < 0.5:
            solids.append(Solid("box", tuple(s), p + [0, -s[1] / 2, 0], _yaw(rng, np.pi), random_material(rng, bank),
                                "solid", noun="box"))
        else:
            solids.append(Solid("sphere", (s[0],), p + [0, -s[0], 0], np.eye(3), random_material(rng, bank),
                                "solid", noun="ball"))


def _people(rng, spec, bank, solids: list[Solid]) -> None:
    """Standing figures: a body (a tall thin box or cylinder) and a head, 1.5 to 1.9 units tall."""
    for _ in range(int(rng.integers(1, 6))):
        p = _ahead(rng, spec, float(np.exp(rng.uniform(np.log(1.2), np.log(15.0)))), 0.7)
        tall = rng.uniform(1.5, 1.9)
        head = 0.11 * tall / 1.7
        body = tall - 2 * head
        clothes = random_material(rng, bank)
        if rng.random() < 0.5:
            solids.append(Solid("cylinder", (rng.uniform(0.15, 0.25), body), p + [0, -body / 2, 0], np.eye(3), clothes,
                                "solid", noun="figure"))
        else:
            solids.append(Solid("box", (rng.uniform(0.35, 0.5), body, rng.uniform(0.2, 0.3)), p + [0, -body / 2, 0],
                                _yaw(rng, np.pi), clothes, "solid", noun="figure"))
        solids.append(Solid("sphere", (head,), p + [0, -body - head, 0], np.eye(3), random_material(rng, bank),
                            "solid", noun="head"))


def _clear_of_camera(spec, solid: Solid, margin: float = 0.25) -> bool:
    cam = _camera_position(spec)
    radius = float(np.linalg.norm(solid.size)) / (1 if solid.shape == "sphere" else 2)
    if solid.shape == "box" and min(solid.size) <= 0.25:  # a wall or a ceiling: only its thickness matters
        local = solid.rotation.T @ (cam - solid.position)
        return bool(np.any(np.abs(local) > np.asarray(solid.size) / 2 + margin))
    return float(np.linalg.norm(cam - solid.position)) > radius + margin


def dress_world(spec, rng: np.random.Generator, bank, layout: str) -> None:
    """Adds the layout's solids to `spec` (in place) and pitches and rolls its first camera."""
    added: list[Solid] = []
    {"as_drawn": lambda *a: None, "room": _room, "close": _close, "closeup": _closeup, "clutter": _clutter,
     "people": _people}[layout](
        rng, spec, bank, added)
    for s in added:
        if len(spec.solids) >= MAX_SOLIDS:
            break
        if _clear_of_camera(spec, s):
            spec.solids.append(s)
    # Photographs are taken looking up and down and a little askew.
    c2w = spec.camera.c2w.copy()
    turn = Rotation.from_euler("xz", [rng.uniform(-20, 15), rng.normal(0, 3)], degrees=True).as_matrix()
    c2w[0, :3, :3] = c2w[0, :3, :3] @ turn
    c2w[1:] = c2w[0]
    spec.camera.c2w = c2w
    spec.extra["depth_layout"] = layout


def photometric(rgb: np.ndarray, depth: np.ndarray, rng: np.random.Generator, out: tuple[int, int]):
    """A training sample from a rendered view: a random crop (51 to 100 % of each side, so another
    field of view and aspect) resized to `out` = (width, height), a flip, colour and exposure, white
    balance, blur, noise and JPEG. Returns (rgb uint8 [h, w, 3], depth float32 [h, w])."""
    from PIL import Image, ImageFilter

    H, W = depth.shape
    s = rng.uniform(0.6, 1.0)
    ch, cw = max(16, int(H * s * rng.uniform(0.85, 1.0))), max(16, int(W * s * rng.uniform(0.85, 1.0)))
    y0, x0 = int(rng.integers(0, H - ch + 1)), int(rng.integers(0, W - cw + 1))
    rgb, depth = rgb[y0:y0 + ch, x0:x0 + cw], depth[y0:y0 + ch, x0:x0 + cw]
    w, h = out
    im = Image.fromarray(rgb).resize((w, h), Image.Resampling.BILINEAR)
    # depth: nearest, so no sample is a blend of a near and a far surface
    d = np.asarray(Image.fromarray(depth).resize((w, h), Image.Resampling.NEAREST), np.float32)
    if rng.random() < 0.5:
        im, d = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), d[:, ::-1]
    if rng.random() < 0.3:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    x = np.asarray(im, np.float32) / 255.0
    x = x ** rng.uniform(0.7, 1.4)                               # exposure curve
    x = x * rng.uniform(0.85, 1.15, 3) * rng.uniform(0.7, 1.3)  # white balance and brightness
    grey = x.mean(axis=-1, keepdims=True)
    x = grey + (x - grey) * rng.uniform(0.5, 1.4)                # saturation
    if rng.random() < 0.5:
        x = x + rng.normal(0, rng.uniform(0.005, 0.04), x.shape)  # sensor noise
    x = (np.clip(x, 0, 1) * 255).round().astype(np.uint8)
    if rng.random() < 0.5:
        buf = io.BytesIO()
        Image.fromarray(x).save(buf, format="JPEG", quality=int(rng.integers(30, 95)))
        x = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return x, np.ascontiguousarray(d)


class DepthViews:
    def __init__(self, width: int = 256, height: int = 192, bank_seed: int = 0):
        self.width, self.height = int(width), int(height)
        self.bank = texture_bank(bank_seed, exclude=EVAL_PHOTOS)
        self.renderer = WorldRenderer(self.width, self.height, self.bank)

    def world(self, seed: int):
        rng = np.random.default_rng([int(seed), 20261206])
        spec = generate_world(int(seed), self.bank, self.width, self.height, frames=2)
        names = list(LAYOUT_WEIGHTS)
        p = np.array([LAYOUT_WEIGHTS[n] for n in names])
        dress_world(spec, rng, self.bank, str(rng.choice(names, p=p / p.sum())))
        return spec

    def view(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The picture and its exact depth, uint8 [H, W, 3] and float32 [H, W] (camera z)."""
        rgb, depth, _, _ = self.renderer.render(self.world(seed))
        return rgb[0], depth[0]

    def batch(self, seeds, rng: np.random.Generator, out: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Augmented training pictures and depths: uint8 [B, h, w, 3], float32 [B, h, w]."""
        pairs = [photometric(*self.view(int(s)), rng, out) for s in seeds]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
