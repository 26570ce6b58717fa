"""JSON with Go ``encoding/json``'s behaviours, and the byte position of every key and value.

Three pieces:

* :func:`loads` parses bytes the way Go accepts them (fast path: the C ``json`` module) and returns
  objects as :class:`Obj` (a list of ``(key, value)`` pairs, so repeated keys survive) and arrays as
  plain lists. Invalid UTF-8 inside strings becomes U+FFFD, as in Go.
* :func:`syntax_error` replays Go's scanner over the bytes to produce Go's exact message and offset
  for input the fast path rejected.
* :class:`PosTree` is the position tree (vcontext's ``tree``): built lazily from the raw bytes only
  when a report needs line/column numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Optional

from .report import PathElem

__all__ = ["Obj", "JSONSyntaxError", "loads", "syntax_error", "PosTree", "line_col", "fold_key", "go_kind"]


class Obj(list):  # type: ignore[type-arg]
    """A decoded JSON object: the ``(key, value)`` pairs in document order (duplicates kept)."""

    __slots__ = ()


def fold_key(key: str) -> str:
    """The case-folded form under which Go matches an object key to a struct field."""
    folded = key.casefold()
    return folded if len(folded) == len(key) else key.lower()


def go_kind(value: Any) -> str:
    """The JSON kind Go names in ``cannot unmarshal <kind> into ...`` messages."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Obj):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null"


class JSONSyntaxError(Exception):
    """Input that Go's JSON scanner rejects. ``offset`` is Go's ``SyntaxError.Offset``."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _no_constant(name: str) -> Any:
    raise ValueError(name)


_decoder = json.JSONDecoder(object_pairs_hook=Obj, parse_constant=_no_constant)


def _has_lone_surrogate(s: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in s)


def _fix_surrogates(v: Any) -> Any:
    """Go replaces unpaired UTF-16 surrogate escapes with U+FFFD."""
    if isinstance(v, str):
        if _has_lone_surrogate(v):
            return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in v)
        return v
    if isinstance(v, Obj):
        return Obj((_fix_surrogates(k), _fix_surrogates(x)) for k, x in v)
    if isinstance(v, list):
        return [_fix_surrogates(x) for x in v]
    return v


_SURROGATE_ESC = re.compile(rb"\\u[dD][89a-fA-F]")


def deep_call(fn: Any) -> Any:
    """Run ``fn()`` in a thread with a large stack and recursion limit (Go nests up to 10000 levels)."""
    import sys
    import threading

    box: dict[str, Any] = {}

    def run() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 60000))
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = e
        finally:
            sys.setrecursionlimit(old)

    old_size = threading.stack_size()
    try:
        threading.stack_size(1 << 29)
    except (ValueError, RuntimeError):  # pragma: no cover - platform without adjustable stacks
        pass
    try:
        t = threading.Thread(target=run)
        t.start()
        t.join()
    finally:
        threading.stack_size(old_size)
    if "error" in box:
        raise box["error"]
    return box.get("value")


def loads(data: bytes) -> Any:
    """Parse ``data`` as Go would; raise :class:`JSONSyntaxError` with Go's message and offset."""
    text = data.decode("utf-8", errors="replace")
    try:
        try:
            value = _decoder.decode(text)
        except RecursionError:
            # Deeper than Python's default limit: Go's scanner decides (it stops at 10000 levels),
            # then an iterative parse builds the value.
            deep_err = syntax_error(data)
            if deep_err is not None:
                raise deep_err from None
            return _loads_iterative(data)
    except (ValueError, RecursionError):
        err = syntax_error(data)
        if err is None:  # pragma: no cover - the two parsers disagree; report something sensible
            raise JSONSyntaxError("invalid JSON", len(data)) from None
        raise err from None
    if _SURROGATE_ESC.search(data):
        try:
            value = _fix_surrogates(value)
        except RecursionError:
            value = deep_call(lambda: _fix_surrogates(value))
    return value


def _loads_iterative(data: bytes) -> Any:
    """Parse valid JSON without recursion (for documents nested deeper than Python's limits)."""
    root = _build(data)
    leaf_decoder = json.JSONDecoder()

    def leaf(node: PLeaf) -> Any:
        v = leaf_decoder.decode(data[node.start:node.end].decode("utf-8", errors="replace"))
        return _fix_surrogates(v) if isinstance(v, str) else v

    def shell(node: Any) -> Any:
        return Obj() if isinstance(node, PObj) else [] if isinstance(node, PArr) else leaf(node)

    result = shell(root)
    stack: list[tuple[Any, Any]] = [(root, result)]
    while stack:
        node, out = stack.pop()
        if isinstance(node, PObj):
            for key, _, child in node.pairs:
                value = shell(child)
                out.append((key, value))
                if not isinstance(child, PLeaf):
                    stack.append((child, value))
        elif isinstance(node, PArr):
            for child in node.items:
                value = shell(child)
                out.append(value)
                if not isinstance(child, PLeaf):
                    stack.append((child, value))
    return result


# --------------------------------------------------------------------------------------------
# Go's scanner (encoding/json/scanner.go), used only to explain a syntax error.


def _quote_char(c: int) -> str:
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    ch = chr(c)
    if ch.isprintable() and c != 0x5C:
        return "'" + ch + "'"
    if c == 0x5C:
        return "'\\\\'"
    esc = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
    if c in esc:
        return "'" + esc[c] + "'"
    if c < 0x80:
        return f"'\\x{c:02x}'"
    return f"'\\u{c:04x}'"


_WS = b" \t\r\n"


class _Scan:
    """A direct transcription of the state machine's decisions, reporting the first error."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.i = 0
        self.n = len(data)

    def fail(self, ctx: str) -> JSONSyntaxError:
        c = self.data[self.i]
        return JSONSyntaxError("invalid character " + _quote_char(c) + " " + ctx, self.i + 1)

    def eof(self) -> JSONSyntaxError:
        return JSONSyntaxError("unexpected end of JSON input", self.n)

    def skip_ws(self) -> None:
        d, i, n = self.data, self.i, self.n
        while i < n and d[i] in _WS:
            i += 1
        self.i = i

    def next_byte(self) -> int:
        """Skip whitespace and return the next byte; the end of the input is an error here."""
        self.skip_ws()
        if self.i >= self.n:
            raise self.eof()
        return self.data[self.i]

    def value(self, depth: int) -> None:
        c = self.next_byte()
        if c == 0x7B or c == 0x5B:  # { or [
            self.container(c == 0x7B, depth)
        elif c == 0x22:
            self.string()
        elif c == 0x2D or 0x30 <= c <= 0x39:
            self.number()
        else:
            for word in (b"true", b"false", b"null"):
                if c == word[0]:
                    self.i += 1
                    for expect in word[1:]:
                        if self.i >= self.n:
                            raise self.eof()
                        if self.data[self.i] != expect:
                            raise self.fail(f"in literal {word.decode()} (expecting {_quote_char(expect)})")
                        self.i += 1
                    return
            raise self.fail("looking for beginning of value")

    def container(self, is_object: bool, depth: int) -> None:
        """An object or array whose opening bracket is at ``self.i``."""
        if depth >= 10000:
            raise self.fail("exceeded max depth")
        close, after = (0x7D, "after object key:value pair") if is_object else (0x5D, "after array element")
        self.i += 1
        if self.next_byte() == close:
            self.i += 1
            return
        while True:
            if is_object:
                if self.next_byte() != 0x22:
                    raise self.fail("looking for beginning of object key string")
                self.string()
                if self.next_byte() != 0x3A:
                    raise self.fail("after object key")
                self.i += 1
            self.value(depth + 1)
            c = self.next_byte()
            if c != 0x2C and c != close:
                raise self.fail(after)
            self.i += 1
            if c == close:
                return

    def string(self) -> None:
        d, n = self.data, self.n
        self.i += 1
        while True:
            if self.i >= n:
                raise self.eof()
            c = d[self.i]
            if c == 0x22:
                self.i += 1
                return
            if c == 0x5C:
                self.i += 1
                if self.i >= n:
                    raise self.eof()
                e = d[self.i]
                if e in b'"\\/bfnrt':
                    self.i += 1
                    continue
                if e == 0x75:
                    self.i += 1
                    for _ in range(4):
                        if self.i >= n:
                            raise self.eof()
                        if d[self.i] not in b"0123456789abcdefABCDEF":
                            raise self.fail("in \\u hexadecimal character escape")
                        self.i += 1
                    continue
                raise self.fail("in string escape code")
            if c < 0x20:
                raise self.fail("in string literal")
            self.i += 1

    def number(self) -> None:
        d, n = self.data, self.n

        def digits(context: str = "") -> None:
            """Skip a run of digits; with ``context``, one digit is required here (else Go's error)."""
            if context:
                if self.i >= n:
                    raise self.eof()
                if not 0x30 <= d[self.i] <= 0x39:
                    raise self.fail(context)
            while self.i < n and 0x30 <= d[self.i] <= 0x39:
                self.i += 1

        if d[self.i] == 0x2D:  # -
            self.i += 1
            if self.i >= n:
                raise self.eof()
            if not 0x30 <= d[self.i] <= 0x39:
                raise self.fail("in numeric literal")
        if d[self.i] == 0x30:  # a leading 0 stands alone
            self.i += 1
        else:
            digits()
        if self.i < n and d[self.i] == 0x2E:  # .
            self.i += 1
            digits("after decimal point in numeric literal")
        if self.i < n and d[self.i] in (0x65, 0x45):  # e E
            self.i += 1
            if self.i < n and d[self.i] in (0x2B, 0x2D):
                self.i += 1
            digits("in exponent of numeric literal")


def syntax_error(data: bytes) -> Optional[JSONSyntaxError]:
    """Return Go's syntax error for ``data`` (message and offset), or None if Go accepts it."""
    def scan() -> Optional[JSONSyntaxError]:
        s = _Scan(data)
        try:
            s.value(0)
            s.skip_ws()
            if s.i < s.n:
                raise s.fail("after top-level value")
        except JSONSyntaxError as e:
            return e
        return None

    try:
        return scan()
    except RecursionError:
        return deep_call(scan)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# Position tree.

_STR = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_LIT = re.compile(rb"[^\s,\]}:]+")
_WSRE = re.compile(rb"[ \t\r\n]*")

Node = Any  # PObj | PArr | PLeaf


class PLeaf:
    __slots__ = ("start", "end")

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end


class PArr:
    __slots__ = ("start", "end", "items")

    def __init__(self, start: int) -> None:
        self.start = start
        self.end = start
        self.items: list[Node] = []


class PObj:
    __slots__ = ("start", "end", "pairs", "keys")

    def __init__(self, start: int) -> None:
        self.start = start
        self.end = start
        # (key, key offset, value node) in document order; ``keys``: last occurrence wins.
        self.pairs: list[tuple[str, int, Node]] = []
        self.keys: dict[str, tuple[int, Node]] = {}


def _build(data: bytes) -> Node:
    ws = _WSRE
    strre = _STR
    litre = _LIT
    pos = ws.match(data, 0).end()  # type: ignore[union-attr]
    stack: list[Any] = []
    root: Node = None
    pending_key: Optional[tuple[str, int]] = None

    def attach(node: Node) -> None:
        nonlocal root, pending_key
        if not stack:
            root = node
            return
        top = stack[-1]
        if isinstance(top, PArr):
            top.items.append(node)
        else:
            assert pending_key is not None
            k, koff = pending_key
            top.pairs.append((k, koff, node))
            top.keys[k] = (koff, node)
            pending_key = None

    n = len(data)
    expect_key = False
    while pos < n:
        c = data[pos]
        if c == 0x7B:
            o = PObj(pos + 1)  # vcontext marks containers just past the opening bracket
            attach(o)
            stack.append(o)
            pos += 1
            expect_key = True
        elif c == 0x5B:
            a = PArr(pos + 1)
            attach(a)
            stack.append(a)
            pos += 1
            expect_key = False
        elif c == 0x7D or c == 0x5D:
            node = stack.pop()
            node.end = pos + 1
            pos += 1
            expect_key = False
        elif c == 0x2C:
            pos += 1
            expect_key = isinstance(stack[-1], PObj)
        elif c == 0x3A:
            pos += 1
        elif c == 0x22:
            m = strre.match(data, pos)
            assert m is not None
            if expect_key:
                raw = m.group()
                key = json.loads(raw.decode("utf-8", errors="replace")) if b"\\" in raw else \
                    raw[1:-1].decode("utf-8", errors="replace")
                key = _fix_surrogates(key)
                pending_key = (key, pos)
                expect_key = False
            else:
                attach(PLeaf(pos, m.end()))
            pos = m.end()
        else:
            m = litre.match(data, pos)
            assert m is not None
            attach(PLeaf(pos, m.end()))
            pos = m.end()
        pos = ws.match(data, pos).end()  # type: ignore[union-attr]
    return root


def line_col(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and byte column of ``offset``; ``(0, 0)`` when ``offset`` is past the input."""
    if offset < 0 or offset >= len(data):
        return (0, 0)
    line = data.count(b"\n", 0, offset) + 1
    nl = data.rfind(b"\n", 0, offset)
    return (line, offset - nl)


class PosTree:
    """Positions of the raw document, looked up by report paths (vcontext's ``Correlate``)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.root = _build(data)

    def node(self, path: Sequence[PathElem]) -> tuple[Node, int]:
        """The deepest existing node along ``path`` and how many elements were consumed."""
        node = self.root
        used = 0
        for p in path:
            if isinstance(p, int) and isinstance(node, PArr):
                if 0 <= p < len(node.items):
                    node = node.items[p]
                    used += 1
                    continue
                break
            if isinstance(p, str) and isinstance(node, PObj):
                hit = node.keys.get(p)
                if hit is not None:
                    node = hit[1]
                    used += 1
                    continue
            break
        return node, used

    def value_offset(self, path: Sequence[PathElem]) -> Optional[int]:
        node, _ = self.node(path)
        return None if node is None else node.start

    def key_offset(self, path: Sequence[PathElem]) -> Optional[int]:
        """Offset of the key of the last path element when it exists, else the deepest value."""
        if path:
            parent, used = self.node(path[:-1])
            if used == len(path) - 1 and isinstance(parent, PObj) and isinstance(path[-1], str):
                hit = parent.keys.get(path[-1])
                if hit is not None:
                    return hit[0]
        return self.value_offset(path)

    def line_col(self, offset: Optional[int]) -> tuple[Optional[int], Optional[int]]:
        if offset is None:
            return (None, None)
        return line_col(self.data, offset)
