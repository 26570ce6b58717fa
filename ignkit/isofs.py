"""Locate files (byte offset and length) in an ISO 9660 image's primary directory tree.

pycdlib does the parsing; for images pycdlib refuses (xorrisofs s390x images whose ``..`` records are
named 0x00, like ``.``) a small read-only walker of the primary tree takes over. Both give the same
answers: names are the on-disk ISO 9660 identifiers with ``;1`` and a trailing ``.`` stripped, compared
case-sensitively, as coreos-installer does.
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from .docread import loads_json
from .errors import ImageError

SECTOR = 2048
# Longest directory extent the walker reads (a sanity bound against corrupt lengths).
_MAX_DIR_BYTES = 16 * 1024 * 1024
# Deepest directory tree walked (ISO 9660 allows 8 levels; Rock Ridge images go deeper, never this deep).
_MAX_DIR_DEPTH = 64


class IsoNotFound(ImageError):
    """A path component does not exist in the ISO's primary directory tree."""


@dataclass(frozen=True)
class IsoEntry:
    """One file or directory of the primary tree: ``offset`` and ``length`` are in bytes.

    A file stored in several extents (ISO 9660 multi-extent, how files of 4 GiB and more are kept) has
    them in ``extents`` as (offset, length) pairs, in file order; ``offset`` is the first one's and
    ``length`` the total. ``ranges`` gives the pairs for any file.
    """

    path: str
    name: str
    offset: int
    length: int
    is_dir: bool
    extents: tuple[tuple[int, int], ...] = ()

    @property
    def ranges(self) -> tuple[tuple[int, int], ...]:
        """(offset, length) of each piece of the file in the image, in order."""
        return self.extents or ((self.offset, self.length),)


def normalize_name(raw: bytes) -> str:
    """Turn an on-disk ISO 9660 identifier into the name lookups compare against.

    A NUL ends the name; ``;1``-style versions and then one trailing ``.`` are stripped.
    """
    raw = raw.split(b"\x00", 1)[0]
    name = raw.decode("latin-1")
    if ";" in name:
        name = name[: name.index(";")]
    if name.endswith("."):
        name = name[:-1]
    return name


def split_path(path: str) -> list[str]:
    """Split an ISO path into components, dropping empty, ``.`` components and resolving ``..``."""
    parts: list[str] = []
    for comp in path.replace("\\", "/").split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            if parts:
                parts.pop()
            continue
        parts.append(comp)
    return parts


def read_image_at(path: str, size: int, offset: int, length: int) -> bytes:
    """``length`` bytes of the image file ``path`` (``size`` bytes long) at ``offset``; ImageError if short."""
    if offset < 0 or offset + length > size:
        raise ImageError(f"{path}: ISO image is incomplete (needs bytes up to {offset + length}, has {size})")
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    if len(data) != length:
        raise ImageError(f"{path}: ISO image is incomplete")
    return data


class IsoFS:
    """A read-only view of an ISO 9660 image's primary tree.

    ``IsoFS(path)`` opens the image; ``lookup("COREOS/KARGS.JSO")`` gives an :class:`IsoEntry`
    (raises :class:`IsoNotFound`), ``listdir`` lists a directory, ``read`` returns a file's bytes.
    ``backend`` tells which parser answered (``"pycdlib"`` or ``"walker"``); ``use_pycdlib=False``
    forces the walker.
    """

    def __init__(self, path: str | os.PathLike[str], *, use_pycdlib: bool = True) -> None:
        self.path = os.fspath(path)
        try:
            mode = os.stat(self.path).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode)):
                raise ImageError(f"{self.path}: not a regular file or block device (an ISO is read with "
                                 "random access; save it to a file first)")
            with open(self.path, "rb") as f:
                self.size = f.seek(0, os.SEEK_END)  # also right for block devices
        except OSError as e:
            raise ImageError(f"{self.path}: {e.strerror or e}") from None
        self.volume_id = ""
        self.system_id = ""
        self.volume_blocks = 0
        self.eltorito_platforms: list[int] = []
        self._cache: dict[tuple[str, ...], list[IsoEntry]] = {}
        with open(self.path, "rb") as f:
            self._read_descriptors(f)
        if self.volume_blocks * SECTOR > self.size:
            raise ImageError(
                f"{self.path}: ISO image is incomplete ({self.size} bytes, "
                f"the volume descriptor says {self.volume_blocks * SECTOR})"
            )
        self.backend = "walker"
        self._pycdlib: Any = None
        if use_pycdlib:
            self._open_pycdlib()

    # -- volume descriptors (read directly: cheap, and needed by both backends) --

    def _read_descriptors(self, f: BinaryIO) -> None:
        sector = 16
        pvd = None
        boot = None
        while True:
            f.seek(sector * SECTOR)
            vd = f.read(SECTOR)
            if len(vd) < SECTOR:
                break
            if vd[1:6] != b"CD001":
                break
            vtype = vd[0]
            if vtype == 255:
                break
            if vtype == 1 and pvd is None:
                pvd = vd
            elif vtype == 0 and boot is None:
                boot = vd
            sector += 1
            if sector > 16 + 64:
                break
        if pvd is None:
            raise ImageError(f"{self.path}: not an ISO 9660 image (no primary volume descriptor)")
        self.system_id = pvd[8:40].decode("latin-1").strip()
        self.volume_id = pvd[40:72].decode("latin-1").strip()
        self.volume_blocks = struct.unpack_from("<I", pvd, 80)[0]
        block_size = struct.unpack_from("<H", pvd, 128)[0]
        if block_size != SECTOR:
            raise ImageError(f"{self.path}: unsupported ISO 9660 logical block size {block_size}")
        self._root_record = pvd[156:156 + 34]
        if boot is not None and boot[7:30].rstrip(b"\x00") == b"EL TORITO SPECIFICATION":
            catalog = struct.unpack_from("<I", boot, 71)[0]
            self.eltorito_platforms = self._read_eltorito(f, catalog)

    def _read_eltorito(self, f: BinaryIO, lba: int) -> list[int]:
        """Platform ids of the El Torito catalog's validation and section header entries."""
        f.seek(lba * SECTOR)
        cat = f.read(SECTOR)
        if len(cat) < 32 or cat[0] != 1 or cat[30:32] != b"\x55\xaa":
            return []
        platforms = [cat[1]]
        pos = 64
        while pos + 32 <= len(cat):
            hdr = cat[pos]
            if hdr in (0x90, 0x91):
                platforms.append(cat[pos + 1])
                count = struct.unpack_from("<H", cat, pos + 2)[0]
                pos += 32 * (count + 1)
                if hdr == 0x91:
                    break
            else:
                break
        return platforms

    def _open_pycdlib(self) -> None:
        import pycdlib

        iso = pycdlib.PyCdlib()
        try:
            iso.open(self.path)
        except Exception:  # noqa: BLE001 - any refusal means: use the walker
            # e.g. "Failed adding duplicate name to parent" for xorrisofs s390x images.
            try:
                iso.close()
            except Exception:  # noqa: BLE001 - pycdlib may be half-open
                pass
            return
        self._pycdlib = iso
        self.backend = "pycdlib"

    def close(self) -> None:
        """Release pycdlib's file handle (the walker keeps none open)."""
        if self._pycdlib is not None:
            try:
                self._pycdlib.close()
            finally:
                self._pycdlib = None

    def __enter__(self) -> IsoFS:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- directory listing --

    def _root_entry(self) -> IsoEntry:
        extent = struct.unpack_from("<I", self._root_record, 2)[0]
        length = struct.unpack_from("<I", self._root_record, 10)[0]
        return IsoEntry("/", "", extent * SECTOR, length, True)

    def _list(self, parts: tuple[str, ...], entry: IsoEntry) -> list[IsoEntry]:
        if parts in self._cache:
            return self._cache[parts]
        if self._pycdlib is not None:
            children = self._list_pycdlib(parts)
        else:
            children = self._list_walker(parts, entry)
        self._cache[parts] = children
        return children

    def _list_pycdlib(self, parts: tuple[str, ...]) -> list[IsoEntry]:
        # Walk by records (not names): pycdlib's own lookups need the exact ";1" spelling.
        record = self._pycdlib.pvd.root_directory_record()
        for comp in parts:
            for child in record.children:
                if child.is_dot() or child.is_dotdot():
                    continue
                if normalize_name(child.file_identifier()) == comp:
                    record = child
                    break
            else:
                raise IsoNotFound(f"{'/'.join(parts)}: not found in the ISO")
        records = ((normalize_name(child.file_identifier()), child.extent_location(), child.get_data_length(),
                    child.file_flags) for child in record.children if not (child.is_dot() or child.is_dotdot()))
        return _entries("/".join(parts), records)

    def _list_walker(self, parts: tuple[str, ...], entry: IsoEntry) -> list[IsoEntry]:
        if entry.length > _MAX_DIR_BYTES or entry.offset + entry.length > self.size:
            raise ImageError(f"{self.path}: corrupt ISO 9660 directory record for /{'/'.join(parts)}")
        with open(self.path, "rb") as f:
            f.seek(entry.offset)
            data = f.read(entry.length)
        return _entries("/".join(parts), _parse_dir_records(data))

    def listdir(self, path: str = "/") -> list[IsoEntry]:
        """The entries of a directory (``.`` and ``..`` excluded), in on-disk order."""
        parts = tuple(split_path(path))
        entry = self.lookup(path)
        if not entry.is_dir:
            raise IsoNotFound(f"{path}: not a directory in the ISO")
        return list(self._list(parts, entry))

    def lookup(self, path: str) -> IsoEntry:
        """Find a file or directory by its primary-tree path (e.g. ``IMAGES/PXEBOOT/VMLINUZ``)."""
        parts = split_path(path)
        entry = self._root_entry()
        for i, comp in enumerate(parts):
            if not entry.is_dir:
                raise IsoNotFound(f"{path}: {'/'.join(parts[:i])} is not a directory in the ISO")
            for child in self._list(tuple(parts[:i]), entry):
                if child.name == comp:
                    entry = child
                    break
            else:
                raise IsoNotFound(f"{path}: not found in the ISO")
        return entry

    def exists(self, path: str) -> bool:
        """Whether a path exists in the primary tree."""
        try:
            self.lookup(path)
        except IsoNotFound:
            return False
        return True

    def read(self, path: str, limit: int | None = None) -> bytes:
        """The bytes of a file (at most ``limit`` bytes); raises ImageError if the image is short."""
        entry = self.lookup(path)
        if entry.is_dir:
            raise IsoNotFound(f"{path}: is a directory in the ISO")
        left = entry.length if limit is None else min(limit, entry.length)
        parts = []
        for offset, length in entry.ranges:
            parts.append(self.read_at(offset, min(length, left)))
            left -= len(parts[-1])
        return b"".join(parts)

    def read_at(self, offset: int, length: int) -> bytes:
        """``length`` bytes of the image at ``offset``; raises ImageError if the image is short."""
        return read_image_at(self.path, self.size, offset, length)

    def file_at(self, offset: int) -> IsoEntry | None:
        """The file whose data holds the image byte at ``offset``, or None."""
        for entry in self.walk():
            if not entry.is_dir and any(start <= offset < start + length for start, length in entry.ranges):
                return entry
        return None

    def read_json_object(self, path: str, name: str) -> dict[str, Any]:
        """A file parsed as a JSON object; ImageError "NAME is not valid JSON: ..." / "... not a JSON object"."""
        try:
            data = loads_json(self.read(path).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise ImageError(f"{name} is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise ImageError(f"{name} is not a JSON object")
        return data

    def walk(self, path: str = "/") -> Iterator[IsoEntry]:
        """Every entry below ``path``, depth first. ImageError when a directory record leads back to a
        directory already being walked (a loop in a damaged or crafted image), or the tree is absurdly deep."""
        top = self.lookup(path)
        seen = {top.offset}
        stack: list[Iterator[IsoEntry]] = [iter(self.listdir(path))]
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                continue
            yield entry
            if entry.is_dir:
                if entry.offset in seen:
                    raise ImageError(f"{self.path}: corrupt ISO 9660 directory tree (/{entry.path} loops back "
                                     "to a directory above it)")
                if len(stack) >= _MAX_DIR_DEPTH:
                    raise ImageError(f"{self.path}: ISO 9660 directory tree deeper than {_MAX_DIR_DEPTH} levels")
                seen.add(entry.offset)
                stack.append(iter(self.listdir(entry.path)))


_DIR_FLAG = 0x02
_MULTI_EXTENT_FLAG = 0x80


def _entries(base: str, records: Iterable[tuple[str, int, int, int]]) -> list[IsoEntry]:
    """Entries from (name, extent, length, flags) records; a record flagged multi-extent and the
    records of the same name after it make one file."""
    out: list[IsoEntry] = []
    continues = False
    for name, extent, length, flags in records:
        piece = (extent * SECTOR, length)
        if continues and out and out[-1].name == name:
            prev = out[-1]
            out[-1] = IsoEntry(prev.path, name, prev.offset, prev.length + length, prev.is_dir,
                               prev.ranges + (piece,))
        else:
            out.append(IsoEntry(f"{base}/{name}" if base else name, name, piece[0], length,
                                bool(flags & _DIR_FLAG)))
        continues = bool(flags & _MULTI_EXTENT_FLAG)
    return out


def _parse_dir_records(data: bytes) -> Iterator[tuple[str, int, int, int]]:
    """Yield (name, extent, length, flags) for every record of a directory extent but ``.``/``..``."""
    pos = 0
    n = len(data)
    while pos < n:
        rec_len = data[pos]
        if rec_len == 0:
            # Records never span sectors: skip to the next one.
            pos = (pos // SECTOR + 1) * SECTOR
            continue
        if rec_len < 34 or pos + rec_len > n:
            raise ImageError("corrupt ISO 9660 directory record")
        rec = data[pos:pos + rec_len]
        extent = struct.unpack_from("<I", rec, 2)[0]
        length = struct.unpack_from("<I", rec, 10)[0]
        flags = rec[25]
        name_len = rec[32]
        if 33 + name_len > rec_len:
            raise ImageError("corrupt ISO 9660 directory record")
        raw = rec[33:33 + name_len]
        pos += rec_len
        if name_len == 1 and raw in (b"\x00", b"\x01"):
            continue  # "." or ".." (xorrisofs s390x images name both 0x00)
        yield normalize_name(raw), extent, length, flags
