"""The README is a guide whose examples run as written, whose links resolve, and whose Layout is
true; the examples moved to docs/ run too."""
import re

import pytest

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


@pytest.mark.parametrize("page", [p for p in DOCS if "```python" in p.read_text()], ids=lambda p: p.name)
def test_docs_python_examples_run(page, tmp_path, monkeypatch):
    _run(_python_blocks(page.read_text()), f"docs/{page.name}", tmp_path, monkeypatch)


def test_readme_is_a_guide_of_at_most_450_lines():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 450
    headings = [line[3:] for line in lines if line.startswith("## ")]
    assert headings == ["Set-up", "Playing", "Command line", "Scenes", "Python API", "The model in one screen",
                        "Training", "Evaluation", "Layout"]


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
