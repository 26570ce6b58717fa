"""Upward translation of Ignition configs between spec versions (3.0.0 ... 3.7.0-experimental), as Ignition does.

A config is first reduced to the members its own spec version knows (Ignition never decodes the others:
they are ``unused key`` warnings), then carried up one version at a time with the value changes of each
step, and finally labelled with the target version.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Optional

from ..errors import InputError, UsageError

__all__ = ["SPEC_VERSIONS", "LATEST", "translate", "spec_index", "newest", "known_fields", "filter_known",
           "config_version"]

#: Spec versions Ignition (HEAD) accepts, oldest first.
SPEC_VERSIONS: tuple[str, ...] = (
    "3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0", "3.7.0-experimental",
)
#: The newest accepted spec version.
LATEST = SPEC_VERSIONS[-1]


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


# ---------------------------------------------------------------------------------------------------------
# Field tree: {json name: (first spec index, sub)}; sub is None (scalar), a dict (object) or a one-element
# list [sub] (list of sub).
# ---------------------------------------------------------------------------------------------------------

_V30, _V31, _V32, _V33, _V34, _V35 = 0, 1, 2, 3, 4, 5

Tree = dict


def _f(**fields: Any) -> Tree:
    out: Tree = {}
    for name, spec in fields.items():
        if isinstance(spec, tuple):
            out[name] = spec
        else:
            out[name] = (_V30, spec)
    return out


_HEADERS = (_V31, [_f(name=None, value=None)])
_VERIFICATION = _f(hash=None)


def _resource(compression_since: int) -> Tree:
    return _f(source=None, compression=(compression_since, None), httpHeaders=_HEADERS, verification=_VERIFICATION)


_RES_CONFIG = _resource(_V31)   # merge/replace/CA references: 3.0 had only source + verification
_RES_FILE = _resource(_V30)     # file contents / append: 3.0 already had compression
_OWNER = _f(id=None, name=None)
_NODE = dict(path=None, overwrite=None, user=_OWNER, group=_OWNER)

FIELDS: Tree = _f(
    ignition=_f(
        version=None,
        config=_f(merge=[_RES_CONFIG], replace=_RES_CONFIG),
        proxy=(_V31, _f(httpProxy=None, httpsProxy=None, noProxy=[None])),
        security=_f(tls=_f(certificateAuthorities=[_RES_CONFIG])),
        timeouts=_f(httpResponseHeaders=None, httpTotal=None),
    ),
    kernelArguments=(_V33, _f(shouldExist=[None], shouldNotExist=[None])),
    passwd=_f(
        users=[_f(name=None, passwordHash=None, sshAuthorizedKeys=[None], uid=None, gecos=None, homeDir=None,
                  noCreateHome=None, primaryGroup=None, groups=[None], noUserGroup=None, noLogInit=None,
                  shell=None, system=None, shouldExist=(_V32, None))],
        groups=[_f(name=None, gid=None, passwordHash=None, system=None, shouldExist=(_V32, None))],
    ),
    storage=_f(
        disks=[_f(device=None, wipeTable=None, partitions=[_f(
            label=None, number=None, sizeMiB=None, startMiB=None, typeGuid=None, guid=None,
            wipePartitionEntry=None, shouldExist=None, resize=(_V32, None))])],
        raid=[_f(name=None, level=None, devices=[None], spares=None, options=[None])],
        filesystems=[_f(device=None, format=None, wipeFilesystem=None, label=None, uuid=None, options=[None],
                        path=None, mountOptions=(_V31, [None]))],
        files=[_f(**_NODE, mode=None, contents=_RES_FILE, append=[_RES_FILE])],
        directories=[_f(**_NODE, mode=None)],
        links=[_f(**_NODE, target=None, hard=None)],
        luks=(_V32, [_f(
            name=None, label=None, uuid=None, device=None, keyFile=_RES_FILE, wipeVolume=None, options=[None],
            clevis=_f(tpm2=None, threshold=None, custom=_f(pin=None, config=None, needsNetwork=None),
                      tang=[_f(url=None, thumbprint=None, advertisement=(_V34, None))]),
            discard=(_V34, None), openOptions=(_V34, [None]), cex=(_V35, _f(enabled=None)))]),
    ),
    systemd=_f(units=[_f(name=None, enabled=None, mask=None, contents=None,
                         dropins=[_f(name=None, contents=None)])]),
)


def known_fields(version: str) -> Tree:
    """The field tree of spec ``version``: ``{name: None | subtree | [subtree-or-None]}``."""
    limit = spec_index(version)

    def cut(tree: Tree) -> Tree:
        out: Tree = {}
        for name, (since, sub) in tree.items():
            if since > limit:
                continue
            if isinstance(sub, dict):
                out[name] = cut(sub)
            elif isinstance(sub, list):
                out[name] = [cut(sub[0]) if isinstance(sub[0], dict) else None]
            else:
                out[name] = None
        return out

    return cut(FIELDS)


def filter_known(config: Any, version: str) -> Any:
    """A copy of ``config`` with only the members spec ``version`` knows, matched like Go's JSON decoder
    (exact name first, else case-insensitively; a later duplicate wins). Nulls are dropped."""
    return _filter(config, known_fields(version))


def _filter(value: Any, tree: Any) -> Any:
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
