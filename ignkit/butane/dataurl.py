"""Data URLs chosen the way Butane chooses them: the shortest of percent-encoding, base64 and gzip+base64.

Percent-encoding keeps ASCII letters, digits and ``-_.!~*'()``; every other byte is ``%XX``
(upper-case hex). base64 is standard padded base64. gzip (best compression) is used only when its
base64 text plus the four characters of ``gzip`` is shorter than the best plain form, and never when
the resource already declares a compression. The gzip bytes are Go's (:mod:`ignkit.gocompat.flate`),
so both the choice and the URL are Butane's; that compressor is pure Python, so zlib's (C) size is
used first to skip it where gzip cannot pay by a wide margin (see ``_gzip_could_pay``), and contents
over ``GO_GZIP_MAX`` (2 MiB) are compressed with zlib (same contents, other bytes than Butane's).
``compression`` is returned as ``""`` when the contents are not compressed (written explicitly so
that a child config does not inherit a parent's compression), ``"gzip"`` when they are, and None
when the user's own compression stands.
"""

from __future__ import annotations

import base64
import urllib.parse
import zlib
from typing import Optional

from ignkit.gocompat.flate import go_gzip, gzip_member

__all__ = ["make_data_url", "escape"]

_SAFE = "!~*'()"


def escape(data: bytes) -> str:
    """Percent-encode ``data`` like Go's ``dataurl.Escape``."""
    return urllib.parse.quote(data, safe=_SAFE)


# Go's compressor in Python manages 0.25-1 MB/s (text-like input, see ignkit.gocompat.flate); above this size
# zlib (level 9, the same gzip header) is used instead: the URL then carries the same contents in other bytes.
GO_GZIP_MAX = 2 << 20


def _gzip(data: bytes) -> bytes:
    if len(data) > GO_GZIP_MAX:
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        return gzip_member(z.compress(data) + z.flush(), data)
    return go_gzip(data)


_ZLIB_MAX_DIST = 32768 - 262  # zlib's MAX_DIST: window size less MIN_LOOKAHEAD
_GO_MAX_DIST = 32768


def _b64_len(n: int) -> int:
    return 4 * ((n + 2) // 3)


def _gzip_could_pay(data: bytes, best: int) -> bool:
    """Whether Go's gzip of ``data`` could make a data URL opaque part shorter than ``best`` characters.

    Go's output is bounded below from zlib's level-9 size: where zlib saves nothing (random-looking
    bytes), Go's deflate stream was never found shorter than zlib's (8 bytes allowed here); elsewhere
    never below 83 % of it (75 % allowed). Measured on thousands of generated inputs (text, small
    alphabets, sparse noise, repeats, random bytes). Repeats at distances only Go reaches void the
    bound; they are looked for before skipping.
    """
    # the smallest gzip member is 20 bytes: 10 header, 2 of deflate, 8 trailer
    if len(";base64,") + _b64_len(20) + 4 >= best:
        return False
    z = len(zlib.compress(data, 9)) - 6  # raw deflate length (zlib wraps it in 2 + 4 bytes)
    if z >= len(data):
        low = z - 8
    else:
        low = (3 * (z + 8)) // 4 - 8
    low = max(low, 2)
    if len(";base64,") + _b64_len(18 + low) + 4 < best:
        return True
    return _repeats_zlib_cannot_reach(data)


def _repeats_zlib_cannot_reach(data: bytes) -> bool:
    """Whether 4 bytes repeat at a distance Go's matcher reaches and zlib's does not (zlib stops at 32506,
    Go at 32768), where zlib's size says nothing about Go's."""
    n = len(data)
    if n < _ZLIB_MAX_DIST + 5:
        return False
    whole = int.from_bytes(data, "little")
    for d in range(_ZLIB_MAX_DIST + 1, min(_GO_MAX_DIST, n - 4) + 1):
        # byte i of the XOR is zero where data[i] == data[i + d]
        if b"\0\0\0\0" in (whole ^ (whole >> (8 * d))).to_bytes(n, "little")[:n - d]:
            return True
    return False


def make_data_url(contents: bytes, current_compression: Optional[str] = None,
                  allow_compression: bool = True) -> tuple[str, Optional[str]]:
    """(``data:`` URL, compression to write or None) for ``contents``."""
    user_compressed = bool(current_compression)
    compression: Optional[str] = None if user_compressed else ""
    b64 = ";base64," + base64.b64encode(contents).decode("ascii")
    # The percent form is at least as long as the data; skip building it when base64 already wins.
    if len(b64) <= len(contents):
        opaque = b64
    else:
        opaque = "," + escape(contents)
        if len(b64) < len(opaque):
            opaque = b64
    if not user_compressed and allow_compression and _gzip_could_pay(contents, len(opaque)):
        gz = ";base64," + base64.b64encode(_gzip(contents)).decode("ascii")
        if len(gz) + 4 < len(opaque):
            opaque = gz
            compression = "gzip"
    return "data:" + opaque, compression
