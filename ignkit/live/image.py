"""A CoreOS live ISO: what it is (architecture, embed areas, features) and how edits reach the disk.

``open_iso`` locates everything once. Edits (``embed_ignition``, ``set_kargs``, ``reset``, ...) only
compute byte patches for the small areas, in memory; ``write_iso`` then applies them in place, to a
new file (a kernel-side copy of the source plus the patches, renamed into place), or to stdout.
One opened ISO can be ``copy()``-ed to write many outputs (one per host) without parsing it again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, Callable

from .. import isocopy as _isocopy
from ..arch import ARCHES, normalize_arch  # noqa: F401 - ARCHES is re-exported by ignkit.live
from ..errors import CheckFailed, IgnkitError, ImageError, InputError, UsageError
from ..isofs import IsoEntry, IsoFS, IsoNotFound
from ..outfile import binary_stdout, check_output_mode, plain_file_name, refuse_input_as_output  # noqa: F401 - re-exported
from . import embed as _embed
from . import grow as _grow
from . import kargs as _kargs
from .embed import IgnitionArea
from .features import OsFeatures, read_features
from .initramfs import CONFIG_MEMBER, NETWORK_DIR
from .kargs import KargArea, KargAreas
from .layout import check_layout

_BUF = 1024 * 1024


def _kernel_arch(head: bytes) -> str | None:
    """Architecture from the first bytes of a kernel image, when its header says so."""
    if len(head) >= 0x206 and head[0x202:0x206] == b"HdrS":
        return "x86_64"
    if len(head) >= 0x3C and head[0x38:0x3C] == b"ARMd":
        return "aarch64"
    if head[:4] == b"\x7fELF" and len(head) >= 20:
        little = head[5] == 1
        machine = struct.unpack_from("<H" if little else ">H", head, 18)[0]
        if machine == 21:
            return "ppc64le" if little else None
        if machine == 22:
            return "s390x"
        if machine == 62:
            return "x86_64"
        if machine == 183:
            return "aarch64"
    if head[:2] == b"MZ" and len(head) >= 0x40:
        # PE image (EFI zboot or EFI stub): machine type of the PE header.
        pe = struct.unpack_from("<I", head, 0x3C)[0]
        if pe + 6 <= len(head) and head[pe:pe + 4] == b"PE\0\0":
            machine = struct.unpack_from("<H", head, pe + 4)[0]
            return {0x8664: "x86_64", 0xAA64: "aarch64"}.get(machine)
    return None


def detect_arch(fs: IsoFS) -> tuple[str, str]:
    """(architecture, evidence) of a live ISO from its contents; ("unknown", reason) if undecidable.

    Looks, in order, at s390x boot files, the PXE kernel's header, EFI loaders in the tree, ppc
    boot files and isolinux.
    """
    for path in ("IMAGES/CDBOOT.IMG", "GENERIC.INS", "IMAGES/PXEBOOT/KERNEL.IMG"):
        if fs.exists(path):
            return "s390x", f"/{path.lower()}"
    for path in ("IMAGES/PXEBOOT/VMLINUZ", "IMAGES/PXEBOOT/VMLINUX", "IMAGES/VMLINUZ"):
        try:
            entry = fs.lookup(path)
        except IsoNotFound:
            continue
        if entry.is_dir:
            continue
        head = fs.read_at(entry.offset, min(entry.length, 65536))
        if head[:2] == b"\x1f\x8b":  # gzip-compressed kernel image (e.g. arm64 vmlinuz)
            try:
                head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4096)
            except zlib.error:
                head = b""
        arch = _kernel_arch(head[:4096])
        if arch:
            return arch, f"kernel header of /{path.lower()}"
    for path, arch in (("EFI/BOOT/BOOTX64.EFI", "x86_64"), ("EFI/BOOT/BOOTAA64.EFI", "aarch64")):
        if fs.exists(path):
            return arch, f"/{path.lower()}"
    for path in ("PPC", "BOOT/GRUB/POWERPC-IEEE1275", "BOOTINFO.TXT", "PPC/BOOTINFO.TXT"):
        if fs.exists(path):
            return "ppc64le", f"/{path.lower()}"
    for path in ("ISOLINUX/ISOLINUX.BIN", "ISOLINUX"):
        if fs.exists(path):
            return "x86_64", f"/{path.lower()}"
    if fs.eltorito_platforms and all(p == 0xEF for p in fs.eltorito_platforms):
        return "aarch64", "EFI-only El Torito catalog without isolinux"
    return "unknown", "no architecture-specific boot files found"


#: El Torito platform ids (boot catalog) by the names ``iso inspect`` prints.
ELTORITO_PLATFORMS = {0: "BIOS", 0xEF: "UEFI", 1: "PowerPC", 2: "Mac"}


class LiveIso:
    """An opened CoreOS live ISO and the edits pending for it (see :func:`open_iso`)."""

    def __init__(self, path: str, fs: IsoFS) -> None:
        self.path = path
        self.size = fs.size
        self.volume_id = fs.volume_id
        self.system_id = fs.system_id
        self.parser = fs.backend
        self.eltorito_platforms = list(fs.eltorito_platforms)
        self.ignition_area: IgnitionArea = _embed.locate_ignition_area(fs)
        area = self.ignition_area
        self.kargs: KargAreas | None = _kargs.locate_kargs(
            fs, check=lambda areas, legacy: check_layout(fs, area, areas, legacy))
        if self.kargs is None:
            check_layout(fs, area)
        self.features: OsFeatures = read_features(fs)
        self.arch, self.arch_evidence = detect_arch(fs)
        self.pxe_files = self._pxe_files(fs)
        self._orig_ignition = fs.read_at(self.ignition_area.offset, self.ignition_area.length)
        self._orig_kargs = {a.offset: fs.read_at(a.offset, a.size) for a in self.kargs_areas}
        self._patches: dict[int, bytes] = {}
        self._members: dict[str, bytes] | None = None
        # Growing the Ignition area (see live/grow.py): allowed only when asked for; an image grown
        # earlier carries a record of its original layout.
        self.allow_grow = False
        self.grown: _grow.GrowRecord | None = _grow.read_record(fs.path, fs.size, self.ignition_area)
        self._area_at_open = self.ignition_area
        self._ign_data: bytes | None = None
        self._layout: list[tuple[int, bytes]] = []
        self.new_size = self.size
        self._carrier_length = fs.lookup(self.ignition_area.file.upper()).length
        self._igninfo: tuple[int, bytes] | None = None
        if fs.exists(_embed.IGNINFO_JSON):
            entry = fs.lookup(_embed.IGNINFO_JSON)
            self._igninfo = (entry.offset, fs.read(_embed.IGNINFO_JSON))

    @staticmethod
    def _pxe_files(fs: IsoFS) -> list[IsoEntry]:
        try:
            return [e for e in fs.listdir("IMAGES/PXEBOOT") if not e.is_dir]
        except IsoNotFound:
            return []

    # -- what is there --

    @property
    def kargs_areas(self) -> list[KargArea]:
        """The kernel-argument areas ([] when the ISO has none)."""
        return list(self.kargs.areas) if self.kargs else []

    @property
    def default_kargs(self) -> str | None:
        """The pristine kernel arguments, or None when the ISO has no kargs areas."""
        return self.kargs.default if self.kargs else None

    def has_feature(self, name: str) -> bool:
        """Whether coreos/features.json turns ``name`` on (``a.b`` looks into objects)."""
        return self.features.enabled(name)

    def check_arch(self, arch: str | None) -> None:
        """Refuse (CheckFailed) when ``arch`` is given and is not this ISO's architecture."""
        if not arch:
            return
        want = normalize_arch(arch)
        if self.arch == "unknown":
            raise CheckFailed(f"{self.path}: cannot tell the ISO's architecture ({self.arch_evidence}); "
                              f"refusing to assert --arch {want}")
        if self.arch != want:
            raise CheckFailed(f"{self.path} is an ISO for {self.arch}, not {want} (found {self.arch_evidence})")

    def read_ignition_area(self) -> bytes:
        """The Ignition area's bytes, pending edits included."""
        return self._orig_ignition if self._ign_data is None else self._ign_data

    def members(self) -> dict[str, bytes]:
        """The files stored in the Ignition area (pending edits included); {} when it is empty."""
        if self._members is None:
            self._members = _embed.decode_area(self.read_ignition_area())
        return dict(self._members)

    def ignition_config(self) -> bytes | None:
        """The embedded Ignition config, or None."""
        return self.members().get(CONFIG_MEMBER)

    def network_keyfiles(self) -> dict[str, bytes]:
        """The embedded NetworkManager keyfiles, by file name."""
        return _embed.network_members(self.members())

    def _require_kargs(self) -> KargAreas:
        if self.kargs is None:
            raise ImageError(_kargs.NO_KARGS)
        return self.kargs

    def current_kargs(self) -> str:
        """The kernel arguments now in the areas (pending edits included)."""
        k = self._require_kargs()
        area = k.areas[0]
        return area.parse(self._patches.get(area.offset, self._orig_kargs[area.offset]))

    def is_pristine(self) -> bool:
        """True when the Ignition area is all zeros and the kargs (if any) are the defaults."""
        if self.read_ignition_area().strip(b"\x00"):
            return False
        return self.kargs is None or self.current_kargs() == self.kargs.default

    # -- edits: byte patches of the areas --

    def set_ignition_payload(self, payload: bytes) -> None:
        """Put an already compressed initrd (b"" for none) into the Ignition area, zero-filled.

        When it does not fit and ``allow_grow`` is set, the area moves to a larger extent at the end of
        the image (live/grow.py). On a grown image, a payload that fits the original area gives back the
        original layout byte for byte.
        """
        at_open, grown = self._area_at_open, self.grown
        self._members = None
        self._layout, self.new_size, self.ignition_area = [], self.size, at_open
        if grown is not None and len(payload) <= grown.original_length:
            self._layout, self.new_size = _grow.restore_patches(grown), grown.original_size
            self.ignition_area = IgnitionArea(at_open.file, 0, grown.original_offset, grown.original_length,
                                              at_open.source)
        elif len(payload) > at_open.length and self.allow_grow:
            if grown is not None:
                raise ImageError(f"the Ignition area was already grown to {at_open.length} bytes and the compressed "
                                 f"config is {len(payload)}: reset the ISO (ignkit iso reset), then embed again")
            plan = _grow.plan_growth(self.path, self.size, at_open, len(payload),
                                     carrier_length=self._carrier_length, igninfo=self._igninfo)
            self._layout, self.new_size, self.ignition_area = list(plan.patches), plan.size, plan.area
        elif len(payload) > at_open.length:
            try:
                _embed.fill_area(payload, at_open.length)
            except ImageError as e:
                raise ImageError(f"{e} (--grow-area moves the area to a larger extent)") from None
        self._ign_data = _embed.fill_area(payload, self.ignition_area.length)

    def set_members(self, members: Mapping[str, bytes]) -> None:
        """Replace the Ignition area's content with these files (an empty mapping zeroes the area).

        What fits the original area is compressed as coreos-installer does; what does not goes, when the
        area may grow (``allow_grow``, or grown already), into a grown area as live/grow.py stores it.
        """
        grown = self.grown
        original = grown.original_length if grown is not None else self._area_at_open.length
        try:
            payload = _embed.encode_members(members, limit=original)
        except _embed.TooLarge as e:
            if not self.allow_grow and grown is None:
                raise ImageError(f"{e} (--grow-area moves the area to a larger extent)") from None
            payload = _grow.encode_grown(members)
        self.set_ignition_payload(payload)
        self._members = dict(members)

    def embed_ignition(self, config: bytes, *, force: bool = False, source: str = "config") -> None:
        """Embed ``config`` verbatim as config.ign, keeping other members (network keyfiles).

        InputError when ``config`` is not a JSON object (``source`` names it in the message).
        """
        _embed.check_config(config, source)
        members = self.members()
        if CONFIG_MEMBER in members and not force:
            raise ImageError("This ISO image already has an embedded Ignition config; use -f to force.")
        members[CONFIG_MEMBER] = bytes(config)
        self.set_members(members)

    def remove_ignition(self) -> None:
        """Drop config.ign (no error when absent); the area is zeroed if nothing is left."""
        members = self.members()
        members.pop(CONFIG_MEMBER, None)
        self.set_members(members)

    def embed_network(self, keyfiles: Mapping[str, bytes], *, force: bool = False) -> None:
        """Replace the embedded NetworkManager keyfiles (name → content); config.ign is kept."""
        if not self.has_feature("live-initrd-network"):
            raise ImageError("This OS image does not support customizing network settings.")
        members = self.members()
        if _embed.network_members(members) and not force:
            raise ImageError("This ISO image already has embedded network settings; use -f to force.")
        members = {k: v for k, v in members.items() if not k.startswith(NETWORK_DIR)}
        for name, data in keyfiles.items():
            if not name or "/" in name or name in (".", ".."):
                raise UsageError(f"bad keyfile name {name!r}")
            members[NETWORK_DIR + name] = bytes(data)
        self.set_members(members)

    def remove_network(self) -> None:
        """Drop every embedded keyfile (no error when none); config.ign is kept."""
        members = {k: v for k, v in self.members().items() if not k.startswith(NETWORK_DIR)}
        self.set_members(members)

    def set_kargs(self, kargs: str) -> None:
        """Write ``kargs`` into every kargs area (refuses what does not fit or cannot be stored)."""
        k = self._require_kargs()
        for offset, data in k.format(kargs):
            self._patches[offset] = data

    def modify_kargs(self, append: Sequence[str] = (), delete: Sequence[str] = (),
                     replace: Sequence[str] = ()) -> str:
        """Edit the current kargs (delete, then append, then replace); returns the new kargs."""
        new = _kargs.modify_kargs(self.current_kargs(), append=append, delete=delete, replace=replace)
        self.set_kargs(new)
        return new

    def reset_kargs(self) -> None:
        """Write the default kargs into every area."""
        k = self._require_kargs()
        self.set_kargs(k.default)

    def reset(self) -> None:
        """Back to the pristine image: zero the Ignition area, default kargs (when the ISO has areas)."""
        self.set_ignition_payload(b"")
        self._members = {}
        if self.kargs is not None:
            self.reset_kargs()

    @property
    def patches(self) -> list[tuple[int, bytes]]:
        """Pending edits as (absolute offset, bytes), sorted, only those that change something."""
        out = list(self._layout)
        if self._ign_data is not None and (self._layout or self._ign_data != self._orig_ignition):
            out.append((self.ignition_area.offset, self._ign_data))
        for offset, data in sorted(self._patches.items()):
            if self._orig_kargs.get(offset) != data:
                out.append((offset, data))
        return sorted(out)

    def copy(self) -> LiveIso:
        """A copy sharing everything located at open, with its own pending edits (one per host)."""
        new = object.__new__(LiveIso)
        new.__dict__.update(self.__dict__)
        new._patches = dict(self._patches)
        new._layout = list(self._layout)
        new._members = None if self._members is None else dict(self._members)
        return new

    def inspect(self) -> dict[str, Any]:
        """Everything ``iso inspect`` shows, as a JSON-ready dict, in the words the text output uses:
        ``state`` is ``pristine``, ``customized`` or ``unknown`` (unreadable embed area); El Torito platforms
        by name (``BIOS``, ``UEFI``, ``PowerPC``, ``Mac``, else hex); PXE file names in lower case, as
        ``iso extract pxe`` names them."""
        area = self.read_ignition_area()
        ign: dict[str, Any] = dict(self.ignition_area.to_dict())
        ign["grown"] = None if self.grown is None else self.grown.to_dict()
        ign["used"] = _embed.used_bytes(area)
        try:
            members = self.members()
            ign["members"] = sorted(members)
            ign["config"] = CONFIG_MEMBER in members
            ign["network_keyfiles"] = sorted(_embed.network_members(members))
        except ImageError as e:
            ign["members"] = None
            ign["error"] = str(e)
        kargs: dict[str, Any] | None = None
        if self.kargs is not None:
            kargs = self.kargs.to_dict()
            kargs["current"] = self.current_kargs()
        try:
            state = "pristine" if self.is_pristine() else "customized"
        except ImageError:
            state = "unknown"
        return {
            "path": self.path,
            "size": self.size,
            "arch": self.arch,
            "arch_evidence": self.arch_evidence,
            "volume_id": self.volume_id,
            "system_id": self.system_id,
            "parser": self.parser,
            "ignition": ign,
            "kargs": kargs,
            "features": self.features.to_dict(),
            "pxe_files": [e.name.lower() for e in self.pxe_files],
            "eltorito_platforms": [ELTORITO_PLATFORMS.get(p, hex(p)) for p in self.eltorito_platforms],
            "state": state,
        }


def open_iso(path: str | os.PathLike[str], *, arch: str | None = None) -> LiveIso:
    """Open a CoreOS live ISO and locate its Ignition area, kargs areas and features.

    ``arch`` asserts the architecture (CheckFailed on a mismatch). Raises InputError for a missing
    file and ImageError for anything that is not a readable CoreOS live ISO.
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise InputError(f"{p}: no such file")
    if os.path.isdir(p):
        raise InputError(f"{p}: is a directory")
    with IsoFS(p) as fs:
        try:
            iso = LiveIso(p, fs)
        except ImageError as e:
            msg = str(e)
            raise ImageError(msg if msg.startswith(f"{p}: ") else f"{p}: {msg}") from None
    iso.check_arch(arch)
    return iso


# -- writing --

def _apply_patches(fd: int, patches: Iterable[tuple[int, bytes]]) -> None:
    for offset, data in patches:
        _isocopy.pwrite_all(fd, data, offset)


def _stream(src_path: str, size: int, patches: Sequence[tuple[int, bytes]], out: IO[bytes],
            end: int | None = None) -> None:
    """Write the source with patches applied to a binary stream, in order, never holding the image.

    The result is ``end`` bytes long (default: the source's ``size``); past the source it is zeros
    where no patch says otherwise.
    """
    end = size if end is None else end
    try:
        out_fd: int | None = out.fileno()
    except (AttributeError, OSError, ValueError):
        out_fd = None
    out.flush()
    with open(src_path, "rb") as src:
        in_fd = src.fileno()
        pos = 0
        for offset, data in sorted(patches) + [(end, b"")]:
            if offset < pos:
                raise ImageError(f"region starting at {offset} precedes current offset {pos}")
            copy = max(0, min(offset, size) - pos)
            _stream_range(in_fd, pos, copy, out, out_fd)
            for z in range(pos + copy, offset, _BUF):
                out.write(bytes(min(_BUF, offset - z)))
            if data:
                out.write(data)
                out.flush()
            pos = offset + len(data)
    out.flush()


def _sendfile(out_fd: int, in_fd: int, start: int, length: int) -> int:
    """Send up to ``length`` bytes of ``in_fd`` from ``start`` to ``out_fd``'s position with sendfile;
    returns how many went (fewer, possibly 0, where the OS cannot sendfile between these files)."""
    done = 0
    if not hasattr(os, "sendfile"):
        return 0
    try:
        while done < length:
            n = os.sendfile(out_fd, in_fd, start + done, min(length - done, 1 << 30))
            if n == 0:
                break
            done += n
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
    return done


def _stream_range(in_fd: int, start: int, length: int, out: IO[bytes], out_fd: int | None) -> None:
    done = 0 if out_fd is None else _sendfile(out_fd, in_fd, start, length)
    while done < length:
        chunk = os.pread(in_fd, min(_BUF, length - done), start + done)
        if not chunk:
            raise ImageError("input ISO shrank while copying")
        out.write(chunk)
        done += len(chunk)
    out.flush()


def _check_patches(patches: Sequence[tuple[int, bytes]], end: int) -> None:
    prev_end = 0
    for offset, data in sorted(patches):
        if offset < 0 or offset + len(data) > end:
            raise ImageError(f"patch at {offset} ({len(data)} bytes) lies outside the image")
        if offset < prev_end:
            raise ImageError(f"patch at {offset} ({len(data)} bytes) overlaps the one before it (ends at {prev_end})")
        prev_end = offset + len(data)


def write_patched(src: str, size: int, patches: Sequence[tuple[int, bytes]], *, output: str | None = None,
                  in_place: bool = False, overwrite: bool = False, stdout: IO[bytes] | None = None,
                  new_size: int | None = None) -> None:
    """Apply byte patches to the image at ``src``: in place, into a new file ``output``, or to stdout.

    ``output="-"`` streams to ``stdout`` (default ``sys.stdout.buffer``; a terminal is refused). A new
    file is written as a temporary file beside the target and renamed; an existing target is refused
    unless ``overwrite``. Exactly one of ``output`` / ``in_place`` must be given. ``new_size`` (a grown
    or restored Ignition area) makes the result that long: cut, or extended with zeros and the patches.
    """
    check_output_mode(output, in_place)
    # Every patch is checked before the first byte goes anywhere (stdout cannot take bytes back).
    end = size if new_size is None else new_size
    _check_patches(patches, end)
    if in_place:
        fd = os.open(src, os.O_RDWR)
        try:
            if os.lseek(fd, 0, os.SEEK_END) != size:
                raise ImageError(f"{src}: the file changed size since it was opened")
            # No fsync: like cp, leave write-back to the kernel (an fsync would flush whatever else of
            # the image is still dirty, e.g. right after a download, and cost time that grows with it).
            # Growing: last bytes first (the new area, its record, the moved backup GPT), the structures
            # pointing at them (GPT, volume descriptors, directory records) after them.
            _apply_patches(fd, sorted(patches, reverse=end > size))
            if end != size:
                os.ftruncate(fd, end)
        finally:
            os.close(fd)
        return
    assert output is not None
    if output == "-":
        _stream(src, size, patches, binary_stdout(stdout), end)
        return
    refuse_input_as_output(output, [src], hint="use --in-place to change the input ISO itself")
    _write_new_file(src, size, patches, output, overwrite, end)


def _write_new_file(src: str, size: int, patches: Sequence[tuple[int, bytes]], output: str,
                    overwrite: bool, end: int) -> None:
    with _isocopy.copying(src, output, overwrite=overwrite) as pending:
        if pending.size != size:
            raise ImageError(f"{src}: the file changed size since it was opened")
        pending.finish(patches, end)


def finish_copy(pending: _isocopy.PendingCopy, live_iso: LiveIso) -> None:
    """Complete a copy of ``live_iso``'s file started with :func:`ignkit.isocopy.copying` (before the ISO was
    even opened, as the CLI does): wait for it, write the pending edits, cut or extend to the new size."""
    if pending.size != live_iso.size:
        raise ImageError(f"{live_iso.path}: the file changed size since it was opened")
    patches, end = live_iso.patches, live_iso.new_size
    _check_patches(patches, end)
    pending.finish(patches, end)


@contextlib.contextmanager
def writing_iso(live_iso: LiveIso, *, output: str | None = None, in_place: bool = False, overwrite: bool = False,
                stdout: IO[bytes] | None = None) -> Iterator[Callable[[], None]]:
    """Start writing ``live_iso`` before its edits are made; the body makes them, then calls the yielded function.

    For a new file the kernel copies the source image into a temporary file beside ``output`` in a thread
    while the body runs (checking a config, planning a grown area: the copy and the edits overlap); the call
    waits for the copy, writes the patched blocks, and the file is renamed into place on leaving. In place
    and to stdout there is nothing to start: the call is :func:`write_iso`. On an exception in the body, or
    when it leaves without calling, nothing is written and the temporary file is removed.
    """
    check_output_mode(output, in_place)
    if in_place or output == "-":
        yield lambda: write_iso(live_iso, output=output, in_place=in_place, overwrite=overwrite, stdout=stdout)
        return
    assert output is not None
    try:
        with _isocopy.copying(live_iso.path, output, overwrite=overwrite) as pending:
            yield lambda: finish_copy(pending, live_iso)
    except _isocopy.Cancelled:
        pass  # the body left without writing: nothing appears


def write_iso(live_iso: LiveIso, *, output: str | None = None, in_place: bool = False,
              overwrite: bool = False, stdout: IO[bytes] | None = None) -> None:
    """Write ``live_iso`` with its pending edits: ``in_place``, to a new file ``output``, or ``-o -``.

    All three give byte-identical images. Only the edited areas are computed in memory; the rest of
    the image is copied by the kernel (copy_file_range/sendfile) or not touched at all (in place).
    """
    write_patched(live_iso.path, live_iso.size, live_iso.patches, output=output, in_place=in_place,
                  overwrite=overwrite, stdout=stdout, new_size=live_iso.new_size)


def extract_pxe(live_iso: LiveIso, directory: str | os.PathLike[str] = ".", *,
                overwrite: bool = False) -> list[str]:
    """Copy every file of images/pxeboot to ``directory`` as ``<ISO stem>-<lowercased name>``.

    Returns the paths written. Existing files are refused unless ``overwrite``, all checked before
    anything is written; on any error the files this call wrote are removed again. Files kept in
    several extents (4 GiB and more) are copied piece by piece.
    """
    from ..outfile import OUTPUT_ERRNOS, write_files_atomic

    if not live_iso.pxe_files:
        raise ImageError(f"{live_iso.path}: {_embed.UNRECOGNIZED} (no images/pxeboot directory)")
    stem = os.path.splitext(os.path.basename(live_iso.path))[0]
    jobs = [(entry, os.path.join(os.fspath(directory),
                                 plain_file_name(f"{stem}-{entry.name.lower()}", "images/pxeboot file name")))
            for entry in sorted(live_iso.pxe_files, key=lambda e: e.name)]
    for entry, _ in jobs:
        if any(offset + length > live_iso.size for offset, length in entry.ranges):
            raise ImageError(f"{live_iso.path}: ISO image is incomplete ({entry.name} ends past the end)")
    with open(live_iso.path, "rb") as src:
        def copier(entry: Any, target: str) -> Callable[[str], None]:
            def copy(tmp: str) -> None:
                try:
                    with open(tmp, "wb") as out:
                        pos = 0
                        for offset, length in entry.ranges:
                            _isocopy.copy_range(src.fileno(), out.fileno(), length, offset, pos)
                            pos += length
                except OSError as e:
                    if e.errno in OUTPUT_ERRNOS:
                        raise IgnkitError(f"{target}: cannot write: {e.strerror or e}") from None
                    raise
            return copy

        # All or nothing: every file to a temporary file first, then all renamed.
        return write_files_atomic([(target, copier(entry, target)) for entry, target in jobs], overwrite=overwrite)
