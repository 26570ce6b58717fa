"""Minimal ISOs for ``ignkit serve``: ``/hosts/<name>-minimal.iso`` with the rootfs URL pointing at the server.

Each architecture's minimal base is built once by :func:`ignkit.live.miniso.extract_minimal_iso` (the
code behind ``ignkit iso extract minimal-iso --rootfs-url``) into a state directory, with
``coreos.live.rootfs_url=<base URL>/artifacts/<arch>/rootfs``. A host's minimal ISO is then staged on
that base by the same :func:`ignkit.live.hosts.stage_iso_host` as its full ISO and served by the same
patched-view machinery (:mod:`ignkit.serve.media`): the bytes are those of
``ignkit iso extract minimal-iso BASE --rootfs-url URL -o m.iso && ignkit embed -f m.iso ...``.

Why a minimal ISO may be unavailable for an architecture (no rootfs to point at, no ``coreos/miniso.dat``,
no base URL, ...) is kept as a one-line reason: the endpoint answers 404 with it. A rootfs URL that does
not fit the kernel-argument areas, like any other misfit, refuses the start-up.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Optional

from ..errors import IgnkitError, ImageError

if TYPE_CHECKING:
    from ..inventory import Host
    from ..live.image import LiveIso
    from ..live.options import CustomizeOptions
    from .catalog import ServedHost
    from .media import ByteView, FileIdentity

#: What a host's minimal ISO path ends with: ``/hosts/<name>-minimal.iso``, ``/mac/<mac>-minimal.iso``.
SUFFIX = "-minimal.iso"


def rootfs_url(base_url: str, arch: str) -> str:
    """The rootfs artifact's URL on this server (the one the boot scripts name too)."""
    return f"{base_url.rstrip('/')}/artifacts/{arch}/rootfs"


@dataclass
class MinimalBase:
    """One architecture's minimal base ISO, or why there is none."""

    arch: str
    rootfs_url: Optional[str] = None
    iso: Optional[LiveIso] = None       # opened from the state directory; hosts are staged on copies
    ident: Optional[FileIdentity] = None
    reason: Optional[str] = None        # why minimal ISOs are unavailable for this arch
    #: Hosts are staged on their first request (see :func:`host_minimal`) when the minimal image has at least
    #: the full one's room (Ignition area, kargs areas) and the same features: whatever fitted the full ISO
    #: at start-up then fits the minimal one. Otherwise every host is staged at start-up.
    lazy: bool = False
    options: Optional[CustomizeOptions] = None   # what hosts are staged with
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"available": self.iso is not None, "rootfs_url": self.rootfs_url}
        if self.iso is not None:
            d["size"] = self.iso.size
        if self.reason:
            d["reason"] = self.reason
        return d


class MinimalStore:
    """Where minimal bases are built: ``directory`` (kept), or a private temporary directory removed by
    :meth:`close`. A base is built once per (base image, rootfs URL) in a process; a reload reuses it."""

    def __init__(self, directory: Optional[str] = None) -> None:
        self._own = directory is None
        if directory is None:
            directory = tempfile.mkdtemp(prefix="ignkit-serve-minimal-")
        else:
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as e:
                raise IgnkitError(f"{directory}: cannot create: {e.strerror or e}") from None
        self.directory = directory
        self._built: dict[str, str] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._own:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> MinimalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def build(self, full: LiveIso, arch: str, url: str) -> str:
        """The path of ``full``'s minimal ISO with ``coreos.live.rootfs_url=url`` (built on first use)."""
        from ..live.miniso import extract_minimal_iso
        from .media import file_identity

        ident = file_identity(full.path)
        key = hashlib.sha256(f"{ident.digest} {ident.size} {url}".encode()).hexdigest()[:32]
        path = os.path.join(self.directory, f"{arch}-{key}{SUFFIX}")
        with self._lock:
            if self._built.get(key) != path or not os.path.isfile(path):
                extract_minimal_iso(full.path, path, rootfs_url=url, overwrite=True)
                # The base's modification time, so that Last-Modified (and If-Range with a date) stays
                # the same across restarts and replicas, as the content does.
                os.utime(path, (ident.mtime, ident.mtime))
                self._built[key] = path
        return path


def _unavailable(full: LiveIso, arch: str, artifacts: dict[str, Any], base_url: Optional[str]) -> Optional[str]:
    """Why no minimal ISO can be served for ``arch`` (None: it can)."""
    from ..isofs import IsoFS
    from ..live.miniso import read_miniso

    if not base_url:
        return ("no --base-url and a wildcard --listen address: the rootfs URL to put into the minimal ISO "
                "is unknown")
    if "rootfs" not in artifacts:
        return f"no rootfs for {arch} to point coreos.live.rootfs_url= at (give --pxe-dir or --stream)"
    if full.kargs is None:
        return f"{full.path}: the ISO has no kernel-argument areas to carry coreos.live.rootfs_url="
    if not full.is_pristine():
        return f"{full.path}: the ISO is already customized (a minimal ISO needs a pristine one)"
    try:
        with IsoFS(full.path) as fs:
            read_miniso(fs)
    except ImageError as e:
        return f"{full.path}: {e.message}"
    return None


def _same_room(full: LiveIso, minimal: LiveIso) -> bool:
    """Whether every customization that fits ``full`` fits ``minimal`` too (its default kargs are shorter:
    they lack ``coreos.liveiso=``)."""
    if full.kargs is None or minimal.kargs is None or minimal.features != full.features:
        return False
    return (minimal.ignition_area.length >= full.ignition_area.length and minimal.allow_grow == full.allow_grow
            and min(a.size for a in minimal.kargs_areas) >= min(a.size for a in full.kargs_areas))


def minimal_bases(isos: dict[str, LiveIso], artifacts: dict[str, dict[str, ByteView]], base_url: Optional[str],
                  store: Optional[MinimalStore], options: Optional[CustomizeOptions] = None
                  ) -> dict[str, MinimalBase]:
    """Every served architecture's minimal base: built into ``store``, or the reason it is unavailable.

    Raises (a one-line error naming the architecture) when the base cannot be built although it should
    be: the rootfs URL does not fit the kernel-argument areas, or the rebuilt image fails the digest
    miniso.dat records.
    """
    from ..live.image import open_iso
    from ..live.miniso import check_rootfs_url
    from .media import file_identity

    out: dict[str, MinimalBase] = {}
    for arch, full in sorted(isos.items()):
        url = rootfs_url(base_url, arch) if base_url else None
        base = out[arch] = MinimalBase(arch, url, options=options)
        if store is None:
            base.reason = "no state directory for minimal ISOs"
            continue
        base.reason = _unavailable(full, arch, artifacts.get(arch, {}), base_url)
        if base.reason is not None or url is None:
            continue
        try:
            check_rootfs_url(url)
            path = store.build(full, arch, url)
        except IgnkitError as e:
            raise IgnkitError(f"minimal ISO for {arch} (coreos.live.rootfs_url={url}): {e.message}",
                              exit_code=e.exit_code) from None
        base.iso = open_iso(path, arch=arch)
        base.iso.allow_grow = full.allow_grow
        base.ident = file_identity(path)
        base.lazy = _same_room(full, base.iso)
    return out


def stage_minimal(base: MinimalBase, options: CustomizeOptions, host: Host) -> tuple[Optional[ByteView], Optional[str]]:
    """One host's minimal ISO as a view over the arch's minimal base (``embed -f`` on it, as for the full
    ISO), or the reason there is none."""
    from ..live.hosts import stage_iso_host
    from ..live.miniso import ROOTFS_URL_KARG
    from .media import patched_view

    if base.iso is None or base.ident is None:
        return None, f"no minimal ISO for {base.arch}: {base.reason}"
    karg = ROOTFS_URL_KARG + str(base.rootfs_url)
    edits = [*options.live_karg_append, *options.live_karg_delete, *options.live_karg_replace]
    if edits and not any(e.startswith(ROOTFS_URL_KARG.rstrip("=")) for e in edits):
        # --live-karg-* edits start from the image's default kargs, which lack the URL (as with embed -f):
        # append it, as an operator would with one more --live-karg-append.
        options = replace(options, live_karg_append=[*options.live_karg_append, karg])
    _, staged = stage_iso_host(base.iso, options, host, force=True)
    if karg not in staged.current_kargs().split():
        return None, (f"{host.hostname}: no minimal ISO: its kernel arguments lack {karg} "
                      "(the --live-karg-* options name coreos.live.rootfs_url themselves)")
    return patched_view(base.ident, staged.patches, staged.new_size), None


def host_minimal(sh: ServedHost) -> tuple[Optional[ByteView], Optional[str]]:
    """A host's minimal ISO view (staged now if its arch's base is lazy and this is the first request), or
    why there is none. Staging takes a few milliseconds, once per host; later calls return the cached view."""
    base = sh.minimal_base
    if sh.minimal is None and sh.minimal_note is None and base is not None and base.options is not None:
        with base.lock:
            if sh.minimal is None and sh.minimal_note is None:
                try:
                    sh.minimal, sh.minimal_note = stage_minimal(base, base.options, sh.host)
                except IgnkitError as e:   # cannot happen when the base has the full ISO's room; say so if it does
                    sh.minimal_note = f"{sh.name}: no minimal ISO: {e.message}"
    return sh.minimal, sh.minimal_note
