"""Small Ignition config builders: inline files, systemd units, CAs, merge references, hostname, SSH keys.

Configs are plain dicts. Inline data is stored the way coreos-installer stores it: a ``data:`` URL of the
gzip-compressed (level 9, mtime 0) bytes with ``"compression": "gzip"``. :func:`read_resource` decodes
any ``data:`` URL resource back (with :mod:`ignkit.ignition.dataurl`, as Ignition would), so tests and
``--dry-run`` can read every embedded file.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any, Optional

from ..docread import loads_json
from ..errors import InputError, UsageError

#: Spec version of the configs ignkit generates (what coreos-installer generates too; Ignition >= 2.14).
GENERATED_VERSION = "3.3.0"

HOSTNAME_PATH = "/etc/hostname"


def new_config(version: str = GENERATED_VERSION) -> dict[str, Any]:
    """An empty config of spec ``version``."""
    return {"ignition": {"version": version}}


#: gzip member header with every field fixed: magic, deflate, no flags, mtime 0, XFL 2 (maximum compression),
#: OS 255 "unknown" (as Go's compress/gzip, i.e. Butane, writes it). gzip.compress cannot be used: Python 3.11
#: switched it to zlib's header, whose OS byte is the build platform's (3 on Unix) where 3.9/3.10 wrote 255.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip (deflate level 9, fixed header): the same input gives the same bytes on every
    supported Python version and platform (given the same zlib)."""
    data = bytes(data)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, zlib.Z_DEFAULT_STRATEGY)
    body = deflate.compress(data) + deflate.flush()
    return _GZIP_HEADER + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def data_resource(data: bytes) -> dict[str, Any]:
    """An Ignition resource carrying ``data`` inline: ``{"compression": "gzip", "source": "data:;base64,..."}``."""
    return {"compression": "gzip", "source": "data:;base64," + base64.b64encode(gzip_bytes(data)).decode()}


def read_resource(resource: Mapping[str, Any]) -> bytes:
    """The contents of an inline (``data:``) resource, decompressed; InputError when Ignition could not read it."""
    from .dataurl import read_data_resource

    return read_data_resource(resource)


def paths_of(config: Mapping[str, Any]) -> set[str]:
    """The paths of the config's ``storage.files``, ``directories`` and ``links``."""
    storage = config.get("storage") or {}
    return {str(e.get("path")) for kind in ("files", "directories", "links") for e in storage.get(kind) or []}


def add_file(config: dict[str, Any], path: str, data: bytes, *, mode: int = 0o644,
             overwrite: Optional[bool] = None) -> dict[str, Any]:
    """Append an inline file to ``storage.files``; refuses a path the config already specifies."""
    if not path.startswith("/"):
        raise UsageError(f"file path {path!r} must be absolute")
    if path in paths_of(config):
        raise UsageError(f"config already specifies path {path}")
    entry: dict[str, Any] = {"path": path, "contents": data_resource(data), "mode": mode}
    if overwrite is not None:
        entry["overwrite"] = overwrite
    config.setdefault("storage", {}).setdefault("files", []).append(entry)
    return entry


def add_unit(config: dict[str, Any], name: str, contents: str, *, enabled: bool = True) -> dict[str, Any]:
    """Append a systemd unit; refuses a unit name the config already specifies."""
    units = config.setdefault("systemd", {}).setdefault("units", [])
    if any(u.get("name") == name for u in units):
        raise UsageError(f"config already specifies unit {name}")
    entry: dict[str, Any] = {"name": name, "contents": contents, "enabled": enabled}
    units.append(entry)
    return entry


def add_ca(config: dict[str, Any], pem: bytes) -> None:
    """Add a PEM CA bundle to ``ignition.security.tls.certificateAuthorities`` (inline)."""
    tls = config.setdefault("ignition", {}).setdefault("security", {}).setdefault("tls", {})
    tls.setdefault("certificateAuthorities", []).append(data_resource(pem))


def add_merge_url(config: dict[str, Any], url: str, digest: Optional[str] = None) -> None:
    """Reference a remote config in ``ignition.config.merge`` (with ``verification.hash`` when given)."""
    ref: dict[str, Any] = {"source": url}
    if digest:
        ref["verification"] = {"hash": digest}
    config.setdefault("ignition", {}).setdefault("config", {}).setdefault("merge", []).append(ref)


def add_hostname(config: dict[str, Any], hostname: str) -> None:
    """Write ``/etc/hostname`` (mode 0644, overwrite) with ``hostname``."""
    add_file(config, HOSTNAME_PATH, (hostname + "\n").encode(), mode=0o644, overwrite=True)


def add_ssh_keys(config: dict[str, Any], user: str, keys: list[str]) -> None:
    """Add SSH public keys to ``passwd.users[user].sshAuthorizedKeys`` (creating the user entry)."""
    users = config.setdefault("passwd", {}).setdefault("users", [])
    entry = next((u for u in users if u.get("name") == user), None)
    if entry is None:
        entry = {"name": user}
        users.append(entry)
    have = entry.setdefault("sshAuthorizedKeys", [])
    have.extend(k for k in keys if k not in have)


def serialize(config: Mapping[str, Any]) -> bytes:
    """Compact JSON plus a newline (what coreos-installer writes), ``ignition`` first."""
    ordered = {"ignition": config.get("ignition", {}), **{k: v for k, v in config.items() if k != "ignition"}}
    return (json.dumps(ordered, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def parse(data: bytes, *, what: str = "config") -> dict[str, Any]:
    """Parse config bytes into a dict (InputError with the JSON error position when it is not JSON)."""
    try:
        obj = loads_json(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"parsing Ignition config {what}: not UTF-8") from None
    except ValueError as e:
        raise InputError(f"parsing Ignition config {what}: {e}") from None
    if not isinstance(obj, dict):
        raise InputError(f"parsing Ignition config {what}: not a JSON object")
    return obj


def files_of(config: Mapping[str, Any]) -> dict[str, tuple[int, bytes]]:
    """``{path: (mode, contents)}`` of the config's inline files (remote ones are skipped)."""
    out: dict[str, tuple[int, bytes]] = {}
    for f in (config.get("storage") or {}).get("files") or []:
        contents = f.get("contents") or {}
        src = contents.get("source")
        if isinstance(src, str) and src.startswith("data:"):
            out[str(f["path"])] = (int(f.get("mode") or 0o644), read_resource(contents))
    return out


def units_of(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{unit name: unit entry}`` of the config's systemd units."""
    return {str(u["name"]): u for u in (config.get("systemd") or {}).get("units") or []}
