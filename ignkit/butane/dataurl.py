"""Data URLs chosen the way Butane chooses them: the shortest of percent-encoding, base64 and gzip+base64.

Percent-encoding keeps ASCII letters, digits and ``-_.!~*'()``; every other byte is ``%XX``
(upper-case hex). base64 is standard padded base64. gzip (best compression) is used only when its
base64 text plus the four characters of ``gzip`` is shorter than the best plain form, and never when
the resource already declares a compression. ``compression`` is returned as ``""`` when the
contents are not compressed (written explicitly so that a child config does not inherit a parent's
compression), ``"gzip"`` when they are, and None when the user's own compression stands.
"""

from __future__ import annotations

import base64
import urllib.parse
from typing import Optional

from ignkit.gocompat.flate import go_gzip

__all__ = ["make_data_url", "escape"]

_SAFE = "!~*'()"


def escape(data: bytes) -> str:
    """Percent-encode ``data`` like Go's ``dataurl.Escape``."""
    return urllib.parse.quote(data, safe=_SAFE)


def _gzip(data: bytes) -> bytes:
    return go_gzip(data)


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
    if not user_compressed and allow_compression:
        gz = ";base64," + base64.b64encode(_gzip(contents)).decode("ascii")
        if len(gz) + 4 < len(opaque):
            opaque = gz
            compression = "gzip"
    return "data:" + opaque, compression
