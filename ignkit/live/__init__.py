"""CoreOS live media: the live ISO's Ignition and kernel-argument embed areas."""

from __future__ import annotations

from .image import ARCHES, LiveIso, detect_arch, normalize_arch, open_iso, write_iso, write_patched
from .kargs import KargsError, modify_kargs

__all__ = ["ARCHES", "KargsError", "LiveIso", "detect_arch", "modify_kargs", "normalize_arch", "open_iso",
           "write_iso", "write_patched"]
