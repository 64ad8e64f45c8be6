"""The folders show the data flow: every module imports only from its own layer or one below it, and
`train/` and `eval/` never import each other. Read from the source with ast, so a violation names
the file and line without importing anything."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("motionworld", "controllers")

# Layer of a module: the first entry whose name is the module or a package above it.
LAYER_OF = {
    "motionworld.errors": "base", "motionworld.limits": "base", "motionworld.checksums": "base",
    "motionworld.outputs": "base", "motionworld.inputs": "base", "motionworld.images": "base",
    "motionworld.strict_json": "base",
    "motionworld.strict_yaml": "base", "motionworld.video": "base", "motionworld.plugins": "base",
    "motionworld.frames": "base", "motionworld.arguments": "base",
    "motionworld.depth_files": "core",
    "motionworld.model": "model",
    "motionworld.geometry": "core", "motionworld.raster": "core", "motionworld.metrics": "core",
    "motionworld.scene": "core", "motionworld.scene_schema": "core", "motionworld.picture_scene": "core",
    "motionworld.world": "core",
    "motionworld.backends": "core", "motionworld.shipped": "core",
    "motionworld.data": "data",
    "motionworld.train": "train",
    "motionworld.eval": "eval",
    "controllers": "controllers",
    "motionworld.play": "play",
    "motionworld.cli": "top", "motionworld.__main__": "top", "motionworld": "top",
}
# What each layer may import (besides itself). train and eval are siblings: neither sees the other.
MAY_IMPORT = {
    "base": set(),
    "model": {"base"},
    "core": {"base", "model"},
    "data": {"base", "model", "core"},
    "train": {"base", "model", "core", "data"},
    "eval": {"base", "model", "core", "data"},
    "controllers": {"base", "core"},
    "play": {"base", "model", "core", "controllers"},
    "top": set(LAYER_OF.values()),
}
# Third-party libraries slow or display-bound enough that a module may import a project module
# inside a function to keep them out of its own import (`import motionworld` stays light).
HEAVY = {"torch", "moderngl", "pygame", "cv2", "diffusers", "transformers", "gymnasium", "imageio", "safetensors"}


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = modules()


def layer(name: str) -> str:
    for prefix in sorted(LAYER_OF, key=len, reverse=True):
        if name == prefix or name.startswith(prefix + "."):
            return LAYER_OF[prefix]
    raise AssertionError(f"{name}: no layer; add it to LAYER_OF in tests/test_layers.py")


@cache  # every module's imports are read once: the transitive walks below ask for them again and again
def imports(name: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, at module level) for each import in `name`."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            found = [n for n in names if n in MODULES] or [target]
        elif isinstance(node, ast.Import):
            found = [a.name for a in node.names]
        else:
            continue
        for target in found:
            if target.split(".")[0] in PACKAGES:
                out.append((target, node.lineno, node.col_offset == 0))
    return out


@cache
def third_party_top(name: str) -> set[str]:
    """Top-level names of the libraries `name` imports at module level."""
    path = MODULES[name]
    out = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.add(node.module.split(".")[0])
    return out - set(PACKAGES)


@cache
def heavy_on_import(name: str) -> frozenset[str]:
    """The heavy libraries importing `name` loads: its own, its packages', and those of every project
    module it imports at module level, transitively."""
    seen, todo, heavy = set(), [name], set()
    while todo:
        m = todo.pop()
        chain = m.split(".")
        for i in range(1, len(chain) + 1):  # importing a.b.c runs a, a.b and a.b.c
            part = ".".join(chain[:i])
            if part in MODULES and part not in seen:
                seen.add(part)
                heavy |= third_party_top(part) & HEAVY
                todo += [t for t, _, top in imports(part) if top]
    return frozenset(heavy)


def test_every_module_has_a_layer():
    for name in MODULES:
        layer(name)


def test_imports_go_only_down_a_layer_and_never_across_train_and_eval():
    wrong = []
    for name, path in MODULES.items():
        here = layer(name)
        for target, line, _ in imports(name):
            there = layer(target)
            if there != here and there not in MAY_IMPORT[here]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {here} layer imports {target} ({there} layer)")
    assert not wrong, "\n".join(wrong)


def test_imports_inside_functions_only_keep_heavy_libraries_out():
    """An import inside a function is for a lighter import of its module (torch, GL, pygame loaded
    only when used); one that keeps nothing heavy out belongs at the top of the file."""
    wrong = []
    for name, path in MODULES.items():
        own = heavy_on_import(name)
        for target, line, top in imports(name):
            if not top and not heavy_on_import(target) - own:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {target} keeps nothing heavy out; import it at the top")
    assert not wrong, "\n".join(wrong)


def test_the_checks_catch_what_they_are_for(tmp_path):
    """The import walk itself: a relative import from a module resolves to the module it names."""
    assert ("motionworld.errors", 1, True) in [(t, 1, top) for t, _, top in imports("motionworld.limits")]
    assert layer("motionworld.train.trainer") == "train" and layer("motionworld.data.synth.raster") == "data"
    assert "eval" not in MAY_IMPORT["train"] and "train" not in MAY_IMPORT["eval"]
    assert "torch" in heavy_on_import("motionworld.model.student")
    assert not heavy_on_import("motionworld.geometry.camera")
