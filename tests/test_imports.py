"""The module structure: every ignkit module imports on its own, and no ignkit modules import each other
in a cycle (counting imports inside functions too: a cycle hidden behind a late import is still one)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ignkit"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path) -> set[str]:
    """The ignkit modules ``name`` imports anywhere in its source, except under ``if TYPE_CHECKING:``.

    ``from P import x`` depends on module ``P.x`` when that is a module, and on ``P`` itself when some
    imported name is not a module (a name ``P/__init__.py`` defines).
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit_node(other)
            else:
                visit_node(child)

    def visit_node(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
        visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return {m for m in found if m in MODULES and m != name}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle in ``graph`` (``[a, b, ..., a]``), or [] when it is acyclic."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def walk(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = walk(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            found = walk(node)
            if found:
                return found
    return []


def test_the_graph_sees_imports_inside_functions_and_skips_type_checking(tmp_path: Path) -> None:
    """The checker itself: a late import counts, a TYPE_CHECKING one does not, cycles are found."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import outfile\n"
        "if TYPE_CHECKING:\n"
        "    from .fetch import fetch_bytes\n"
        "def f():\n"
        "    from .errors import InputError\n"
        "    from .live import initramfs, LiveIso\n"
    )
    assert _imports("ignkit.probe", source) == {"ignkit.outfile", "ignkit.errors", "ignkit.live.initramfs",
                                                  "ignkit.live"}
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


# Cycles that exist and are owned elsewhere, each to be broken by its package's owner: listed so that every
# other module stays checked, and checked to still exist so that the list cannot go stale.
KNOWN_CYCLES: set[frozenset[str]] = set()


def test_no_import_cycle_among_ignkit_modules() -> None:
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    assert graph["ignkit.ignition.resolve"] >= {"ignkit.ignition.merge", "ignkit.ignition.validate"}
    for known in KNOWN_CYCLES:
        found = _cycle({m: graph[m] & known for m in known if m in graph})
        assert found, f"{sorted(known)} no longer import each other: remove them from KNOWN_CYCLES"
        first, second = sorted(known)
        graph[first] = graph[first] - {second}  # cut one edge of the known cycle, keep the rest checked
    cycle = _cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    """Each module imports alone (no reliance on another having been imported first), all in one
    child interpreter per module."""
    script = (
        "import importlib, subprocess, sys\n"
        "bad = []\n"
        "for name in sys.argv[1:]:\n"
        "    r = subprocess.run([sys.executable, '-c', 'import ' + name], capture_output=True, text=True)\n"
        "    if r.returncode:\n"
        "        bad.append(name + ': ' + (r.stderr.strip().splitlines() or ['?'])[-1])\n"
        "print('\\n'.join(bad))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(PACKAGE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    names = [n for n in MODULES if n != "ignkit.__main__"]
    r = subprocess.run([sys.executable, "-c", script, *names], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""


@pytest.mark.parametrize("name", ["ignkit.ignition.versions", "ignkit.ignition.merge"])
def test_former_cycle_partners_no_longer_import_back(name: str) -> None:
    back = {"ignkit.ignition.versions": "ignkit.ignition.validate", "ignkit.ignition.merge": "ignkit.ignition.resolve"}
    assert back[name] not in _imports(name, MODULES[name])
