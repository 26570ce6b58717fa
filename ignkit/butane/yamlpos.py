"""YAML as Go's ``gopkg.in/yaml.v3`` reads it, with the line/column of every key and value.

Butane parses its input with yaml.v3 (a YAML 1.2 reader with a few YAML 1.1 leftovers). PyYAML (the
libyaml parser when available) builds the node tree; scalars are resolved here with yaml.v3's rules
instead of PyYAML's YAML 1.1 ones: ``yes``/``on`` are strings (but still read as booleans when a
boolean is expected), ``0644`` is octal, ``1_000`` is 1000. Syntax errors carry yaml.v3's wording
and line numbers (``yaml: line 3: did not find expected node content``).
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass, field
from typing import Any, Optional, Union

import yaml

__all__ = ["Node", "YamlError", "parse", "resolve_plain", "short_tag"]

_T = "tag:yaml.org,2002:"
_PLAIN = "!plain"
_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


class YamlError(Exception):
    """Input yaml.v3 refuses to parse; ``str()`` is yaml.v3's message (``yaml: line 2: ...``)."""


@dataclass
class Node:
    """One YAML node: ``kind`` is ``scalar``, ``seq`` or ``map``.

    Scalars keep their source text (``text``), resolved ``tag`` (short form, ``!!int``) and ``value``
    (the Python value of the resolved tag). Maps keep ``pairs`` of (key node, value node) in
    document order. ``line``/``column`` are 1-based.
    """

    kind: str
    line: int
    column: int
    tag: str = ""
    text: str = ""
    value: Any = None
    items: list[Node] = field(default_factory=list)
    pairs: list[tuple[Node, Node]] = field(default_factory=list)

    def get(self, key: str) -> Optional[Node]:
        """The value node under ``key`` in a map (the last one if repeated), else None."""
        found = None
        for k, v in self.pairs:
            if k.kind == "scalar" and k.text == key:
                found = v
        return found


def short_tag(tag: str) -> str:
    return "!!" + tag[len(_T):] if tag.startswith(_T) else tag


def resolve_plain(text: str) -> tuple[str, Any]:
    """(tag, value) of a plain scalar under yaml.v3's resolver."""
    if text in ("", "~", "null", "Null", "NULL"):
        return "!!null", None
    if text in ("true", "True", "TRUE"):
        return "!!bool", True
    if text in ("false", "False", "FALSE"):
        return "!!bool", False
    c = text[0]
    if c in "+-.0123456789":
        if text in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"):
            return "!!float", math.inf
        if text in ("-.inf", "-.Inf", "-.INF"):
            return "!!float", -math.inf
        if text in (".nan", ".NaN", ".NAN"):
            return "!!float", math.nan
        plain = text.replace("_", "")
        iv = _go_parse_int(plain)
        if iv is not None:
            return "!!int", iv
        if _FLOAT_RE.match(plain):
            try:
                return "!!float", float(plain)
            except ValueError:
                pass
    return "!!str", text


_INT_RE = re.compile(r"^[+-]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")


def _go_parse_int(s: str) -> Optional[int]:
    """strconv.ParseInt(s, 0, 64) then ParseUint(s, 0, 64) as yaml.v3 tries them; None when neither fits."""
    if not _INT_RE.match(s):
        return None
    neg = s[0] == "-"
    body = s.lstrip("+-")
    if len(body) > 1 and body[0] == "0" and body[1] in "xXoObB":
        v = int(body[2:], {"x": 16, "o": 8, "b": 2}[body[1].lower()])
    elif len(body) > 1 and body[0] == "0":
        v = int(body, 8)
    else:
        v = int(body)
    if neg:
        v = -v
        return v if v >= -(1 << 63) else None
    if v < (1 << 64):
        return v
    return None


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Composes nodes only; plain scalars are marked for our own resolver."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        if kind is yaml.ScalarNode:
            return _T + "str"
        if kind is yaml.SequenceNode:
            return _T + "seq"
        return _T + "map"


def _convert(n: yaml.Node, memo: dict[int, Node]) -> Node:
    got = memo.get(id(n))
    if got is not None:
        return got
    line, col = n.start_mark.line + 1, n.start_mark.column + 1
    if isinstance(n, yaml.ScalarNode):
        text = n.value
        if n.tag == _PLAIN:
            tag, value = resolve_plain(text)
        else:
            tag = short_tag(n.tag)
            value = _explicit(tag, text)
        out = Node("scalar", line, col, tag=tag, text=text, value=value)
    elif isinstance(n, yaml.SequenceNode):
        out = Node("seq", line, col, tag="!!seq")
        memo[id(n)] = out
        out.items = [_convert(x, memo) for x in n.value]
    else:
        out = Node("map", line, col, tag="!!map")
        memo[id(n)] = out
        out.pairs = [(_convert(k, memo), _convert(v, memo)) for k, v in n.value]
    memo[id(n)] = out
    return out


def _explicit(tag: str, text: str) -> Any:
    if tag == "!!str":
        return text
    if tag == "!!binary":
        try:
            return base64.b64decode("".join(text.split())).decode("utf-8", errors="replace")
        except ValueError:
            return text
    if tag in ("!!int", "!!float", "!!bool", "!!null"):
        t, v = resolve_plain(text)
        if t == tag or (tag == "!!float" and t == "!!int"):
            return float(v) if tag == "!!float" else v
    return text


def _fail(e: yaml.YAMLError) -> YamlError:
    problem = getattr(e, "problem", None) or str(e)
    if problem == "found undefined alias":
        name = ""
        mark = getattr(e, "problem_mark", None)
        if mark is not None and mark.buffer:
            tail = mark.buffer[mark.index:]
            name = re.match(r"\*?([^\s,\[\]{}]*)", tail).group(1)  # type: ignore[union-attr]
        return YamlError(f"yaml: unknown anchor '{name}' referenced")
    scanner = isinstance(e, yaml.scanner.ScannerError)
    line = 0
    cm, pm = getattr(e, "context_mark", None), getattr(e, "problem_mark", None)
    if cm is not None and cm.line != 0:
        line = cm.line + (1 if scanner else 0)
    elif pm is not None and pm.line != 0:
        line = pm.line + (1 if scanner else 0)
    where = f"line {line}: " if line else ""
    return YamlError(f"yaml: {where}{problem}")


def parse(data: Union[str, bytes]) -> Optional[Node]:
    """The first document's root node (None for an empty document); YamlError on bad syntax."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    loader = _Loader(data)
    try:
        root = None
        if loader.check_node():
            root = loader.get_node()
    except yaml.YAMLError as e:
        raise _fail(e) from None
    finally:
        loader.dispose()
    if root is None:
        return None
    return _convert(root, {})
