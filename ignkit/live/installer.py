"""coreos-installer's install configuration (the YAML files of /etc/coreos/installer.d) as a typed class.

Keys are coreos-installer's long option names; values are strings for single options, lists of
strings for repeatable ones and ``true`` for flags (``fetch-retries`` also takes a number). As in
coreos-installer, a key it does not know is refused, so a typo fails here instead of at install time
on the machine. The field order is the order coreos-installer writes the keys in.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Optional, Union

from ..errors import InputError

__all__ = ["InstallConfig"]


@dataclass
class InstallConfig:
    """One installer config file, or several merged the way the installer merges them (:meth:`update`)."""

    stream: Optional[str] = None
    image_url: Optional[str] = None
    image_file: Optional[str] = None
    ignition_file: Optional[str] = None
    ignition_url: Optional[str] = None
    ignition_hash: Optional[str] = None
    architecture: Optional[str] = None
    platform: Optional[str] = None
    console: list[str] = field(default_factory=list)
    append_karg: list[str] = field(default_factory=list)
    delete_karg: list[str] = field(default_factory=list)
    copy_network: bool = False
    network_dir: Optional[str] = None
    save_partlabel: list[str] = field(default_factory=list)
    save_partindex: list[str] = field(default_factory=list)
    offline: bool = False
    insecure: bool = False
    insecure_ignition: bool = False
    stream_base_url: Optional[str] = None
    preserve_on_error: bool = False
    fetch_retries: Optional[Union[int, str]] = None
    secure_ipl: bool = False
    dest_device: Optional[str] = None

    @staticmethod
    def keys() -> list[str]:
        """The config file keys, in coreos-installer's order."""
        return [_key(f.name) for f in fields(InstallConfig)]

    @classmethod
    def from_mapping(cls, obj: Mapping[Any, Any], what: str) -> InstallConfig:
        """Build from a parsed config file; InputError ``parsing installer config WHAT: ...`` for an
        unknown key or a value of the wrong type."""
        types = _types()
        values: dict[str, Any] = {}
        for k, v in obj.items():
            name = k.replace("-", "_") if isinstance(k, str) else None
            if name not in types or _key(name) != k:
                raise InputError(f"parsing installer config {what}: unknown key {k!r}")
            want = types[name]
            if not isinstance(v, want) or (bool not in want and isinstance(v, bool)):
                raise InputError(f"parsing installer config {what}: {k}: wrong type {type(v).__name__}")
            values[name] = list(v) if isinstance(v, list) else v
        return cls(**values)

    @classmethod
    def from_yaml(cls, data: bytes, what: str) -> InstallConfig:
        """Parse one installer config file (an empty file is an empty config)."""
        import yaml

        from ..yamlfile import load_yaml

        try:
            obj = load_yaml(data.decode("utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError) as e:
            raise InputError(f"parsing installer config {what}: {str(e).splitlines()[0]}") from None
        if obj is None:
            return cls()
        if not isinstance(obj, dict):
            raise InputError(f"parsing installer config {what}: expected a mapping")
        return cls.from_mapping(obj, what)

    def to_dict(self) -> dict[str, Any]:
        """The keys that are set (not None, not empty, not false), in coreos-installer's order."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value is False or value == []:
                continue
            out[_key(f.name)] = list(value) if isinstance(value, list) else value
        return out

    def to_yaml(self) -> bytes:
        """The config file coreos-installer would write for these settings."""
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=False).encode()

    def update(self, later: InstallConfig) -> None:
        """Apply a later config file as the installer does: lists are appended, flags once set stay set,
        other values are replaced by the later file's."""
        for f in fields(self):
            value = getattr(later, f.name)
            if isinstance(value, list):
                getattr(self, f.name).extend(value)
            elif value is not None and value is not False:
                setattr(self, f.name, copy.copy(value))


def _key(name: str) -> str:
    return name.replace("_", "-")


_TYPES: dict[str, tuple[type, ...]] = {}


def _types() -> dict[str, tuple[type, ...]]:
    """Field name -> the Python types a config file value may have (from the annotations)."""
    if not _TYPES:
        for name, hint in typing.get_type_hints(InstallConfig).items():
            if typing.get_origin(hint) is list:
                _TYPES[name] = (list,)
            elif typing.get_origin(hint) is Union:
                _TYPES[name] = tuple(t for t in typing.get_args(hint) if t is not type(None))
            else:
                _TYPES[name] = (hint,)
    return _TYPES
