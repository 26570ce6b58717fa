"""Read YAML inventories and nmstate files without YAML 1.1's base-60 integers.

PyYAML follows YAML 1.1, where ``52:54:00:00:00:10`` is the sexagesimal integer 41135040010: an
unquoted MAC address made of decimal digits would silently become a number. :func:`load_yaml` reads
such scalars as the strings they look like (every other YAML 1.1 type is resolved as usual).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Union

import yaml

from .docread import MAX_DEPTH, DocumentError, json_depth, loads_json
from .errors import InputError

_INT = "tag:yaml.org,2002:int"


#: Most nodes a YAML document may stand for once its aliases are expanded ("billion laughs" budget).
MAX_NODES = 100_000


class BudgetError(yaml.composer.ComposerError):
    """A YAML document nested too deeply or whose aliases expand beyond :data:`MAX_NODES` nodes."""


class _Loader(yaml.SafeLoader):
    """SafeLoader whose integers are decimal, binary, octal or hex, never base 60; bounded in nesting
    depth and in the number of nodes the document stands for once its aliases are expanded."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._sizes: dict[str, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            size = self._sizes.get(event.anchor) if event.anchor in self.anchors else 1
            if size is None:
                raise BudgetError(None, None, f"alias *{event.anchor} refers to a node that contains it",
                                  event.start_mark)
            self._count(size, event.start_mark)
            return super().compose_node(parent, index)
        event = self.peek_event()
        if self._depth >= MAX_DEPTH:
            raise BudgetError(None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        before = self._nodes
        self._count(1, event.start_mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if event.anchor is not None:
            self._sizes[event.anchor] = self._nodes - before
        return node

    def _count(self, n: int, mark: Any) -> None:
        self._nodes += n
        if self._nodes > MAX_NODES:
            raise BudgetError(None, None, f"more than {MAX_NODES} nodes once aliases are expanded", mark)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _INT]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _INT,
    re.compile(r"""^(?:[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+)$""", re.X),
    list("-+0123456789"),
)


def load_yaml(text: Union[str, bytes]) -> Any:
    """Parse YAML text like ``yaml.safe_load``, except that ``1:30``-style scalars stay strings."""
    if json_depth(text, yaml_flow=True) > MAX_DEPTH:
        raise BudgetError(None, None, f"nested deeper than {MAX_DEPTH} levels", None)
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def load_json_or_yaml(data: bytes, what: str = "") -> Any:
    """Parse ``data`` as JSON, else as YAML (read like :func:`load_yaml`); ``None`` when it is neither.

    For documents such as Kubernetes objects that ``oc`` prints either way; the caller decides what an
    unparsable (``None``) or wrongly shaped result means. A document beyond the nesting or alias budget is
    refused (:class:`~ignkit.docread.DocumentError`, its message led by ``what``).
    """
    lead = f"{what}: " if what else ""
    try:
        return loads_json(data)
    except DocumentError as e:
        raise DocumentError(f"{lead}{e.message}") from None
    except ValueError:
        pass
    try:
        return load_yaml(data)
    except BudgetError as e:
        raise DocumentError(f"{lead}{e.problem}") from None
    except Exception:  # noqa: BLE001 - not YAML either
        return None


def load_yaml_file(path: Union[str, os.PathLike[str]]) -> Any:
    """Read and parse a YAML (or JSON) file; InputError naming the file, line and column on failure."""
    p = Path(path)
    lead = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{lead}: not UTF-8 text") from None
    except OSError as e:
        raise InputError(f"{lead}: {e.strerror or e}") from None
    try:
        return load_yaml(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{lead}: not valid YAML{at}: {problem}") from None
