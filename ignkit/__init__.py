"""ignkit: Ignition configs and CoreOS live media, per host, offline.

The public API is re-exported here and imported lazily, so ``import ignkit`` stays cheap::

    import ignkit
    report = ignkit.validate(open("worker.ign", "rb").read())
    config = ignkit.merge(base, overlay)
    print(ignkit.digest("worker.ign"))           # sha512-...
    iso = ignkit.open_iso("rhcos-live.x86_64.iso", arch="x86_64")

Every name below lives in the module of its concern; see each docstring.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # Ignition configs
    "validate": "ignkit.ignition.validate",
    "Report": "ignkit.ignition.report",
    "parse_config": "ignkit.ignition.validate",
    "detect_version": "ignkit.ignition.validate",
    "merge": "ignkit.ignition.merge",
    "resolve": "ignkit.ignition.resolve",
    "translate": "ignkit.ignition.translate",
    # digests and downloads
    "digest": "ignkit.digests",
    "digest_bytes": "ignkit.digests",
    "parse_digest": "ignkit.digests",
    "fetch_bytes": "ignkit.fetch",
    # live ISO and initrd
    "open_iso": "ignkit.live.image",
    "LiveIso": "ignkit.live.image",
    "write_iso": "ignkit.live.image",
    "extract_pxe": "ignkit.live.image",
    "extract_minimal_iso": "ignkit.live.miniso",
    "modify_kargs": "ignkit.live.kargs",
    "build_initrd": "ignkit.live.initramfs",
    "read_initrd": "ignkit.initrd",
    "append_layer": "ignkit.live.initramfs",
    # per-host customization
    "CustomizeOptions": "ignkit.live.options",
    "ImageKind": "ignkit.live.kinds",
    "InstallConfig": "ignkit.live.installer",
    "OsFeatures": "ignkit.live.features",
    "customize_iso": "ignkit.live.customize",
    "customize_pxe": "ignkit.live.customize",
    "customize_iso_hosts": "ignkit.live.hosts",
    "customize_pxe_hosts": "ignkit.live.hosts",
    "read_customization": "ignkit.live.customize",
    "Host": "ignkit.inventory",
    "load_inventory": "ignkit.inventory",
    "nmstate_to_keyfiles": "ignkit.netconf",
    # network boot, streams, cluster side
    "BootParams": "ignkit.pxeconfig",
    "render_boot_config": "ignkit.pxeconfig:render",
    "load_stream": "ignkit.stream",
    "download_artifact": "ignkit.stream",
    "user_data_from_secret": "ignkit.secret",
    "review_csrs": "ignkit.csr",
    "parse_csr_list": "ignkit.csr",
    # errors
    "IgnkitError": "ignkit.errors",
    "InvalidConfig": "ignkit.errors",
    "ImageError": "ignkit.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'ignkit' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module_name), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and editors: the same names, eagerly
    from .csr import parse_csr_list, review_csrs
    from .digests import digest, digest_bytes, parse_digest
    from .errors import IgnkitError, ImageError, InvalidConfig
    from .fetch import fetch_bytes
    from .ignition.merge import merge
    from .ignition.report import Report
    from .ignition.resolve import resolve
    from .ignition.translate import translate
    from .ignition.validate import detect_version, parse_config, validate
    from .initrd import read_initrd
    from .inventory import Host, load_inventory
    from .live.customize import customize_iso, customize_pxe, read_customization
    from .live.features import OsFeatures
    from .live.hosts import customize_iso_hosts, customize_pxe_hosts
    from .live.image import LiveIso, extract_pxe, open_iso, write_iso
    from .live.initramfs import append_layer, build_initrd
    from .live.installer import InstallConfig
    from .live.kargs import modify_kargs
    from .live.kinds import ImageKind
    from .live.miniso import extract_minimal_iso
    from .live.options import CustomizeOptions
    from .netconf import nmstate_to_keyfiles
    from .pxeconfig import BootParams
    from .pxeconfig import render as render_boot_config
    from .secret import user_data_from_secret
    from .stream import download_artifact, load_stream
