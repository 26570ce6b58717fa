"""The minimal ISO: rebuild it from a live ISO's coreos/miniso.dat exactly as coreos-installer does.

coreos/miniso.dat (bincode 1.x, varint integers) holds a table of extents the minimal ISO shares with
the full one, the SHA-256 of the minimal ISO and an xz stream of every other byte. The rebuilt image
is checked against that digest, then its kernel arguments lose ``coreos.liveiso=`` (optionally gaining
``coreos.live.rootfs_url=``) and its coreos/kargs.json gets the new default, as
``coreos-installer iso extract minimal-iso`` writes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import lzma
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from ..docread import loads_json
from ..errors import CheckFailed, ImageError, UsageError
from ..isofs import SECTOR, IsoFS, IsoNotFound
from ..outfile import atomic_output, binary_stdout

MINISO_DAT = "COREOS/MINISO.DAT"
ROOTFS_IMG = "IMAGES/PXEBOOT/ROOTFS.IMG"
KARGS_JSON = "COREOS/KARGS.JSO"
MAGIC = b"MINISO\0\0"
VERSION = 1
MAX_DATA = 1024 * 1024  # coreos-installer's limit on what it deserializes
LIVEISO_KARG = "coreos.liveiso="
ROOTFS_URL_KARG = "coreos.live.rootfs_url="
NO_MINISO = "This ISO image does not support extracting a minimal ISO."
CUSTOMIZED = ("Cannot operate on ISO with embedded customizations.\n"
              "Reset it with `ignkit iso reset` and try again.")
_BUF = 1024 * 1024


@dataclass(frozen=True)
class Extent:
    """A file the minimal ISO shares with the full one: byte offsets in each image and its length."""

    minimal: int
    full: int
    length: int


@dataclass(frozen=True)
class Miniso:
    """The decoded coreos/miniso.dat."""

    app_version: str
    extents: tuple[Extent, ...]
    digest: bytes
    xzpacked: bytes


class _Reader:
    """bincode 1.x with varint integers, little endian."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def raw(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ImageError("coreos/miniso.dat is truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def varint(self) -> int:
        tag = self.raw(1)[0]
        if tag < 251:
            return tag
        fmt = {251: "<H", 252: "<I", 253: "<Q"}.get(tag)
        if fmt is None:
            raise ImageError(f"coreos/miniso.dat: unsupported integer tag {tag}")
        return int(struct.unpack(fmt, self.raw(struct.calcsize(fmt)))[0])

    def blob(self) -> bytes:
        return self.raw(self.varint())


def parse_miniso(data: bytes) -> Miniso:
    """Decode miniso.dat (trailing zero padding allowed); ImageError when it is not one we understand."""
    r = _Reader(data[:MAX_DATA])
    if r.raw(8) != MAGIC:
        raise ImageError("coreos/miniso.dat: not a miniso file!")
    version = r.varint()
    try:
        app_version = r.blob().decode("utf-8")
    except UnicodeDecodeError:
        raise ImageError("coreos/miniso.dat: app version is not UTF-8") from None
    if version != VERSION:
        raise ImageError(f"coreos/miniso.dat: incompatible miniso file version: {VERSION} vs {version} "
                         f"(created by {app_version})")
    count = r.varint()
    extents = []
    for _ in range(count):
        minimal, full, length = r.varint(), r.varint(), r.varint()
        extents.append(Extent(minimal * SECTOR, full * SECTOR, length))
    digest = r.raw(32)
    xzpacked = r.blob()
    if not extents:
        raise ImageError("coreos/miniso.dat: the table is empty")
    for a, b in zip(extents, extents[1:]):
        if a.minimal + a.length > b.minimal:
            raise ImageError(f"coreos/miniso.dat: Files at offsets {a.minimal} and {b.minimal} overlap")
    return Miniso(app_version, tuple(extents), digest, xzpacked)


def read_miniso(fs: IsoFS) -> Miniso:
    """The ISO's coreos/miniso.dat, decoded; ImageError NO_MINISO when it has none."""
    try:
        entry = fs.lookup(MINISO_DAT)
    except IsoNotFound:
        raise ImageError(NO_MINISO) from None
    return parse_miniso(fs.read(MINISO_DAT, limit=MAX_DATA) if not entry.is_dir else b"")


class _Packed:
    """The xz stream of miniso.dat, read in order in bounded pieces."""

    def __init__(self, data: bytes) -> None:
        self._xz = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        self._data = memoryview(data)
        self._fed = 0
        self._pending = b""

    def _more(self) -> bool:
        """Decompress some more into the pending buffer; False at the end of the stream."""
        if self._xz.eof:
            return False
        chunk = b""
        if self._xz.needs_input:
            chunk = bytes(self._data[self._fed:self._fed + _BUF])
            self._fed += len(chunk)
            if not chunk:
                raise ImageError("coreos/miniso.dat: the packed data ends early")
        try:
            self._pending = self._xz.decompress(chunk, max_length=_BUF)
        except lzma.LZMAError as e:
            raise ImageError(f"coreos/miniso.dat: corrupt packed data ({e})") from None
        return True

    def read(self, n: int | None = None) -> Iterator[bytes]:
        """The next ``n`` bytes (all the rest when None), in pieces."""
        while n is None or n > 0:
            if not self._pending:
                if not self._more():
                    if n is None:
                        return
                    raise ImageError("coreos/miniso.dat: the packed data ends early")
                continue
            take = len(self._pending) if n is None else min(n, len(self._pending))
            piece, self._pending = self._pending[:take], self._pending[take:]
            if n is not None:
                n -= take
            yield piece


def _unpack(info: Miniso, full_iso: BinaryIO, out: IO[bytes]) -> None:
    """Write the minimal ISO: packed bytes for the gaps, shared extents from the full ISO; check the digest."""
    packed = _Packed(info.xzpacked)
    hasher = hashlib.sha256()

    def emit(data: bytes) -> None:
        hasher.update(data)
        out.write(data)

    pos = 0
    for extent in info.extents:
        for piece in packed.read(extent.minimal - pos):
            emit(piece)
        full_iso.seek(extent.full)
        left = extent.length
        while left:
            chunk = full_iso.read(min(_BUF, left))
            if not chunk:
                raise ImageError("ISO image is incomplete (a file shared with the minimal ISO ends past the end)")
            emit(chunk)
            left -= len(chunk)
        pos = extent.minimal + extent.length
    for piece in packed.read():
        emit(piece)
    found = hasher.hexdigest()
    if found != info.digest.hex():
        raise CheckFailed(f"wrong final digest: expected {info.digest.hex()}, found {found}")


def _kargs_json(raw: bytes, default: str) -> bytes:
    """coreos/kargs.json with a new default, laid out as coreos-installer writes it, space-padded."""
    try:
        info = loads_json(raw.decode("utf-8"))
        files = [{"path": f["path"], "offset": f["offset"],
                  **{k: f[k] for k in ("pad", "end") if f.get(k) is not None}} for f in info["files"]]
        size = info["size"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise ImageError(f"minimal ISO: coreos/kargs.json is not readable ({e})") from None
    text = json.dumps({"default": default, "files": files, "size": size}, indent=2, ensure_ascii=False)
    data = text.encode("utf-8")
    if len(data) > len(raw):
        raise ImageError(f"New version of {KARGS_JSON} does not fit in space ({len(data)} vs {len(raw)})")
    return data + b" " * (len(raw) - len(data))


def minimal_kargs_patches(path: str, rootfs_url: str | None = None) -> list[tuple[int, bytes]]:
    """Byte patches turning a rebuilt minimal ISO (at ``path``) into the one coreos-installer hands out.

    Drops the ``coreos.liveiso=`` karg from every kargs area and from kargs.json's default; with
    ``rootfs_url`` the areas (not the default) also get ``coreos.live.rootfs_url=URL``.
    """
    from ..live.kargs import modify_kargs
    from .image import LiveIso

    with IsoFS(path) as fs:
        live = LiveIso(path, fs)
        kargs = live.current_kargs()
        liveiso = next((k for k in kargs.split() if k.startswith(LIVEISO_KARG)), None)
        if liveiso is None:
            raise ImageError("minimal ISO does not have coreos.liveiso= karg")
        default = modify_kargs(kargs, delete=[liveiso])
        final = default if rootfs_url is None else modify_kargs(default, append=[ROOTFS_URL_KARG + rootfs_url])
        live.set_kargs(final)
        try:
            entry = fs.lookup(KARGS_JSON)
        except IsoNotFound:
            raise ImageError("minimal ISO does not have kargs.json") from None
        patches = list(live.patches)
        patches.append((entry.offset, _kargs_json(fs.read(KARGS_JSON), default)))
    return sorted(patches)


def check_rootfs_url(url: str) -> None:
    """Refuse a rootfs URL a kernel command line cannot carry (whitespace, empty)."""
    if not url or any(c.isspace() for c in url):
        raise UsageError(f"forbidden whitespace found in '{url}'" if url else "--rootfs-url: empty URL")


def _write_patches(fd: int, patches: list[tuple[int, bytes]]) -> None:
    for offset, data in patches:
        view = memoryview(data)
        done = 0
        while done < len(view):
            done += os.pwrite(fd, view[done:], offset + done)


@contextlib.contextmanager
def _scratch(output: str, overwrite: bool) -> Iterator[tuple[BinaryIO, str]]:
    """(file, path) to build the image in: the atomic output itself, or a temporary file for stdout."""
    if output != "-":
        with atomic_output(output, overwrite=overwrite, fsync=False) as f:
            yield f, f"/proc/self/fd/{f.fileno()}"
        return
    with tempfile.TemporaryFile(prefix=".ignkit-miniso-") as tmp:
        yield tmp, f"/proc/self/fd/{tmp.fileno()}"  # type: ignore[misc]


def extract_minimal_iso(iso_path: str | os.PathLike[str], output: str = "-", *, rootfs_url: str | None = None,
                        output_rootfs: str | os.PathLike[str] | None = None, overwrite: bool = False,
                        stdout: IO[bytes] | None = None) -> None:
    """Write the minimal ISO packed in a pristine live ISO's coreos/miniso.dat to ``output`` (``-``: stdout).

    Byte-identical to ``coreos-installer iso extract minimal-iso``: the rebuilt image must match the
    SHA-256 miniso.dat records (CheckFailed "wrong final digest" otherwise). ``output_rootfs`` also
    writes images/pxeboot/rootfs.img. Outputs appear whole or not at all; existing ones are refused
    unless ``overwrite``.
    """
    from .image import open_iso

    src = os.fspath(iso_path)
    if rootfs_url is not None:
        check_rootfs_url(rootfs_url)
    live = open_iso(src)
    live.current_kargs()  # no kargs areas: coreos-installer's "No karg embed areas found" error
    if not live.is_pristine():
        raise ImageError(CUSTOMIZED)
    with IsoFS(src) as fs:
        info = read_miniso(fs)
        rootfs = None
        if output_rootfs is not None:
            try:
                rootfs = fs.lookup(ROOTFS_IMG)
            except IsoNotFound:
                raise ImageError(f"{src}: no images/pxeboot/rootfs.img to write to {os.fspath(output_rootfs)}") \
                    from None
    out_stream = binary_stdout(stdout) if output == "-" else None
    for target in (output, output_rootfs):
        if target is not None and target != "-" and not overwrite and os.path.lexists(target):
            raise UsageError(f"{os.fspath(target)}: already exists (use --overwrite to replace it)")
    written_rootfs = False
    try:
        with open(src, "rb") as full, _scratch(output, overwrite) as (scratch, scratch_path):
            _unpack(info, full, scratch)
            scratch.flush()
            _write_patches(scratch.fileno(), minimal_kargs_patches(scratch_path, rootfs_url))
            if rootfs is not None and output_rootfs is not None:
                with atomic_output(output_rootfs, overwrite=overwrite, fsync=False) as r:
                    full.seek(rootfs.offset)
                    left = rootfs.length
                    while left:
                        chunk = full.read(min(_BUF, left))
                        if not chunk:
                            raise ImageError(f"{src}: ISO image is incomplete (rootfs.img ends past the end)")
                        r.write(chunk)
                        left -= len(chunk)
                written_rootfs = True
            if out_stream is not None:
                scratch.seek(0)
                while True:
                    chunk = scratch.read(_BUF)
                    if not chunk:
                        break
                    out_stream.write(chunk)
                out_stream.flush()
    except BaseException:
        if written_rootfs and output_rootfs is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(output_rootfs)
        raise


def miniso_summary(iso_path: str | os.PathLike[str]) -> dict[str, Any]:
    """What coreos/miniso.dat says (for ``iso inspect``-style reports): version, shared files, digest."""
    with IsoFS(os.fspath(iso_path)) as fs:
        info = read_miniso(fs)
    return {"app_version": info.app_version, "shared_extents": len(info.extents),
            "shared_bytes": sum(e.length for e in info.extents), "packed_bytes": len(info.xzpacked),
            "sha256": info.digest.hex()}

