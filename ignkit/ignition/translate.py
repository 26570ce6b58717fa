"""Upward translation of Ignition configs between spec versions (3.0.0 ... 3.7.0-experimental), as Ignition does.

A config is first reduced to the members its own spec version knows (Ignition never decodes the others:
they are ``unused key`` warnings), then carried up one version at a time with the value changes of each
step, and finally labelled with the target version.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Callable, Optional

from ..errors import InputError, UsageError
from .versions import LATEST, SUPPORTED

__all__ = ["SPEC_VERSIONS", "LATEST", "translate", "spec_index", "newest", "known_fields", "config_version"]

#: Spec versions Ignition (HEAD) accepts, oldest first.
SPEC_VERSIONS: tuple[str, ...] = tuple(SUPPORTED)


def spec_index(version: Any) -> int:
    """Position of ``version`` in :data:`SPEC_VERSIONS`; raises :class:`InputError` if it is not supported."""
    if isinstance(version, str) and version in SPEC_VERSIONS:
        return SPEC_VERSIONS.index(version)
    if version is None:
        raise InputError("config has no ignition.version")
    raise InputError(f"unsupported config version {version!r} (supported: {', '.join(SPEC_VERSIONS)})")


def _member(obj: Any, name: str) -> Any:
    """``obj[name]`` as Go's decoder finds it: exact key, else a case-insensitive one (the last one wins)."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    found = None
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == name.lower():
            found = value
    return found


def config_version(config: Any) -> Any:
    """The ``ignition.version`` member of a config dict (keys matched like Go's decoder), or None."""
    return _member(_member(config, "ignition"), "version")


def newest(versions: Any) -> str:
    """The newest of some supported spec version strings."""
    return max(versions, key=spec_index)  # type: ignore[no-any-return]


@functools.cache
def known_fields(version: str) -> dict[str, Any]:
    """The field tree of spec ``version`` (from its JSON schema): ``{name: None | subtree | [item]}`` where
    None is a scalar, a dict an object and a one-element list a list of that item. Do not modify it."""
    from .schema import field_tree

    spec_index(version)

    def conv(f: Any) -> Any:
        if f.kind == "struct":
            return {name: conv(sub) for name, sub in f.struct.fields.items()}
        if f.kind == "list":
            return [conv(f.item)]
        return None

    return {name: conv(f) for name, f in field_tree(version).fields.items()}


def _filter(value: Any, tree: Any) -> Any:
    """A copy of ``value`` with only the members ``tree`` knows, matched like Go's JSON decoder (exact name
    first, else case-insensitively; a later duplicate wins). Nulls are dropped."""
    if isinstance(tree, dict):
        if not isinstance(value, dict):
            return copy.deepcopy(value)
        folded = {name.lower(): name for name in tree}
        out: dict = {}
        for key, item in value.items():
            name = key if key in tree else folded.get(key.lower()) if isinstance(key, str) else None
            if name is None or item is None:
                continue
            sub = _filter(item, tree[name])
            if isinstance(sub, dict) and isinstance(out.get(name), dict):
                out[name].update(sub)
            else:
                out[name] = sub
        return out
    if isinstance(tree, list):
        if not isinstance(value, list):
            return copy.deepcopy(value)
        return [_filter(item, tree[0]) for item in value]
    return copy.deepcopy(value)


# ---------------------------------------------------------------------------------------------------------
# Steps: value changes from version i to i+1 (the config dict is modified in place).
# ---------------------------------------------------------------------------------------------------------


def _items(config: dict, *path: str) -> list:
    node: Any = config
    for name in path:
        node = node.get(name) if isinstance(node, dict) else None
    return [item for item in node if isinstance(item, dict)] if isinstance(node, list) else []


def _step_3_2_to_3_3(config: dict) -> None:
    # raid level and link target become optional pointers: the 3.2 zero value "" is carried over as "".
    for raid in _items(config, "storage", "raid"):
        raid.setdefault("level", "")
    for link in _items(config, "storage", "links"):
        link.setdefault("target", "")
    # clevis.custom stops being a pointer; a given custom's pin/config become pointers to (maybe empty) strings.
    for luks in _items(config, "storage", "luks"):
        clevis = luks.get("clevis")
        custom = clevis.get("custom") if isinstance(clevis, dict) else None
        if isinstance(custom, dict):
            custom.setdefault("pin", "")
            custom.setdefault("config", "")


def _step_3_5_to_3_6(config: dict) -> None:
    # From 3.6.0 setuid/setgid/sticky are honoured; older configs keep their old meaning (bits dropped).
    for kind in ("files", "directories"):
        for node in _items(config, "storage", kind):
            mode = node.get("mode")
            if isinstance(mode, int) and not isinstance(mode, bool):
                node["mode"] = mode & ~0o7000


_STEPS: dict[int, Callable[[dict], None]] = {
    2: _step_3_2_to_3_3,
    5: _step_3_5_to_3_6,
}


def translate(config: dict, to_version: str, *, from_version: Optional[str] = None) -> dict:
    """Translate a config dict from its spec version up to ``to_version``; returns a new dict.

    The source version is ``config["ignition"]["version"]`` unless ``from_version`` is given. Members
    unknown to the source version are dropped (Ignition ignores them), the value changes Ignition makes
    between versions are applied (3.2→3.3: raid ``level`` and link ``target`` become optional and keep
    ``""`` when unset, a given clevis ``custom`` gets ``pin``/``config`` ``""``; 3.5→3.6: file and directory
    modes lose their setuid/setgid/sticky bits), and ``ignition.version`` becomes ``to_version``.
    No validation happens here. Translating down raises :class:`~ignkit.errors.UsageError`.
    """
    if not isinstance(config, dict):
        raise InputError("config is not a JSON object")
    if from_version is None:
        from_version = config_version(config)
    src = spec_index(from_version)
    dst = spec_index(to_version)
    if dst < src:
        raise UsageError(f"cannot translate a {from_version} config down to {to_version}")
    out = _filter(config, known_fields(SPEC_VERSIONS[src]))
    for i in range(src, dst):
        step = _STEPS.get(i)
        if step is not None:
            step(out)
    ign = out.get("ignition")
    if not isinstance(ign, dict):
        ign = out["ignition"] = {}
    ign["version"] = to_version
    # keep "ignition" first, like Ignition's own output
    return {"ignition": out.pop("ignition"), **out}
