"""Relocating the Ignition area of a live ISO to a larger extent appended after the last used block.

Nothing is rebuilt and no other file moves. Growing rewrites, as byte patches: every directory record
of ``images/ignition.img`` (primary tree with its Rock Ridge fields, Joliet tree), the volume space size
of the primary and supplementary volume descriptors, ``coreos/igninfo.json`` when it states a length,
the legacy ``coreiso+`` header, the isohybrid MBR entry that spans the image, and the GPT (primary
header, the backup header and entries moved to the new end, CRC32s). El Torito is not affected: its
boot images stay where they are. The old extent is zeroed (an unreferenced config must not linger).

A record block after the new extent keeps the original bytes of everything the growth changed, so a
later edit whose archive fits the original area (``iso reset``, ``ignition remove``, a smaller embed)
gives back the original image byte for byte: same size, same layout.

What the grown area holds: the same newc archive coreos-installer would write, but in an xz stream of
*stored* LZMA2 chunks (:mod:`ignkit.xzstored`: CRC32 check, 64 KiB dictionary) instead of xz preset 9.
Only the 256 KiB area must match coreos-installer's bytes; a grown area has no upstream counterpart, and
compressing is what made growing slow: a config that needs growing is large (megabytes of embedded file
data, usually base64 of already compressed bytes), and liblzma takes 1.0-1.3 s for 3.3 MiB of it at
preset 9 and still 0.25-0.4 s at its fastest settings (preset 0, or fast mode with a 4 KiB dictionary),
more than the kernel needs to copy a 1 GiB ISO (0.26 s here); storing takes 5 ms. The price is size: the
area holds the archive uncompressed (+0.01 %), 20-25 % more than xz for base64 data, more for text; the
area is rounded up to whole MiB anyway and the ISO is a gigabyte. Every reader takes it: the kernel's
initramfs unpacker (boot-proven in tests/boot/test_grow_boot.py), liblzma (coreos-installer ``iso
ignition show``, ``xz -t``) and ignkit. Whether a config needs growing is still decided with
coreos-installer's own compression (preset 9, stopped as soon as it passes the original area): a config
that fits is embedded exactly as coreos-installer would, in place.
"""

from __future__ import annotations

import json
import lzma
import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from ..docread import loads_json
from ..errors import ImageError
from ..isofs import SECTOR, read_image_at
from ..xzstored import xz_stored
from .embed import IgnitionArea

MAGIC = b"ignkit grown Ignition area v1\n\0\0"
GROW_UNIT = 1024 * 1024  # the grown area's length is a multiple of this (room for the next, larger config)
_MIB = 1024 * 1024
_MAX_DIRS = 100_000
Patch = tuple[int, bytes]


def encode_grown(members: Mapping[str, bytes]) -> bytes:
    """The archive a grown area holds: ``members`` as a newc cpio (as coreos-installer builds it) in an xz
    stream of stored LZMA2 chunks (see the module docstring)."""
    from ..initrd import build_cpio

    return xz_stored(build_cpio(dict(members)))


@dataclass(frozen=True)
class GrowRecord:
    """What a grown image keeps about its original layout (read back from the record block)."""

    original_size: int
    original_offset: int
    original_length: int
    offset: int
    length: int
    restore: tuple[Patch, ...]

    def to_dict(self) -> dict[str, object]:
        return {"original_size": self.original_size, "original_offset": self.original_offset,
                "original_length": self.original_length, "offset": self.offset, "length": self.length,
                "restored_ranges": len(self.restore)}


@dataclass(frozen=True)
class Growth:
    """A planned relocation: the new area, the layout patches (payload excluded) and the new image size."""

    area: IgnitionArea
    patches: tuple[Patch, ...]
    size: int
    record: GrowRecord


class _Image:
    """Random reads of the image file."""

    def __init__(self, path: str, size: int) -> None:
        self.path = path
        self.size = size

    def read(self, offset: int, length: int) -> bytes:
        return read_image_at(self.path, self.size, offset, length)


def _blocks(n: int) -> int:
    return -(-n // SECTOR)


def _both32(value: int) -> bytes:
    return struct.pack("<I", value) + struct.pack(">I", value)


# -- the record block --

def _encode_record(rec: GrowRecord) -> bytes:
    head = {"original_size": rec.original_size, "original": [rec.original_offset, rec.original_length],
            "grown": [rec.offset, rec.length], "restore": [[off, len(data)] for off, data in rec.restore]}
    meta = json.dumps(head, separators=(",", ":"), sort_keys=True).encode()
    blob = lzma.compress(b"".join(data for _, data in rec.restore), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    raw = MAGIC + struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(blob)) + blob
    return raw + bytes(_blocks(len(raw)) * SECTOR - len(raw))


def record_offset(area: IgnitionArea) -> int:
    """Where a grown area's record block sits: the block after the area's last one."""
    return area.offset + _blocks(area.length) * SECTOR


def read_record(path: str, size: int, area: IgnitionArea) -> GrowRecord | None:
    """The grow record after ``area``, or None when the image was not grown by ignkit."""
    if area.file_offset != 0:
        return None
    at = record_offset(area)
    if at + SECTOR > size:
        return None
    img = _Image(path, size)
    first = img.read(at, SECTOR)
    if not first.startswith(MAGIC):
        return None
    try:
        pos = len(MAGIC)
        (mlen,) = struct.unpack_from("<I", first, pos)
        head = img.read(at, min(size - at, pos + 4 + mlen + 4))
        meta = loads_json(head[pos + 4:pos + 4 + mlen])
        (blen,) = struct.unpack_from("<I", head, pos + 4 + mlen)
        blob = img.read(at + pos + 8 + mlen, blen)
        data = lzma.decompress(blob, format=lzma.FORMAT_XZ)
        restore = []
        used = 0
        for off, length in meta["restore"]:
            restore.append((int(off), data[used:used + int(length)]))
            used += int(length)
        rec = GrowRecord(int(meta["original_size"]), int(meta["original"][0]), int(meta["original"][1]),
                         int(meta["grown"][0]), int(meta["grown"][1]), tuple(restore))
    except (ValueError, KeyError, TypeError, IndexError, lzma.LZMAError, struct.error) as e:
        raise ImageError(f"{path}: the grown Ignition area's record is corrupt ({e})") from None
    if (rec.offset, rec.length) != (area.offset, area.length) or used != len(data):
        raise ImageError(f"{path}: the grown Ignition area's record does not match the area")
    return rec


# -- ISO 9660 structures --

def _volume_descriptors(img: _Image) -> list[tuple[int, int]]:
    """(offset, type) of every volume descriptor up to the terminator."""
    out = []
    for sector in range(16, 16 + 64):
        vd = img.read(sector * SECTOR, 8)
        if vd[1:6] != b"CD001":
            if vd[1:6] in (b"BEA01", b"NSR02", b"NSR03", b"TEA01"):
                raise ImageError("the ISO also carries a UDF file system; growing it is not supported")
            break
        if vd[0] == 255:
            break
        out.append((sector * SECTOR, vd[0]))
    return out


def _records(img: _Image, root: bytes) -> Iterator[tuple[int, bytes]]:
    """(absolute offset, record bytes) of every directory record below a root record, depth first."""
    todo = [(struct.unpack_from("<I", root, 2)[0], struct.unpack_from("<I", root, 10)[0])]
    seen = set()
    while todo:
        extent, length = todo.pop()
        if extent in seen:
            continue
        seen.add(extent)
        if len(seen) > _MAX_DIRS or length > 64 * _MIB:
            raise ImageError("corrupt ISO 9660 directory tree")
        data = img.read(extent * SECTOR, length)
        pos = 0
        while pos < len(data):
            n = data[pos]
            if n == 0:
                pos = (pos // SECTOR + 1) * SECTOR
                continue
            if n < 34 or pos + n > len(data):
                raise ImageError("corrupt ISO 9660 directory record")
            rec = data[pos:pos + n]
            name_len = rec[32]
            if not (name_len == 1 and rec[33] in (0, 1)):
                yield extent * SECTOR + pos, rec
                if rec[25] & 0x02:
                    todo.append((struct.unpack_from("<I", rec, 2)[0], struct.unpack_from("<I", rec, 10)[0]))
            pos += n


# -- partition tables --

@dataclass
class _Gpt:
    header: bytes
    entries: bytes
    entries_lba: int
    backup_lba: int


def _read_gpt(img: _Image) -> _Gpt | None:
    if img.size < 2 * 512:
        return None
    hdr = img.read(512, 512)
    if hdr[:8] != b"EFI PART":
        return None
    hsize = struct.unpack_from("<I", hdr, 12)[0]
    if not 92 <= hsize <= 512:
        raise ImageError("GPT header with a bad size")
    backup_lba, = struct.unpack_from("<Q", hdr, 32)
    entries_lba, count, esize = struct.unpack_from("<QII", hdr, 72)
    if esize < 128 or count * esize > 1024 * 1024:
        raise ImageError("GPT with a bad partition entry array")
    return _Gpt(hdr[:hsize], img.read(entries_lba * 512, count * esize), entries_lba, backup_lba)


def _gpt_header(base: bytes, entries: bytes, my_lba: int, alt_lba: int, entries_lba: int, last_usable: int) -> bytes:
    h = bytearray(base)
    struct.pack_into("<QQ", h, 24, my_lba, alt_lba)
    struct.pack_into("<Q", h, 48, last_usable)
    struct.pack_into("<Q", h, 72, entries_lba)
    struct.pack_into("<I", h, 88, zlib.crc32(entries) & 0xFFFFFFFF)
    struct.pack_into("<I", h, 16, 0)
    struct.pack_into("<I", h, 16, zlib.crc32(bytes(h)) & 0xFFFFFFFF)
    return bytes(h)


def _chs(lba: int, heads: int, sectors: int) -> bytes:
    cyl = lba // (heads * sectors)
    if cyl > 1023:
        return b"\xfe\xff\xff"
    head = (lba // sectors) % heads
    sector = lba % sectors + 1
    return bytes([head, sector | ((cyl >> 8) & 3) << 6, cyl & 0xFF])


# -- planning --

def _check_movable(area: IgnitionArea, carrier_length: int) -> None:
    if area.file_offset != 0 or area.length != carrier_length:
        raise ImageError(f"the Ignition area is part of {area.file} (bytes {area.file_offset}.."
                         f"{area.file_offset + area.length}), not a whole file: it cannot be moved to grow it")


def plan_growth(path: str, size: int, area: IgnitionArea, needed: int, *, carrier_length: int,
                igninfo: tuple[int, bytes] | None = None) -> Growth:
    """Plan moving ``area`` (the whole file ``area.file``) to a new extent of at least ``needed`` bytes.

    ``igninfo`` is (offset, bytes) of coreos/igninfo.json when the ISO has one. Raises ImageError when
    the image has something this cannot keep consistent (UDF, appended partitions, an area inside a
    larger file).
    """
    _check_movable(area, carrier_length)
    img = _Image(path, size)
    vds = _volume_descriptors(img)
    pvds = [off for off, t in vds if t in (1, 2)]
    if not any(t == 1 for _, t in vds):
        raise ImageError("no primary volume descriptor")
    volume = struct.unpack("<I", img.read(pvds[0] + 80, 4))[0]
    if volume * SECTOR > size:
        raise ImageError("ISO image is incomplete")
    if img.read(0, 2) == b"ER" and size > SECTOR and img.read(SECTOR, 2) == b"PM":
        raise ImageError("the ISO carries an Apple partition map; growing it is not supported")
    old_block = area.offset // SECTOR
    start = volume  # the first block after the ISO 9660 volume: only padding and the backup GPT live there
    length = max(area.length, -(-needed // GROW_UNIT) * GROW_UNIT)
    rec_at = (start + _blocks(length)) * SECTOR
    changes: list[Patch] = []  # (offset, new bytes) within the original size

    # directory records (every tree), volume sizes
    found = 0
    for vd_off in pvds:
        root = img.read(vd_off + 156, 34)
        for rec_off, rec in _records(img, root):
            if rec[25] & 0x02:
                continue
            if struct.unpack_from("<I", rec, 2)[0] == old_block and struct.unpack_from("<I", rec, 10)[0] == area.length:
                changes.append((rec_off + 2, _both32(start) + _both32(length)))
                found += 1
    if not found:
        raise ImageError(f"no directory record of {area.file} found")

    # partition tables: what lies past the volume must be padding and the backup GPT only
    mbr = img.read(0, 512)
    has_mbr = mbr[510:512] == b"\x55\xaa"
    gpt = _read_gpt(img)
    tail = 0
    if gpt is not None:
        tail = 512 + len(gpt.entries) + (-len(gpt.entries)) % 512
    record_probe = _encode_record(GrowRecord(size, area.offset, area.length, start * SECTOR, length, ()))
    data_end = rec_at + len(record_probe) + 64 * 1024  # room for the record's restore data (checked below)
    new_size = max(-(-(data_end + tail) // SECTOR) * SECTOR, -(-size // SECTOR) * SECTOR)
    if has_mbr and size % _MIB == 0:
        new_size = -(-new_size // _MIB) * _MIB  # isohybrid images are whole cylinders of 1 MiB
    new_volume = new_size // SECTOR if volume * SECTOR >= size else _blocks(data_end)
    for vd_off in pvds:
        changes.append((vd_off + 80, _both32(new_volume)))

    if has_mbr:
        table = bytearray(mbr[446:510])
        for i in range(4):
            e = table[16 * i:16 * i + 16]
            ptype = e[4]
            first, count = struct.unpack_from("<II", e, 8)
            if count == 0:
                continue
            if first == 0 and count * 512 == size:
                heads, sectors = e[5] + 1, e[6] & 0x3F
                if sectors and _chs(first + count - 1, heads, sectors) == bytes(e[5:8]):
                    table[16 * i + 5:16 * i + 8] = _chs(new_size // 512 - 1, heads, sectors)
                struct.pack_into("<I", table, 16 * i + 12, new_size // 512)
            elif ptype == 0xEE and first == 1:
                struct.pack_into("<I", table, 16 * i + 12, min(new_size // 512 - 1, 0xFFFFFFFF))
            elif (first + count) * 512 > start * SECTOR:
                raise ImageError(f"MBR partition {i + 1} lies past the ISO 9660 volume (an appended partition); "
                                 "growing the Ignition area would overwrite it")
        changes.append((446, bytes(table)))

    if gpt is not None:
        old_last = size // 512 - 1
        if gpt.backup_lba != old_last:
            raise ImageError("the backup GPT header is not at the end of the image")
        count, esize = struct.unpack_from("<II", gpt.header, 80)
        entries = bytearray(gpt.entries)
        new_last = new_size // 512 - 1
        ent_sectors = -(-len(entries) // 512)
        old_usable = struct.unpack_from("<Q", gpt.header, 48)[0]
        for i in range(count):
            e = i * esize
            if not any(entries[e:e + 16]):
                continue
            first, last = struct.unpack_from("<QQ", entries, e + 32)
            if last >= old_usable:
                struct.pack_into("<Q", entries, e + 40, new_last - ent_sectors - 1)
            elif (last + 1) * 512 > start * SECTOR:
                raise ImageError(f"GPT partition {i + 1} lies past the ISO 9660 volume (an appended partition); "
                                 "growing the Ignition area would overwrite it")
        ents = bytes(entries)
        usable = new_last - ent_sectors - 1
        primary = _gpt_header(gpt.header, ents, 1, new_last, gpt.entries_lba, usable)
        backup = _gpt_header(gpt.header, ents, new_last, 1, new_last - ent_sectors, usable)
        changes.append((512, primary))
        if ents != gpt.entries:
            changes.append((gpt.entries_lba * 512, ents))
        old_backup = gpt.backup_lba * 512
        old_backup_entries = (gpt.backup_lba - ent_sectors) * 512
        if old_backup_entries < start * SECTOR:
            # the old backup lies inside the volume: clear it so no stale GPT header remains
            changes.append((old_backup_entries, bytes(old_backup + 512 - old_backup_entries)))
        backup_patches: list[Patch] = [((new_last - ent_sectors) * 512, ents), (new_last * 512, backup)]
    else:
        backup_patches = []

    # the legacy coreiso+ header (read by coreos-installer before 0.11), when it points at the area
    legacy = img.read(32768 - 24, 24) if size >= 32768 else b""
    if legacy[:8] == b"coreiso+" and struct.unpack_from("<QQ", legacy, 8) == (area.offset, area.length):
        changes.append((32768 - 16, struct.pack("<QQ", start * SECTOR, length)))

    # coreos/igninfo.json, when it states the length
    if igninfo is not None:
        off, raw = igninfo
        try:
            info = loads_json(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            info = None
        if isinstance(info, dict) and "length" in info:
            info["length"] = length
            text = json.dumps(info, separators=(",", ":"), sort_keys=True).encode()
            if len(text) > len(raw):
                raise ImageError("coreos/igninfo.json has no room for the grown area's length")
            changes.append((off, text + b" " * (len(raw) - len(text))))

    # whatever lay between the volume's end and the old end (padding, the old backup GPT) is overwritten
    if start * SECTOR < size:
        changes.append((start * SECTOR, bytes(size - start * SECTOR)))

    restore = _originals(img, changes, size)
    new_area = IgnitionArea(area.file, 0, start * SECTOR, length, area.source)
    record = GrowRecord(size, area.offset, area.length, start * SECTOR, length, tuple(restore))
    rec_bytes = _encode_record(record)
    if rec_at + len(rec_bytes) > _blocks(data_end) * SECTOR:
        raise ImageError("the grow record does not fit its reserved blocks")
    patches = [p for p in changes if p[0] != start * SECTOR]  # the tail is rewritten by what follows
    patches.append((area.offset, bytes(area.length)))  # the old extent, zeroed
    patches.append((rec_at, rec_bytes))
    rec_end = rec_at + len(rec_bytes)
    if min(size, new_size - tail) > rec_end:  # old padding or GPT left between the record and the new tail
        patches.append((rec_end, bytes(min(size, new_size - tail) - rec_end)))
    patches.extend(backup_patches)
    return Growth(new_area, tuple(_merge(patches)), new_size, record)


def _originals(img: _Image, changes: Sequence[Patch], size: int) -> list[Patch]:
    """The original bytes of every changed range inside the original image."""
    out = []
    for off, data in _merge(changes):
        end = min(off + len(data), size)
        if off < end:
            out.append((off, img.read(off, end - off)))
    return out


def _merge(patches: Sequence[Patch]) -> list[Patch]:
    """Non-overlapping, sorted patches; where two overlap, the later one wins."""
    segs: list[Patch] = []
    for off, data in patches:
        end = off + len(data)
        kept: list[Patch] = []
        for s_off, s_data in segs:
            s_end = s_off + len(s_data)
            if s_end <= off or s_off >= end:
                kept.append((s_off, s_data))
                continue
            if s_off < off:
                kept.append((s_off, s_data[:off - s_off]))
            if s_end > end:
                kept.append((end, s_data[end - s_off:]))
        kept.append((off, data))
        segs = kept
    return sorted(p for p in segs if p[1])


def restore_patches(record: GrowRecord) -> list[Patch]:
    """Patches that give back the original layout (the caller writes the area at its original extent)."""
    return list(record.restore)

