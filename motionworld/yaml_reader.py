"""Reading YAML data files (scenes, path files, training configs) with the safe loader, parsed once:
the node tree (for locating problems by line) and the data are built from the same parse. A file
nested deeper than MAX_NESTING, or holding more than MAX_YAML_VALUES values with its aliases
expanded (one that contains itself never ends), is refused before any data is built from it."""
from __future__ import annotations

from typing import Any

import yaml

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
    except (ValueError, KeyError) as e:  # a value the safe constructor refuses (!!int abc, 2020-02-30)
        raise YAMLReadError(f"invalid YAML value: {e}") from None
    except RecursionError:  # the composer recurses per level: a few hundred levels exhaust the stack
        raise YAMLReadError(f"nested deeper than {MAX_NESTING} levels") from None
    finally:
        loader.dispose()


def _check_structure(root) -> None:
    """Refuse, before anything is built from it, YAML nested deeper than MAX_NESTING or holding
    more than MAX_YAML_VALUES values once its aliases are expanded (a "billion laughs" file is
    small on disk but would take hours to validate; an alias inside itself never ends). One
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
            for k, v in value:
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        else:
            stack.extend((v, depth + 1) for v in value)


def _error_at(message: str, node) -> YAMLReadError:
    return YAMLReadError(message, node.start_mark.line + 1)
