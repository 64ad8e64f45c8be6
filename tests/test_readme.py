"""The README's Python examples run as written (a photo and an output file swapped for local ones)."""
import re

from tests.conftest import ROOT


def test_readme_python_examples_run(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))
    assert "mw.World" in code
    code = code.replace('"photo.jpg"', repr(str(ROOT / "scenes/plaza/plaza.png")))
    code = code.replace('"scenes/', '"' + str(ROOT) + '/scenes/')
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "camera_path.json").is_file()
