"""Every public name (`motionworld.__all__`) has a docstring that says what it is, names each of its
arguments in backticks and, for a function that returns something, says what it returns."""
import ast
import inspect
import re
import textwrap

import pytest

import motionworld as mw

NAMES = [name for name in mw.__all__ if not inspect.ismodule(getattr(mw, name))]


def _own_doc(obj) -> str:
    """The docstring written for `obj` itself: not inherited, not the one dataclasses make up."""
    doc = obj.__doc__ or ""
    if inspect.isclass(obj) and doc.startswith(f"{obj.__name__}("):  # dataclass: "Name(field: type, ...)"
        return ""
    return inspect.cleandoc(doc)


def _init(cls):
    """The class's own Python __init__ (a dataclass's included), or None where it inherits a builtin one."""
    init = getattr(cls, "__init__", None)
    return init if inspect.isfunction(init) else None


def _parameters(func) -> list[str]:
    return [p for p in inspect.signature(func).parameters if p not in ("self", "cls")]


def _returns_value(func) -> bool:
    """A return annotation other than None, or a `return <value>` in the function's own body."""
    annotation = inspect.signature(func).return_annotation
    if annotation not in (inspect.Signature.empty, None, "None"):
        return True
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    body = tree.body[0]
    stack = list(body.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # a nested function's returns are its own
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


@pytest.mark.parametrize("name", NAMES)
def test_public_name_is_documented(name):
    obj = getattr(mw, name)
    doc = _own_doc(obj)
    assert doc.strip(), f"mw.{name} has no docstring"
    if inspect.isclass(obj):
        init = _init(obj)
        if init is not None and "__init__" in vars(obj):
            doc += "\n" + _own_doc(init)
        params = _parameters(init) if init is not None else []
    else:
        params = _parameters(obj)
    missing = [p for p in params if f"`{p}`" not in doc]
    assert not missing, f"mw.{name}'s docstring does not name its argument(s) {', '.join(missing)} (in backticks)"
    if inspect.isfunction(obj) and _returns_value(obj):
        assert re.search(r"\breturns?\b", doc, re.I), f"mw.{name} returns a value but its docstring does not say what"
