"""Renders the example scenes' pictures, depth maps and masks with a small numpy ray tracer.

    python scenes/make_scenes.py

garden: grass, a dirt path, a brick wall, a crate, a post and a beach ball (the ball is the moving
object; its mask is written too). Depth is exact and stored as 16-bit PNG in units of 2 mm.
plaza: paving and a facade laid out exactly as the `prior` depth source assumes (horizon row,
camera height, backdrop distance), so that scene needs no depth file.
World axes are OpenCV's (x right, y down, z forward); the ground is the plane y = camera height.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
RNG = np.random.default_rng(7)
_PERM = RNG.permutation(4096)
_VALS = RNG.random(4096)


def noise(x, y, octaves=4):
    """Fractal value noise in [0, 1] at real coordinates."""
    total, amp, norm = 0.0, 1.0, 0.0
    for o in range(octaves):
        f = 2.0 ** o
        xi, yi = np.floor(x * f), np.floor(y * f)
        fx, fy = x * f - xi, y * f - yi
        fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)

        def h(a, b, o=o):
            return _VALS[_PERM[(a.astype(np.int64) * 1619 + b.astype(np.int64) * 31337 + o * 1013) % 4096]]

        v = ((h(xi, yi) * (1 - fx) + h(xi + 1, yi) * fx) * (1 - fy)
             + (h(xi, yi + 1) * (1 - fx) + h(xi + 1, yi + 1) * fx) * fy)
        total, norm, amp = total + amp * v, norm + amp, amp * 0.5
    return total / norm


def hash01(*ints):
    k = np.zeros_like(ints[0], dtype=np.int64)
    for i, v in enumerate(ints):
        k = k * 7919 + v.astype(np.int64) * (104729 + i * 13)
    return _VALS[np.abs(k) % 4096]


def rays(width, height, fov_deg, pitch_deg, ss):
    """World ray directions (z-component of the camera-space ray = 1) for ss x ss samples a pixel."""
    f = 0.5 * height / np.tan(np.radians(fov_deg) / 2)
    off = (np.arange(ss) + 0.5) / ss - 0.5
    u = (np.arange(width)[None, :, None, None] + off[None, None, None, :]) - (width - 1) / 2
    v = (np.arange(height)[:, None, None, None] + off[None, None, :, None]) - (height - 1) / 2
    u, v = np.broadcast_arrays(u, v)
    d = np.stack([u / f, v / f, np.ones_like(u)], axis=-1)
    p = np.radians(pitch_deg)
    R = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])  # Rx(pitch): look up +
    return d @ R.T


class Tracer:
    def __init__(self, d):
        self.d = d
        shape = d.shape[:-1]
        self.t = np.full(shape, np.inf)
        self.normal = np.zeros(shape + (3,))
        self.id = np.full(shape, -1)

    def _take(self, t, n, ident):
        hit = (t > 1e-4) & (t < self.t)
        self.t = np.where(hit, t, self.t)
        self.normal = np.where(hit[..., None], n, self.normal)
        self.id = np.where(hit, ident, self.id)

    def plane(self, axis, value, ident, bounds=None):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = value / self.d[..., axis]
        t = np.where(np.isfinite(t), t, np.inf)
        if bounds is not None:
            p = self.d * t[..., None]
            for ax, (lo, hi) in bounds.items():
                t = np.where((p[..., ax] >= lo) & (p[..., ax] <= hi), t, np.inf)
        n = np.zeros(3)
        n[axis] = -np.sign(value)
        self._take(t, np.broadcast_to(n, self.d.shape), ident)

    def box(self, lo, hi, ident):
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            t1, t2 = lo / self.d, hi / self.d
        tmin, tmax = np.minimum(t1, t2), np.maximum(t1, t2)
        tn, tf = np.nanmax(tmin, axis=-1), np.nanmin(tmax, axis=-1)
        t = np.where((tn <= tf) & (tn > 0), tn, np.inf)
        axis = np.nanargmax(tmin, axis=-1)
        n = np.zeros(self.d.shape)
        np.put_along_axis(n, axis[..., None], -np.sign(np.take_along_axis(self.d, axis[..., None], -1)), -1)
        self._take(t, n, ident)

    def sphere(self, c, r, ident):
        c = np.asarray(c, float)
        a = (self.d * self.d).sum(-1)
        b = -2 * (self.d @ c)
        disc = b * b - 4 * a * (c @ c - r * r)
        with np.errstate(invalid="ignore"):
            t = np.where(disc >= 0, (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a), np.inf)
        p = self.d * t[..., None]
        self._take(t, (p - c) / r, ident)

    def cylinder_y(self, cx, cz, r, y0, y1, ident):
        dx, dz = self.d[..., 0], self.d[..., 2]
        a = dx * dx + dz * dz
        b = -2 * (dx * cx + dz * cz)
        disc = b * b - 4 * a * (cx * cx + cz * cz - r * r)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(disc >= 0, (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a), np.inf)
        y = self.d[..., 1] * t
        t = np.where((y >= y0) & (y <= y1), t, np.inf)
        p = self.d * t[..., None]
        n = np.stack([(p[..., 0] - cx) / r, np.zeros_like(t), (p[..., 2] - cz) / r], -1)
        self._take(t, n, ident)


def shade(colour, normal, sun=(-0.4, -0.8, -0.45), ambient=0.5):
    s = np.asarray(sun) / np.linalg.norm(sun)
    lam = np.clip(-(normal @ s), 0, 1)  # normals face the camera; sun comes from above-left-front
    return colour * (ambient + (1 - ambient) * lam)[..., None]


def finish(rgb, depth_ss, ids_ss, ss):
    H, W = rgb.shape[:2]
    img = rgb.reshape(H, W, ss * ss, 3).mean(2) if rgb.ndim == 5 else rgb
    img = np.clip(img, 0, 1) ** (1 / 1.1)
    return (img * 255 + 0.5).astype(np.uint8)


def render_garden(width=512, height=384, fov=50.0, pitch=-8.0, cam_h=1.6, ss=3):
    d = rays(width, height, fov, pitch, ss)
    tr = Tracer(d)
    SKY, GROUND, WALL, CRATE, BALL, POST = range(6)
    tr.plane(1, cam_h, GROUND)
    tr.plane(2, 14.0, WALL, bounds={1: (-2.8, cam_h)})
    tr.box([1.1, cam_h - 1.1, 5.0], [2.3, cam_h, 6.2], CRATE)
    ball_c, ball_r = np.array([-0.9, cam_h - 0.45, 3.6]), 0.45
    tr.sphere(ball_c, ball_r, BALL)
    tr.cylinder_y(-2.6, 8.5, 0.22, cam_h - 3.2, cam_h, POST)
    p = d * tr.t[..., None]
    col = np.zeros(d.shape)
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    # Ground: grass with a dirt path along z.
    g = tr.id == GROUND
    n1 = noise(x * 3.0, z * 3.0)
    grass = np.stack([0.18 + 0.2 * n1, 0.42 + 0.25 * noise(x * 9 + 5, z * 9), 0.12 + 0.1 * n1], -1)
    path = np.abs(x + 0.15 * np.sin(z * 0.5)) < 0.55
    dirt = np.stack([0.55 + 0.2 * n1, 0.42 + 0.15 * n1, 0.28 + 0.1 * n1], -1)
    col = np.where((g & ~path)[..., None], grass, col)
    col = np.where((g & path)[..., None], dirt, col)
    # Brick wall.
    w = tr.id == WALL
    row = np.floor((cam_h - y) / 0.22)
    bx = np.floor((x + 0.25 * (row % 2)) / 0.5)
    mortar = (((cam_h - y) % 0.22) < 0.025) | (((x + 0.25 * (row % 2)) % 0.5) < 0.025)
    hb = hash01(row, bx)
    brick = (np.stack([0.55 + 0.25 * hb, 0.22 + 0.1 * hb, 0.15 + 0.05 * hb], -1)
             * (0.85 + 0.3 * noise(x * 8, y * 8, 2))[..., None])
    col = np.where(w[..., None], np.where(mortar[..., None], np.array([0.75, 0.72, 0.66]), brick), col)
    # Crate: planks.
    c = tr.id == CRATE
    along = np.where(np.abs(tr.normal[..., 0]) > 0.5, z, x)
    plank = np.floor((cam_h - y) / 0.2)
    wood = (np.stack([0.62, 0.45, 0.25], -1)
            * (0.75 + 0.35 * noise(along * 2 + plank * 7, (cam_h - y) * 30, 3))[..., None])
    seam = ((cam_h - y) % 0.2) < 0.02
    col = np.where(c[..., None], np.where(seam[..., None], wood * 0.45, wood), col)
    # Beach ball: coloured gores.
    b = tr.id == BALL
    q = p - ball_c
    ang = np.arctan2(q[..., 2], q[..., 0])
    gore = np.floor((ang + np.pi) / (2 * np.pi) * 6).astype(int) % 6
    palette = np.array([[0.9, 0.1, 0.1], [0.97, 0.97, 0.95], [0.1, 0.35, 0.9], [0.97, 0.97, 0.95],
                        [1.0, 0.8, 0.05], [0.97, 0.97, 0.95]])
    col = np.where(b[..., None], palette[gore], col)
    # Post: stone.
    s = tr.id == POST
    stone = (np.array([0.55, 0.55, 0.58])
             * (0.7 + 0.4 * noise(np.arctan2(p[..., 2] - 8.5, x + 2.6) * 3, y * 4))[..., None])
    col = np.where(s[..., None], stone, col)
    col = shade(col, tr.normal)
    # Sky: gradient and clouds (not shaded).
    sky = tr.id < 0
    elev = -d[..., 1] / np.linalg.norm(d, axis=-1)
    cloud = np.clip((noise(d[..., 0] / (d[..., 2] + 1e-3) * 2, elev * 8, 5) - 0.5) * 3, 0, 1)
    skyc = np.stack([0.45 + 0.2 * (1 - elev), 0.65 + 0.15 * (1 - elev), 0.95 * np.ones_like(elev)], -1)
    skyc = skyc * (1 - cloud[..., None]) + cloud[..., None] * 0.97
    col = np.where(sky[..., None], skyc, col)
    img = finish(col, None, None, ss)
    centre = ss // 2
    depth = np.where(np.isfinite(tr.t[:, :, centre, centre]), tr.t[:, :, centre, centre], 120.0)
    ids = tr.id[:, :, centre, centre]
    ball_mask = (tr.id == BALL).mean(axis=(2, 3)) >= 0.5
    return img, depth, ball_mask, ids


def render_plaza(width=640, height=400, fov=52.0, horizon=0.42, cam_h=1.6, backdrop=25.0, ss=3):
    f = 0.5 * height / np.tan(np.radians(fov) / 2)
    pitch = np.degrees(np.arctan2(horizon * height - 0.5 - (height - 1) / 2, f))  # as PriorDepth
    d = rays(width, height, fov, pitch, ss)
    tr = Tracer(d)
    GROUND, FACADE = 0, 1
    tr.plane(1, cam_h, GROUND)
    tr.plane(2, backdrop, FACADE)
    p = d * tr.t[..., None]
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    col = np.zeros(d.shape)
    g = tr.id == GROUND
    tile = (np.floor(x / 0.8) + np.floor(z / 0.8)) % 2
    ht = hash01(np.floor(x / 0.8), np.floor(z / 0.8))
    stone = (np.stack([0.62, 0.58, 0.52], -1) * (0.8 + 0.15 * tile + 0.1 * ht)[..., None]
             * (0.9 + 0.2 * noise(x * 6, z * 6, 2))[..., None])
    joint = ((x % 0.8) < 0.03) | ((z % 0.8) < 0.03)
    col = np.where(g[..., None], np.where(joint[..., None], stone * 0.55, stone), col)
    w = tr.id == FACADE
    height_up = cam_h - y
    plaster = np.stack([0.86, 0.74, 0.55], -1) * (0.9 + 0.15 * noise(x * 1.5, y * 1.5, 3))[..., None]
    wx, wy = (x + 100) % 3.0, height_up % 3.4
    window = (wx > 0.9) & (wx < 2.1) & (wy > 1.0) & (wy < 2.8) & (height_up > 3.0)
    door = (np.abs(x) < 1.2) & (height_up < 2.6)
    arch = (np.abs(x % 6.0 - 3.0) < 1.1) & (height_up < 2.4) & ~door
    band = (np.abs(height_up - 3.0) < 0.12) | (np.abs(height_up - 6.4) < 0.1)
    fac = np.where(window[..., None], np.array([0.2, 0.28, 0.35]) + 0.25 * (wy > 2.5)[..., None], plaster)
    fac = np.where(((wx > 0.8) & (wx < 2.2) & (wy > 0.9) & (wy < 2.9) & (height_up > 3.0) & ~window)[..., None],
                   np.array([0.95, 0.95, 0.92]), fac)
    fac = np.where(door[..., None], np.array([0.35, 0.2, 0.12]), fac)
    fac = np.where(arch[..., None], np.array([0.25, 0.22, 0.2]), fac)
    fac = np.where(band[..., None], np.array([0.95, 0.9, 0.82]), fac)
    col = np.where(w[..., None], fac, col)
    col = shade(col, tr.normal, sun=(-0.5, -0.7, 0.5), ambient=0.7)
    return finish(col, None, None, ss)


def main():
    np.seterr(all="ignore")  # sky rays hit nothing: inf * 0 in texture maths is masked out anyway
    img, depth, ball, _ = render_garden()
    out = HERE / "garden"
    out.mkdir(exist_ok=True)
    Image.fromarray(img).save(out / "garden.png")
    Image.fromarray(np.clip(np.round(depth / 0.002), 1, 65535).astype(np.uint16)).save(out / "garden_depth.png")
    Image.fromarray((ball * 255).astype(np.uint8)).save(out / "ball_mask.png")
    out = HERE / "plaza"
    out.mkdir(exist_ok=True)
    Image.fromarray(render_plaza()).save(out / "plaza.png")
    print("wrote", *(str(p.relative_to(HERE)) for p in sorted(HERE.glob("*/*.png"))))


if __name__ == "__main__":
    main()
