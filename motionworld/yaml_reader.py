"""Reading YAML data files (scenes, path files, training configs) with the safe loader, parsed once:
the node tree (for locating problems by line) and the data are built from the same parse. A file
nested deeper than MAX_NESTING, an alias that contains itself, or aliases that expand to more than
MAX_YAML_VALUES values are refused before any data is built from them."""
from __future__ import annotations

from typing import Any

import yaml

from .limits import MAX_NESTING, MAX_YAML_VALUES


class YAMLReadError(ValueError):
    """Text that is not YAML we accept; `line` (1-based) where known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def read_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """(data, root node); (None, None) for an empty document."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        _check_structure(root)
        return (loader.construct_document(root) if root is not None else None), root
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise YAMLReadError(f"invalid YAML: {problem}", mark.line + 1 if mark is not None else None) from None
    except RecursionError:  # the composer recurses per level: a few hundred levels exhaust the stack
        raise YAMLReadError(f"nested deeper than {MAX_NESTING} levels") from None
    finally:
        loader.dispose()


def _check_structure(root) -> None:
    """Refuse, before anything is built from it, YAML nested deeper than MAX_NESTING, an alias
    that contains itself, or aliases that expand to more than MAX_YAML_VALUES values (a "billion
    laughs" file is small on disk but would take hours to validate). Iterative: no recursion."""
    if root is None:
        return
    done: dict[int, tuple[int, int]] = {}  # id(node) -> (values it expands to, height); aliases share nodes
    on_path: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key, kids = id(node), _children(node)
        if children_done:
            on_path.discard(key)
            size = 1 + sum(done[id(k)][0] for k in kids)
            height = 1 + max((done[id(k)][1] for k in kids), default=0)
            if size > MAX_YAML_VALUES:
                raise _error_at(f"expands to more than {MAX_YAML_VALUES:,} values (YAML aliases)", node)
            if height > MAX_NESTING:
                raise _error_at(f"nested deeper than {MAX_NESTING} levels", node)
            done[key] = (size, height)
        elif key in on_path:
            raise _error_at("an alias refers to a node that contains it", node)
        elif key not in done:
            on_path.add(key)
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in done)


def _children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [x for pair in node.value for x in pair]
    return []


def _error_at(message: str, node) -> YAMLReadError:
    return YAMLReadError(message, node.start_mark.line + 1)
