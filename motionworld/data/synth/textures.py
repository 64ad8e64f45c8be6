"""The texture bank of the synthetic worlds: procedural patterns and natural images in one
GL texture array.

Procedural layers hold a grey pattern (all generated periodic, so they tile without seams); the
shader maps it through a two-colour palette drawn per material, so one pattern yields endless
colourings. Natural layers are the public-domain sample photographs shipped inside the
scikit-image wheel, used in colour. The bank is a pure function of (seed, size); its fingerprint
goes into every dataset manifest.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PATTERN_KINDS = ("noise", "stripes", "checks", "gradient", "bricks", "foliage", "text", "cells", "dots")

# File name in skimage/data -> the noun a caption uses for it.
NATURAL_IMAGES = {
    "brick.png": "brick", "grass.png": "grass", "gravel.png": "gravel", "coffee.png": "coffee cup picture",
    "chelsea.png": "cat picture", "astronaut.png": "astronaut picture", "rocket.jpg": "rocket picture",
    "camera.png": "photograph", "moon.png": "moon picture", "text.png": "printed text", "page.png": "page of text",
    "hubble_deep_field.jpg": "starfield", "coins.png": "coins", "motorcycle_left.png": "motorcycle picture",
    "color.png": "colour chart", "retina.jpg": "red pattern", "ihc.png": "stained pattern",
    "horse.png": "horse silhouette",
}


@dataclass
class TextureLayer:
    kind: str  # a PATTERN_KINDS entry or "natural"
    name: str  # the caption word(s)
    natural: bool


def _freq_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    f = np.fft.fftfreq(n) * n
    return np.meshgrid(f, f, indexing="ij")


def _normalise(a: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(a, 1), np.percentile(a, 99)
    return np.clip((a - lo) / max(hi - lo, 1e-6), 0.0, 1.0)


def periodic_noise(rng: np.random.Generator, n: int, beta: float, low_cut: float = 1.0) -> np.ndarray:
    """Tileable 1/f^beta noise in [0, 1] (white noise shaped in the Fourier domain)."""
    fy, fx = _freq_grid(n)
    r = np.hypot(fx, fy)
    amp = np.where(r >= low_cut, 1.0 / np.maximum(r, 1e-6) ** beta, 0.0)
    spec = np.fft.fft2(rng.standard_normal((n, n))) * amp
    return _normalise(np.real(np.fft.ifft2(spec)))


def _coords(n: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:n, 0:n].astype(np.float64) / n
    return x, y


def _warp(rng, n, strength):
    return strength * (periodic_noise(rng, n, 2.5) - 0.5)


def pattern(kind: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """One tileable grey pattern [n, n] float in [0, 1]."""
    x, y = _coords(n)
    if kind == "noise":
        return periodic_noise(rng, n, rng.uniform(1.2, 3.2))
    if kind == "stripes":
        kx, ky = rng.integers(-6, 7), rng.integers(1, 9)
        phase = 2 * np.pi * (kx * x + ky * y) + _warp(rng, n, rng.uniform(0, 3))
        wave = 0.5 + 0.5 * np.sin(phase)
        sharp = rng.uniform(1, 12)
        return np.clip((wave - 0.5) * sharp + 0.5, 0, 1)
    if kind == "checks":
        kx, ky = rng.integers(2, 10), rng.integers(2, 10)
        c = (np.floor(kx * x) + np.floor(ky * y)) % 2
        return np.clip(c * 0.85 + 0.15 * periodic_noise(rng, n, 2.0), 0, 1)
    if kind == "gradient":
        kx, ky = rng.integers(0, 3), rng.integers(1, 3)
        tri = np.abs(((kx * x + ky * y) % 1.0) * 2 - 1)  # periodic ramp up and down
        return np.clip(tri * 0.8 + 0.2 * periodic_noise(rng, n, 2.8), 0, 1)
    if kind == "bricks":
        rows, cols = int(rng.integers(4, 12)), int(rng.integers(2, 7))
        mortar = rng.uniform(0.04, 0.12)
        r = y * rows
        row = np.floor(r)
        c = x * cols + 0.5 * (row % 2)
        fr, fc = r - row, c - np.floor(c)
        brick_id = (row * 97 + np.floor(c) % cols).astype(int)
        shade = rng.uniform(0.45, 1.0, size=brick_id.max() + 1)[brick_id]
        edge = (fr < mortar) | (fc < mortar * rows / cols)
        out = np.where(edge, rng.uniform(0.0, 0.25), shade)
        return np.clip(out * (0.85 + 0.3 * periodic_noise(rng, n, 1.8)) , 0, 1)
    if kind == "foliage":
        out = 0.25 * periodic_noise(rng, n, 2.0)
        for scale in (0.09, 0.05, 0.028):  # leaves at three sizes, larger first
            count = int(1.2 / scale ** 2 * rng.uniform(0.25, 0.45))
            cx, cy = rng.random(count) * n, rng.random(count) * n
            ang = rng.uniform(0, np.pi, count)
            val = rng.uniform(0.35, 1.0, count)
            r = scale * n * rng.uniform(0.6, 1.3, count)
            for i in range(count):
                half = int(np.ceil(r[i]))
                xs = np.arange(int(cx[i]) - half, int(cx[i]) + half + 1)
                ys = np.arange(int(cy[i]) - half, int(cy[i]) + half + 1)
                dx, dy = xs[None, :] - cx[i], ys[:, None] - cy[i]
                u = dx * np.cos(ang[i]) + dy * np.sin(ang[i])
                v = -dx * np.sin(ang[i]) + dy * np.cos(ang[i])
                inside = (u / r[i]) ** 2 + (v / (0.45 * r[i])) ** 2 < 1.0
                rows, cols = np.ix_(ys % n, xs % n)  # wrap so leaves tile
                patch = out[rows, cols]
                patch[inside] = (val[i] * (0.8 + 0.2 * u / r[i]))[inside]
                out[rows, cols] = patch
        return np.clip(out, 0, 1)
    if kind == "text":
        out = np.full((n, n), rng.uniform(0.85, 1.0))
        lines = int(rng.integers(6, 14))
        glyph_h = n // lines
        gh = max(3, int(glyph_h * 0.6))
        gw = max(2, int(gh * 0.6))
        glyphs = rng.random((40, 5, 3)) < 0.45  # 40 random 5x3 letter shapes
        ink = rng.uniform(0.0, 0.3)
        for li in range(lines):
            top = li * glyph_h + (glyph_h - gh) // 2
            xpos = int(rng.integers(0, gw))
            while xpos + gw < n:
                if rng.random() < 0.18:  # a space between words
                    xpos += gw
                    continue
                g = glyphs[rng.integers(0, len(glyphs))]
                big = np.kron(g, np.ones((int(np.ceil(gh / 5)), int(np.ceil(gw / 3))), bool))[:gh, :gw]
                out[top:top + gh, xpos:xpos + gw][big] = ink
                xpos += gw + max(1, gw // 3)
        return out
    if kind == "cells":
        from scipy.spatial import cKDTree

        count = int(rng.integers(12, 90))
        pts = rng.random((count, 2))
        tiled = np.concatenate([pts + [dx, dy] for dx in (-1, 0, 1) for dy in (-1, 0, 1)])
        shade = np.tile(rng.uniform(0.3, 1.0, count), 9)
        d, idx = cKDTree(tiled).query(np.stack([x.ravel(), y.ravel()], -1), k=2)
        border = (d[:, 1] - d[:, 0]) < rng.uniform(0.005, 0.02)
        out = np.where(border, 0.1, shade[idx[:, 0]]).reshape(n, n)
        return np.clip(out * (0.85 + 0.3 * periodic_noise(rng, n, 2.0)), 0, 1)
    if kind == "dots":
        k = int(rng.integers(3, 12))
        rad = rng.uniform(0.15, 0.4)
        fx, fy = (x * k) % 1.0 - 0.5, (y * k + 0.5 * (np.floor(x * k) % 2) * rng.integers(0, 2)) % 1.0 - 0.5
        return np.where(np.hypot(fx, fy) < rad, 1.0, 0.0) * 0.85 + 0.15 * periodic_noise(rng, n, 2.2)
    raise ValueError(f"unknown pattern kind {kind!r}")


def natural_image_folder() -> Path | None:
    """skimage/data inside the installed scikit-image, or None when it is not installed."""
    import importlib.util

    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None


def _load_square(path: Path, n: int) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = min(w, h)
        im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        return np.asarray(im.resize((n, n), Image.Resampling.LANCZOS))


class TextureBank:
    """Layers [L, n, n, 4] uint8 (RGB + alpha unused) and what each layer is."""

    def __init__(self, seed: int = 0, size: int = 256, per_kind: int = 6, natural: bool = True,
                 exclude: tuple[str, ...] = ()):
        """`exclude`: natural images left out by file name (the depth network never sees the
        photographs it is evaluated on)."""
        rng = np.random.default_rng([seed, 7331])
        self.size = size
        self.layers: list[TextureLayer] = []
        images = []
        for kind in PATTERN_KINDS:
            for _ in range(per_kind):
                g = (pattern(kind, rng, size) * 255).round().astype(np.uint8)
                images.append(np.repeat(g[..., None], 3, axis=-1))
                self.layers.append(TextureLayer(kind, kind, False))
        folder = natural_image_folder() if natural else None
        if folder is not None:
            for name, noun in NATURAL_IMAGES.items():
                if (folder / name).is_file() and name not in exclude:
                    images.append(_load_square(folder / name, size))
                    self.layers.append(TextureLayer("natural", noun, True))
        rgb = np.stack(images)
        self.pixels = np.concatenate([rgb, np.full(rgb.shape[:3] + (1,), 255, np.uint8)], axis=-1)
        self.fingerprint = hashlib.sha256(self.pixels.tobytes()).hexdigest()[:16]
        self.natural = np.array([i for i, layer in enumerate(self.layers) if layer.natural], dtype=int)
        self.by_kind = {k: np.array([i for i, layer in enumerate(self.layers) if layer.kind == k])
                        for k in PATTERN_KINDS}

    def __len__(self) -> int:
        return len(self.layers)

    def gl_texture(self, ctx):
        """A mipmapped, repeating GL texture array of the bank (one per context)."""
        import moderngl

        n, L = self.size, len(self.layers)
        tex = ctx.texture_array((n, n, L), 4, self.pixels.tobytes())
        tex.build_mipmaps()
        tex.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        tex.repeat_x = tex.repeat_y = True
        return tex


@functools.lru_cache(maxsize=4)
def texture_bank(seed: int = 0, size: int = 256, exclude: tuple[str, ...] = ()) -> TextureBank:
    """The bank for (seed, size, exclude), built once per process (it is read-only)."""
    return TextureBank(seed=seed, size=size, exclude=tuple(exclude))
