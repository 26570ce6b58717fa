"""Supported Ignition spec versions and the rules of upstream Ignition's version detection.

Detection (:func:`ignkit.ignition.validate.detect_version`, which runs the JSON decoder) works like
Ignition's ``ParseCompatibleVersion``: an empty input is ``not a config (empty)``; the input must be
JSON whose ``ignition.version`` (keys matched case-insensitively, as Go does) is a string; that
string must parse as a semantic version (go-semver rules) and equal one of :data:`SUPPORTED` exactly.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Optional

from ..errors import InvalidConfig
from .jsonpos import Obj, fold_key, go_kind

__all__ = [
    "SUPPORTED",
    "LATEST",
    "ERR_EMPTY",
    "ERR_INVALID_VERSION",
    "ERR_UNKNOWN_VERSION",
    "ERR_INVALID",
    "VersionError",
    "SemVer",
    "parse_semver",
    "version_tuple",
]

#: Spec versions accepted, oldest first (upstream Ignition HEAD).
SUPPORTED: list[str] = ["3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0", "3.7.0-experimental"]
#: The newest accepted version.
LATEST = SUPPORTED[-1]

ERR_EMPTY = "not a config (empty)"
ERR_INVALID_VERSION = "invalid config version (couldn't parse)"
ERR_UNKNOWN_VERSION = "unsupported config version"
ERR_INVALID = "config is not valid"


class VersionError(InvalidConfig):
    """The config is empty or its version is missing, unparsable or unsupported.

    ``reason`` is Ignition's message (e.g. ``unsupported config version``); ``str()`` is the
    ``couldn't parse config: ...`` line ignition-validate prints.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"couldn't parse config: {reason}")
        self.reason = reason


class SemVer(NamedTuple):
    """A parsed semantic version (go-semver): major, minor, patch, pre-release and metadata.

    Equal only when every part is equal, as Ignition compares versions (metadata included).
    """

    major: int
    minor: int
    patch: int
    pre: str = ""
    meta: str = ""

    def __str__(self) -> str:
        s = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            s += "-" + self.pre
        if self.meta:
            s += "+" + self.meta
        return s


_NUM = re.compile(r"[0-9]+\Z")
_IDENT = re.compile(r"[0-9A-Za-z-]+\Z")


def parse_semver(text: str) -> Optional[SemVer]:
    """Parse ``text`` like go-semver's ``NewVersion`` (leading zeros allowed); None when invalid."""
    core, plus, meta = text.partition("+")
    if plus and (not meta or not all(_IDENT.match(p) for p in meta.split("."))):
        return None
    core, dash, pre = core.partition("-")
    if dash and (not pre or not all(_IDENT.match(p) for p in pre.split("."))):
        return None
    parts = core.split(".")
    if len(parts) != 3 or not all(_NUM.match(p) for p in parts):
        return None
    nums = [int(p) for p in parts]
    if any(n >= 1 << 63 for n in nums):
        return None
    return SemVer(nums[0], nums[1], nums[2], pre, meta)


_SUPPORTED_SEMVER = {parse_semver(v): v for v in SUPPORTED}


def version_tuple(spec: str) -> tuple[int, int]:
    """``(major, minor)`` of a supported spec string, for "applies from 3.N" comparisons."""
    v = parse_semver(spec)
    if v is None:
        raise ValueError(spec)
    return (v.major, v.minor)


def match_version(text: str) -> str:
    """Map a version string to its canonical supported spec, or raise :class:`VersionError`."""
    v = parse_semver(text)
    if v is None:
        raise VersionError(ERR_INVALID_VERSION)
    spec = _SUPPORTED_SEMVER.get(v)
    if spec is None:
        raise VersionError(ERR_UNKNOWN_VERSION)
    return spec


def stub_version(doc: Any) -> tuple[Optional[str], Optional[tuple[str, list[int]]]]:
    """Decode ``doc`` into Ignition's ``{ignition:{version:string}}`` stub.

    Returns ``(version or None, type_error)`` where ``type_error`` is ``(go_message, raw_path)``
    describing the first JSON type mismatch (raw_path locates the offending value).
    """
    if doc is None:
        return None, None
    if not isinstance(doc, Obj):
        kind = go_kind(doc)
        return None, (f"json: cannot unmarshal {kind} into Go value of type util.versionStub", [])
    version: Optional[str] = None
    error = None
    for i, (k, v) in enumerate(doc):
        if not (k == "ignition" or fold_key(k) == "ignition") or v is None:
            continue
        if not isinstance(v, Obj):
            if error is None:
                kind = go_kind(v)
                error = (f"json: cannot unmarshal {kind} into Go struct field versionStub.{k} of type "
                         "struct { Version string }", [i])
            continue
        for j, (k2, v2) in enumerate(v):
            if not (k2 == "version" or fold_key(k2) == "version") or v2 is None:
                continue
            if isinstance(v2, str):
                version = v2
            elif error is None:
                kind = go_kind(v2)
                error = (f"json: cannot unmarshal {kind} into Go struct field versionStub.{k}.{k2} "
                         "of type string", [i, j])
    return version, error
