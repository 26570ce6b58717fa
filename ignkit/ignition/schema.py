"""The Ignition JSON Schemas (``ignkit.schemas``) as field trees, and Go-style decoding against them.

ignkit's validator does not run a general JSON Schema engine: it interprets the small subset the
schemas use for structure (``type``, ``properties``, ``items``, ``$ref``) the way Go's
``encoding/json`` decodes into Ignition's structs: keys match case-insensitively (exact match
preferred), ``null`` means absent, repeated objects merge, integers must be integer literals within
int64, and the first type mismatch is reported with Go's message. Editor-facing keywords (``enum``,
``pattern``, ``additionalProperties``, ...) are left to the semantic rules.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from .jsonpos import Obj, fold_key, go_kind

__all__ = ["Field", "Struct", "load_schema", "field_tree", "GoTypeError", "decode_tree"]

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


class Struct:
    """A Go struct: its JSON field names in Go field order and each field's type."""

    __slots__ = ("name", "fields", "order", "folded")

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: dict[str, Field] = {}
        self.order: list[str] = []
        self.folded: dict[str, str] = {}


class Field:
    """A field type: kind is ``string``, ``integer``, ``boolean``, ``struct`` or ``list``."""

    __slots__ = ("kind", "struct", "item", "go_name")

    def __init__(self, kind: str, struct: Optional[Struct] = None, item: Optional[Field] = None,
                 go_name: str = "") -> None:
        self.kind = kind
        self.struct = struct
        self.item = item
        self.go_name = go_name

    def go_type(self) -> str:
        if self.kind == "struct":
            assert self.struct is not None
            return "types." + self.struct.name
        if self.kind == "list":
            assert self.item is not None
            return "[]" + self.item.go_type()
        return self.go_name or {"string": "string", "integer": "int", "boolean": "bool"}[self.kind]


def load_schema(spec: str) -> dict[str, Any]:
    """The JSON Schema document of spec version ``spec`` (from the ``ignkit.schemas`` package)."""
    name = f"ignition-{spec}.json"
    try:
        from importlib.resources import files

        text = (files("ignkit.schemas") / name).read_text(encoding="utf-8")
    except ModuleNotFoundError:
        # A source checkout that is not installed: schemas/ sits at the top of the repository.
        from pathlib import Path

        text = (Path(__file__).resolve().parents[2] / "schemas" / name).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def _compile(schema: dict[str, Any]) -> Struct:
    defs = schema.get("definitions", {})
    structs: dict[str, Struct] = {}

    def field(node: dict[str, Any]) -> Field:
        if "allOf" in node:  # the first member carries the type, the others only constrain values
            return field(node["allOf"][0])
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return Field("struct", struct=struct_of(name, defs[name]))
        types = node.get("type")
        if isinstance(types, list):
            types = [t for t in types if t != "null"][0]
        if types == "array":
            return Field("list", item=field(node["items"]))
        if types == "object":
            return Field("struct", struct=build(Struct(node.get("title", "object")), node))
        if types in ("string", "integer", "boolean"):
            return Field(types, go_name=node.get("x-go-type", ""))
        raise ValueError(f"unsupported schema node: {node}")

    def build(st: Struct, node: dict[str, Any]) -> Struct:
        for name, sub in node.get("properties", {}).items():
            st.fields[name] = field(sub)
            st.order.append(name)
            st.folded.setdefault(fold_key(name), name)
        return st

    def struct_of(name: str, node: dict[str, Any]) -> Struct:
        if name not in structs:
            structs[name] = Struct(name)
            build(structs[name], node)
        return structs[name]

    return build(Struct("Config"), schema)


_TREES: dict[str, Struct] = {}


def field_tree(spec: str) -> Struct:
    """The compiled root struct (``Config``) of spec ``spec`` (cached)."""
    tree = _TREES.get(spec)
    if tree is None:
        tree = _TREES[spec] = _compile(load_schema(spec))
    return tree


class GoTypeError(Exception):
    """A Go ``UnmarshalTypeError``: message plus the raw location of the offending value.

    ``raw_path`` indexes the decoded document (pair index within objects, element index within
    arrays).
    """

    def __init__(self, message: str, raw_path: list[int]) -> None:
        super().__init__(message)
        self.message = message
        self.raw_path = raw_path


class _Decoder:
    __slots__ = ("error", "raw_path", "names", "backing")

    def __init__(self) -> None:
        self.error: Optional[GoTypeError] = None
        self.raw_path: list[int] = []
        self.names: list[str] = []
        # Go decodes a repeated array into the slice it already holds: elements past the new
        # length stay in the backing array and are decoded into again if a later array is longer.
        self.backing: dict[int, tuple[list[Any], list[Any]]] = {}

    def fail(self, value: Any, ftype: Field, literal: bool = False) -> None:
        if self.error is not None:
            return
        kind = go_kind(value)
        if literal and kind == "number":
            kind = "number \x00"  # the literal's source text is filled in from the raw bytes
        where = ".".join(self.names)
        msg = f"json: cannot unmarshal {kind} into Go struct field Config.{where} of type {ftype.go_type()}"
        self.error = GoTypeError(msg, list(self.raw_path))

    def value(self, v: Any, ft: Field, prev: Any) -> Any:
        """Decode ``v`` into a field of type ``ft`` whose current value is ``prev``."""
        kind = ft.kind
        if kind == "string":
            if isinstance(v, str):
                return v
            self.fail(v, ft)
            return prev
        if kind == "integer":
            if isinstance(v, int) and not isinstance(v, bool):
                if _INT64_MIN <= v <= _INT64_MAX:
                    return v
                self.fail(v, ft, literal=True)
                return prev
            self.fail(v, ft, literal=isinstance(v, float))
            return prev
        if kind == "boolean":
            if isinstance(v, bool):
                return v
            self.fail(v, ft)
            return prev
        if kind == "struct":
            if isinstance(v, Obj):
                assert ft.struct is not None
                return self.struct(v, ft.struct, prev if isinstance(prev, dict) else None)
            self.fail(v, ft)
            return prev
        # list
        if not isinstance(v, list) or isinstance(v, Obj):
            self.fail(v, ft)
            return prev
        item = ft.item
        assert item is not None
        old: list[Any] = []
        if isinstance(prev, list):
            held = self.backing.get(id(prev))
            old = held[1] if held is not None and held[0] is prev else prev
        if not v:
            return []
        out: list[Any] = []
        rp = self.raw_path
        names = self.names
        for idx, elem in enumerate(v):
            rp.append(idx)
            names.append(str(idx))
            before = old[idx] if idx < len(old) else None
            if elem is None:
                # null into a struct/string element leaves it (zero value when new).
                out.append(before if before is not None else _zero(item))
            else:
                dv = self.value(elem, item, before)
                out.append(dv if dv is not None else _zero(item))
            rp.pop()
            names.pop()
        if len(old) > len(out):
            self.backing[id(out)] = (out, out + old[len(out):])
        return out

    def struct(self, obj: Obj, st: Struct, prev: Optional[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = dict(prev) if prev else {}
        fields = st.fields
        rp = self.raw_path
        names = self.names
        for idx, (k, v) in enumerate(obj):
            name = k if k in fields else st.folded.get(fold_key(k))
            if name is None:
                continue
            ft = fields[name]
            if v is None:
                if ft.kind != "struct":
                    out.pop(name, None)
                continue
            rp.append(idx)
            names.append(k)
            dv = self.value(v, ft, out.get(name))
            if dv is not None:
                out[name] = dv
            rp.pop()
            names.pop()
        return out


def _zero(ft: Field) -> Any:
    if ft.kind == "struct":
        return {}
    if ft.kind == "string":
        return ""
    if ft.kind == "integer":
        return 0
    if ft.kind == "boolean":
        return False
    return []


def decode_tree(doc: Any, spec: str) -> tuple[dict[str, Any], Optional[GoTypeError]]:
    """Decode the parsed document ``doc`` into spec ``spec``'s field tree, Go style.

    Returns the decoded config (canonical field names, absent fields omitted) and the first type
    error, if any (decoding continues past it, as Go does).
    """
    d = _Decoder()
    root = field_tree(spec)
    if not isinstance(doc, Obj):
        # Cannot happen after version detection succeeded, but stay total.
        return {}, GoTypeError(f"json: cannot unmarshal {go_kind(doc)} into Go value of type types.Config", [])
    cfg = d.struct(doc, root, None)
    return cfg, d.error

