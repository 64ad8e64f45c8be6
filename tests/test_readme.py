"""The README is a guide whose examples run as written, whose links resolve, and whose Layout is
true; the examples moved to docs/ run too."""
import re
import shlex

import pytest
import yaml

from tests.conftest import ROOT

DOCS = sorted((ROOT / "docs").glob("*.md"))


def _python_blocks(text: str) -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))


def _run(code: str, name: str, tmp_path, monkeypatch) -> None:
    code = code.replace('"photo.jpg"', repr(str(ROOT / "scenes/plaza/plaza.png")))
    code = code.replace('"scenes/', '"' + str(ROOT) + '/scenes/')
    monkeypatch.chdir(tmp_path)
    exec(compile(code, name, "exec"), {})


def test_readme_python_examples_run(tmp_path, monkeypatch):
    code = _python_blocks((ROOT / "README.md").read_text())
    assert "mw.World" in code and "mw.Session" in code
    _run(code, "README.md", tmp_path, monkeypatch)
    assert (tmp_path / "camera_path.json").is_file()
    assert (tmp_path / "forward.mp4").stat().st_size > 0  # a video written from Python


@pytest.mark.parametrize("page", [p for p in DOCS if "```python" in p.read_text()], ids=lambda p: p.name)
def test_docs_python_examples_run(page, tmp_path, monkeypatch):
    _run(_python_blocks(page.read_text()), f"docs/{page.name}", tmp_path, monkeypatch)


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_the_garden_the_readme_shows_is_the_real_file_and_its_defaults_are_the_schemas():
    from motionworld.scene_schema import ControlsSpec, GeneratorSpec

    assert _blocks("yaml")[0] == (ROOT / "scenes" / "garden" / "scene.yaml").read_text()
    defaults = yaml.safe_load(_blocks("yaml")[1])
    assert GeneratorSpec(**defaults["generator"]) == GeneratorSpec()
    assert ControlsSpec(**defaults["controls"]) == ControlsSpec()
    assert set(defaults["generator"]) == set(GeneratorSpec.model_fields) - {"weights", "resolution"}


def _commands() -> list[str]:
    """Every `motionworld ...` line of the README's shell blocks, continuation lines joined."""
    out = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("motionworld "):
                out.append(line)
    return out


def test_every_command_the_readme_shows_parses():
    """Each shown command names a real subcommand and options with values they accept (parsed, not run)."""
    from motionworld.cli import build_parser as parser

    commands = _commands()
    assert len(commands) > 20
    for line in commands:
        try:
            parser().parse_args(shlex.split(re.sub(r"(^|\s)\[|\](\s|$)", r"\1\2", line))[1:])  # [optional] parts too
        except SystemExit:
            pytest.fail(f"README: {line!r} does not parse")


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_relative_links_resolve(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if "://" not in target:
            assert (page.parent / target).exists(), f"{page.name}: link to {target} does not resolve"


def test_the_layout_section_is_true():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Layout\n.*?```\n(.*?)```", text, re.S).group(1)
    named = set(re.findall(r"(?:[\w.]+/)+(?:[\w.]+\.py)?|[\w.]+\.py", block))
    for name in named:  # every file and folder named exists, at the top or inside motionworld/
        assert (ROOT / name).exists() or (ROOT / "motionworld" / name).exists(), f"Layout names {name}"
    packages = {p.parent.name + "/" for p in (ROOT / "motionworld").glob("*/__init__.py")}
    modules = {p.name for p in (ROOT / "motionworld").glob("*.py")} - {"__init__.py", "__main__.py"}
    assert packages | modules <= named, f"Layout leaves out {sorted((packages | modules) - named)}"
