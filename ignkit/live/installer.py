"""coreos-installer's install configuration (the YAML files of /etc/coreos/installer.d) as a typed class.

Keys are coreos-installer's long option names; values are strings for single options, lists of
strings for repeatable ones and ``true`` for flags (``fetch-retries`` also takes a number). As in
coreos-installer, a key it does not know is refused, so a typo fails here instead of at install time
on the machine. The field order is the order coreos-installer writes the keys in.
"""

from __future__ import annotations

import copy
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Optional, Union

from ..errors import IgnkitError, InputError, UsageError

__all__ = ["InstallConfig", "check_dest_device", "check_ignition_url"]

_DEVICE_RE = re.compile(r"/dev/[^\s\x00-\x1f\x7f]+")


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
            _check_value(k, v, what)
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


def check_dest_device(dev: Any, where: str = "--dest-device") -> str:
    """A device path to install to: ``/dev/...``, not bare ``/dev/``, no whitespace or control characters."""
    if not isinstance(dev, str) or not _DEVICE_RE.fullmatch(dev):
        raise UsageError(f"{where} {dev!r}: must be a full device path (give a full path such as /dev/sda, "
                         "without spaces or control characters)")
    return str(dev)


def check_ignition_url(url: Any, where: str = "--dest-ignition-url") -> str:
    """A URL the installer fetches its config from: http(s), with a host, a valid port, no control characters."""
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        raise UsageError(f"{where}: expected a string, got {url!r}")
    text = url
    if re.search(r"[\s\x00-\x1f\x7f]", text):
        raise UsageError(f"{where} {text!r}: expected an http(s) URL (no spaces or control characters)")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as e:
        raise UsageError(f"{where} {text!r}: expected an http(s) URL ({e})") from None
    # coreos-installer fetches ignition-url itself, over HTTP(S) only.
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{where} {text!r}: expected an http(s) URL")
    return text


def _check_plain(value: str, where: str) -> None:
    """A path coreos-installer opens as given (a config file may name ``dest-device`` relative to /dev):
    one line of text without whitespace or control characters."""
    if re.search(r"[\s\x00-\x1f\x7f]", value):
        raise UsageError(f"{where} {value!r}: must not contain whitespace or control characters")


def _check_value(key: str, value: Any, what: str) -> None:
    """The checks of the matching command-line options (ignkit.live.options), for a config file's values:
    kernel arguments, consoles, the device and the config URL refused as they would be on the command line."""
    from .console import parse_console
    from .kargs import check_karg

    checks: dict[str, Any] = {"append-karg": check_karg, "delete-karg": check_karg, "console": parse_console,
                              "dest-device": _check_plain, "ignition-url": check_ignition_url}
    check = checks.get(key)
    if check is None:
        return
    for item in value if isinstance(value, list) else [value]:
        try:
            check(item, key)
        except IgnkitError as e:
            raise InputError(f"parsing installer config {what}: {e.message}") from None


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
