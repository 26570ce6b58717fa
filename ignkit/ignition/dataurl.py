"""Inline Ignition resources: ``data:`` URLs checked and decoded, and resource bytes decompressed, as Ignition does.

Ignition decodes ``data:`` sources with the Go ``dataurl`` library (RFC 2397: an optional media type and
parameters, ``;base64`` for standard padded base64, otherwise RFC 2396 percent-escapes over URL
characters); one parser here reproduces its states and messages, for ``ignkit validate``'s source
checks and for decoding. A resource's ``compression`` is undone as Ignition does (only ``gzip``;
concatenated members are read, anything after the last member is an error). Errors are
:class:`~ignkit.errors.InputError` naming the resource: ``<name>: invalid data URL: illegal base64 data
at input byte 4``.
"""

from __future__ import annotations

import base64
import re
import string
import urllib.parse
import zlib
from collections.abc import Mapping
from typing import Any, Optional

from ..errors import InputError
from ..gocompat.encoding import go_base64_error
from ..gocompat.neturl import URLError, go_url_parse
from ..gocompat.strconv import go_unquote_fails

__all__ = ["check_dataurl", "decode_data_url", "decompress", "fast_check", "read_data_resource"]

_TSPECIALS = set('()<>@,;:\\"/[]?=')
_NOT_URLCHAR = re.compile(r"[^A-Za-z0-9;/?:@&=+$,\-_.!~*'()%]")
_NOT_B64CHAR = re.compile(r"[^A-Za-z0-9+/=]")
_HEX = set(string.hexdigits)


def _is_token_char(c: str) -> bool:
    return 0x20 < ord(c) < 0x7F and c not in _TSPECIALS


def _rfc2396_unescape(s: str) -> Optional[str]:
    """The error of the library's ``Unescape`` (it names the ``%`` itself in its message)."""
    i = s.find("%")
    n = len(s)
    while i >= 0:
        for k in (1, 2):
            if i + k >= n:
                return "rfc2396: unexpected end of unescape sequence"
            if s[i + k] not in _HEX:
                return "rfc2396: invalid char 0x25 in unescape sequence"
        i = s.find("%", i + 3)
    if not s.isascii():
        return "rfc2396: non-ASCII char detected"
    return None


def _parse(s: str, payload_chars_checked: bool = False) -> tuple[Optional[str], int, bool]:
    """One pass of the data URL library's decoder over ``s``: (its error or None, index of the comma
    that starts the payload, whether the payload is base64)."""
    if not s.startswith("data:"):
        return "missing data prefix", -1, False
    n = len(s)
    i = 5
    start = i
    is_b64 = False
    pending: Optional[str] = None  # the first error of a parameter value already emitted: it wins

    def at(k: int) -> Optional[str]:
        return s[k] if k < n else None

    def fail(message: str) -> str:
        return pending or message

    def token(k: int, stops: str, at_end: str, bad: str) -> tuple[int, Optional[str]]:
        """Skip token characters from ``k`` to one of ``stops``: (its index, None) or (index, error)."""
        while k < n and _is_token_char(s[k]):
            k += 1
        if k == n:
            return k, at_end
        return k, None if s[k] in stops else bad

    # media type
    c = at(i)
    state = "after_prefix"
    if c is None:
        return "missing comma before data", i, is_b64
    if c == ";":
        state = "semicolon"
    elif c == ",":
        state = "comma"
    else:
        if c in "xX":
            i += 1
            if at(i) == "-":
                i += 1
                discrete = False
            else:
                if i < n:
                    i += 1  # the library consumed this character without looking at it
                discrete = True
        elif _is_token_char(c):
            i += 1
            discrete = True
        else:
            return "invalid character after data prefix", i, is_b64
        i, err = token(i, "/", "missing media type slash", "invalid character for media type")
        if err:
            return err, i, is_b64
        if discrete and not s[start:i].startswith(("text", "image", "audio", "video", "application", "message",
                                                   "multipart")):
            return "invalid media type", i, is_b64
        i, err = token(i + 1, ";,", "incomplete media type", "invalid character for media subtype")
        if err:
            return err, i, is_b64
        state = "semicolon" if s[i] == ";" else "comma"
    # parameters
    while state == "semicolon":
        attr_start = i + 1
        i, err = token(attr_start, "=,", "unterminated parameter sequence", "invalid character for parameter attribute")
        if err or i == attr_start:
            return fail(err or "unterminated parameter sequence"), i, is_b64
        if s[i] == ",":
            attr = s[attr_start:i]
            if attr != "base64":
                return fail(f"expected base64, got {attr}"), i, is_b64
            is_b64 = True
            break
        i += 1  # '='
        val_start = i
        if at(i) == '"':
            i += 1
            while True:
                c = at(i)
                if c is None:
                    return fail("unclosed quoted string"), i, is_b64
                if c == "\\":
                    i += 2 if i + 1 < n and ord(s[i + 1]) <= 0x7F else 1
                    continue
                if c == '"':
                    break
                if ord(c) > 0x7F:
                    return fail("invalid character for parameter value"), i, is_b64
                i += 1
            i += 1
            if pending is None and go_unquote_fails(s[val_start + 1:i - 1]):
                pending = "invalid syntax"
        else:
            i, err = token(i, ";,", "missing comma before data", "invalid character for parameter value")
            if err or i == val_start:
                return fail(err or "invalid character for parameter value"), i, is_b64
            if pending is None:
                pending = _rfc2396_unescape(s[val_start:i])
        c = at(i)
        if c == ",":
            break
        if c is None:
            return fail("missing comma before data"), i, is_b64
        if c != ";":
            return fail("expected semicolon or comma"), i, is_b64
    # data
    data = s[i + 1:]
    if not payload_chars_checked:
        if (_NOT_B64CHAR if is_b64 else _NOT_URLCHAR).search(data) is not None:
            return fail("invalid data character"), i, is_b64
    if pending is not None:
        return pending, i, is_b64
    if not data:
        return None, i, is_b64
    if is_b64:
        return go_base64_error(data), i, is_b64
    return (_rfc2396_unescape(data) if "%" in data else None), i, is_b64


def check_dataurl(s: str) -> Optional[str]:
    """The data URL decoder's error message for ``s``, or None if it decodes."""
    return _parse(s)[0]


def fast_check(s: str) -> Any:
    """Ignition's URL check of a (large) ``data:`` URL with one scan of its payload: the message, None
    when it passes, or False when the whole URL must go through ``url.Parse`` first.

    When the payload holds only URL characters there is no control character or ``#`` in it, so
    Go's ``url.Parse`` sees the same thing as for the (short) header alone.
    """
    comma = s.find(",")
    if comma < 0:
        return False
    header = s[:comma]
    payload = s[comma + 1:]
    chars = _NOT_B64CHAR if header.endswith(";base64") else _NOT_URLCHAR
    if chars.search(payload) is not None:
        return False
    try:
        go_url_parse(header + ",")
    except URLError:
        return "unable to parse url"
    return _parse(s, payload_chars_checked=True)[0]


def decode_data_url(url: str, name: str = "data URL") -> bytes:
    """The bytes a ``data:`` URL carries, decoded as Ignition decodes it.

    The URL is checked first with the data URL library's own rules and messages (the same check
    ``ignkit validate`` applies to sources), so anything Ignition would refuse raises
    :class:`~ignkit.errors.InputError` ``<name>: invalid data URL: <message>``.
    """
    if not isinstance(url, str):
        raise InputError(f"{name}: not a data URL")
    problem, comma, is_base64 = _parse(url)
    if problem is not None:
        raise InputError(f"{name}: invalid data URL: {problem}")
    payload = url[comma + 1:]
    if is_base64:
        return base64.b64decode(payload)
    return urllib.parse.unquote_to_bytes(payload)


def decompress(data: bytes, compression: Any, name: str = "resource", *, max_size: Optional[int] = None) -> bytes:
    """``data`` with the resource's ``compression`` undone: None or ``""`` (as is) or ``gzip``.

    gzip is read like Go's ``gzip.Reader``: one or more whole members and nothing after them (empty
    input is an error). ``max_size`` bounds the decompressed size. Problems raise
    :class:`~ignkit.errors.InputError` naming the resource.
    """
    if compression is None or compression == "":
        return bytes(data)
    if compression != "gzip":
        raise InputError(f"{name}: unsupported compression {compression!r} (Ignition knows gzip)")
    if not data:
        raise InputError(f"{name}: cannot gunzip: no data")
    out = bytearray()
    rest = bytes(data)
    while rest:
        member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while pending and not member.eof:
                room = 0 if max_size is None else max_size + 1 - len(out)
                out += member.decompress(pending, room)
                if max_size is not None and len(out) > max_size:
                    raise InputError(f"{name}: larger than {max_size} bytes once decompressed")
                pending = member.unconsumed_tail
        except zlib.error as e:
            raise InputError(f"{name}: cannot gunzip: {e}") from None
        if not member.eof:
            raise InputError(f"{name}: cannot gunzip: unexpected end of data")
        rest = member.unused_data
    return bytes(out)


def read_data_resource(resource: Mapping[str, Any], name: str = "resource", *,
                       max_size: Optional[int] = None) -> bytes:
    """The contents of an inline resource (``{"source": "data:...", "compression": ...}``), decompressed."""
    source = resource.get("source")
    raw = decode_data_url(source if isinstance(source, str) else "", name)
    return decompress(raw, resource.get("compression"), name, max_size=max_size)
