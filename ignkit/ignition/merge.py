"""Ignition's config merge (``config/merge``): the structure merge of a parent and a child config.

:func:`merge` works on plain JSON dicts, normally already translated to one spec version. Rendering the
``ignition.config`` merge/replace references (fetching, verifying, validating) lives in
:mod:`ignkit.ignition.resolve`, which builds on this module.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Hashable
from typing import Any, Callable, Optional

__all__ = ["merge"]

# ---------------------------------------------------------------------------------------------------------
# Which fields of the config are lists, and how their items are matched. Like Ignition, the merge uses the
# keys, shared handles and ignore set of the duplicate check (rules.dups.DUPS) over the field tree of the
# newest spec (schema.field_tree). A struct is described by a dict {json field name: descriptor}; scalars
# and unknown members are not listed and merge generically (objects member by member, anything else: the
# child's value wins when the child gives one).
# ---------------------------------------------------------------------------------------------------------


def _hashable(value: Any) -> Hashable:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value  # type: ignore[no-any-return]


def _safe_key(keyfn: Callable[[Any], Hashable]) -> Callable[[Any], Hashable]:
    def key(item: Any) -> Hashable:
        try:
            return keyfn(item)
        except Exception:  # an item of the wrong type (invalid config): match it only by its own value
            return ("<item>", _hashable(item))

    return key


class KeyedList:
    """A list whose items are matched by key; lists of one struct sharing a ``handle`` share one key space."""

    def __init__(self, key: Callable[[Any], Hashable], item: Optional[dict[str, Any]] = None,
                 handle: Optional[str] = None, headers: bool = False) -> None:
        self.key = key
        self.item = item
        self.handle = handle
        self.headers = headers  # HTTP headers: a matching child header without value deletes the parent's


class ConcatList:
    """A list where duplicates are allowed: the result is parent items then child items."""


@functools.cache
def merge_fields() -> dict[str, Any]:
    """The merge descriptor of a whole config (newest spec): structs as dicts, lists as
    :class:`KeyedList` / :class:`ConcatList`."""
    from .rules.dups import DUPS
    from .schema import field_tree
    from .versions import LATEST

    built: dict[int, dict[str, Any]] = {}

    def struct(st: Any) -> dict[str, Any]:
        if id(st) in built:
            return built[id(st)]
        desc: dict[str, Any] = {}
        built[id(st)] = desc
        keyed = {fname: (keyfn, handle) for fname, keyfn, handle in DUPS.get(st.name, [])}
        for name, f in st.fields.items():
            if f.kind == "struct":
                desc[name] = struct(f.struct)
            elif f.kind == "list" and name in keyed:
                keyfn, handle = keyed[name]
                item = struct(f.item.struct) if f.item.kind == "struct" else None
                desc[name] = KeyedList(_safe_key(keyfn), item, handle, headers=name == "httpHeaders")
            elif f.kind == "list":
                desc[name] = ConcatList()
        return desc

    return struct(field_tree(LATEST))


# ---------------------------------------------------------------------------------------------------------
# The merge
# ---------------------------------------------------------------------------------------------------------


def merge(parent: dict, *children: dict) -> dict:
    """Merge Ignition configs with Ignition's own semantics; returns a new dict (inputs are not modified).

    ``merge(p, c1, c2)`` is ``merge(merge(p, c1), c2)``. Rules (Ignition ``config/merge``):

    * a scalar the child gives (non-null, even ``false``/``0``/``""``) wins; a child ``null`` or absent member
      keeps the parent's value; objects merge member by member;
    * keyed lists (files/directories/links by ``path`` sharing one key space, units, dropins, users, groups,
      disks, partitions by number or label, filesystems, luks, raid, tang servers, merge/CA references by
      ``source``, HTTP headers by ``name``, and lists of strings by value) keep the parent's items in place,
      merging the child's item with the same key into them, and append the child's new items in order;
      a child item of another kind with the same path (file vs directory vs link) or a kernel argument moved
      between ``shouldExist`` and ``shouldNotExist`` removes the parent's item; a child HTTP header without
      a ``value`` deletes the parent's header of that name;
    * ``files[].append``, filesystem ``options``/``mountOptions``, luks and raid ``options`` concatenate;
    * an empty child list never removes anything;
    * ``ignition.version`` is the child's when the child gives one.

    No validation and no version translation happen here: give configs of one spec version (see
    :func:`ignkit.ignition.translate.translate`). Nulls are dropped from the result.
    """
    fields = merge_fields()
    result = _clean(parent) if isinstance(parent, dict) else {}
    for child in children:
        if child is None:
            continue
        if not isinstance(child, dict):
            raise TypeError(f"merge: configs must be dicts, not {type(child).__name__}")
        result = _merge_struct(result, _clean(child), fields)
    return result


def _clean(value: Any) -> Any:
    """A deep copy without null object members."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return copy.copy(value)


def _merge_value(pv: Any, cv: Any, desc: Any) -> Any:
    if cv is None:
        return _clean(pv)
    if pv is None:
        return _clean(cv)
    if isinstance(pv, dict) and isinstance(cv, dict):
        return _merge_struct(pv, cv, desc if isinstance(desc, dict) else {})
    if isinstance(cv, list) and not cv:
        return _clean(pv)  # an empty child list specifies nothing
    return _clean(cv)


def _merge_struct(parent: dict, child: dict, desc: dict[str, Any]) -> dict:
    result: dict = {}
    names = list(parent) + [k for k in child if k not in parent]
    for name in names:
        d = desc.get(name)
        pv, cv = parent.get(name), child.get(name)
        if isinstance(d, KeyedList) and isinstance(pv, list) and (isinstance(cv, list) or cv is None and d.handle):
            # (without a list of its own the child may still displace items through a sibling list)
            value: Any = _merge_keyed(name, d, parent, child, desc)
            if pv and not value:
                continue  # every item was displaced: no list, as in Ignition's output
        elif isinstance(d, ConcatList) and isinstance(pv, list) and isinstance(cv, list):
            value = _clean(pv) + _clean(cv)
        else:
            value = _merge_value(pv, cv, d)
        if value is not None:
            result[name] = value
    return result


def _siblings(name: str, spec: KeyedList, desc: dict[str, Any]) -> list[str]:
    if not spec.handle:
        return []
    return [n for n, d in desc.items() if n != name and isinstance(d, KeyedList) and d.handle == spec.handle]


def _merge_keyed(name: str, spec: KeyedList, parent: dict, child: dict, desc: dict[str, Any]) -> list:
    plist: list = parent.get(name) or []
    clist: list = child.get(name) if isinstance(child.get(name), list) else []  # type: ignore[assignment]
    child_index: dict[Hashable, int] = {}
    for i, item in enumerate(clist):
        child_index[spec.key(item)] = i  # as Ignition: of the child's items with one key, the last is merged
    sibling_keys: set = set()
    for sib in _siblings(name, spec, desc):
        sl = child.get(sib)
        if isinstance(sl, list):
            sibling_keys.update(desc[sib].key(item) for item in sl)
    parent_keys = set()
    out: list = []
    for pitem in plist:
        key = spec.key(pitem)
        parent_keys.add(key)
        if key in child_index:
            citem = clist[child_index[key]]
            if spec.headers and isinstance(citem, dict) and citem.get("value") is None:
                continue  # a child header without value deletes the parent's
            if isinstance(pitem, dict) and isinstance(citem, dict):
                out.append(_merge_struct(pitem, citem, spec.item or {}))
            else:
                out.append(_clean(citem))
        elif key in sibling_keys:
            continue  # displaced by the child's item of another kind
        else:
            out.append(_clean(pitem))
    for citem in clist:
        if spec.key(citem) not in parent_keys:
            out.append(_clean(citem))
    return out
