"""docs/extending.md stays true: its Python blocks run in order (a backend, a depth source and a
training stage, each one class and one registry line), then the contract checks, the training
config it shows and the commands it names."""
from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT

PAGE = ROOT / "docs" / "extending.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(), re.S)


@pytest.mark.slow
def test_the_worked_examples_run_and_what_they_add_plays_and_trains(tmp_path, monkeypatch):
    """(What the page registers is forgotten after the test: conftest's _registries_as_they_were.)"""
    from motionworld.cli import main

    monkeypatch.chdir(ROOT)
    code = blocks("python")
    assert len(code) == 6
    namespace: dict = {}
    for block in code:
        exec(compile(block, str(PAGE), "exec", dont_inherit=True), namespace)  # as a user runs it: no __future__
    frames = namespace["frames"]
    assert frames.shape == (16, 120, 160, 3)
    warm = frames[..., 0].astype(int) - frames[..., 2].astype(int)
    assert (warm >= 0).all()  # sepia: red is never below blue

    # the depth source gets its row in the evaluation's depth section
    from motionworld.eval.depth_section import candidates

    truth = np.full((24, 32), 3.0, np.float32)
    item = {"image": np.zeros((24, 32, 3), np.uint8), "depth": truth, "valid": truth > 0,
            "K": np.array([[30.0, 0, 16], [0, 30.0, 12], [0, 0, 1]])}
    assert (candidates(item, None, None)["plane"] == 5.0).all()
    from motionworld.eval.depth_bench import bench_depth

    timed = bench_depth(repeats=1, sizes=((32, 24),), estimator=False)["sources"]
    assert set(timed) == {"prior", "plane"} and timed["plane"]["seconds"]["32x24"] > 0

    # the backend from the command line, as the page says
    out = tmp_path / "sepia.mp4"
    assert main(["render", "garden", "--backend", "sepia", "--size", "128", "--seconds", "1", "-o", str(out)]) == 0
    assert out.stat().st_size > 0

    # the stage trains from the config the page shows, with its own section read
    config = yaml.safe_load(blocks("yaml")[0])
    assert config["stage"] == "vae-edges" and config["vae_edges"] == {"edge_weight": 0.5}
    (tmp_path / "vae_edges.yaml").write_text(yaml.safe_dump(config))
    assert main(["train", "vae-edges", "--config", str(tmp_path / "vae_edges.yaml"),
                 "--out", str(tmp_path / "edges")]) == 0
    assert (tmp_path / "edges" / "export").is_dir()
