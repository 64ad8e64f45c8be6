"""One registry per extension point (`motionworld.plugins`), read by everything that names one, and a
contract check (`motionworld.checks`, like Gymnasium's check_env) run on every registered backend,
depth source and training stage."""
from __future__ import annotations

from importlib.metadata import EntryPoint

import numpy as np
import pytest

from motionworld import plugins
from motionworld.checks import ContractError, check_backend, check_depth_source, check_stage
from motionworld.errors import MotionWorldError
from tests.conftest import ROOT

GARDEN = ROOT / "scenes" / "garden"


@pytest.mark.parametrize("name", plugins.names(plugins.BACKENDS))
def test_every_registered_backend_keeps_the_contract(name):
    result = check_backend(name, chunks=2)
    assert result["name"] == name and result["chunk_frames"] == [9, 12]


def test_a_backend_that_breaks_the_contract_is_named():
    from motionworld.backends import WarpGenerator

    class OneShort(WarpGenerator):
        name = "one-short"

        def step(self, chunk):
            return super().step(chunk)[:-1]

    with pytest.raises(MotionWorldError, match="returned 8 frames for a chunk of 9"):
        check_backend(OneShort(max_size=64))

    class Grey(WarpGenerator):
        name = "grey"

        def step(self, chunk):
            return super().step(chunk)[..., 0]

    with pytest.raises(ContractError, match=r"chunk 0: step\(\) must return uint8 \[9, 48, 64, 3\]"):
        check_backend(Grey(max_size=64))


DEPTH_OPTIONS = {"file": {"path": "garden_depth.png", "scale": 0.002}}


@pytest.mark.parametrize("name", [n for n in plugins.names(plugins.DEPTH_SOURCES) if n != "estimator"])
def test_every_registered_depth_source_keeps_the_contract(name):
    result = check_depth_source(name, DEPTH_OPTIONS.get(name), base_dir=GARDEN)
    low, high = result["range"]
    assert result["shape"] == (384, 512) and 0 < low < high


@pytest.mark.slow
def test_the_estimator_depth_source_keeps_the_contract(tiny_dpt):
    """A randomly initialised small DPT saved to disk stands in for Depth Anything (no download)."""
    picture = np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    result = check_depth_source("estimator", {"model": "dpt"}, picture=picture, base_dir=tiny_dpt.parent)
    assert result["shape"] == (40, 60)


def test_a_depth_source_that_breaks_the_contract_is_named():
    from motionworld.geometry.depth import PriorDepth

    class Holes(PriorDepth):
        name = "holes"

        class Options(PriorDepth.Options):
            source: str = "holes"

        def load(self, image, camera):
            depth = super().load(image, camera)
            depth[0, 0] = np.nan
            return depth

    plugins.register(plugins.DEPTH_SOURCES, "holes", Holes)
    plugins.register(plugins.DEPTH_SOURCES, "prior-again", PriorDepth)
    try:
        with pytest.raises(ContractError, match="every depth must be finite and > 0"):
            check_depth_source("holes")
        with pytest.raises(ContractError, match="its class's `name` must be 'prior-again'"):
            check_depth_source("prior-again")
    finally:
        plugins.unregister(plugins.DEPTH_SOURCES, "holes")
        plugins.unregister(plugins.DEPTH_SOURCES, "prior-again")


@pytest.mark.parametrize("name", plugins.names(plugins.STAGES))
def test_every_registered_stage_keeps_the_contract(name):
    assert check_stage(name)["section"] == name.replace("-", "_")


def test_the_command_line_log_schema_scene_schema_and_configs_read_the_registries(tmp_path):
    """A backend registered at run time is a `--backend` choice, a backend an input log may name and a
    scene's generator.backend; an unregistered one is refused by each."""
    from motionworld.backends import WarpGenerator
    from motionworld.cli import build_parser as _parser
    from motionworld.play.log_schema import check_header
    from motionworld.scene_schema import GeneratorSpec

    header = {"format": "motionworld-input-log/1", "session": {"scene": "s.yaml", "backend": "copy", "options": {}}}
    with pytest.raises(MotionWorldError, match="unknown backend 'copy'"):
        check_header(header, "log.jsonl:1")
    with pytest.raises(Exception, match="unknown backend 'copy'"):
        GeneratorSpec(backend="copy")
    plugins.register(plugins.BACKENDS, "copy", WarpGenerator)
    try:
        check_header(header, "log.jsonl:1")
        assert GeneratorSpec(backend="copy").backend == "copy"
        args = _parser().parse_args(["render", "--backend", "copy", "-o", str(tmp_path / "x.mp4")])
        assert args.backend == "copy"
    finally:
        plugins.unregister(plugins.BACKENDS, "copy")
    with pytest.raises(SystemExit):
        _parser().parse_args(["render", "--backend", "copy", "-o", str(tmp_path / "x.mp4")])


def test_another_package_adds_one_through_an_entry_point(monkeypatch):
    found = [EntryPoint("tilt", "motionworld.geometry.depth:PriorDepth", plugins.DEPTH_SOURCES)]
    monkeypatch.setattr(plugins, "entry_points", lambda group: found if group == plugins.DEPTH_SOURCES else [])
    assert plugins.names(plugins.DEPTH_SOURCES)[-1] == "tilt"
    from motionworld.geometry.depth import PriorDepth

    assert plugins.load(plugins.DEPTH_SOURCES, "tilt") is PriorDepth
    with pytest.raises(MotionWorldError, match=r"unknown depth source 'tlit' \(available: file, prior, network, "
                                               r"estimator, tilt\)"):
        plugins.load(plugins.DEPTH_SOURCES, "tlit")


def test_a_plugin_that_does_not_load_is_refused_by_name_and_breaks_nothing_else(tmp_path, capsys):
    from motionworld.cli import build_parser, main

    plugins.register(plugins.BACKENDS, "gpu-only", "a_package_not_installed:Generator")
    plugins.register(plugins.DEPTH_SOURCES, "old-style", "motionworld.geometry.depth:PriorDepth.Options")
    plugins.register(plugins.STAGES, "gone", "a_package_not_installed:Stage")
    helped = build_parser().format_help() + build_parser()._subparsers._group_actions[0].choices["render"].format_help()
    assert "gpu-only: (does not load: backend 'gpu-only' (a_package_not_installed:Generator) does not load" in \
        " ".join(helped.split())
    assert main(["validate", str(GARDEN / "scene.yaml")]) == 0
    assert main(["render", "garden", "--backend", "gpu-only", "--seconds", "1", "-o", str(tmp_path / "x.mp4")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        "error: backend 'gpu-only' (a_package_not_installed:Generator) does not load: ModuleNotFoundError")
    from motionworld.train.config import config_model

    assert "gone" not in config_model().model_fields  # the other stages' configs still load


def test_ship_and_plot_are_not_stage_names():
    with pytest.raises(MotionWorldError, match="'ship' is taken"):
        plugins.register(plugins.STAGES, "ship", object)


def test_a_growing_window_is_kept_in_the_session_spec_a_log_replays(tmp_path):
    import motionworld as mw

    session = mw.Session(str(GARDEN / "scene.yaml"), backend="warp", max_size=None)
    assert session.spec["options"] == {"max_size": None}  # None is an option too (here: the scene's own size)
