"""Go's ``encoding/base64``: the error ``StdEncoding.DecodeString`` returns."""

from __future__ import annotations

from typing import Optional

__all__ = ["go_base64_error"]

_B64_VALUE = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def go_base64_error(data: str) -> Optional[str]:
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
