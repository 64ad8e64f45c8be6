import atexit
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
# No test reaches the hub, and none sees a model a developer has in their own hub cache: the hub
# model is looked up in an empty cache, offline (subprocesses inherit both).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="motionworld-test-hf-")
atexit.register(shutil.rmtree, os.environ["HF_HOME"], True)

ROOT = Path(__file__).resolve().parents[1]
SCENES = ROOT / "scenes"


def run_cli(capsys, *args) -> tuple[int, list[str], str]:
    """(exit status, stderr lines, stdout) of an in-process command; an uncaught exception fails the test."""
    from motionworld.cli import main

    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.err.strip().splitlines(), out.out


def one_error(capsys, *args, match: str = "") -> str:
    """The one `error:` line (exit status 2) a command gives; it must contain `match`."""
    rc, err, _ = run_cli(capsys, *args)
    assert rc == 2 and len(err) == 1 and err[0].startswith("error: ") and match in err[0], (rc, err)
    return err[0]


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


@pytest.fixture(scope="session")
def xvfb_display():
    """A virtual X display for window tests (Xvfb); skipped where Xvfb is not installed, failed
    instead under CI (MOTIONWORLD_REQUIRE_XVFB=1), where .ci/run installs it."""
    import shutil
    import subprocess

    exe = shutil.which("Xvfb")
    if exe is None:
        if os.environ.get("MOTIONWORLD_REQUIRE_XVFB"):
            pytest.fail("Xvfb is required here (MOTIONWORLD_REQUIRE_XVFB is set) but is not installed")
        pytest.skip("Xvfb is not installed")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        number = f.readline().strip()  # Xvfb writes its display number once it is ready
    if not number:
        proc.kill()
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def on_xvfb(xvfb_display, monkeypatch):
    """Point SDL at the virtual display for one test."""
    monkeypatch.setenv("DISPLAY", xvfb_display)
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    return xvfb_display


@pytest.fixture(autouse=True)
def _registries_as_they_were():
    """What a test registers in motionworld.plugins (the docs' worked examples do) goes when it ends."""
    from motionworld import plugins

    before = {group: dict(names) for group, names in plugins._REGISTERED.items()}
    yield
    for group, names in before.items():
        plugins._REGISTERED[group].clear()
        plugins._REGISTERED[group].update(names)


@pytest.fixture
def tiny_dpt(tmp_path) -> Path:
    """A randomly initialised small DPT saved to tmp_path/dpt: it stands in for a real depth checkpoint
    (Depth Anything) with the same loading code path, and nothing is downloaded."""
    transformers = pytest.importorskip("transformers")
    import torch

    torch.manual_seed(0)
    cfg = transformers.DPTConfig(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64,
                                 image_size=32, patch_size=8, backbone_out_indices=[0, 1, 2, 3],
                                 neck_hidden_sizes=[8, 16, 16, 16], fusion_hidden_size=16, head_in_index=-1,
                                 reassemble_factors=[4, 2, 1, 0.5])
    transformers.DPTForDepthEstimation(cfg).save_pretrained(tmp_path / "dpt")
    transformers.DPTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(tmp_path / "dpt")
    return tmp_path / "dpt"
