"""The repository stays clean to work in: `make clean` removes only what a run made."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _clean_targets() -> list[str]:
    text = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^clean:.*\n((?:\t.*\n)+)", text, re.M).group(1)
    out = []
    for line in recipe.splitlines():
        words = line.split()
        if words[:2] == ["rm", "-rf"]:
            out += [w.replace("$(VENV)", ".venv") for w in words[2:]]
    return out


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_make_clean_deletes_nothing_tracked():
    targets = _clean_targets()
    assert ".venv" in targets and "captures" in targets
    tracked = subprocess.run(["git", "ls-files", "--", *targets], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert tracked == [], f"make clean would delete tracked files: {tracked[:5]}"
