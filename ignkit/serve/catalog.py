"""What ``ignkit serve`` serves, computed once at start-up: per host ISO view, initramfs layer, config, boot scripts.

Everything per host is composed by the library code ``ignkit embed`` / ``pxe customize`` / ``pxe config``
use (:func:`ignkit.live.hosts.stage_iso_host`, :func:`~ignkit.live.hosts.pxe_host_layer`,
:func:`ignkit.pxeconfig.for_host`); this module only arranges the results for lookup by name or MAC.
Any error (bad inventory, unreadable or wrong-architecture ISO, a config that does not fit) is raised
here, before the server listens.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from ..arch import normalize_arch
from ..errors import ImageError, InputError, UsageError
from .media import ByteView, extent_view, file_identity, file_view, patched_view

if TYPE_CHECKING:
    from ..inventory import Host
    from ..live.customize import CustomizeOptions
    from ..live.features import OsFeatures
    from ..live.image import LiveIso
    from .minimal import MinimalBase, MinimalStore

#: Artifact names served under /artifacts/<arch>/ and the file-name words that pick them in --pxe-dir.
ARTIFACTS = {"kernel": ("kernel", "vmlinuz"), "initramfs": ("initramfs", "initrd"), "rootfs": ("rootfs",)}
#: The ISO's own copies, in images/pxeboot (ISO 9660 names).
_ISO_ARTIFACTS = {"kernel": ("VMLINUZ", "KERNEL.IMG"), "initramfs": ("INITRD.IMG",), "rootfs": ("ROOTFS.IMG",)}


@dataclass
class ServedHost:
    """One inventory host and everything served for it."""

    host: Host
    arch: str
    macs: list[str]                          # normalized aa:bb:cc:dd:ee:ff
    iso: Optional[ByteView] = None           # /hosts/<name>.iso, /mac/<mac>.iso
    initramfs: Optional[ByteView] = None     # /hosts/<name>/initramfs.img
    ignition: Optional[bytes] = None         # /hosts/<name>.ign (the installed system's config)
    ignition_digest: Optional[str] = None    # sha512-<hex> of ignition
    ipxe: dict[str, str] = field(default_factory=dict)   # mac -> iPXE script
    grub: dict[str, str] = field(default_factory=dict)   # mac -> GRUB config
    notes: list[str] = field(default_factory=list)       # why something is not served
    minimal: Optional[ByteView] = None       # /hosts/<name>-minimal.iso (see serve/minimal.py)
    minimal_note: Optional[str] = None       # why there is none
    minimal_base: Optional[MinimalBase] = None   # staged on first request when its base is lazy

    @property
    def name(self) -> str:
        return self.host.hostname


@dataclass
class Catalog:
    """Everything the server answers, by host name, MAC and architecture."""

    hosts: dict[str, ServedHost]
    by_mac: dict[str, str]                              # mac -> host name
    artifacts: dict[str, dict[str, ByteView]]           # arch -> kind -> view
    base_url: Optional[str]
    warnings: list[str] = field(default_factory=list)
    minimal: dict[str, MinimalBase] = field(default_factory=dict)   # arch -> minimal base, or why none

    def by_address(self) -> dict[str, str]:
        """Static addresses of the inventory -> host name (to attribute shared artifacts to hosts)."""
        return {ip: name for name, sh in self.hosts.items() for ip in sh.host.ips}


def parse_arch_path(spec: str, what: str) -> tuple[Optional[str], str]:
    """``[ARCH=]PATH`` -> (normalized arch or None, path)."""
    if "=" in spec:
        arch, path = spec.split("=", 1)
        if not arch or not path:
            raise UsageError(f"{what} {spec!r}: expected [ARCH=]PATH")
        return normalize_arch(arch), path
    return None, spec


def open_isos(specs: Sequence[str], *, force: bool = False, grow_area: bool = False) -> dict[str, LiveIso]:
    """Open every ``--iso [ARCH=]PATH`` (one per architecture, checked with the ISO architecture guard);
    ``grow_area`` lets a host's config that does not fit move the Ignition area (as ``embed --grow-area``)."""
    from ..live.image import open_iso

    out: dict[str, LiveIso] = {}
    for spec in specs:
        arch, path = parse_arch_path(spec, "--iso")
        iso = open_iso(path, arch=arch)
        iso.allow_grow = grow_area
        key = arch or iso.arch
        if key == "unknown":
            raise ImageError(f"{path}: cannot tell the ISO's architecture ({iso.arch_evidence}); "
                             f"give it as --iso ARCH={path}")
        if key in out:
            raise UsageError(f"two ISOs for {key}: {out[key].path} and {path}")
        if not force and not iso.is_pristine():
            raise ImageError(f"{path}: This ISO image is already customized; use -f to force.")
        out[key] = iso
    return out


def _pick(directory: str, kind: str) -> Optional[str]:
    words = ARTIFACTS[kind]
    found = sorted(n for n in os.listdir(directory)
                   if any(w in n.lower() for w in words) and os.path.isfile(os.path.join(directory, n))
                   and not n.startswith(".") and not n.lower().endswith((".sig", ".asc", ".sha256", ".part")))
    if len(found) > 1:
        raise UsageError(f"{directory}: several {kind} files ({', '.join(found)}): keep one per directory")
    return os.path.join(directory, found[0]) if found else None


def pxe_dir_artifacts(specs: Sequence[str], default_arch: str) -> dict[str, dict[str, str]]:
    """``--pxe-dir [ARCH=]DIR`` -> arch -> kind -> path (files named like ``*kernel*``/``*vmlinuz*``,
    ``*initramfs*``/``*initrd*``, ``*rootfs*``, as ``ignkit download`` and ``iso extract pxe`` name them)."""
    out: dict[str, dict[str, str]] = {}
    for spec in specs:
        arch, directory = parse_arch_path(spec, "--pxe-dir")
        arch = arch or default_arch
        if not os.path.isdir(directory):
            raise InputError(f"{directory}: not a directory")
        if arch in out:
            raise UsageError(f"two --pxe-dir for {arch}")
        files = {k: p for k in ARTIFACTS if (p := _pick(directory, k)) is not None}
        if not files:
            raise InputError(f"{directory}: no kernel, initramfs or rootfs files")
        out[arch] = files
    return out


def stream_artifacts(source: str, arches: Sequence[str], cache: str, *, stream_name: Optional[str] = None,
                     ca_cert: Optional[str] = None, insecure: bool = False) -> dict[str, dict[str, str]]:
    """``--stream SOURCE --cache DIR``: the PXE kernel, initramfs and rootfs of every arch, downloaded and
    verified by ``ignkit download``'s code into ``DIR/<arch>/`` (files already there and verified are kept)."""
    from ..stream import download, load_stream

    st = load_stream(source, stream_name, ca_cert=ca_cert, insecure=insecure)
    out: dict[str, dict[str, str]] = {}
    for arch in arches:
        directory = os.path.join(cache, arch)
        os.makedirs(directory, exist_ok=True)
        results = download(st, arch, "pxe", directory, ca_cert=ca_cert, insecure=insecure,
                           progress=False)
        out[arch] = {r.artifact.kind: str(r.path) for r in results if r.artifact.kind in ARTIFACTS}
    return out


def _iso_artifacts(iso: LiveIso) -> dict[str, ByteView]:
    ident = file_identity(iso.path)
    out = {}
    by_name = {e.name.upper().split(";")[0]: e for e in iso.pxe_files}
    for kind, names in _ISO_ARTIFACTS.items():
        for n in names:
            if n in by_name:
                out[kind] = extent_view(ident, by_name[n].ranges)
                break
    return out


def _live_features(view: ByteView, where: str) -> OsFeatures:
    from ..live.initramfs import check_live_initramfs, scan_live_initramfs
    from .media import ViewReader

    with ViewReader(view) as reader:
        try:
            info = scan_live_initramfs(reader)  # type: ignore[arg-type]
            check_live_initramfs(info)
        except ImageError as e:
            raise ImageError(f"{where}: {e.message}") from None
    return info.features


def host_arch(host: Host, arches: Sequence[str]) -> str:
    """A host's architecture: its own (``arch``/cpuArchitecture), else the only one served."""
    if host.arch:
        return normalize_arch(host.arch)
    if len(arches) == 1:
        return arches[0]
    if "x86_64" in arches:
        return "x86_64"
    raise UsageError(f"{host.hostname}: no architecture in the inventory and several served ({', '.join(arches)})")


def _boot_scripts(sh: ServedHost, options: CustomizeOptions, base_url: str) -> None:
    from ..pxeconfig import BootParams, for_host, render

    u = base_url.rstrip("/")
    base = BootParams(kernel_url=f"{u}/artifacts/{sh.arch}/kernel", initramfs_url=f"{u}/artifacts/{sh.arch}/initramfs",
                      rootfs_url=f"{u}/artifacts/{sh.arch}/rootfs", ignition_url=f"{u}/hosts/{{hostname}}.ign",
                      install_dev=options.dest_device, arch=sh.arch)
    for mac in sh.macs:
        params = for_host(base, sh.host, mac)
        for fmt, into in (("ipxe", sh.ipxe), ("grub", sh.grub)):
            try:
                into[mac], _ = render(fmt, params)
            except UsageError as e:
                note = f"no {fmt} script: {e.message}"
                if note not in sh.notes:
                    sh.notes.append(note)


def build_catalog(hosts: Sequence[Host], options: CustomizeOptions, isos: dict[str, LiveIso],
                  pxe_files: Optional[dict[str, dict[str, str]]] = None, *, base_url: Optional[str] = None,
                  force: bool = False, minimal_store: Optional[MinimalStore] = None) -> Catalog:
    """Compose every host once: ISO patches (as a view over the base ISO), PXE layer, installed config, boot scripts,
    and, with ``minimal_store``, the minimal ISO's patches (as a view over the arch's minimal base)."""
    from ..digests import digest_bytes
    from ..ignition import build
    from ..live.hosts import check_host_arch, pxe_host_layer, stage_iso_host
    from ..netconf import normalize_mac

    if not hosts:
        raise InputError("the inventory lists no hosts")
    pxe_files = pxe_files or {}
    arches = sorted(set(isos) | set(pxe_files))
    if not arches:
        raise UsageError("nothing to serve: give --iso [ARCH=]PATH and/or --pxe-dir [ARCH=]DIR")
    artifacts: dict[str, dict[str, ByteView]] = {}
    features: dict[str, Optional[OsFeatures]] = {}
    warnings: list[str] = []
    for arch in arches:
        views = _iso_artifacts(isos[arch]) if arch in isos else {}
        for kind, path in pxe_files.get(arch, {}).items():
            views[kind] = file_view(file_identity(path))
        artifacts[arch] = views
        feats: Optional[OsFeatures] = None
        if "initramfs" in views:
            where = pxe_files.get(arch, {}).get("initramfs") or f"{isos[arch].path}: images/pxeboot/initrd.img"
            try:
                feats = _live_features(views["initramfs"], where)
            except ImageError as e:
                warnings.append(f"no per-host initramfs for {arch}: {e.message}")
        features[arch] = feats
    iso_ident = {arch: file_identity(iso.path) for arch, iso in isos.items()}
    from .minimal import minimal_bases, stage_minimal

    minimal = minimal_bases(isos, artifacts, base_url, minimal_store, options)
    warnings += [f"minimal ISOs for {arch} are not served: {m.reason}" for arch, m in minimal.items() if m.reason]
    served: dict[str, ServedHost] = {}
    by_mac: dict[str, str] = {}
    for h in hosts:
        if h.hostname in served:
            raise InputError(f"host {h.hostname} is listed twice")
        arch = host_arch(h, arches)
        if arch not in arches:
            raise UsageError(f"{h.hostname} is {arch} but nothing is served for {arch} (give --iso {arch}=PATH)")
        macs = []
        for m in h.macs:
            mac = normalize_mac(m, where=f"host {h.hostname}")
            if mac in by_mac:
                raise InputError(f"MAC {mac} is listed for both {by_mac[mac]} and {h.hostname}")
            by_mac[mac] = h.hostname
            macs.append(mac)
        sh = ServedHost(h, arch, macs)
        result = None
        if arch in isos:
            check_host_arch(isos[arch], h)
            # open_isos checked once that the image is pristine (or -f): no need to scan it per host.
            result, staged = stage_iso_host(isos[arch], options, h, force=True)
            sh.iso = patched_view(iso_ident[arch], staged.patches, staged.new_size)
            sh.minimal_base = minimal[arch]
            if not minimal[arch].lazy:
                sh.minimal, sh.minimal_note = stage_minimal(minimal[arch], options, h)
        else:
            sh.minimal_note = f"no minimal ISO: no live ISO for {arch}"
        feats = features.get(arch)
        if feats is not None:
            pxe_result, layer = pxe_host_layer(feats, options, h)
            result = result or pxe_result
            sh.initramfs = _append(artifacts[arch]["initramfs"], layer)
        if result is not None and result.dest_config is not None:
            sh.ignition = build.serialize(result.dest_config)
            sh.ignition_digest = digest_bytes(sh.ignition, "sha512")
        elif result is None:
            sh.notes.append(f"no installed-system config: no live ISO or CoreOS live initramfs for {arch}")
        else:
            sh.notes.append("no installed-system config (give --dest-ignition)")
        if base_url and sh.ignition is not None and {"kernel", "initramfs", "rootfs"} <= set(artifacts[arch]):
            _boot_scripts(sh, options, base_url)
        served[h.hostname] = sh
    return Catalog(served, by_mac, artifacts, base_url, warnings, minimal)


def _append(view: ByteView, layer: bytes) -> ByteView:
    """``view`` (a pristine initramfs) followed by ``layer``."""
    import hashlib

    from .media import Piece

    pieces = list(view.pieces) + [Piece(view.size, len(layer), data=layer)]
    return ByteView(view.base, pieces, f"{view.etag} append {hashlib.sha256(layer).hexdigest()}")
