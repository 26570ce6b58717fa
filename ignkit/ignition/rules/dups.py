"""Duplicate detection (Ignition's ``ValidateDups``): keyed lists, with shared key sets ("handles")."""

from __future__ import annotations

from typing import Any, Callable, Optional

from .context import Ctx, Path

KeyFn = Callable[[Any], str]


def _value(x: Any) -> str:
    return x if isinstance(x, str) else ""


def _source(x: Any) -> str:
    return x.get("source") or "" if isinstance(x, dict) else ""


def _field(name: str) -> KeyFn:
    def key(x: Any) -> str:
        v = x.get(name) if isinstance(x, dict) else None
        return v if isinstance(v, str) else ""
    return key


def _partition(x: Any) -> str:
    n = x.get("number", 0)
    if n != 0:
        return f"number:{n}"
    if x.get("label") is not None:
        return "label:" + x["label"]
    return ""


# struct name -> [(field, key function, handle)]; fields sharing a handle share one key set.
DUPS: dict[str, list[tuple[str, KeyFn, Optional[str]]]] = {
    "IgnitionConfig": [("merge", _source, None)],
    "TLS": [("certificateAuthorities", _source, None)],
    "Resource": [("httpHeaders", _field("name"), None)],
    "Proxy": [("noProxy", _value, None)],
    "Storage": [
        ("directories", _field("path"), "nodes"),
        ("disks", _field("device"), None),
        ("files", _field("path"), "nodes"),
        ("filesystems", _field("device"), None),
        ("links", _field("path"), "nodes"),
        ("luks", _field("name"), None),
        ("raid", _field("name"), None),
    ],
    "Disk": [("partitions", _partition, None)],
    "Raid": [("devices", _value, None)],
    "Luks": [("openOptions", _value, None)],
    "Clevis": [("tang", _field("url"), None)],
    "Systemd": [("units", _field("name"), None)],
    "Unit": [("dropins", _field("name"), None)],
    "Passwd": [("groups", _field("name"), None), ("users", _field("name"), None)],
    "PasswdUser": [("groups", _value, None), ("sshAuthorizedKeys", _value, None)],
    "KernelArguments": [("shouldExist", _value, "kargs"), ("shouldNotExist", _value, "kargs")],
}


def check_dups(struct_name: str, obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    """Report ``duplicate entry defined`` for the keyed lists of one struct."""
    spec = DUPS.get(struct_name)
    if not spec:
        return
    shared: dict[str, set[str]] = {}
    for fname, keyfn, handle in spec:
        items = obj.get(fname)
        if not items:
            if handle is not None:
                shared.setdefault(handle, set())
            continue
        seen = shared.setdefault(handle, set()) if handle is not None else set()
        for i, item in enumerate(items):
            k = keyfn(item)
            if k in seen:
                ctx.error(path + (fname, i), "duplicate entry defined")
            else:
                seen.add(k)
