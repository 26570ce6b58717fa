"""An xz stream whose LZMA2 chunks are stored, not compressed: valid .xz that costs no compression time.

The grown Ignition area (``ignkit/live/grow.py``) holds such an archive. Every xz decoder accepts it: the
kernel's (``lib/xz``: LZMA2 uncompressed chunks, CRC32 check), liblzma (coreos-installer, ``xz -t``) and
Python's :mod:`lzma`. The layout (xz file format 1.1.0) is: stream header; one block (header declaring
LZMA2 with a small dictionary, then chunks ``0x01``/``0x02`` + 16-bit big-endian size-1 + up to 64 KiB of
data, then the end marker ``0x00``; padding to 4 bytes; the CRC32 of the data); the index; the stream footer.
The result is the input's length plus 3 bytes per 64 KiB and 60-odd bytes.
"""

from __future__ import annotations

import struct
import zlib

_MAGIC = b"\xfd7zXZ\x00"
_FLAGS = b"\x00\x01"  # check type 1: CRC32, the only check the kernel's decoder needs to support
_CHUNK = 64 * 1024  # the largest uncompressed LZMA2 chunk
_DICT_BYTE = 8  # LZMA2 dictionary 64 KiB (2 << (8 / 2 + 11)): a stored chunk goes through at most that much
_FILTER_LZMA2 = 0x21


def _crc(data: bytes) -> bytes:
    return struct.pack("<I", zlib.crc32(data) & 0xFFFFFFFF)


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _pad4(n: int) -> bytes:
    return bytes(-n % 4)


def stored_size(length: int) -> int:
    """The length of :func:`xz_stored`'s output for ``length`` input bytes (known before writing it)."""
    chunks = -(-length // _CHUNK)
    lzma2 = length + 3 * chunks + 1
    block = 12 + lzma2 + (-lzma2 % 4) + 4
    index = 2 + len(_varint(12 + lzma2 + 4)) + len(_varint(length))
    index += -index % 4 + 4
    return 12 + block + index + 12


def xz_stored(data: bytes) -> bytes:
    """``data`` as one xz stream (CRC32 check) of one block of stored LZMA2 chunks."""
    view = memoryview(data)
    parts: list[bytes | memoryview] = [_MAGIC, _FLAGS, _crc(_FLAGS)]
    head = bytes([12 // 4 - 1, 0x00, _FILTER_LZMA2, 0x01, _DICT_BYTE])  # size, flags (one filter), LZMA2, props
    head += _pad4(len(head) + 4)
    parts += [head, _crc(head)]
    lzma2 = 0
    for pos in range(0, len(data), _CHUNK):
        piece = view[pos:pos + _CHUNK]
        parts += [struct.pack(">BH", 0x01 if pos == 0 else 0x02, len(piece) - 1), piece]
        lzma2 += 3 + len(piece)
    parts.append(b"\x00")
    lzma2 += 1
    parts += [_pad4(lzma2), _crc(data)]
    index = b"\x00" + _varint(1) + _varint(len(head) + 4 + lzma2 + 4) + _varint(len(data))
    index += _pad4(len(index))
    index += _crc(index)
    footer = struct.pack("<I", len(index) // 4 - 1) + _FLAGS
    parts += [index, _crc(footer), footer, b"YZ"]
    return b"".join(parts)
