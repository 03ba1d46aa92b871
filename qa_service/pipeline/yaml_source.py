"""YAML data files read with the line of every value, for ``file:line`` errors: the packaged
file of a kind (``qa_service/data/<name>``) and a corpus folder's own, which extends it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path

import yaml

_DEFINE = re.compile(r"\{\{(\w+)\}\}")


def sources(
    file_name: str, corpus_dir: Path | None, error: Callable[[list[str]], Exception]
) -> list[tuple[str, str]]:
    """(text, name for errors) of the packaged ``file_name``, then of ``corpus_dir``'s when
    it has one; a corpus file that cannot be read raises ``error``."""
    packaged = resources.files("qa_service").joinpath("data", file_name).read_text("utf-8")
    out = [(packaged, f"qa_service/data/{file_name}")]
    if corpus_dir is not None and (corpus_dir / file_name).is_file():
        path = corpus_dir / file_name
        try:
            out.append((path.read_text("utf-8"), f"{corpus_dir.name}/{file_name}"))
        except (OSError, UnicodeDecodeError) as exc:
            raise error([f"{path}:1: cannot read: {exc}"]) from None
    return out


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


def expand(
    pattern: str, defines: Mapping[str, str], at: str, problems: list[str], flags: int = 0
) -> str:
    """``pattern`` with each ``{{name}}`` replaced by its define; an unknown name or a result
    that does not compile is added to ``problems`` as ``at: ...``."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in defines:
            problems.append(f"{at}: '{{{{{m.group(1)}}}}}' is not defined under 'defines'")
            return ""
        return defines[m.group(1)]

    out = _DEFINE.sub(sub, pattern)
    try:
        re.compile(out, flags)
    except re.error as exc:
        problems.append(f"{at}: pattern does not compile: {exc}")
    return out
