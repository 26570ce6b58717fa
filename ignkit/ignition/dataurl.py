"""Inline Ignition resources: decode ``data:`` URLs and decompress resource bytes the way Ignition does.

Ignition decodes ``data:`` sources with the Go ``dataurl`` library (RFC 2397: an optional media type and
parameters, ``;base64`` for standard padded base64, otherwise RFC 2396 percent-escapes over URL
characters) and undoes a resource's ``compression`` (only ``gzip``; concatenated members are read,
anything after the last member is an error). Errors are :class:`~ignkit.errors.InputError` naming the
resource: ``<name>: invalid data URL: illegal base64 data at input byte 4``.
"""

from __future__ import annotations

import base64
import urllib.parse
import zlib
from collections.abc import Mapping
from typing import Any, Optional

from ..errors import InputError

__all__ = ["decode_data_url", "decompress", "read_data_resource"]


def _payload_start(url: str) -> int:
    """Index of the comma ending the media type and parameters (commas inside quoted values do not count)."""
    i, n, quoted = 5, len(url), False
    while i < n:
        c = url[i]
        if quoted:
            if c == "\\":
                i += 2
                continue
            quoted = c != '"'
        elif c == '"':
            quoted = True
        elif c == ",":
            return i
        i += 1
    return -1


def decode_data_url(url: str, name: str = "data URL") -> bytes:
    """The bytes a ``data:`` URL carries, decoded as Ignition decodes it.

    The URL is checked first with the data URL library's own rules and messages (the same check
    ``ignkit validate`` applies to sources), so anything Ignition would refuse raises
    :class:`~ignkit.errors.InputError` ``<name>: invalid data URL: <message>``.
    """
    from .rules.common import check_dataurl

    if not isinstance(url, str):
        raise InputError(f"{name}: not a data URL")
    problem = check_dataurl(url)
    if problem is not None:
        raise InputError(f"{name}: invalid data URL: {problem}")
    comma = _payload_start(url)
    header, payload = url[5:comma], url[comma + 1:]
    if header == ";base64" or header.endswith(";base64"):
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
