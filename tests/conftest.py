import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

ROOT = Path(__file__).resolve().parents[1]
SCENES = ROOT / "scenes"


@pytest.fixture
def garden():
    return SCENES / "garden" / "scene.yaml"


@pytest.fixture
def plaza():
    return SCENES / "plaza" / "scene.yaml"


def write_scene(folder: Path, text: str, image_size=(64, 48), depth=None, name="scene.yaml") -> Path:
    """A small scene on disk: picture.png (random colours) and, if given, depth.npy."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    w, h = image_size
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / "picture.png")
    if depth is not None:
        np.save(folder / "depth.npy", depth)
    path = folder / name
    path.write_text(text)
    return path
