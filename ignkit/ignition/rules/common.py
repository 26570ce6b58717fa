"""Checks shared by several sections: paths, URLs, hashes.

Each ``check_*`` function returns the Ignition error message, or None when the value passes. The Go
parsers they rely on (``path.Clean``, ``net/url``) are in :mod:`ignkit.gocompat`; data URLs in
:mod:`ignkit.ignition.dataurl`.
"""

from __future__ import annotations

from typing import Any, Optional

from ...gocompat.neturl import GoURL, URLError, go_url_parse
from ...gocompat.path import clean_path
from ..dataurl import check_dataurl, fast_check

__all__ = [
    "check_path",
    "check_url",
    "check_hash",
    "is_true",
    "is_false",
    "not_empty",
    "nil_or_empty",
]


def is_true(v: Any) -> bool:
    return v is True


def is_false(v: Any) -> bool:
    return v is False


def not_empty(v: Optional[str]) -> bool:
    return v is not None and v != ""


def nil_or_empty(v: Optional[str]) -> bool:
    return v is None or v == ""


def check_path(p: Optional[str]) -> Optional[str]:
    """Ignition's ``validatePath``: non-empty, absolute, already clean."""
    if p is None or p == "":
        return "path not specified"
    if not p.startswith("/"):
        return "path not absolute"
    if clean_path(p) != p:
        return "path is not fully simplified"
    return None


def url_schemes(v: tuple[int, int]) -> tuple[str, ...]:
    if v >= (3, 4):
        return ("http", "https", "tftp", "s3", "data", "gs", "arn")
    if v >= (3, 2):
        return ("http", "https", "tftp", "s3", "data", "gs")
    return ("http", "https", "tftp", "s3", "data")


def _s3_version_id(u: GoURL) -> Optional[str]:
    q = u.query()
    if "versionId" in q:
        vals = q["versionId"]
        if not vals or vals[0] == "":
            return "invalid S3 object VersionId"
    return None


def check_url(s: str, v: tuple[int, int]) -> Optional[str]:
    """Ignition's ``validateURL`` for a non-empty source of spec ``v``."""
    if s.startswith("data:"):
        fast = fast_check(s)
        if fast is not False:
            return fast  # type: ignore[return-value]
    try:
        u = go_url_parse(s)
    except URLError:
        return "unable to parse url"
    scheme = u.scheme
    if scheme not in url_schemes(v):
        return "invalid url scheme"
    if scheme == "s3":
        return _s3_version_id(u)
    if scheme == "arn":
        full = "arn:" + u.opaque
        if not full.startswith("arn:") or full.count(":") < 5:
            return "invalid S3 ARN format"
        sections = full.split(":", 5)
        if sections[1] == "":
            return "arn: invalid partition"
        if sections[2] == "":
            return "arn: invalid service"
        if sections[5] == "":
            return "arn: invalid resource"
        if sections[2] != "s3":
            return "invalid S3 ARN format"
        slashes = full.count("/")
        if sections[5].startswith("accesspoint/"):
            if slashes < 2:
                return "invalid S3 ARN format"
        elif slashes < 1:
            return "invalid S3 ARN format"
        return _s3_version_id(u)
    if scheme == "data":
        return check_dataurl(s)
    return None


def check_hash(h: str, v: tuple[int, int]) -> Optional[str]:
    """Ignition's ``Verification`` check of ``<function>-<digest>`` (the digest's length, not its digits)."""
    fn, dash, digest = h.partition("-")
    if not dash:
        return "malformed hash specifier"
    if fn == "sha512":
        size = 128
    elif fn == "sha256" and v >= (3, 1):
        size = 64
    else:
        return "unrecognized hash function"
    if len(digest.encode("utf-8", errors="surrogatepass")) != size:  # Go counts bytes
        return "incorrect size for hash sum"
    return None
