"""Go's ``strconv``: ``Quote`` (the ``%q`` verb) and whether ``Unquote`` fails."""

from __future__ import annotations

import json

__all__ = ["go_quote", "go_unquote_fails"]

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


def go_unquote_fails(val: str) -> bool:
    """Whether Go's ``strconv.Unquote`` rejects ``"val"`` (approximation: escapes and raw quotes)."""
    try:
        json.loads('"' + val + '"')
    except ValueError:
        return True
    return False
