"""The bounded readers themselves (issue 10 items 1 and 7): what they accept stays accepted, brackets inside
strings do not count as nesting, and the limits are where they say."""

from __future__ import annotations

import pytest

from ignkit.docread import MAX_DEPTH, DocumentError, json_depth, loads_json
from ignkit.yamlfile import MAX_NODES, BudgetError, load_json_or_yaml, load_yaml


def test_json_depth_ignores_brackets_in_strings() -> None:
    deep_text = '"' + "[" * 1000 + '\\"' + "{" * 1000 + '"'
    doc = "[" * 5 + deep_text + "]" * 5
    assert json_depth(doc) == 5
    assert loads_json(doc)[0][0][0][0][0].startswith("[[[")


def test_json_limit_is_exact() -> None:
    assert loads_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(DocumentError, match=f"nested deeper than {MAX_DEPTH} levels"):
        loads_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(ValueError):  # DocumentError is a ValueError, like json's own errors
        loads_json("[" * 100000)


def test_yaml_aliases_within_budget_are_fine() -> None:
    doc = load_yaml("a: &a [1, 2, 3]\nb: *a\nc: {<<: {x: 1}}\n")
    assert doc == {"a": [1, 2, 3], "b": [1, 2, 3], "c": {"x": 1}}


def test_yaml_billion_laughs_and_self_reference_refused() -> None:
    lines = ["a: &a [" + ", ".join(["lol"] * 9) + "]"]
    for p, q in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{q}: &{q} [" + ", ".join(["*" + p] * 9) + "]")
    with pytest.raises(BudgetError, match=f"more than {MAX_NODES} nodes"):
        load_yaml("\n".join(lines))
    with pytest.raises(BudgetError, match="refers to a node that contains it"):
        load_yaml("a: &a [1, *a]\n")
    with pytest.raises(DocumentError, match="nested deeper"):
        load_json_or_yaml(b"x: " + b"[" * 5000, "doc")
