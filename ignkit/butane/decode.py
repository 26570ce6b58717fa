"""Decode a Butane YAML node tree into plain values the way yaml.v3 decodes into Butane's Go structs.

Type mismatches are collected as yaml.v3 words them (``line 6: cannot unmarshal !!str `abc` into
int``); keys a struct does not know are reported as Butane's ``unused key`` warnings at the key's
position. Struct values are dicts of the keys that were given a non-null value (Go's nil pointers
are simply absent), lists are lists (a null element is the element type's zero value).
"""

from __future__ import annotations

import math
from typing import Any, Optional

from .report import YPath
from .schema import BField, BStruct
from .yamlpos import Node

__all__ = ["Decoder"]

_TRUE = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"}
_FALSE = {"n", "N", "no", "No", "NO", "off", "Off", "OFF"}
_I64 = (-(1 << 63), (1 << 63) - 1)


class Decoder:
    """One decoding pass: ``errors`` (yaml.v3 unmarshal messages), ``unused`` (path, line, col, key),
    ``pos`` (value positions by path) and ``kpos`` (key positions by path)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.unused: list[tuple[YPath, int, int, str]] = []
        self.pos: dict[YPath, tuple[int, int]] = {}
        self.kpos: dict[YPath, tuple[int, int]] = {}

    def terror(self, n: Node, gotype: str) -> None:
        value = ""
        if n.kind == "scalar":
            text = n.text
            value = f" `{text[:7]}...`" if len(text) > 10 else f" `{text}`"
        self.errors.append(f"line {n.line}: cannot unmarshal {n.tag}{value} into {gotype}")

    def dups(self, n: Node) -> bool:
        """yaml.v3's repeated-key check of one mapping; True when it found some (mapping not decoded)."""
        seen: dict[tuple[str, str], int] = {}
        found = False
        for k, _ in n.pairs:
            ident = (k.kind, k.text)
            if ident in seen:
                self.errors.append(f'line {k.line}: mapping key "{_go_quote(k.text)}" already defined at line '
                                   f"{seen[ident]}")
                found = True
            else:
                seen[ident] = k.line
        return found

    def value(self, n: Node, f: BField, path: YPath) -> Any:
        self.pos[path] = (n.line, n.column)
        kind = f.kind
        if n.kind == "scalar" and n.tag == "!!null":
            return None
        if kind == "struct":
            if n.kind != "map":
                self.terror(n, f.gotype)
                return None
            assert f.struct is not None
            return self.struct(n, f.struct, path)
        if kind == "list":
            if n.kind != "seq":
                self.terror(n, f.gotype)
                return None
            item = f.item
            assert item is not None
            out = []
            for i, c in enumerate(n.items):
                v = self.value(c, item, path + (i,))
                out.append(_zero(item) if v is None else v)
            return out
        if kind == "map":
            if n.kind != "map":
                self.terror(n, f.gotype)
                return None
            if self.dups(n):
                return None
            m: dict[str, Any] = {}
            for k, v in n.pairs:
                if v.kind != "scalar":
                    self.terror(v, "string")
                    continue
                m[k.text] = "" if v.tag == "!!null" else (v.value if v.tag == "!!binary" else v.text)
            return m
        if n.kind != "scalar":
            self.terror(n, f.gotype)
            return None
        tag = n.tag
        if kind == "string":
            return n.value if tag == "!!binary" else n.text
        if kind == "integer":
            v = n.value
            if tag == "!!int" and isinstance(v, int) and _I64[0] <= v <= _I64[1]:
                return v
            if tag == "!!float" and isinstance(v, float) and not math.isnan(v) and -9.3e18 < v < 9.3e18:
                iv = int(v)
                if _I64[0] <= iv <= _I64[1]:
                    return iv
            self.terror(n, f.gotype)
            return None
        if kind == "boolean":
            if tag == "!!bool":
                return n.value
            if tag in ("!!str", "!!binary") and isinstance(n.value, str):
                if n.value in _TRUE:
                    return True
                if n.value in _FALSE:
                    return False
            self.terror(n, f.gotype)
            return None
        return n.value

    def struct(self, n: Node, st: BStruct, path: YPath) -> Optional[dict[str, Any]]:
        if self.dups(n):
            return None
        out: dict[str, Any] = {}
        fields = st.fields
        for k, v in n.pairs:
            key = k.text if k.kind == "scalar" else ""
            self.kpos[path + (key,)] = (k.line, k.column)
            f = fields.get(key) if k.kind == "scalar" else None
            if f is None:
                self.unused.append((path + (key,), k.line, k.column, key))
                continue
            dv = self.value(v, f, path + (key,))
            if dv is None:
                out.pop(key, None)
            else:
                out[key] = dv
        return out


def _zero(f: BField) -> Any:
    return {"struct": {}, "list": [], "map": {}, "string": "", "integer": 0, "boolean": False}[f.kind]


def _go_quote(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
