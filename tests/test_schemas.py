"""The JSON Schemas in schemas/: valid against their metaschema, editor-friendly, and their type
verdicts agree with ignkit's Go-style decoder on every fixture config."""

from __future__ import annotations

import decimal
import json
from typing import Any

import jsonschema
import pytest
from conftest import IGN_FIXTURES, REPO

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
        elif err.validator in ("minimum", "maximum") and err.validator_value in INT64:
            out.append(err.message)
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
    """No false alarms in editors: every fixture config upstream accepts without warnings passes the
    full schema (enums, patterns, additionalProperties), except a leading-zero version string."""
    cases_file = IGN_FIXTURES / "validate-cases.jsonl"
    if not cases_file.is_file():
        pytest.skip("validate-cases.jsonl not found")
    validators = {spec: jsonschema.Draft7Validator(load_schema(spec)) for spec in SUPPORTED}
    checked = 0
    flagged = []
    for line in cases_file.read_text().splitlines():
        case = json.loads(line)
        if not case["valid"] or case["warnings"] or case["spec"] not in SUPPORTED:
            continue
        cfg = case["config"]
        raw = cfg if isinstance(cfg, str) else json.dumps(cfg)
        try:
            doc = json.loads(raw, parse_float=decimal.Decimal)
        except ValueError:
            continue
        checked += 1
        errors = [e.message for e in validators[case["spec"]].iter_errors(doc)]
        if errors:
            flagged.append((case["origin"], errors[:2]))
    print(f"\neditor schema: {checked - len(flagged)}/{checked} accepted configs pass")
    assert checked > 400 and not flagged, flagged[:5]
