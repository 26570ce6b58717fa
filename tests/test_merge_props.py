"""Properties of merge() over generated configs: who wins a path, empty children, untouched inputs."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from ignkit.ignition.merge import merge

KINDS = ("files", "directories", "links")
PATHS = ["/a", "/b", "/c", "/d", "/e"]


@st.composite
def storage(draw):
    """A storage section whose paths are unique across files, directories and links (a valid config)."""
    chosen = draw(st.lists(st.sampled_from(PATHS), unique=True, max_size=len(PATHS)))
    out: dict = {}
    for path in chosen:
        kind = draw(st.sampled_from(KINDS))
        item: dict = {"path": path}
        if draw(st.booleans()):
            item["overwrite"] = draw(st.booleans())
        if kind != "links" and draw(st.booleans()):
            item["mode"] = draw(st.integers(0, 0o777))
        if kind == "links":
            item["target"] = "/t"
        out.setdefault(kind, []).append(item)
    return {"ignition": {"version": "3.3.0"}, "storage": out}


def kind_of(config: dict) -> dict:
    return {item["path"]: kind for kind in KINDS for item in config.get("storage", {}).get(kind, [])}


@settings(max_examples=200, deadline=None)
@given(storage(), storage())
def test_child_kind_wins_and_paths_stay_unique(parent, child):
    p0, c0 = copy.deepcopy(parent), copy.deepcopy(child)
    result = merge(parent, child)
    assert parent == p0 and child == c0
    seen = [item["path"] for kind in KINDS for item in result.get("storage", {}).get(kind, [])]
    assert len(seen) == len(set(seen))
    expected = {**kind_of(parent), **kind_of(child)}
    assert kind_of(result) == expected
    # fields: the child's value when it gives one, else the parent's (same kind only)
    by_path = {item["path"]: item for kind in KINDS for item in result.get("storage", {}).get(kind, [])}
    pk, ck = kind_of(parent), kind_of(child)
    for path, kind in expected.items():
        citem = next((i for i in child["storage"].get(kind, []) if i["path"] == path), {})
        pitem = next((i for i in parent["storage"].get(kind, []) if i["path"] == path), {}) \
            if pk.get(path) == kind else {}
        assert by_path[path] == {**pitem, **citem}
    # order: surviving parent items in parent order, then the child's new items in child order
    for kind in KINDS:
        plist = [i["path"] for i in parent["storage"].get(kind, [])]
        clist = [i["path"] for i in child["storage"].get(kind, [])]
        want = [q for q in plist if ck.get(q, kind) == kind] + [q for q in clist if q not in plist]
        assert [i["path"] for i in result.get("storage", {}).get(kind, [])] == want


@settings(max_examples=100, deadline=None)
@given(storage())
def test_empty_child_and_empty_lists_change_nothing(config):
    assert merge(config, {}) == config
    empty = {"ignition": {"version": "3.3.0"}, "storage": {k: [] for k in KINDS}}
    result = merge(config, empty)
    assert {k: v for k, v in result["storage"].items() if v} == config["storage"]
    assert merge({}, config) == config
