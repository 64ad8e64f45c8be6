"""A plain (non-editable) install works away from the repository: the shipped scene and weights
are package data found through importlib.resources, so `render` and `play` run the garden with
the trained student from any folder."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """motionworld installed with pip into a folder of its own (no editable link to the repository)."""
    site = tmp_path_factory.mktemp("site")
    # --no-build-isolation: the build uses this environment's setuptools (nothing to download);
    # --no-deps: the dependencies are this environment's
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(ROOT)], check=True, capture_output=True, cwd=ROOT)
    return site


def _run(site: Path, cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    # the installed copy comes first on sys.path; the repository is not on it at all
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "motionworld", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_an_installed_copy_finds_its_own_scenes_and_weights(installed, tmp_path):
    probe = subprocess.run([sys.executable, "-c", "import motionworld.play.defaults as d, motionworld;"
                            "print(motionworld.__file__); print(d.DEFAULT_SCENE); print(d.SHIPPED_WEIGHTS)"],
                           cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(installed)}, capture_output=True,
                           text=True, check=True)
    package, scene, weights = (Path(line) for line in probe.stdout.split())
    assert package.is_relative_to(installed) and scene.is_relative_to(installed) and weights.is_relative_to(installed)
    assert scene.is_file() and (weights / "student.safetensors").is_file() and (weights / "MANIFEST.json").is_file()
    assert not (installed / "motionworld" / "shipped" / "weights" / "teacher.safetensors").exists()  # play needs none


@pytest.mark.slow
def test_an_installed_copy_renders_the_shipped_scene_with_the_student(installed, tmp_path):
    out = tmp_path / "garden.mp4"
    r = _run(installed, tmp_path, "render", "-o", str(out), "--seconds", "0.75", "--backend", "neural")
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 0 and "wrote" in r.stdout and "(13 frames" in r.stdout
    r = _run(installed, tmp_path, "render", "plaza", "-o", str(tmp_path / "plaza.mp4"), "--seconds", "0.75",
             "--backend", "warp")
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
@pytest.mark.display
def test_an_installed_copy_plays_the_shipped_scene_in_a_window(installed, tmp_path, xvfb_display):
    log = tmp_path / "session.jsonl"
    r = _run(installed, tmp_path, "play", "--seconds", "2", "--log", str(log),
             env={"DISPLAY": xvfb_display, "SDL_VIDEODRIVER": "x11"})
    assert r.returncode == 0, r.stderr
    assert '"status": "complete"' in log.read_text().splitlines()[-1]
