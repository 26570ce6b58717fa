"""CoreOS live media: the live ISO's Ignition and kernel-argument embed areas.

The names below are imported on first use, as in ``ignkit``: importing a submodule (``ignkit.live.kinds``,
``ignkit.live.options``) does not load the ISO code (ignkit.live.image, pycdlib) with it, which keeps a
command's start-up, and the time before ``embed -o`` starts its copy, short.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "ARCHES": "ignkit.live.image",
    "LiveIso": "ignkit.live.image",
    "detect_arch": "ignkit.live.image",
    "normalize_arch": "ignkit.live.image",
    "open_iso": "ignkit.live.image",
    "write_iso": "ignkit.live.image",
    "write_patched": "ignkit.live.image",
    "KargsError": "ignkit.live.kargs",
    "modify_kargs": "ignkit.live.kargs",
}

__all__ = ["ARCHES", "KargsError", "LiveIso", "detect_arch", "modify_kargs", "normalize_arch", "open_iso",
           "write_iso", "write_patched"]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'ignkit.live' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and editors: the same names, eagerly
    from .image import ARCHES, LiveIso, detect_arch, normalize_arch, open_iso, write_iso, write_patched
    from .kargs import KargsError, modify_kargs
