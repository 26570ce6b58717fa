"""Go's ``net/url.Parse`` (the failure modes matter, not the full result)."""

from __future__ import annotations

import re

__all__ = ["GoURL", "URLError", "go_url_parse"]


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
