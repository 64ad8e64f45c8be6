"""Strict YAML data files (scenes, path files, training configs, depth options): reading and
validating, with every problem located as `file:line: key.path: message`.

Reading: the safe loader, parsed once; the node tree (for locating problems by line) and the data
are built from the same parse. A file nested deeper than MAX_NESTING, or holding more than
MAX_YAML_VALUES values with its aliases expanded (one that contains itself never ends), is refused
before any data is built from it, and so is a mapping that holds one key twice.

Validating: schemas derive from `StrictModel` (unknown keys rejected, numbers finite);
`validation_problems` turns pydantic's errors into located problems, with a 'did you mean' hint for
a misspelt key."""
from __future__ import annotations

import difflib
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import Problem
from .limits import MAX_NESTING, MAX_YAML_VALUES

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where PyYAML has it (2-3x faster)


class YAMLReadError(ValueError):
    """Text that is not YAML we accept; `line` (1-based) where known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def read_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """(data, root node); (None, None) for an empty document."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        _check_structure(root)
        return (loader.construct_document(root) if root is not None else None), root
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        if "maximum nesting depth" in problem:  # libyaml's own guard, met before ours
            raise YAMLReadError(f"nested deeper than {MAX_NESTING} levels", mark.line + 1 if mark else None) from None
        raise YAMLReadError(f"invalid YAML: {problem}", mark.line + 1 if mark is not None else None) from None
    except YAMLReadError:
        raise
    except (ValueError, KeyError) as e:  # a value the safe constructor refuses (!!int abc, 2020-02-30)
        raise YAMLReadError(f"invalid YAML value: {e}") from None
    except RecursionError:  # the composer recurses per level: a few hundred levels exhaust the stack
        raise YAMLReadError(f"nested deeper than {MAX_NESTING} levels") from None
    finally:
        loader.dispose()


def _check_structure(root) -> None:
    """Refuse, before anything is built from it, YAML nested deeper than MAX_NESTING or holding
    more than MAX_YAML_VALUES values once its aliases are expanded (a "billion laughs" file is
    small on disk but would take hours to validate; an alias inside itself never ends), or a
    mapping with a key twice (the later would win without a word). One
    iterative walk that revisits shared nodes, stopped at the limit: no recursion, no memo."""
    if root is None:
        return
    stack, count = [(root, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_YAML_VALUES:
            raise _error_at(f"holds more than {MAX_YAML_VALUES:,} values (with its aliases expanded)", node)
        value = node.value
        if not isinstance(value, list):  # a scalar
            continue
        if depth >= MAX_NESTING and value:
            raise _error_at(f"nested deeper than {MAX_NESTING} levels", node)
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for k, v in value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    # YAML forbids it and the loader would keep the later value in silence
                    if k.value in seen:
                        raise _error_at(f"key {k.value!r} appears twice in one mapping "
                                        f"(first at line {seen[k.value]}); keep one", k)
                    seen[k.value] = k.start_mark.line + 1
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        else:
            stack.extend((v, depth + 1) for v in value)


def _error_at(message: str, node) -> YAMLReadError:
    return YAMLReadError(message, node.start_mark.line + 1)


# --- strict validation against a schema ----------------------------------------------------------
class StrictModel(BaseModel):
    """Base of every schema read from a data file: unknown keys are errors, numbers are finite."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


Loc = tuple


def key_path(loc: Loc, root: yaml.Node | None) -> tuple[str, int | None]:
    """'objects[0].path.keyframes[2].t' and the line of the deepest YAML node found for `loc`.

    Schema shorthands (a list where the schema has {segments: [...]}) make some loc entries absent
    from the file: a name entry met while standing on a non-mapping node is skipped.
    """
    text, node, line = "", root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            if isinstance(node, yaml.SequenceNode) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                node = None
            continue
        if node is not None and not isinstance(node, yaml.MappingNode):
            continue
        text += ("." if text else "") + str(part)
        found = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    found = (k, v)
                    break
        if found is None:
            node = None
            continue
        line = found[0].start_mark.line + 1
        node = found[1]
    return text, line


def field_names(model: type[BaseModel], seen=None) -> set[str]:
    """Every key a schema knows, nested models included: the vocabulary of 'did you mean'."""
    seen = set() if seen is None else seen
    names = set()
    if model in seen:
        return names
    seen.add(model)
    for name, f in model.model_fields.items():
        names.add(name)
        for arg in _types_in(f.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                names |= field_names(arg, seen)
    return names


def _types_in(annotation) -> list:
    args = getattr(annotation, "__args__", None)
    if not args:
        return [annotation]
    out = []
    for a in args:
        out += _types_in(a)
    return out


def _message(err: dict, known: set[str]) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        close = difflib.get_close_matches(key, sorted(known), n=1)
        return "unknown key" + (f" (did you mean '{close[0]}'?)" if close else "")
    if kind == "missing":
        return "required key is missing"
    if kind == "finite_number":
        return "must be a finite number (got NaN or infinity)"
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    msg = msg.replace("Input should be", "must be").replace("Input should have", "must have")
    value = err.get("input")
    shown = isinstance(value, (str, int, float, bool)) and len(repr(value)) < 40
    if kind not in ("model_type", "dict_type", "list_type") and shown:
        msg += f" (got {value!r})"
    return msg


def validation_problems(e: ValidationError, file: str, root: yaml.Node | None, prefix: Loc = (),
                        known: set[str] = frozenset()) -> list[Problem]:
    """A schema's ValidationError as `file:line: key.path: message` problems, one per error.
    `prefix` is where the validated data sits in the file; `known` the keys 'did you mean' offers."""
    out = []
    for err in e.errors():
        text, line = key_path(prefix + tuple(err["loc"]), root)
        out.append(Problem(file, line, text, _message(err, known)))
    return out
