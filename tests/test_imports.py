"""The package's import graph runs one way: the runtime (API, pipeline, index, storage) never
imports the tooling (evaluation, bench, tuning, commands), and no two modules import each
other, directly or round a loop.

Imports inside functions count like any other, so none can hide a cycle: the CLI's commands
import their work where they run only so that ``qa-service --help`` starts fast. Imports under
``if TYPE_CHECKING:`` are for annotations only and do not count."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "qa_service"
TOOLING = ("evaluation", "bench", "commands", "review", "tuning", "cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> list[tuple[str, bool, int]]:
    """(imported qa_service module, inside a function, line) for each import in the file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: list[tuple[str, bool, int]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.startswith("qa_service"):
                    names = [f"{target}.{a.name}" for a in child.names]
                    out.append((target, in_function, child.lineno))
                    out.extend((n, in_function, child.lineno) for n in names)
            elif isinstance(child, ast.Import):
                for a in child.names:
                    if a.name.startswith("qa_service"):
                        out.append((a.name, in_function, child.lineno))
            visit(child, nested)

    visit(ast.parse(path.read_text("utf-8")), False)
    return out


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _part(module: str) -> str:
    """The top-level part a module belongs to: ``qa_service.storage.sqlite`` -> ``storage``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _graph() -> dict[str, dict[str, list[str]]]:
    """Module -> the package modules it imports (known ones only) -> where."""
    modules = _modules()
    graph: dict[str, dict[str, list[str]]] = {}
    for name, path in modules.items():
        edges: dict[str, list[str]] = {}
        for target, _, line in _imports(path):
            if target in modules and target != name:
                edges.setdefault(target, []).append(f"{path.relative_to(PACKAGE.parent)}:{line}")
        graph[name] = edges
    return graph


def test_the_runtime_never_imports_the_tooling() -> None:
    bad = [
        f"{where}: {module} imports {target}"
        for module, edges in _graph().items()
        if _part(module) not in TOOLING
        for target, wheres in edges.items()
        if _part(target) in TOOLING
        for where in wheres
    ]
    assert bad == [], "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_the_tooling_parts_form_no_cycle() -> None:
    parts: dict[str, set[str]] = {}
    for module, edges in _graph().items():
        for target in edges:
            a, b = _part(module), _part(target)
            if a != b and a in TOOLING and b in TOOLING:
                parts.setdefault(a, set()).add(b)
    assert _cycles(parts) == []


def test_no_module_cycles_even_through_imports_in_functions() -> None:
    graph = {m: set(edges) for m, edges in _graph().items()}
    # A package's __init__ re-exporting its modules is not a cycle of the design.
    for m in graph:
        graph[m] = {t for t in graph[m] if not m.startswith(t + ".")}
    assert _cycles(graph) == []


def test_the_pipeline_sits_below_the_service() -> None:
    """The stages read the index and the corpus records; the service, the API, storage and
    replicas compose them, never the other way round."""
    allowed = {"pipeline", "index", "corpus", "pii"}
    bad = [
        f"{where}: {module} imports {target}"
        for module, edges in _graph().items()
        if _part(module) == "pipeline"
        for target, wheres in edges.items()
        if _part(target) not in allowed
        for where in wheres
    ]
    assert bad == [], "\n".join(bad)
