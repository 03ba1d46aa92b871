"""YAML data files read with the line of every value, for ``file:line`` errors."""

from __future__ import annotations

from collections.abc import Callable

import yaml


def compose(text: str, name: str, error: Callable[[list[str]], Exception]) -> yaml.Node | None:
    """The document's node tree (None when empty); invalid YAML raises ``error`` with one
    ``name:line: not valid YAML`` problem."""
    try:
        return yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise error([f"{name}:{line}: not valid YAML: {exc}"]) from None


def where(name: str, node: yaml.Node) -> str:
    """``name:line`` of ``node``."""
    return f"{name}:{node.start_mark.line + 1}"
