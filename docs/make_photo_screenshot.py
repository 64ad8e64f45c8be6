"""Takes docs/window_photo.png, the README's first picture: the play window walking into a real
photograph (scikit-image's coffee.png, its scene made on the fly on our depth network's depth:
`play coffee.png --depth network`), with the warp renderer on the left and the shipped neural student on
the right, both as F12 saved them at frame 64 after the same input (a step in, then a step to the right).

    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python docs/make_photo_screenshot.py

Each backend runs in its own process (one pygame window each), through make_window_screenshot.py.
"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
COFFEE = Path(__import__("skimage").data.__file__).parent / "coffee.png"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        picture = Path(tmp) / "coffee.png"
        shutil.copy(COFFEE, picture)  # a scene made on the fly, not the one beside skimage's copy
        shots = []
        for backend in ("warp", "neural"):
            out = Path(tmp) / f"{backend}.png"
            run = subprocess.run([sys.executable, str(ROOT / "docs" / "make_window_screenshot.py"),
                                  "--backend", backend, "--scene", str(picture), "--depth", "network",
                                  "--out", str(out)], capture_output=True, text=True)
            print(run.stdout.strip(), run.stderr.strip()[-2000:], sep="\n")
            if run.returncode != 0:
                return run.returncode
            shots.append(np.asarray(Image.open(out).convert("RGB")))
    gap = np.full((shots[0].shape[0], 12, 3), 255, np.uint8)
    image = Image.fromarray(np.concatenate([shots[0], gap, shots[1]], axis=1))
    draw = ImageDraw.Draw(image)
    for x, text in ((10, "warp renderer"), (shots[0].shape[1] + 22, "neural student (shipped)")):
        draw.rectangle([x - 4, image.height - 30, x + 8 * len(text) + 4, image.height - 8], fill=(0, 0, 0))
        draw.text((x, image.height - 26), text, fill=(255, 255, 255))
    target = ROOT / "docs" / "window_photo.png"
    image.save(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
