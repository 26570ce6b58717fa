"""ignkit.ignition.merge.merge: Ignition's structure merge, checked against upstream's own merge cases."""

from __future__ import annotations

import copy
import json
import urllib.parse

import pytest
from conftest import IGN_FIXTURES

from ignkit.errors import IgnkitError
from ignkit.ignition.merge import merge
from ignkit.ignition.resolve import resolve

CASES = [json.loads(line) for line in (IGN_FIXTURES / "merge-cases.jsonl").read_text().splitlines() if line.strip()]
UNIT = [c for c in CASES if c["kind"] == "upstream-unit"]
RENDER = [c for c in CASES if c["kind"] == "runtime-render"]


def data_url(config: dict) -> str:
    return "data:," + urllib.parse.quote(json.dumps(config), safe="")


def prune(value):
    """Drop nulls, empty objects and empty lists (how the fixture's expected results are written)."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def test_fixture_has_cases():
    assert len(UNIT) >= 13 and len(RENDER) >= 18
    assert len(UNIT) + len(RENDER) == len(CASES)  # every case of the fixture runs below


@pytest.mark.parametrize("case", UNIT, ids=[c["name"] for c in UNIT])
def test_upstream_unit_case(case):
    parent, children = copy.deepcopy(case["parent"]), copy.deepcopy(case["children"])
    result = merge(parent, *children)
    assert prune(result) == case["expected"]
    # inputs untouched
    assert parent == case["parent"] and children == case["children"]


@pytest.mark.parametrize("case", RENDER, ids=[c["name"] for c in RENDER])
def test_runtime_render_case(case):
    """The children go into the parent's ignition.config.merge as data: URLs, as Ignition would fetch them."""
    parent = copy.deepcopy(case["parent"])
    refs = [{"source": data_url(child)} for child in case["children"]]
    if refs:
        parent["ignition"].setdefault("config", {}).setdefault("merge", []).extend(refs)
    raw = json.dumps(parent).encode()
    if case.get("expected_error"):
        with pytest.raises(IgnkitError):
            resolve(raw)
        return
    result = resolve(raw)
    versions = [parent["ignition"]["version"]] + [c["ignition"]["version"] for c in case["children"]]
    assert result["ignition"].pop("version") == max(versions, key=lambda v: tuple(map(int, v.split("."))))
    assert "config" not in result["ignition"]  # references are flattened away
    assert prune(result) == case["expected"]


def test_child_scalar_false_and_empty_string_override():
    p = {"ignition": {"version": "3.3.0"}, "systemd": {"units": [{"name": "a.service", "enabled": True,
                                                                  "contents": "x"}]}}
    c = {"ignition": {"version": "3.3.0"}, "systemd": {"units": [{"name": "a.service", "enabled": False,
                                                                  "contents": ""}]}}
    assert merge(p, c)["systemd"]["units"] == [{"name": "a.service", "enabled": False, "contents": ""}]


def test_child_null_keeps_parent_and_nulls_are_dropped():
    p = {"storage": {"files": [{"path": "/a", "mode": 420, "overwrite": None}]}}
    c = {"storage": {"files": [{"path": "/a", "mode": None}]}}
    assert merge(p, c) == {"storage": {"files": [{"path": "/a", "mode": 420}]}}


def test_several_children_apply_in_order():
    p = {"storage": {"files": [{"path": "/a", "mode": 1}]}}
    c1 = {"storage": {"files": [{"path": "/a", "mode": 2}, {"path": "/b"}]}}
    c2 = {"storage": {"directories": [{"path": "/b"}], "files": [{"path": "/a", "mode": 3}]}}
    assert merge(p, c1, c2) == {"storage": {"files": [{"path": "/a", "mode": 3}],
                                            "directories": [{"path": "/b"}]}}
    assert merge(p, c1, c2) == merge(merge(p, c1), c2)


def test_link_displaces_parent_file_even_without_child_files_list():
    p = {"storage": {"files": [{"path": "/x"}, {"path": "/y"}], "links": [{"path": "/l", "target": "/t"}]}}
    c = {"storage": {"links": [{"path": "/x", "target": "/z"}]}}
    assert merge(p, c) == {"storage": {"files": [{"path": "/y"}],
                                       "links": [{"path": "/l", "target": "/t"}, {"path": "/x", "target": "/z"}]}}


def test_header_without_value_and_no_parent_match_is_kept():
    p = {"ignition": {"config": {"replace": {"source": "https://a/b", "httpHeaders": [{"name": "A", "value": "1"}]}}}}
    c = {"ignition": {"config": {"replace": {"httpHeaders": [{"name": "B"}]}}}}
    assert merge(p, c)["ignition"]["config"]["replace"]["httpHeaders"] == [{"name": "A", "value": "1"},
                                                                           {"name": "B"}]


def test_partition_number_and_label_do_not_match_each_other():
    p = {"storage": {"disks": [{"device": "/dev/sda", "partitions": [{"number": 1, "label": "root"}]}]}}
    c = {"storage": {"disks": [{"device": "/dev/sda", "partitions": [{"label": "root", "sizeMiB": 5}]}]}}
    parts = merge(p, c)["storage"]["disks"][0]["partitions"]
    assert parts == [{"number": 1, "label": "root"}, {"label": "root", "sizeMiB": 5}]


def test_unknown_members_merge_generically():
    p = {"x-extra": {"a": 1, "l": [1]}, "storage": {"files": [{"path": "/a", "x": 1}]}}
    c = {"x-extra": {"b": 2, "l": []}, "storage": {"files": [{"path": "/a", "x": 2}]}}
    assert merge(p, c) == {"x-extra": {"a": 1, "l": [1], "b": 2}, "storage": {"files": [{"path": "/a", "x": 2}]}}


def test_merge_of_nothing_is_a_copy():
    p = {"ignition": {"version": "3.4.0"}, "storage": {"files": [{"path": "/a"}]}}
    r = merge(p)
    assert r == p and r is not p
    r["storage"]["files"].append({"path": "/b"})
    assert p["storage"]["files"] == [{"path": "/a"}]


FAILING_RENDERS = [
    ("child invalid on its own",
     {"storage": {"files": [{"path": "/a"}]}}, [{"storage": {"files": [{"path": "relative"}]}}],
     "path not absolute"),
    ("file below a link of another config",
     {"storage": {"links": [{"path": "/l", "target": "/t"}]}}, [{"storage": {"files": [{"path": "/l/f"}]}}],
     "file path includes link in config"),
    ("partition number vs label do not merge",
     {"storage": {"disks": [{"device": "/dev/sda", "partitions": [{"number": 1, "label": "root"}]}]}},
     [{"storage": {"disks": [{"device": "/dev/sda", "partitions": [{"label": "root", "sizeMiB": 5}]}]}}],
     "cannot use the same partition label twice"),
    ("luks patch without device is invalid alone",
     {"storage": {"luks": [{"name": "r", "device": "/dev/sda2"}]}},
     [{"storage": {"luks": [{"name": "r", "label": "x"}]}}],
     "disk device is required"),
]


@pytest.mark.parametrize("name,parent,children,message", FAILING_RENDERS, ids=[f[0] for f in FAILING_RENDERS])
def test_render_must_fail(name, parent, children, message):
    from ignkit.errors import InvalidConfig

    def v(c):
        return {"ignition": {"version": "3.3.0"}, **c}

    p = v(copy.deepcopy(parent))
    p["ignition"]["config"] = {"merge": [{"source": data_url(v(c))} for c in children]}
    with pytest.raises(InvalidConfig, match=message):
        resolve(json.dumps(p).encode())
