"""Bounded JSON reading: refuse documents nested deeper than any real one before parsing them.

Python's ``json`` module recurses once per nesting level, and so does every walk over the result;
a hostile ``[[[[...`` would end in a RecursionError far from the input. :func:`loads_json` measures
the nesting first (one pass over the bytes at C speed) and refuses beyond :data:`MAX_DEPTH`. Ignition
configs that must be read the way Ignition reads them (``validate``, ``merge``) go through
:mod:`ignkit.ignition.jsonpos`, which follows Go's 10000-level limit; YAML goes through
:mod:`ignkit.yamlfile`, which applies the same depth limit and an alias-expansion budget.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any, Union

from .errors import InputError

#: Deepest nesting accepted in a JSON or YAML document that is not read by Ignition's own rules.
#: Stream metadata, Kubernetes objects, inventories, nmstate and Ignition configs are a few levels deep.
MAX_DEPTH = 128

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)  # unrolled: linear and fast on long strings
_YAML_QUOTED = re.compile(rb"'[^']*'|" + _STRING.pattern, re.S)
_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {0x5B: 1, 0x7B: 1, 0x5D: -1, 0x7D: -1}


class DocumentError(InputError, ValueError):
    """A document refused before parsing (too deep, too many alias expansions). A ValueError too, so that
    code that reports ``json.loads`` failures with its own context reports this one the same way."""


def json_depth(data: Union[bytes, str], *, yaml_flow: bool = False) -> int:
    """The deepest nesting of arrays and objects in JSON text (brackets inside strings do not count).

    With ``yaml_flow``, the same count for YAML flow collections (single-quoted strings skipped too): PyYAML's
    scanner takes quadratic time in that depth, so YAML is measured this way before it is parsed.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return raw.count(b"[") + raw.count(b"{")  # an upper bound, enough to accept
    brackets = (_YAML_QUOTED if yaml_flow else _STRING).sub(b"", raw).translate(None, _BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def check_depth(data: Union[bytes, str], max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`DocumentError` when ``data`` nests arrays/objects deeper than ``max_depth``."""
    if json_depth(data) > max_depth:
        raise DocumentError(f"nested deeper than {max_depth} levels")


def loads_json(data: Union[bytes, str], *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` after :func:`check_depth`: ValueError (json's, or :class:`DocumentError`) on bad input."""
    check_depth(data, max_depth)
    try:
        return json.loads(data)
    except RecursionError:  # pragma: no cover - check_depth keeps far below the interpreter's limit
        raise DocumentError(f"nested deeper than {max_depth} levels") from None
