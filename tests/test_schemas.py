"""The JSON Schemas in schemas/: valid against their metaschema, editor-friendly, and their type
verdicts agree with ignkit's Go-style decoder on every fixture config."""

from __future__ import annotations

import decimal
import json
from typing import Any

import jsonschema
import pytest
from conftest import IGN_FIXTURES, REPO
from editor_schema import complaints

from ignkit.ignition.schema import field_tree, load_schema
from ignkit.ignition.validate import validate
from ignkit.ignition.versions import SUPPORTED

INT64 = (-(1 << 63), (1 << 63) - 1)


@pytest.mark.parametrize("spec", SUPPORTED)
def test_schema_is_valid_draft7_with_editor_metadata(spec: str) -> None:
    schema = load_schema(spec)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"].endswith(f"/ignition-{spec}.json")
    assert spec in schema["title"]
    for name, definition in schema["definitions"].items():
        assert definition.get("title") == name
        assert definition.get("description"), name
        for prop, sub in definition.get("properties", {}).items():
            assert "$ref" in sub or sub.get("description"), f"{name}.{prop} has no description"


def test_schema_files_are_the_generated_ones(tmp_path: Any) -> None:
    import subprocess
    import sys

    subprocess.run([sys.executable, str(REPO / "testdata" / "gen_schemas.py"), str(tmp_path)], check=True,
                   capture_output=True)
    for spec in SUPPORTED:
        name = f"ignition-{spec}.json"
        assert (tmp_path / name).read_text() == (REPO / "schemas" / name).read_text(), name


def test_schema_enums_follow_the_spec() -> None:
    fs = lambda spec: load_schema(spec)["definitions"]["Filesystem"]["properties"]["format"]["enum"]  # noqa: E731
    assert "none" not in fs("3.2.0") and "none" in fs("3.3.0")
    assert "virtiofs" not in fs("3.6.0") and "virtiofs" in fs("3.7.0-experimental")
    assert "luks" not in load_schema("3.1.0")["definitions"]["Storage"]["properties"]
    assert "cex" in load_schema("3.5.0")["definitions"]["Luks"]["properties"]
    assert "kernelArguments" in load_schema("3.3.0")["properties"]
    assert "kernelArguments" not in load_schema("3.2.0")["properties"]
    h = load_schema("3.0.0")["definitions"]["Verification"]["properties"]["hash"]["pattern"]
    assert "sha256" not in h


def test_field_trees_compile_for_every_version() -> None:
    for spec in SUPPORTED:
        root = field_tree(spec)
        assert root.order[0] == "ignition"
        files = root.fields["storage"].struct.fields["files"]  # type: ignore[union-attr]
        assert files.kind == "list" and files.item.struct.name == "File"  # type: ignore[union-attr]
        # Go field order: Node's fields (group, overwrite, path, user), then the file's own.
        assert files.item.struct.order == ["group", "overwrite", "path", "user",  # type: ignore[union-attr]
                                           "append", "contents", "mode"]


def _type_errors(validator: jsonschema.Draft7Validator, doc: Any) -> list[str]:
    out = []
    for err in validator.iter_errors(doc):
        if err.validator == "type":
            out.append(err.message)
        elif err.validator in ("minimum", "maximum") and not INT64[0] <= err.instance <= INT64[1]:
            out.append(err.message)  # Go: a number outside int64 is a type error, not a range check
    return out


def test_fixture_type_verdicts_agree_with_jsonschema() -> None:
    cases_file = IGN_FIXTURES / "validate-cases.jsonl"
    if not cases_file.is_file():
        pytest.skip("validate-cases.jsonl not found")
    validators = {spec: jsonschema.Draft7Validator(load_schema(spec)) for spec in SUPPORTED}
    checked = agree = 0
    disagreements = []
    for line in cases_file.read_text().splitlines():
        case = json.loads(line)
        cfg = case["config"]
        raw = cfg if isinstance(cfg, str) else json.dumps(cfg)
        report = validate(raw.encode("utf-8", errors="surrogatepass"))
        if report.version is None:
            continue  # rejected before type checking (syntax, version)
        try:
            doc = json.loads(raw, parse_float=decimal.Decimal)
        except ValueError:
            continue
        go_type_error = any(e.path is None and e.message.startswith("json: cannot unmarshal")
                            for e in report.errors)
        schema_type_error = bool(_type_errors(validators[report.version], doc))
        checked += 1
        if go_type_error == schema_type_error:
            agree += 1
        else:
            disagreements.append((case["origin"], raw[:120]))
    print(f"\nschema type verdicts: {agree}/{checked} agree with the Go-style decoder")
    assert checked > 700
    assert not disagreements, disagreements[:5]


# ---------------------------------------------------------------------------------------------
# Property: ignkit's fast schema interpreter and jsonschema agree on type verdicts.

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(1 << 64), 1 << 64), st.sampled_from([1.5, 420.0]),
                     st.sampled_from(["", "/a", "x"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=2),
                                                         st.dictionaries(st.sampled_from(["a", "path"]), inner,
                                                                         max_size=2)), max_leaves=4)


def _slots(spec: str) -> list[tuple[str, ...]]:
    """Every field path of the spec's tree (lists entered at index 0), up to depth 6."""
    out: list[tuple[str, ...]] = []

    def walk(st_: Any, prefix: tuple[str, ...]) -> None:
        if len(prefix) > 6:
            return
        for name in st_.order:
            f = st_.fields[name]
            out.append(prefix + (name,))
            while f.kind == "list":
                f = f.item
            if f.kind == "struct" and name != "ignition":
                walk(f.struct, prefix + (name,))

    walk(field_tree(spec), ())
    return out


def _place(spec: str, slot: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"ignition": {"version": spec}}
    node: Any = doc
    st_ = field_tree(spec)
    for name in slot[:-1]:
        f = st_.fields[name]
        if f.kind == "list":
            node = node.setdefault(name, [{}])[0]
            st_ = f.item.struct
        else:
            node = node.setdefault(name, {})
            st_ = f.struct
    node[slot[-1]] = value
    return doc


@settings(max_examples=300, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.sampled_from(SUPPORTED), st.data())
def test_decoder_type_verdicts_match_jsonschema(spec: str, data: Any) -> None:
    slot = data.draw(st.sampled_from(_slots(spec)))
    value = data.draw(_VALUES)
    raw = json.dumps(_place(spec, slot, value))
    report = validate(raw.encode())
    go_type_error = any(e.path is None and e.message.startswith("json: cannot unmarshal") for e in report.errors)
    doc = json.loads(raw, parse_float=decimal.Decimal)
    schema_type_error = bool(_type_errors(jsonschema.Draft7Validator(load_schema(spec)), doc))
    assert go_type_error == schema_type_error, (raw, report.lines())


def test_configs_ignition_accepts_pass_the_editor_schema() -> None:
    """No false alarms in editors: every fixture config upstream accepts passes the full schema (enums,
    patterns, required members), whatever its version string's spelling; only unknown keys (Ignition's
    "unused key" warnings) are flagged."""
    cases_file = IGN_FIXTURES / "validate-cases.jsonl"
    if not cases_file.is_file():
        pytest.skip("validate-cases.jsonl not found")
    checked = with_warnings = 0
    flagged = []
    for line in cases_file.read_text().splitlines():
        case = json.loads(line)
        if not case["valid"]:
            continue
        cfg = case["config"]
        raw = cfg if isinstance(cfg, str) else json.dumps(cfg)
        report = validate(raw.encode("utf-8", errors="surrogatepass"))
        assert report.ok and report.version is not None
        unknown_keys = any(w.message.startswith("unused key ") for w in report.warnings)
        try:
            found = complaints(report.version, raw, unknown_keys_ok=unknown_keys)
        except ValueError:
            continue  # not parseable by Python's json (Go-only quirks)
        checked += 1
        with_warnings += bool(report.warnings)
        if found:
            flagged.append((case["origin"], found[:2]))
    print(f"\neditor schema: {checked - len(flagged)}/{checked} accepted configs pass "
          f"({with_warnings} of them with warnings)")
    assert checked > 450 and with_warnings > 40 and not flagged, flagged[:5]


def _flags(spec: str, **sections: Any) -> list[str]:
    doc: dict[str, Any] = {"ignition": {"version": spec}}
    doc.update(sections)
    return complaints(spec, json.dumps(doc), unknown_keys_ok=False)


@pytest.mark.parametrize("sections", [
    {"storage": {"files": [{"path": "relative"}]}},
    {"storage": {"files": [{"path": "/a//b"}]}},
    {"storage": {"directories": [{"path": "/a/../b"}]}},
    {"storage": {"links": [{"path": "/a/", "target": "/b"}]}},
    {"storage": {"files": [{"mode": 420}]}},  # path required
    {"storage": {"files": [{"path": "/a", "mode": 4096}]}},
    {"storage": {"files": [{"path": "/a", "contents": {"compression": "xz"}}]}},
    {"storage": {"files": [{"path": "/a", "contents": {"source": "ftp://h/f"}}]}},
    {"storage": {"files": [{"path": "/a", "contents": {"verification": {"hash": "md5-" + "0" * 32}}}]}},
    {"storage": {"files": [{"path": "/a", "contents": {"verification": {"hash": "sha512-" + "0" * 127}}}]}},
    {"storage": {"filesystems": [{"device": "/dev/sda", "format": "ntfs"}]}},
    {"storage": {"filesystems": [{"format": "xfs"}]}},  # device required
    {"storage": {"filesystems": [{"device": "/dev/sda", "format": "xfs", "path": "/var/"}]}},
    {"storage": {"filesystems": [{"device": "/dev/sda", "path": "/var"}]}},  # no format
    {"storage": {"filesystems": [{"device": "/dev/sda", "format": "", "wipeFilesystem": True}]}},
    {"storage": {"filesystems": [{"device": "/dev/sda", "format": "xfs", "label": "thirteen-char"}]}},
    {"storage": {"disks": [{"device": "sda"}]}},
    {"storage": {"disks": [{"device": "/dev/sda", "partitions": [{"label": "a:b"}]}]}},
    {"storage": {"raid": [{"name": "md0", "devices": ["/dev/sda"]}]}},  # level required
    {"storage": {"raid": [{"name": "md0", "level": "raid1", "devices": []}]}},
    {"storage": {"links": [{"path": "/l"}]}},  # 3.3+: target required
    {"storage": {"luks": [{"name": "a/b", "device": "/dev/sda"}]}},
    {"storage": {"luks": [{"name": "a", "device": "/dev/sda", "clevis": {"tang": [{"url": "ftp://t"}]}}]}},
    {"systemd": {"units": [{"name": "a.txt"}]}},
    {"systemd": {"units": [{"name": "a.service", "dropins": [{"name": "x.txt"}]}]}},
    {"ignition": {"version": "3.3.0", "proxy": {"httpProxy": "socks5://p"}}},
    {"ignition": {"version": "3.3.0", "config": {"merge": [{"verification": {}}]}}},
    {"ignition": {"version": "3.3.0", "security": {"tls": {"certificateAuthorities": [{"source": ""}]}}}},
    {"storage": {"files": [{"path": "/a", "user": {"id": 0, "name": "core"}}]}},
    {"storage": {"disks": [{"device": "/dev/sda", "partitions": [{"number": 0, "sizeMiB": 10}]}]}},
])
def test_editor_schema_flags_what_ignition_rejects(sections: dict[str, Any]) -> None:
    raw = json.dumps({"ignition": {"version": "3.3.0"}, **sections}).encode()
    assert not validate(raw).ok
    assert _flags("3.3.0", **sections)


def test_version_pattern_allows_go_semver_spellings() -> None:
    assert not _flags("3.3.0", ignition={"version": "03.3.00"})
    assert _flags("3.3.0", ignition={"version": "3.3.0-experimental"})
    assert not _flags("3.7.0-experimental", ignition={"version": "3.7.0-experimental"})
    assert _flags("3.7.0-experimental", ignition={"version": "3.7.0"})


def test_virtiofs_device_is_a_tag_other_devices_are_paths() -> None:
    spec = "3.7.0-experimental"
    share = {"device": "share", "format": "virtiofs", "path": "/mnt"}
    assert not _flags(spec, storage={"filesystems": [share]})
    for bad in ({"format": "xfs"}, {"device": ""}, {"label": "x"}, {"wipeFilesystem": True}, {"uuid": "u"},
                {"options": ["-x"]}, {"device": "t" * 37}):
        fs = dict(share, **bad)
        raw = json.dumps({"ignition": {"version": spec}, "storage": {"filesystems": [fs]}}).encode()
        assert not validate(raw).ok, fs
        assert _flags(spec, storage={"filesystems": [fs]}), fs


_SEGMENTS = st.lists(st.sampled_from(["", ".", "..", "a", "b.c", "..x", ".x", "\n", ".\n", " ", "\u00e9"]),
                     max_size=5)


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(_SEGMENTS, st.booleans())
def test_path_pattern_is_ignitions_path_rule(segments: list[str], rooted: bool) -> None:
    """The schema's path pattern accepts exactly the paths Ignition's validatePath accepts."""
    import re

    from ignkit.ignition.rules.common import check_path

    path = ("/" if rooted else "") + "/".join(segments)
    pattern = load_schema("3.3.0")["definitions"]["File"]["properties"]["path"]["pattern"]
    assert (re.search(pattern, path) is not None) == (check_path(path) is None), path


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(st.sampled_from(["sha512", "sha256", "md5", "SHA512", ""]), st.sampled_from(["-", ""]),
       st.text(alphabet="0af-\n\u00e9", max_size=130).map(lambda t: t * (1 if len(t) > 60 else 2)))
def test_hash_pattern_matches_ignition_on_ascii_digests(fn: str, dash: str, digest: str) -> None:
    import re

    from ignkit.ignition.rules.common import check_hash

    h = fn + dash + digest
    for spec in ("3.0.0", "3.3.0"):
        pattern = load_schema(spec)["definitions"]["Verification"]["properties"]["hash"]["pattern"]
        accepted = check_hash(h, (3, int(spec.split(".")[1]))) is None
        if digest.isascii():
            assert (re.search(pattern, h) is not None) == accepted, h
        elif accepted:
            assert re.search(pattern, h) is not None, h  # non-ASCII: never a false alarm
