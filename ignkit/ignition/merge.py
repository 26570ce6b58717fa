"""Ignition's config merge (``config/merge``) and the render of ``ignition.config`` merge/replace references.

:func:`merge` is the pure structure merge Ignition applies between a parent config and a child config
(both plain JSON dicts, normally already translated to the same spec version). :func:`resolve` renders a
config the way Ignition does at boot: it fetches ``ignition.config.replace`` / ``merge[]`` references
(``data:`` URLs, http(s), local files), checks their ``verification.hash``, validates and translates each
child, renders it depth-first and merges it in, and returns one flat config without references.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Hashable
from typing import Any, Callable, Optional

__all__ = ["merge", "MERGE_FIELDS"]

# ---------------------------------------------------------------------------------------------------------
# Which fields of the config are lists, and how their items are matched (the keys of Ignition's dup check).
# A struct is described by a dict {json field name: descriptor}; a field missing from the dict is a scalar or
# an unknown member, merged generically (objects field by field, anything else: the child's value wins when
# the child gives one).
# ---------------------------------------------------------------------------------------------------------


def _key_field(name: str) -> Callable[[Any], Hashable]:
    def key(item: Any) -> Hashable:
        if isinstance(item, dict):
            return _hashable(item.get(name) if item.get(name) is not None else "")
        return ("<item>", _hashable(item))

    key.__name__ = f"key_{name}"
    return key


def _key_value(item: Any) -> Hashable:
    return _hashable(item)


def _key_partition(item: Any) -> Hashable:
    # number:N when the number is non-zero, else label:L when a label is given (even ""), else "".
    if not isinstance(item, dict):
        return ("<item>", _hashable(item))
    number = item.get("number")
    if number not in (None, 0, False):
        return f"number:{number}"
    label = item.get("label")
    if label is not None:
        return f"label:{label}"
    return ""


def _hashable(value: Any) -> Hashable:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value  # type: ignore[no-any-return]


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

    def __init__(self, item: Optional[dict[str, Any]] = None) -> None:
        self.item = item


_HEADERS = KeyedList(_key_field("name"), {}, headers=True)
_RESOURCE: dict[str, Any] = {"httpHeaders": _HEADERS, "verification": {}}
_NODE: dict[str, Any] = {"user": {}, "group": {}}

MERGE_FIELDS: dict[str, Any] = {
    "ignition": {
        "config": {
            "merge": KeyedList(_key_field("source"), _RESOURCE),
            "replace": _RESOURCE,
        },
        "proxy": {"noProxy": KeyedList(_key_value)},
        "security": {"tls": {"certificateAuthorities": KeyedList(_key_field("source"), _RESOURCE)}},
        "timeouts": {},
    },
    "kernelArguments": {
        "shouldExist": KeyedList(_key_value, handle="kargs"),
        "shouldNotExist": KeyedList(_key_value, handle="kargs"),
    },
    "passwd": {
        "users": KeyedList(_key_field("name"), {
            "sshAuthorizedKeys": KeyedList(_key_value),
            "groups": KeyedList(_key_value),
        }),
        "groups": KeyedList(_key_field("name"), {}),
    },
    "storage": {
        "directories": KeyedList(_key_field("path"), dict(_NODE), handle="node"),
        "files": KeyedList(_key_field("path"), dict(_NODE, contents=_RESOURCE, append=ConcatList(_RESOURCE)),
                           handle="node"),
        "links": KeyedList(_key_field("path"), dict(_NODE), handle="node"),
        "disks": KeyedList(_key_field("device"), {"partitions": KeyedList(_key_partition, {})}),
        "filesystems": KeyedList(_key_field("device"), {
            "options": ConcatList(),
            "mountOptions": ConcatList(),
        }),
        "luks": KeyedList(_key_field("name"), {
            "cex": {},
            "clevis": {"custom": {}, "tang": KeyedList(_key_field("url"), {})},
            "keyFile": _RESOURCE,
            "openOptions": KeyedList(_key_value),
            "options": ConcatList(),
        }),
        "raid": KeyedList(_key_field("name"), {
            "devices": KeyedList(_key_value),
            "options": ConcatList(),
        }),
    },
    "systemd": {
        "units": KeyedList(_key_field("name"), {"dropins": KeyedList(_key_field("name"), {})}),
    },
}


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
    * an empty child list never removes anything.

    No validation and no version translation happen here: give configs of one spec version (see
    :func:`ignkit.ignition.translate.translate`). Nulls are dropped from the result.
    """
    result = _clean(parent) if isinstance(parent, dict) else {}
    for child in children:
        if child is None:
            continue
        if not isinstance(child, dict):
            raise TypeError(f"merge: configs must be dicts, not {type(child).__name__}")
        result = _merge_struct(result, child, MERGE_FIELDS)
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
    if isinstance(pv, list) and isinstance(cv, list) and not cv:
        # an unknown list: an empty child list specifies nothing
        return _clean(pv)
    return _clean(cv)


def _merge_struct(parent: dict, child: dict, desc: dict[str, Any]) -> dict:
    result: dict = {}
    names = list(parent) + [k for k in child if k not in parent]
    for name in names:
        d = desc.get(name)
        pv, cv = parent.get(name), child.get(name)
        if isinstance(d, KeyedList) and isinstance(pv, list) and isinstance(cv, list):
            value: Any = _merge_keyed(name, d, parent, child, desc)
        elif isinstance(d, KeyedList) and isinstance(pv, list) and cv is None and d.handle:
            # the child may still displace items from a sibling list sharing the handle
            value = _merge_keyed(name, d, parent, child, desc)
        elif isinstance(d, ConcatList) and isinstance(pv, list) and isinstance(cv, list):
            value = _clean(pv) + _clean(cv)
        elif isinstance(d, (KeyedList, ConcatList)) and isinstance(cv, list) and not cv and pv is not None:
            value = _clean(pv)
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
        child_index.setdefault(spec.key(item), i)
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


