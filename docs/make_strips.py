"""Draws the README's strips: frames of a walk into the garden, the plaza and a real photograph
(scikit-image's `coffee.png`, a scene made on the fly with the depth prior), each rendered by the
neural student and by the warp renderer, as `motionworld render` makes them.

    .venv/bin/python docs/make_strips.py [--weights weights] [--out docs/strips.png]

One PNG: per picture, a row of warp frames above a row of neural frames (frames 0, 16, 32, 48, 64),
the two backends at the same height (the student's frames')."""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from motionworld.play import commands
from motionworld.play.defaults import SHIPPED_WEIGHTS, scene_path

ROOT = Path(__file__).resolve().parents[1]
COFFEE = Path(__import__("skimage").data.__file__).parent / "coffee.png"
FRAMES = (0, 16, 32, 48, 64)


def render(scene, backend: str, weights, size: int, folder: Path) -> np.ndarray:
    out = folder / f"{Path(str(scene)).stem}-{backend}.mp4"
    commands.render(scene, out, backend=backend, weights=weights if backend == "neural" else None, size=size,
                    seconds=(FRAMES[-1] + 1) / 16, progress=False, say=lambda *_: None)
    return iio.imread(out)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--weights", type=Path, default=SHIPPED_WEIGHTS)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "strips.png")
    args = p.parse_args()
    from motionworld.model.student import StreamingStudent

    h, w = StreamingStudent.load(args.weights).output_size
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo = folder / "coffee.png"
        shutil.copy(COFFEE, photo)
        rows, labels = [], []
        for name, scene in (("garden", scene_path("garden")), ("plaza", scene_path("plaza")), ("photo", photo)):
            for backend in ("warp", "neural"):
                video = render(scene, backend, args.weights, max(w, h), folder)
                fh, fw = video.shape[1:3]  # every row at the student's frame height, each picture's own aspect
                frames = [np.asarray(Image.fromarray(video[min(i, len(video) - 1)]).resize((round(fw * h / fh), h)))
                          for i in FRAMES]
                rows.append(np.concatenate(frames, axis=1))
                labels.append(f"{name}: {backend}")
    pad = 18
    width = max(r.shape[1] for r in rows)
    canvas = Image.new("RGB", (width, sum(r.shape[0] + pad for r in rows)), "white")
    draw, font, y = ImageDraw.Draw(canvas), ImageFont.load_default(size=13), 0
    for row, label in zip(rows, labels):
        draw.text((4, y + 2), label + "   frames " + ", ".join(map(str, FRAMES)), fill=(0, 0, 0), font=font)
        canvas.paste(Image.fromarray(row), (0, y + pad))
        y += row.shape[0] + pad
    canvas.save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
