"""Checks shared by several sections: paths, URLs (Go ``net/url`` semantics), hashes, data URLs, units.

Each ``check_*`` function returns the Ignition error message, or None when the value passes.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Optional

__all__ = [
    "check_path",
    "go_url_parse",
    "check_url",
    "check_hash",
    "check_dataurl",
    "parse_unit",
    "UnitParseError",
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
    if _clean(p) != p:
        return "path is not fully simplified"
    return None


def _clean(p: str) -> str:
    """Go's ``path.Clean`` for absolute paths."""
    out = posixpath.normpath(p)
    if out.startswith("//"):
        out = "/" + out.lstrip("/")
    return out


def clean_path(p: str) -> str:
    """Go's ``path.Clean`` (also for relative paths)."""
    if p == "":
        return "."
    rooted = p.startswith("/")
    parts: list[str] = []
    for seg in p.split("/"):
        if seg == "" or seg == ".":
            continue
        if seg == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(seg)
    s = "/".join(parts)
    if rooted:
        return "/" + s
    return s or "."


# --------------------------------------------------------------------------------------------
# Go net/url.Parse emulation (the failure modes matter, not the full result).


class URLError(Exception):
    pass


class GoURL:
    __slots__ = ("scheme", "opaque", "host", "path", "raw_query")

    def __init__(self) -> None:
        self.scheme = ""
        self.opaque = ""
        self.host = ""
        self.path = ""
        self.raw_query = ""

    def query(self) -> dict[str, list[str]]:
        """Go's ``url.Query()`` (malformed pairs are dropped)."""
        out: dict[str, list[str]] = {}
        for part in self.raw_query.split("&"):
            if part == "" or ";" in part:
                continue
            k, _, v = part.partition("=")
            try:
                k = _unescape(k, "query")
                v = _unescape(v, "query")
            except URLError:
                continue
            out.setdefault(k, []).append(v)
        return out


_HEX = set("0123456789abcdefABCDEF")
_HOST_OK = set("!$&'()*+,;=:[]<>\"-_.~")
_USERINFO_OK = set("-._:~!$&'()*+,;=%@")


def _unescape(s: str, mode: str) -> str:
    i = 0
    n = len(s)
    out = bytearray()
    while i < n:
        c = s[i]
        if c == "%":
            if i + 2 >= n or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                raise URLError("invalid URL escape")
            if mode == "host" and int(s[i + 1], 16) < 8 and s[i:i + 3] != "%25":
                raise URLError("invalid URL escape")
            out.append(int(s[i + 1:i + 3], 16))
            i += 3
            continue
        if mode == "host" and ord(c) < 0x80 and not (c.isascii() and c.isalnum()) and c not in _HOST_OK:
            raise URLError("invalid character in host name")
        if c == "+" and mode == "query":
            out.append(0x20)
        else:
            out += c.encode("utf-8", errors="surrogatepass")
        i += 1
    return out.decode("utf-8", errors="replace")


def _valid_port(p: str) -> bool:
    if p == "":
        return True
    return p[0] == ":" and all("0" <= c <= "9" for c in p[1:])


def _parse_host(host: str) -> str:
    if host.startswith("["):
        i = host.rfind("]")
        if i < 0:
            raise URLError("missing ']' in host")
        if not _valid_port(host[i + 1:]):
            raise URLError("invalid port")
    else:
        i = host.rfind(":")
        if i != -1 and not _valid_port(host[i:]):
            raise URLError("invalid port")
    return _unescape(host, "host")


_CTL = re.compile(r"[\x00-\x1f\x7f]")


def go_url_parse(raw: str) -> GoURL:
    """Parse like Go's ``url.Parse``; raise :class:`URLError` where Go returns an error."""
    if _CTL.search(raw):
        raise URLError("invalid control character in URL")
    rest, hashmark, frag = raw.partition("#")
    u = GoURL()
    if hashmark:
        _unescape(frag, "fragment")
    if rest == "*":
        u.path = "*"
        return u
    # scheme
    scheme = ""
    for i, c in enumerate(rest):
        if c.isascii() and c.isalpha():
            continue
        if (c.isascii() and c.isdigit()) or c in "+-.":
            if i == 0:
                break
            continue
        if c == ":":
            if i == 0:
                raise URLError("missing protocol scheme")
            scheme, rest = rest[:i], rest[i + 1:]
        break
    u.scheme = scheme.lower()
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest, _, u.raw_query = rest.partition("?")
    if not rest.startswith("/"):
        if u.scheme:
            u.opaque = rest
            return u
        if ":" in rest.partition("/")[0]:
            raise URLError("first path segment in URL cannot contain colon")
    if (u.scheme or not rest.startswith("///")) and rest.startswith("//"):
        authority, rest = rest[2:], ""
        i = authority.find("/")
        if i >= 0:
            authority, rest = authority[:i], authority[i:]
        at = authority.rfind("@")
        u.host = _parse_host(authority[at + 1:] if at >= 0 else authority)
        if at >= 0:
            userinfo = authority[:at]
            if not all((c.isascii() and c.isalnum()) or c in _USERINFO_OK for c in userinfo):
                raise URLError("invalid userinfo")
            for part in userinfo.split(":", 1):
                _unescape(part, "userinfo")
    u.path = _unescape(rest, "path")
    return u


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
        fast = _data_fast_path(s)
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


# --------------------------------------------------------------------------------------------
# RFC 2397 data URLs (the checks of the dataurl library Ignition uses).

_TSPECIALS = set('()<>@,;:\\"/[]?=')
_TOKEN = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]*")


def _is_token_char(c: str) -> bool:
    return 0x20 < ord(c) < 0x7F and c not in _TSPECIALS


_NOT_URLCHAR = re.compile(r"[^A-Za-z0-9;/?:@&=+$,\-_.!~*'()%]")
_NOT_B64CHAR = re.compile(r"[^A-Za-z0-9+/=%]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _bad_data(data: str, chars: re.Pattern[str]) -> Optional[str]:
    if chars.search(data) is not None:
        return "invalid data character"
    if "%" in data and _BAD_ESCAPE.search(data) is not None:
        return "rfc2396: invalid char 0x25 in unescape sequence"
    return None


def _data_fast_path(s: str) -> Any:
    """Check a large ``data:`` URL with one scan of its payload; False when the slow path must decide.

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
    return check_dataurl(s, payload_chars_checked=True)


def check_dataurl(s: str, payload_chars_checked: bool = False) -> Optional[str]:
    """Return the data URL decoder's error message for ``s``, or None if it decodes."""
    if not s.startswith("data:"):
        return "missing data prefix"
    i = 5
    n = len(s)

    def token(j: int) -> int:
        m = _TOKEN.match(s, j)
        return m.end() if m else j

    base64 = False
    if i < n and s[i] not in ",;":
        j = token(i)
        if j == i:
            return "invalid character for media type"
        if j >= n or s[j] != "/":
            return "missing media type slash"
        k = token(j + 1)
        if k == j + 1:
            return "invalid character for media subtype"
        i = k
        if i >= n or s[i] not in ",;":
            return "invalid character after media subtype"
    while i < n and s[i] == ";":
        j = token(i + 1)
        if j == i + 1:
            return "invalid character for parameter name"
        name = s[i + 1:j]
        if name == "base64" and (j >= n or s[j] == ","):
            base64 = True
            i = j
            break
        if j >= n or s[j] != "=":
            return "missing equal sign"
        if j + 1 < n and s[j + 1] == '"':
            k = j + 2
            while k < n and s[k] != '"':
                k += 2 if s[k] == "\\" else 1
            if k >= n:
                return "unterminated quoted value"
            k += 1
        else:
            k = token(j + 1)
            if k == j + 1:
                return "invalid parameter value"
        i = k
        if i < n and s[i] not in ",;":
            return "invalid character after parameter value"
    if i >= n or s[i] != ",":
        return "missing comma before data"
    data = s[i + 1:]
    if payload_chars_checked:
        # the caller scanned the payload with the character class chosen from the same header
        if "%" in data and _BAD_ESCAPE.search(data) is not None:
            return "rfc2396: invalid char 0x25 in unescape sequence"
        if not base64:
            return None
    if base64:
        bad = None if payload_chars_checked else _bad_data(data, _NOT_B64CHAR)
        if bad:
            return bad
        import base64 as b64
        import binascii
        from urllib.parse import unquote_to_bytes

        raw = unquote_to_bytes(data)
        try:
            b64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            try:
                b64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
            except (binascii.Error, ValueError):
                return "illegal base64 data at input byte 0"
        return None
    return _bad_data(data, _NOT_URLCHAR)


# --------------------------------------------------------------------------------------------
# Hash specifiers.


def check_hash(h: str, v: tuple[int, int]) -> Optional[str]:
    fn, dash, digest = h.partition("-")
    if not dash:
        return "malformed hash specifier"
    if fn == "sha512":
        size = 128
    elif fn == "sha256" and v >= (3, 1):
        size = 64
    else:
        return "unrecognized hash function"
    if len(digest) != size:
        return "incorrect size for hash sum"
    return None


# --------------------------------------------------------------------------------------------
# systemd unit files (go-systemd's deserializer: only its failure modes and the sections seen).

LINE_MAX = 2048


class UnitParseError(Exception):
    pass


def parse_unit(text: str) -> list[tuple[str, str, str]]:
    """Return ``(section, name, value)`` options; raise :class:`UnitParseError` like go-systemd."""
    data = text.encode("utf-8", errors="surrogatepass")
    n = len(data)
    pos = 0
    opts: list[tuple[str, str, str]] = []

    def to_eol(p: int) -> tuple[bytes, int, bool]:
        nl = data.find(b"\n", p)
        if nl < 0:
            if n - p >= LINE_MAX:
                raise UnitParseError("line too long (max 2048 bytes)")
            return data[p:], n, True
        if nl - p >= LINE_MAX:
            raise UnitParseError("line too long (max 2048 bytes)")
        return data[p:nl], nl + 1, False

    section: Optional[str] = None
    while True:
        if section is None:
            # looking for the first section; anything else is ignored line by line
            if pos >= n:
                return opts
            c = data[pos]
            pos += 1
            if c == 0x5B:
                section, pos = _section_name(data, pos, to_eol)
                continue
            _, pos, _ = to_eol(pos)
            continue
        # next section or option
        if pos >= n:
            return opts
        c = data[pos]
        if c in b" \t\n\r\v\f":
            pos += 1
            continue
        if c == 0x5B:
            section, pos = _section_name(data, pos + 1, to_eol)
            continue
        if c in b"#;":
            _, pos, _ = to_eol(pos + 1)
            continue
        # option name
        start = pos
        while True:
            if pos >= n:
                raise UnitParseError("EOF")
            c = data[pos]
            if c in b"\n\r":
                raise UnitParseError("unexpected newline encountered while parsing option name")
            pos += 1
            if c == 0x3D:
                break
        name = data[start:pos - 1].strip().decode("utf-8", errors="replace")
        value = bytearray()
        eof = False
        while True:
            line, pos, eof = to_eol(pos)
            if not line.strip():
                break
            value += line
            if not line.endswith(b"\\") or eof:
                break
            value[-1:] = b" "
        opts.append((section, name, value.strip().decode("utf-8", errors="replace")))
        if eof:
            return opts


def _section_name(data: bytes, pos: int, to_eol: Any) -> tuple[str, int]:
    end = data.find(b"]", pos)
    if end < 0:
        raise UnitParseError("unable to find end of section")
    name = data[pos:end].decode("utf-8", errors="replace")
    garbage, pos, _ = to_eol(end + 1)
    garbage = garbage.strip()
    if garbage:
        # go-systemd prints the section it has not recorded yet: always an empty name
        raise UnitParseError(f"found garbage after section name : {_go_quote(garbage)}")
    return name, pos


def _go_quote(b: bytes) -> str:
    """Go's ``%q`` of a byte string (printable ASCII kept, common escapes, else \\x..)."""
    out = ['"']
    s = b.decode("utf-8", errors="replace")
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
