"""What the project ships, found as package data (importlib.resources), so an installed copy works
without the repository: the scenes (`scenes/` at the repository's top) and the trained student
(`weights/`). The build maps those folders into this package (see setup.py)."""
from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path


def _folder(name: str) -> Path:
    # Installed (wheel or editable), the folders are subpackages' data; as_file gives a real path
    # (our installs are plain folders, so no temporary copy is made or left behind).
    with as_file(files(f"{__name__}.{name}")) as path:
        return Path(path)


def scenes_folder() -> Path:
    return _folder("scenes")


def weights_folder() -> Path:
    return _folder("weights")
