"""Checks shared by several sections: paths, URLs (Go ``net/url`` semantics), hashes, data URLs, units.

Each ``check_*`` function returns the Ignition error message, or None when the value passes.
"""

from __future__ import annotations

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
    if clean_path(p) != p:
        return "path is not fully simplified"
    return None


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
    rest, hashmark, frag = raw.partition("#")
    if _CTL.search(rest):  # the fragment is only unescaped, never checked for control characters
        raise URLError("invalid control character in URL")
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
# RFC 2397 data URLs: the states and messages of the dataurl library Ignition uses.

_TSPECIALS = set('()<>@,;:\\"/[]?=')
_NOT_URLCHAR = re.compile(r"[^A-Za-z0-9;/?:@&=+$,\-_.!~*'()%]")
_NOT_B64CHAR = re.compile(r"[^A-Za-z0-9+/=]")
_B64_VALUE = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


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


def _go_base64_error(data: str) -> Optional[str]:
    """Go's ``base64.StdEncoding.DecodeString`` error for a string of base64 alphabet characters."""
    n = len(data)
    if n % 4 == 0 and "=" not in data[:-2] and not (data[-2:-1] == "=" and data[-1:] != "="):
        return None  # the common case: whole quanta, padding only at the end
    si = 0
    while True:
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return None
                return f"illegal base64 data at input byte {si - j}"
            c = data[si]
            si += 1
            if c in _B64_VALUE:
                j += 1
                continue
            # padding
            if j in (0, 1):
                return f"illegal base64 data at input byte {si - 1}"
            if j == 2:
                if si == n:
                    return f"illegal base64 data at input byte {n}"
                if data[si] != "=":
                    return f"illegal base64 data at input byte {si - 1}"
                si += 1
            if si < n:
                return f"illegal base64 data at input byte {si}"
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
    n = len(s)
    i = 5
    start = i
    base64 = False
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
        return "missing comma before data"
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
            return "invalid character after data prefix"
        i, err = token(i, "/", "missing media type slash", "invalid character for media type")
        if err:
            return err
        if discrete and not s[start:i].startswith(("text", "image", "audio", "video", "application", "message",
                                                   "multipart")):
            return "invalid media type"
        i, err = token(i + 1, ";,", "incomplete media type", "invalid character for media subtype")
        if err:
            return err
        state = "semicolon" if s[i] == ";" else "comma"
    # parameters
    while state == "semicolon":
        attr_start = i + 1
        i, err = token(attr_start, "=,", "unterminated parameter sequence", "invalid character for parameter attribute")
        if err or i == attr_start:
            return fail(err or "unterminated parameter sequence")
        if s[i] == ",":
            attr = s[attr_start:i]
            if attr != "base64":
                return fail(f"expected base64, got {attr}")
            base64 = True
            break
        i += 1  # '='
        val_start = i
        if at(i) == '"':
            i += 1
            while True:
                c = at(i)
                if c is None:
                    return fail("unclosed quoted string")
                if c == "\\":
                    i += 2 if i + 1 < n and ord(s[i + 1]) <= 0x7F else 1
                    continue
                if c == '"':
                    break
                if ord(c) > 0x7F:
                    return fail("invalid character for parameter value")
                i += 1
            i += 1
            if pending is None and _go_unquote_fails(s[val_start + 1:i - 1]):
                pending = "invalid syntax"
        else:
            i, err = token(i, ";,", "missing comma before data", "invalid character for parameter value")
            if err or i == val_start:
                return fail(err or "invalid character for parameter value")
            if pending is None:
                pending = _rfc2396_unescape(s[val_start:i])
        c = at(i)
        if c == ",":
            break
        if c is None:
            return fail("missing comma before data")
        if c != ";":
            return fail("expected semicolon or comma")
    # data
    data = s[i + 1:]
    if not payload_chars_checked:
        if (_NOT_B64CHAR if base64 else _NOT_URLCHAR).search(data) is not None:
            return fail("invalid data character")
    if pending is not None:
        return pending
    if not data:
        return None
    if base64:
        return _go_base64_error(data)
    return _rfc2396_unescape(data) if "%" in data else None


def _go_unquote_fails(val: str) -> bool:
    """Whether Go's ``strconv.Unquote`` rejects ``"val"`` (approximation: escapes and raw quotes)."""
    import json as _json

    try:
        _json.loads('"' + val + '"')
    except ValueError:
        return True
    return False


# --------------------------------------------------------------------------------------------
# Hash specifiers.


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


# --------------------------------------------------------------------------------------------
# systemd unit files (go-systemd's deserializer: only its failure modes and the sections seen).

LINE_MAX = 2048


class UnitParseError(Exception):
    pass


class _BufReader:
    """Go's ``bufio.Reader`` (4096-byte buffer) over a ``strings.Reader``: just enough state to know
    how many bytes are buffered at any moment, which go-systemd's line-length check depends on."""

    SIZE = 4096

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.n = len(data)
        self.r = 0  # read position (absolute)
        self.w = 0  # end of buffered data (absolute)
        self.eof = False  # the underlying reader reported EOF (pending error)
        self.last = 0

    def fill(self) -> None:
        if self.w >= self.n:
            self.eof = True
            return
        self.w = min(self.r + self.SIZE, self.n)

    def buffered(self) -> int:
        return self.w - self.r

    def _full_rune(self) -> bool:
        avail = self.w - self.r
        if avail == 0:
            return False
        c = self.data[self.r]
        need = 1 if c < 0x80 else 2 if c >= 0xC0 and c < 0xE0 else 3 if c >= 0xE0 and c < 0xF0 else \
            4 if c >= 0xF0 and c < 0xF8 else 1
        return avail >= need

    def read_rune(self) -> Optional[str]:
        """The next rune, or None at EOF."""
        while self.w - self.r < 4 and not self._full_rune() and not self.eof and self.w - self.r < self.SIZE:
            self.fill()
        if self.r == self.w:
            self.eof = False  # readErr() clears the pending error
            return None
        chunk = self.data[self.r:min(self.r + 4, self.w)]
        c = chunk[0]
        width = 1
        if c >= 0x80:
            for k in (2, 3, 4):
                if k > len(chunk):
                    break
                try:
                    chunk[:k].decode("utf-8")
                except UnicodeDecodeError:
                    continue
                width = k  # a valid sequence; otherwise Go reads one byte as U+FFFD
                break
        text = chunk[:width].decode("utf-8", errors="replace")
        self.r += width
        self.last = width
        return text

    def unread_rune(self) -> None:
        self.r -= self.last

    def read_bytes(self, delim: int) -> tuple[bytes, bool]:
        """Go's ``ReadBytes``: the data up to and including ``delim``; True when EOF came first."""
        start = self.r
        while True:
            i = self.data.find(bytes([delim]), self.r, self.w)
            if i >= 0:
                self.r = i + 1
                return self.data[start:self.r], False
            if self.eof:
                self.r = self.w
                self.eof = False
                return self.data[start:self.r], True
            if self.w - self.r >= self.SIZE:
                self.r = self.w  # ErrBufferFull: ReadBytes keeps the chunk and reads on
                continue
            self.fill()


def parse_unit(text: str) -> list[tuple[str, str, str]]:
    """Return ``(section, name, value)`` options; raise :class:`UnitParseError` like go-systemd."""
    buf = _BufReader(text.encode("utf-8", errors="surrogatepass"))
    data = buf.data
    opts: list[tuple[str, str, str]] = []

    def to_eol() -> tuple[bytes, bool]:
        line, eof = buf.read_bytes(0x0A)
        if line.endswith(b"\n"):
            line = line[:-1]
        return line, eof

    step = "next_section"
    after_ignore = "next_section"
    section = ""
    name = ""
    while True:
        # go-systemd refuses 2048 buffered bytes without a line break (systemd would truncate them)
        if buf.buffered() >= LINE_MAX:
            window = data[buf.r:buf.r + LINE_MAX]
            if b"\n" not in window and b"\r" not in window:
                raise UnitParseError("line too long (max 2048 bytes)")
        if step == "next_section" or step == "next_section_or_option":
            r = buf.read_rune()
            if r is None:
                return opts
            if step == "next_section_or_option" and r.isspace():
                continue
            if r == "[":
                step = "section_name"
            elif r in "#;":
                after_ignore, step = step, "ignore"
            elif step == "next_section_or_option":
                buf.unread_rune()
                step = "option_name"
        elif step == "section_name":
            raw, eof = buf.read_bytes(0x5D)
            if eof:
                raise UnitParseError("unable to find end of section")
            section = raw[:-1].decode("utf-8", errors="replace")
            step = "section_suffix"
        elif step == "section_suffix":
            garbage, _ = to_eol()
            garbage = garbage.strip(b" \t\n\r\v\f")
            if garbage:
                # go-systemd names a section field it never sets: the name is always empty
                raise UnitParseError(f"found garbage after section name : {go_quote(garbage)}")
            step = "next_section_or_option"
        elif step == "ignore":
            while True:
                line, _ = to_eol()
                if not line.rstrip(b" ").endswith(b"\\"):
                    break
            step = after_ignore
        elif step == "option_name":
            start = buf.r
            while True:
                r = buf.read_rune()
                if r is None:
                    raise UnitParseError("EOF")
                if r in "\n\r":
                    raise UnitParseError("unexpected newline encountered while parsing option name")
                if r == "=":
                    break
            name = data[start:buf.r - 1].decode("utf-8", errors="replace").strip()
            value = bytearray()
            step = "option_value"
        elif step == "option_value":
            line, eof = to_eol()
            if line.strip():
                value += line
                if line.endswith(b"\\"):
                    continue  # the value goes on in the next line (a new lexer step)
            opts.append((section, name, value.decode("utf-8", errors="replace").strip()))
            step = "next_section_or_option"


_GO_ESC = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 0x5C: "\\\\", 0x22: '\\"'}


def go_quote(value: bytes | str) -> str:
    """Go's ``%q`` (``strconv.Quote``): escapes, ``\\xNN`` for bad bytes, ``\\u`` for unprintables."""
    b = value.encode("utf-8", errors="surrogatepass") if isinstance(value, str) else value
    out = ['"']
    text = b.decode("utf-8", errors="surrogateescape")
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:  # an undecodable byte
            out.append(f"\\x{o - 0xDC00:02x}")
        elif o in _GO_ESC:
            out.append(_GO_ESC[o])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif o < 0x80:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)
