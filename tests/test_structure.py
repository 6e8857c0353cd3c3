"""The package's import graph: data flows one way, no module imports one that imports it back.

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``. Only the
lazy re-exports of ``dockercreds/__init__.py`` (the package's front door) are left out, since
nothing inside the package imports the package root for its own use.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dockercreds"


def _module_name(path: Path) -> str:
    return path.stem


def _imports(path: Path) -> Set[str]:
    """Sibling modules imported anywhere in the file (relative or absolute)."""
    names: Set[str] = set()
    siblings = {p.stem for p in PACKAGE.glob("*.py")}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                names.add(node.module.split(".")[0])
            elif node.level == 1:
                names.update(a.name for a in node.names if a.name in siblings)
            elif node.level == 0 and node.module and node.module.startswith("dockercreds."):
                names.add(node.module.split(".")[1])
            elif node.level == 0 and node.module == "dockercreds":
                names.update(a.name for a in node.names if a.name in siblings)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("dockercreds."):
                    names.add(alias.name.split(".")[1])
    return {n for n in names if n in siblings and n != "__init__"}


def import_graph() -> Dict[str, Set[str]]:
    return {
        _module_name(p): _imports(p)
        for p in sorted(PACKAGE.glob("*.py"))
        if p.name != "__init__.py"
    }


def find_cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One import cycle as a path ``[a, b, ..., a]``, or ``[]`` when the graph is acyclic."""
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return []


def test_no_import_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert not cycle, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize(
    ("graph", "cyclic"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, False),
        ({"a": {"b"}, "b": {"a"}}, True),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
        ({"a": {"a"}}, True),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, False),
    ],
)
def test_find_cycle(graph: Dict[str, Set[str]], cyclic: bool) -> None:
    assert bool(find_cycle(graph)) is cyclic


def test_graph_sees_imports_inside_functions_and_type_checking() -> None:
    graph = import_graph()
    # cli.py imports everything lazily inside functions; an empty entry would mean the
    # walker missed them.
    assert "resolver" in graph["cli"]


def test_resolver_has_no_write_path() -> None:
    """resolver.py answers lookups; writing accounts lives in accounts.py."""
    graph = import_graph()
    assert not graph["resolver"] & {"writer", "fileio", "accounts", "migrate"}
    tree = ast.parse((PACKAGE / "resolver.py").read_text(encoding="utf-8"))
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert not defined & {"login", "logout", "verify_login"}
