"""Validate Ignition configs like upstream ``ignition-validate``.

Pipeline (Ignition's ``ParseCompatibleVersion`` plus its validation passes):

1. empty input -> ``not a config (empty)``; JSON syntax errors with Go's messages and offsets;
2. version detection (:mod:`ignkit.ignition.versions`);
3. Go-style decoding against that version's schema (:mod:`ignkit.ignition.schema`): type errors;
4. semantic rules (:mod:`ignkit.ignition.rules`), walked in Go struct order;
5. duplicate entries; 6. unused keys (warnings).

Positions (line/column) are computed only when there is something to report.
"""

from __future__ import annotations

import json
import math
from typing import Any, Optional, Union

from ..errors import InvalidConfig
from .jsonpos import JSONSyntaxError, Obj, PosTree, line_col, loads
from .report import Entry, Path, Report, path_string
from .rules import VALIDATORS, Ctx
from .rules.dups import check_dups
from .schema import Struct, decode_tree, field_tree
from .versions import (
    ERR_EMPTY,
    ERR_INVALID,
    ERR_INVALID_VERSION,
    VersionError,
    match_version,
    stub_version,
    version_tuple,
)

__all__ = ["validate", "decode", "detect_version", "parse_config", "Report", "Entry"]

_CONTEXT_TREE = ("context tree does not match content tree at {}. Line and column reporting may be "
                 "inconsistent. Unused keys may not be reported")


def _as_bytes(config: Union[bytes, str]) -> bytes:
    if isinstance(config, str):
        return config.encode("utf-8", errors="surrogatepass")
    return bytes(config)


def _dict_to_doc(v: Any) -> Any:
    """A plain Python structure as the pair-list document the decoder expects.

    Raises ValueError with Go's ``json.Marshal`` wording for what JSON cannot hold (a date from a
    YAML file, NaN, ...).
    """
    if isinstance(v, dict):
        return Obj((str(k), _dict_to_doc(x)) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return [_dict_to_doc(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"json: unsupported value: {v!r}")
    if v is not None and not isinstance(v, (str, int, float)):
        raise ValueError(f"json: unsupported type: {type(v).__name__}")
    return v


def _follow(doc: Any, raw_path: list[int]) -> Any:
    node = doc
    for idx in raw_path:
        node = node[idx][1] if isinstance(node, Obj) else node[idx]
    return node


def _type_error(message: str, raw_path: list[int], doc: Any, data: Optional[bytes]) -> Entry:
    """A Go ``UnmarshalTypeError`` at ``raw_path`` (pair/element indices) as a document-level entry.

    Go's offset is the end of the offending value, or just past the opening bracket of an object or
    array; a ``\x00`` in ``message`` stands for the offending number's literal text.
    """
    if data is None:
        return _document_error(message.replace("\x00", json.dumps(_follow(doc, raw_path))), None, None)
    from .jsonpos import PArr, PObj

    node = PosTree(data).root
    for idx in raw_path:
        node = node.pairs[idx][2] if isinstance(node, PObj) else node.items[idx]
    text = data[node.start:node.end].decode("utf-8", errors="replace")
    # containers already start just past their bracket
    offset = node.start if isinstance(node, (PObj, PArr)) else node.end
    return _document_error(message.replace("\x00", text), offset, data)


def _document_error(message: str, offset: Optional[int], data: Optional[bytes]) -> Entry:
    if offset is None or data is None:
        return Entry("error", None, None, None, message)
    line, col = line_col(data, offset)
    return Entry("error", None, line, col, message)


def _parse_error(reason: str) -> Entry:
    return Entry("error", None, None, None, reason, parse_error=True)


_MISSING = object()


def _pointer_structs(v: tuple[int, int]) -> frozenset[str]:
    # In spec 3.2 only, luks clevis and its custom object are Go pointers (not walked when absent).
    return frozenset({"Clevis", "Custom"}) if v == (3, 2) else frozenset()


class _Walker:
    """One depth-first walk in Go struct order doing Ignition's three passes at once.

    Findings go to three lists (semantic rules, duplicates, unused keys) that are concatenated
    afterwards, which yields the same order as three separate passes.
    """

    def __init__(self, ctx: Ctx, dctx: Ctx, uctx: Ctx, pointers: frozenset[str]) -> None:
        self.ctx, self.dctx, self.uctx, self.pointers = ctx, dctx, uctx, pointers

    def walk(self, st: Struct, obj: dict[str, Any], raw: Any, path: Path) -> None:
        fn = VALIDATORS.get(st.name)
        if fn is not None:
            fn(obj, path, self.ctx)
        check_dups(st.name, obj, path, self.dctx)
        fields = st.fields
        rawd: Optional[dict[str, Any]] = None
        if raw is not _MISSING:
            if isinstance(raw, Obj):
                rawd = dict(raw)  # a Go map: the last occurrence of a key wins
                for k in rawd:
                    if k not in fields:
                        self.uctx.findings.append(("warning", path + (k,), f"unused key {k}", True))
            else:
                self.uctx.findings.append(("warning", path, _CONTEXT_TREE.format(path_string(path)), False))
        for name in st.order:
            ft = fields[name]
            kind = ft.kind
            if kind != "struct" and kind != "list":
                continue
            val = obj.get(name)
            sub_raw = rawd.get(name, _MISSING) if rawd is not None else _MISSING
            if kind == "struct":
                sub = ft.struct
                assert sub is not None
                if val is None:
                    if sub_raw is _MISSING or sub.name in self.pointers:
                        continue
                    val = {}
                self.walk(sub, val, sub_raw, path + (name,))
            elif val and ft.item is not None and ft.item.kind == "struct":
                sub = ft.item.struct
                assert sub is not None
                raw_items = sub_raw if isinstance(sub_raw, list) and not isinstance(sub_raw, Obj) else None
                n_raw = len(raw_items) if raw_items is not None else 0
                for i, item in enumerate(val):
                    self.walk(sub, item, raw_items[i] if i < n_raw else _MISSING,  # type: ignore[index]
                              path + (name, i))


def _decode(config: Union[bytes, str, dict], spec: Optional[str],  # type: ignore[type-arg]
            only_version: bool = False) -> tuple[Report, Optional[dict[str, Any]], Any, Optional[bytes]]:
    """Steps 1-3. Returns (report so far, decoded config or None, raw document, raw bytes or None)."""
    report = Report()
    data: Optional[bytes] = None
    if isinstance(config, dict):
        try:
            doc_obj: Any = _dict_to_doc(config)
        except ValueError as e:
            report.entries.append(_document_error(str(e), None, None))
            return report, None, None, data
    else:
        data = _as_bytes(config)
        if not data:
            report.entries.append(_parse_error(ERR_EMPTY))
            return report, None, None, data
        try:
            doc_obj = loads(data)
        except JSONSyntaxError as e:
            report.entries.append(_document_error(e.message, e.offset, data))
            return report, None, None, data
    version, type_error = stub_version(doc_obj)
    if type_error is not None:
        report.entries.append(_type_error(*type_error, doc_obj, data))
        return report, None, doc_obj, data
    try:
        if spec is not None:
            detected = match_version(spec)
        elif version is None:
            raise VersionError(ERR_INVALID_VERSION)
        else:
            detected = match_version(version)
    except VersionError as e:
        report.entries.append(_parse_error(e.reason))
        return report, None, doc_obj, data
    report.version = detected
    if only_version:
        return report, None, doc_obj, data
    cfg, err = decode_tree(doc_obj, detected)
    if err is not None:
        report.entries.append(_type_error(err.message, err.raw_path, doc_obj, data))
        return report, None, doc_obj, data
    report.config = cfg
    return report, cfg, doc_obj, data


def validate(config: Union[bytes, str, dict], *, spec: Optional[str] = None) -> Report:  # type: ignore[type-arg]
    """Validate an Ignition config and return a :class:`Report` (never raises for bad configs).

    ``config`` is the raw file (bytes or str; positions are byte offsets of its UTF-8 form) or an
    already parsed dict (validated without positions). ``spec`` forces a spec version instead of
    the one the config declares. ``str(entry)`` of each entry is the line ignition-validate prints;
    ``report.ok`` is False when there is any error.
    """
    report, cfg, raw, data = _decode(config, spec)
    if cfg is None or report.version is None:
        return report
    detected = report.version
    v = version_tuple(detected)
    root = field_tree(detected)
    ctx, dctx, uctx = Ctx(detected, v, cfg), Ctx(detected, v, cfg), Ctx(detected, v, cfg)
    _Walker(ctx, dctx, uctx, _pointer_structs(v)).walk(root, cfg, raw, ())
    findings = ctx.findings + dctx.findings + uctx.findings
    if findings:
        tree = PosTree(data) if data is not None else None  # positions only when there is something to report
        for kind, path, message, at_key in findings:
            line: Optional[int] = None
            col: Optional[int] = None
            if tree is not None:
                off = tree.key_offset(path) if at_key else tree.value_offset(path)
                line, col = tree.line_col(off)
            report.entries.append(Entry(kind, path_string(path), line, col, message))
    return report


def detect(config: Union[bytes, str, dict]) -> Report:  # type: ignore[type-arg]
    """Only steps 1-2 (parse and version detection): a report whose ``version`` is set on success."""
    report, _, _, _ = _decode(config, None, only_version=True)
    return report


def decode(raw: Union[bytes, str]) -> tuple[dict[str, Any], str]:
    """Parse and type-check ``raw``; return ``(config, spec)`` or raise :class:`InvalidConfig`."""
    report, cfg, _, _ = _decode(raw, None)
    if cfg is None or report.version is None:
        first = report.errors[0] if report.errors else None
        raise InvalidConfig(str(first) if first else ERR_INVALID, report)
    return cfg, report.version


def detect_version(raw: Union[bytes, str, dict]) -> str:  # type: ignore[type-arg]
    """Return the supported spec string ``raw`` declares, or raise :class:`InvalidConfig`.

    ``raw`` is the config's bytes or text, or an already parsed dict (its keys matched like Go's,
    case-insensitively). The message of the exception is what ignition-validate prints:
    ``couldn't parse config: ...`` for empty input and version problems (a :class:`VersionError`),
    or the ``error at line L col C: ...`` line of a JSON syntax or type error.
    """
    report = detect(raw)
    if report.errors:
        first = report.errors[0]
        if first.parse_error:
            raise VersionError(first.message)
        raise InvalidConfig(str(first), report)
    assert report.version is not None
    return report.version


def parse_config(raw: Union[bytes, str]) -> tuple[dict, str]:  # type: ignore[type-arg]
    """Parse ``raw`` into a plain dict with Go's decoding semantics and return ``(config, spec)``.

    Keys are the spec's own field names (matched case-insensitively like Go, repeated objects
    merged, unknown keys and nulls dropped). Raises :class:`InvalidConfig` with ignition-validate's
    message when the input is empty, not JSON, has a bad version or a JSON type error. Semantic
    rules are not checked here: use :func:`ignkit.ignition.validate.validate` for that.
    """
    return decode(raw)
