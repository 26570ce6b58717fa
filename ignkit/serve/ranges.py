"""HTTP range and conditional-request rules for ``ignkit serve`` (RFC 9110 sections 13 and 14), as pure functions."""

from __future__ import annotations

import email.utils
import re
from typing import Optional

_RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d{0,19})\s*-\s*(\d{0,19})\s*$", re.IGNORECASE)


class Unsatisfiable(Exception):
    """The Range is valid but selects nothing of the representation: answer 416."""


def parse_range(header: Optional[str], size: int) -> Optional[tuple[int, int]]:
    """``(start, end)`` (end exclusive) selected by a Range header, or None to send the whole body.

    A missing, malformed, non-``bytes`` or multi-range header gives None (the full body, 200): clients
    that send several ranges get a correct if larger answer. ``bytes=a-b`` with ``a > b``, ``bytes=-``
    and numbers of more than 19 digits are malformed. Raises :class:`Unsatisfiable` for a first byte
    at or past the end, or a zero-length suffix.
    """
    if not header or "," in header:
        return None
    m = _RANGE_RE.match(header)
    if not m:
        return None
    first, last = m.group(1), m.group(2)
    if not first:
        if not last:
            return None
        n = int(last)
        if n == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - n), size
    a = int(first)
    if last and int(last) < a:
        return None
    if a >= size:
        raise Unsatisfiable
    b = min(int(last), size - 1) if last else size - 1
    return a, b + 1


def _etags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def none_match(header: Optional[str], etag: str) -> bool:
    """If-None-Match (weak comparison) matches: answer 304 to GET/HEAD."""
    if header is None:
        return False
    tags = _etags(header)
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def _date(text: str) -> Optional[float]:
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.timestamp() if parsed is not None else None


def not_modified_since(header: Optional[str], last_modified: str) -> bool:
    """If-Modified-Since at or after Last-Modified (only consulted without If-None-Match)."""
    if not header:
        return False
    since, lm = _date(header), _date(last_modified)
    return since is not None and lm is not None and lm <= since


def range_applies(if_range: Optional[str], etag: str, last_modified: str) -> bool:
    """Whether a Range is honoured given If-Range: a strong ETag equal to ours, or exactly our Last-Modified.

    A weak ETag never matches (RFC 9110 13.1.5); on a mismatch the whole body is sent.
    """
    if if_range is None:
        return True
    v = if_range.strip()
    if v.startswith('"') or v.startswith("W/"):
        return v == etag
    a, b = _date(v), _date(last_modified)
    return a is not None and a == b
