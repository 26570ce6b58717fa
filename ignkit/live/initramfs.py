"""CoreOS live-initramfs rules: which members coreos-installer reads and writes, its xz settings,
live-initramfs detection, and the one-layer append of ``pxe customize`` (spec 6.6).

The archive format itself (newc, gzip/xz/zstd layers) is generic and lives in :mod:`ignkit.initrd`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, BinaryIO, Callable, Optional, Union

from ..docread import loads_json
from ..errors import ImageError
from ..initrd import Source, build_cpio, compress_xz, read_initrd
from ..outfile import atomic_output
from .features import OsFeatures

__all__ = [
    "CONFIG_MEMBER",
    "FEATURES_MEMBER",
    "LIVE_STAMP",
    "NETWORK_DIR",
    "XZ_PRESET",
    "MAX_MEMBER_SIZE",
    "LiveInitramfs",
    "append_layer",
    "build_initrd",
    "check_live_initramfs",
    "is_live_initramfs",
    "scan_live_initramfs",
]

#: The embedded Ignition config, in the ISO's Ignition area, a wrapped image or a PXE layer.
CONFIG_MEMBER = "config.ign"
#: NetworkManager keyfiles the live system copies for its first boot (member = NETWORK_DIR + name).
NETWORK_DIR = "etc/coreos-firstboot-network/"
#: Present (with the OS version) only in a CoreOS live initramfs.
LIVE_STAMP = "etc/coreos-live-initramfs"
#: The OS feature flags, as in the ISO's coreos/features.json.
FEATURES_MEMBER = "etc/coreos/features.json"
#: coreos-installer compresses the archives it writes with xz preset 9 (CRC32, as the kernel needs).
XZ_PRESET = 9
#: The most ignkit reads of one member it looks at (config, features, keyfiles: kilobytes in practice).
MAX_MEMBER_SIZE = 16 << 20

_CHUNK = 1 << 20

PathLike = Union[str, "os.PathLike[str]"]


def build_initrd(files: Mapping[str, bytes], *, limit: int = 0) -> bytes:
    """Build an xz-compressed (CRC32, preset 9) newc initrd of ``files``, as coreos-installer writes it.

    This is the payload of the ISO Ignition area, of ``pxe ignition|network wrap`` and of the layer
    ``pxe customize`` appends. ``files`` maps relative paths to contents; an empty map gives an
    archive holding only the trailer. The declared xz dictionary is fitted to the archive
    (:func:`ignkit.initrd.xz_dict_size`). ``limit`` > 0 stops early with
    :class:`ignkit.initrd.CompressedTooLarge` once the archive would be larger.
    """
    return compress_xz(build_cpio(files), preset=XZ_PRESET, limit=limit)


@dataclass
class LiveInitramfs:
    """What coreos-installer looks at in a PXE live initramfs (spec 6.6).

    ``stamp`` is the contents of ``etc/coreos-live-initramfs`` (None when absent: not a CoreOS live
    initramfs); ``features`` the flags of ``etc/coreos/features.json`` (all off when absent); ``config`` an
    embedded ``config.ign``; ``keyfiles`` the ``etc/coreos-firstboot-network/*`` members.
    """

    stamp: Optional[bytes] = None
    features: OsFeatures = field(default_factory=OsFeatures)
    config: Optional[bytes] = None
    keyfiles: dict[str, bytes] = field(default_factory=dict)
    size: int = 0

    @property
    def is_live(self) -> bool:
        return self.stamp is not None

    @property
    def is_customized(self) -> bool:
        return self.config is not None or bool(self.keyfiles)



_LIVE_PATTERNS = (LIVE_STAMP, FEATURES_MEMBER, CONFIG_MEMBER, NETWORK_DIR + "*")


def scan_live_initramfs(data: Source | PathLike, *, tee: Optional[IO[bytes]] = None) -> LiveInitramfs:
    """Read the few members of a live initramfs coreos-installer checks, in one streaming pass.

    ``data`` is a path, bytes or a binary file object; with ``tee`` the raw input is copied to it too.
    """
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            return scan_live_initramfs(f, tee=tee)
    info = LiveInitramfs()
    files = read_initrd(data, _LIVE_PATTERNS, tee=tee, max_member_size=MAX_MEMBER_SIZE)
    info.stamp = files.get(LIVE_STAMP)
    info.config = files.get(CONFIG_MEMBER)
    info.keyfiles = {k: v for k, v in files.items() if k.startswith(NETWORK_DIR)}
    if FEATURES_MEMBER in files:
        try:
            features = loads_json(files[FEATURES_MEMBER])
        except ValueError as e:
            raise ImageError(f"parsing {FEATURES_MEMBER} in initramfs: {e}") from None
        info.features = OsFeatures.from_json(features, f"{FEATURES_MEMBER} in initramfs")
    return info


def check_live_initramfs(info: LiveInitramfs) -> None:
    """Refuse what ``pxe customize`` refuses: a non-CoreOS or an already customized initramfs."""
    if not info.is_live:
        raise ImageError("not a CoreOS live initramfs image")
    if info.is_customized:
        raise ImageError("input is already customized")


def is_live_initramfs(data: Source | PathLike) -> bool:
    """True if ``data`` (path, bytes or file) is a CoreOS live initramfs (has ``etc/coreos-live-initramfs``).

    An unreadable or corrupt archive is not a live initramfs.
    """
    try:
        return scan_live_initramfs(data).is_live
    except ImageError:
        return False


Files = Union[Mapping[str, bytes], Callable[[LiveInitramfs], Mapping[str, bytes]]]


def append_layer(
    initramfs_path: PathLike,
    files: Files,
    output: PathLike | BinaryIO,
    *,
    check: bool = True,
    overwrite: bool = False,
) -> LiveInitramfs:
    """Copy a live initramfs unchanged to ``output`` and append one xz (CRC32) cpio layer of ``files``.

    One pass: the input is copied while its live-initramfs members are scanned. With ``check`` the
    input must be a CoreOS live initramfs that is not customized yet (:func:`check_live_initramfs`).
    ``files`` is a map or a callable taking the scan result (e.g. to read feature flags) and
    returning the map. The layer starts right after the original bytes, without padding: the kernel
    needs 4-byte alignment only before an *uncompressed* cpio, and CoreOS already pads the live
    initramfs to a multiple of 4 (spec 6.6). ``output`` is a path (written atomically; an existing
    file is refused unless ``overwrite``), ``"-"`` for standard output, or a binary file object
    (for a stream the input is scanned first and copied after the checks passed, so nothing is
    written on error). Returns the scan result (``size`` = length of the original image).
    """
    def run(out: IO[bytes], prescan: bool) -> LiveInitramfs:
        if prescan:
            # A stream cannot be taken back: check before writing anything, then copy.
            info = scan_live_initramfs(initramfs_path)
            if check:
                check_live_initramfs(info)
            members = files(info) if callable(files) else files
            layer = build_initrd(members)
            with open(initramfs_path, "rb") as f:
                while True:
                    chunk = f.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                info.size = f.tell()
        else:
            with open(initramfs_path, "rb") as f:
                info = scan_live_initramfs(f, tee=out)
                info.size = f.tell()
            if check:
                check_live_initramfs(info)
            members = files(info) if callable(files) else files
            layer = build_initrd(members)
        out.write(layer)
        out.flush()
        return info

    if isinstance(output, (str, os.PathLike)):
        if str(output) == "-":
            from ..outfile import stdout_bytes

            return run(stdout_bytes(), True)
        with atomic_output(output, overwrite=overwrite) as out:
            return run(out, False)
    return run(output, True)
