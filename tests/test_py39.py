"""ignkit runs on RHEL 9's Python 3.9: no newer syntax, and no runtime use of `X | Y` annotations."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ignkit"
FILES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_parses_as_python_39(path: Path) -> None:
    source = path.read_text()
    tree = ast.parse(source, filename=str(path), feature_version=(3, 9))
    uses_pipe_annotation = any(
        isinstance(node, (ast.arg, ast.AnnAssign, ast.FunctionDef, ast.AsyncFunctionDef))
        and any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr)
                for ann in _annotations(node) for n in ast.walk(ann))
        for node in ast.walk(tree)
    )
    if uses_pipe_annotation:
        assert "from __future__ import annotations" in source, f"{path}: `X | Y` annotations need the future import"


def _annotations(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.arg):
        return [node.annotation] if node.annotation else []
    if isinstance(node, ast.AnnAssign):
        return [node.annotation]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [node.returns] if node.returns else []
    return []
