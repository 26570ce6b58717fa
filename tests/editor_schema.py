"""What the editor-facing JSON Schemas (schemas/) say about a config, as an editor would show it.

Shared by the schema tests and the differential tests: a config that Ignition accepts must draw no
complaint from a standard JSON Schema engine (python-jsonschema, draft-07), apart from unknown keys,
which Ignition also reports (as ``unused key`` warnings) and editors should flag.
"""

from __future__ import annotations

import decimal
import json
from functools import cache
from typing import Any

import jsonschema

from ignkit.ignition.jsonpos import fold_key
from ignkit.ignition.schema import load_schema


@cache
def validator(spec: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(load_schema(spec))


def _case_variant(err: jsonschema.ValidationError) -> bool:
    """An unknown key, or a required member present under another case (Go matches it anyway)."""
    if err.validator == "additionalProperties":
        return True
    if err.validator == "required" and isinstance(err.instance, dict):
        missing = [p for p in err.validator_value if p not in err.instance]
        return all(any(fold_key(k) == fold_key(p) for k in err.instance) for p in missing)
    return False


def complaints(spec: str, raw: str | bytes, *, unknown_keys_ok: bool = True) -> list[str]:
    """The schema's messages for ``raw`` (numbers kept exact), minus unknown-key ones when allowed."""
    doc: Any = json.loads(raw, parse_float=decimal.Decimal)
    return [f"{e.json_path}: {e.message}" for e in validator(spec).iter_errors(doc)
            if not (unknown_keys_ok and _case_variant(e))]
