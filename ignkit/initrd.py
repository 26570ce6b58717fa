"""Initramfs archives, the generic format: the newc cpio writer/reader and its compression layers.

The writer produces the layout coreos-installer's cpio crate produces (sorted paths, synthesized
parent directories, inode = entry index, modes 040755 / 0100600, a ``TRAILER!!!`` entry); xz layers
use the CRC32 check, the only one the kernel's xz decoder accepts. The reader accepts what the kernel
accepts: any concatenation of uncompressed, gzip, xz and zstd newc archives with zero padding between
them, streamed so that a ~100 MB live initramfs is never held in memory more than once.

The xz header declares a dictionary only as large as the archive (instead of the preset's), because
the kernel allocates the declared size and a small guest fails to unpack otherwise.

Which members a CoreOS live initramfs holds, and the xz preset coreos-installer uses, are CoreOS
rules: see :mod:`ignkit.live.initramfs`.
"""

from __future__ import annotations

import fnmatch
import io
import lzma
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, Callable, Optional, Union

from .errors import ImageError, InputError

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "Source",
    "build_cpio",
    "compress_xz",
    "cpio_entry_names",
    "iter_initrd",
    "read_initrd",
    "xz_dict_size",
]

DIR_MODE = 0o040755
FILE_MODE = 0o100600
_S_IFMT = 0o170000
_S_IFREG = 0o100000

TRAILER = "TRAILER!!!"
_HEADER_LEN = 110
_MAGICS = (b"070701", b"070702")

_GZIP_MAGIC = b"\x1f\x8b"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

_CHUNK = 1 << 20  # raw read size
_DECODE_IN = 1 << 16  # compressed bytes fed to a decoder at a time
_DECODE_OUT = 1 << 20  # max decoded bytes produced per decoder call (gzip/xz)

# The dictionary size of each liblzma preset (0-9); a fitted dictionary never exceeds its preset's.
_PRESET_DICT = (256 << 10, 1 << 20, 2 << 20, 4 << 20, 4 << 20, 8 << 20, 8 << 20, 16 << 20, 32 << 20, 64 << 20)
_MIN_DICT = 4096

Source = Union[bytes, bytearray, memoryview, IO[bytes]]


# --------------------------------------------------------------------------------------------
# Writer
# --------------------------------------------------------------------------------------------


def _check_member_path(path: str) -> list[str]:
    if not isinstance(path, str) or not path:
        raise InputError(f"invalid initrd member path {path!r}")
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in path:
        raise InputError(f"invalid initrd member path {path!r}: must be relative, without empty, '.' or '..' parts")
    return parts


def _pad4(n: int) -> int:
    return (4 - n % 4) % 4


def _newc_header(ino: int, mode: int, nlink: int, size: int, namesize: int) -> bytes:
    # magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
    # namesize, check -- lowercase hex like the cpio crate coreos-installer uses.
    fields = (ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, namesize, 0)
    return b"070701" + "".join(f"{v:08x}" for v in fields).encode("ascii")


def _append_entry(out: bytearray, ino: int, mode: int, nlink: int, name: str, data: bytes) -> None:
    encoded = name.encode("utf-8") + b"\0"
    out += _newc_header(ino, mode, nlink, len(data), len(encoded))
    out += encoded
    out += b"\0" * _pad4(_HEADER_LEN + len(encoded))
    if data:
        out += data
        out += b"\0" * _pad4(len(data))


def cpio_entry_names(paths: Sequence[str] | Mapping[str, bytes]) -> list[tuple[str, bool]]:
    """Return the entries :func:`build_cpio` emits for ``paths``, in order, as ``(name, is_dir)``.

    Paths are sorted byte-wise; before each file, every parent directory not already emitted for the
    previous file is emitted (cumulative path), exactly as coreos-installer does. The trailer is not
    included.
    """
    result: list[tuple[str, bool]] = []
    current: list[str] = []
    for path in sorted(paths, key=lambda p: p.encode("utf-8")):
        parts = _check_member_path(path)
        parents = parts[:-1]
        common = 0
        while common < len(current) and common < len(parents) and current[common] == parents[common]:
            common += 1
        del current[common:]
        for component in parents[common:]:
            current.append(component)
            result.append(("/".join(current), True))
        result.append((path, False))
    return result


def build_cpio(files: Mapping[str, bytes]) -> bytes:
    """Build an uncompressed newc cpio archive of ``files`` (path -> contents) in coreos-installer's layout.

    Paths are relative (``etc/x``, never ``/etc/x``). Parent directories are synthesized (mode 040755),
    files get mode 0100600, uid/gid/mtime 0, inode = entry index; a ``TRAILER!!!`` entry (nlink 1) ends
    the archive, with no block padding after it. A path that is also a parent directory of another
    path is refused.
    """
    entries = cpio_entry_names(files)
    names = set(files)
    for name, is_dir in entries:
        if is_dir and name in names:
            raise InputError(f"initrd member {name!r} is both a file and a directory")
    out = bytearray()
    for ino, (name, is_dir) in enumerate(entries):
        if is_dir:
            _append_entry(out, ino, DIR_MODE, 1, name, b"")
        else:
            _append_entry(out, ino, FILE_MODE, 1, name, bytes(files[name]))
    _append_entry(out, 0, 0, 1, TRAILER, b"")
    return bytes(out)


def xz_dict_size(size: int, preset: int = 9) -> int:
    """The LZMA2 dictionary size :func:`compress_xz` declares for ``size`` bytes of input.

    The smallest size the xz header can express (2^n or 3*2^(n-1), at least 4 KiB) that holds the whole
    input, capped at the preset's dictionary (64 MiB for preset 9). Compression is the same as the
    preset's (no match can reach further back than the input's start), but the kernel, which
    allocates the declared dictionary when it unpacks an initramfs, needs kilobytes instead of
    64 MiB (a 96 MiB guest fails to unpack a preset-9 archive: spec liveiso-boot.md, "xz dictionary
    size").
    """
    cap = _PRESET_DICT[preset]
    d = _MIN_DICT
    while d < size and d < cap:
        half = d + d // 2
        d = half if half >= size else d * 2
    return min(d, cap)


class CompressedTooLarge(ImageError):
    """The compressed output passed the ``limit`` given to :func:`compress_xz`. ``size`` is the compressed size:
    exact when ``complete``, else what compression had produced when it stopped (a lower bound)."""

    def __init__(self, message: str, *, size: int, complete: bool) -> None:
        super().__init__(message)
        self.size = size
        self.complete = complete


def compress_xz(data: bytes, *, preset: int = lzma.PRESET_DEFAULT, limit: int = 0) -> bytes:
    """xz-compress ``data`` the way the kernel needs it: one stream, CRC32 check, LZMA2 at ``preset``.

    The declared dictionary is shrunk to fit the input (see :func:`xz_dict_size`). With ``limit`` > 0,
    compression stops with :class:`CompressedTooLarge` as soon as the output passes ``limit`` bytes (a big
    input that cannot fit is refused in the time it takes to compress about ``limit`` bytes of output).
    """
    filters = [{"id": lzma.FILTER_LZMA2, "preset": preset, "dict_size": xz_dict_size(len(data), preset)}]
    if not limit:
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32, filters=filters)
    comp = lzma.LZMACompressor(format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32, filters=filters)
    out: list[bytes] = []
    size = 0
    view = memoryview(data)
    step = 64 * 1024  # small steps: a refusal comes soon after the output passes ``limit``
    for pos in range(0, len(data), step):
        out.append(comp.compress(view[pos:pos + step]))
        size += len(out[-1])
        if size > limit and pos + step < len(data):  # input left: stop here (the last chunk is finished below)
            raise CompressedTooLarge(f"compressed size passes {limit} bytes after {pos + step} of "
                                     f"{len(data)} input bytes", size=size, complete=False)
    out.append(comp.flush())
    size += len(out[-1])
    if size > limit:
        raise CompressedTooLarge(f"compressed size is {size} bytes, more than {limit}", size=size, complete=True)
    return b"".join(out)


# --------------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------------


class _Buffered:
    """A forward-only byte stream over chunks produced by :meth:`_produce` (``b""`` at the end)."""

    def __init__(self) -> None:
        self._buf = b""
        self._off = 0
        self._done = False

    def _produce(self) -> bytes:
        raise NotImplementedError

    def _next(self) -> bytes:
        while not self._done:
            out = self._produce()
            if out:
                return out
        return b""

    def available(self) -> int:
        return len(self._buf) - self._off

    def _take_buffer(self) -> bytes:
        rest = self._buf[self._off:] if self._off else self._buf
        self._buf, self._off = b"", 0
        return rest

    def peek(self, n: int) -> bytes:
        while self.available() < n:
            out = self._next()
            if not out:
                break
            self._buf = self._take_buffer() + out
        return self._buf[self._off:self._off + n]

    def read(self, n: int) -> bytes:
        if self.available() >= n:
            data = self._buf[self._off:self._off + n]
            self._off += n
            return data
        parts = [self._take_buffer()]
        got = len(parts[0])
        while got < n:
            out = self._next()
            if not out:
                break
            need = n - got
            if len(out) > need:
                parts.append(out[:need])
                self._buf, self._off = out, need
                got = n
            else:
                parts.append(out)
                got += len(out)
        return b"".join(parts)

    def read_some(self, n: int) -> bytes:
        """Up to ``n`` bytes, at least one unless at the end."""
        if self.available() == 0:
            self._buf, self._off = self._next(), 0
        data = self._buf[self._off:self._off + n]
        self._off += len(data)
        return data

    def skip(self, n: int) -> int:
        skipped = 0
        while skipped < n:
            if self.available() == 0:
                self._buf, self._off = self._next(), 0
                if not self._buf:
                    break
            take = min(n - skipped, self.available())
            self._off += take
            skipped += take
        return skipped

    def at_end(self) -> bool:
        if self.available() == 0:
            self._buf, self._off = self._next(), 0
        return self.available() == 0


class _Source(_Buffered):
    """The raw input, read in 1 MiB chunks, optionally copying every byte read to ``tee``."""

    def __init__(self, f: IO[bytes], tee: Optional[IO[bytes]] = None) -> None:
        super().__init__()
        self._f = f
        self._tee = tee
        self._total = 0  # raw bytes read from f

    def _produce(self) -> bytes:
        chunk = self._f.read(_CHUNK)
        if not chunk:
            self._done = True
            return b""
        if self._tee is not None:
            self._tee.write(chunk)
        self._total += len(chunk)
        return bytes(chunk)

    @property
    def position(self) -> int:
        """Offset in the input of the next byte to be handed out."""
        return self._total - self.available()

    def unread(self, data: bytes) -> None:
        """Push back bytes a decoder read past the end of its compressed stream."""
        if not data:
            return
        n = len(data)
        if self._off >= n and self._buf[self._off - n:self._off] == data:
            self._off -= n  # they are still in the buffer, just before the read position
        else:
            self._buf = bytes(data) + self._buf[self._off:]
            self._off = 0

    def skip_zeros(self) -> None:
        while True:
            if self.available() == 0:
                self._buf, self._off = self._next(), 0
                if not self._buf:
                    return
            seg = self._buf[self._off:]
            zeros = len(seg) - len(seg.lstrip(b"\0"))
            self._off += zeros
            if zeros < len(seg):
                return

    def drain(self) -> None:
        """Consume the rest of the input (so a tee sees all of it)."""
        self._buf, self._off = b"", 0
        while self._next():
            pass


class _Decoded(_Buffered):
    """The decompressed bytes of one gzip member, one xz stream or a run of zstd frames."""

    def __init__(self, src: _Source, kind: str) -> None:
        super().__init__()
        self._src = src
        self._kind = kind
        self._dec: Any = self._new_decoder()
        self._pending = b""  # input given to a zlib decoder but not yet consumed (unconsumed_tail)

    def _new_decoder(self) -> Any:
        if self._kind == "gzip":
            return zlib.decompressobj(wbits=31)
        if self._kind == "xz":
            return lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj()

    def _input(self, n: int) -> bytes:
        data = self._src.read_some(n)
        if not data:
            raise ImageError(f"truncated {self._kind} archive in initrd")
        return data

    def _produce(self) -> bytes:
        dec = self._dec
        try:
            if self._kind == "xz":
                data = self._input(_DECODE_IN) if dec.needs_input else b""
                out = dec.decompress(data, _DECODE_OUT)
                if dec.eof:
                    self._src.unread(dec.unused_data)
                    self._done = True
                return bytes(out)
            if self._kind == "gzip":
                data = self._pending or self._input(_DECODE_IN)
                out = dec.decompress(data, _DECODE_OUT)
                self._pending = dec.unconsumed_tail
                if dec.eof:
                    self._src.unread(dec.unused_data)
                    self._done = True
                return bytes(out)
            # zstd: consecutive frames, skippable frames included; small input bounds the output.
            out = dec.decompress(self._input(_DECODE_IN // 8))
            if dec.eof:
                self._src.unread(dec.unused_data)
                if _is_zstd(self._src.peek(4)):
                    self._dec = self._new_decoder()
                else:
                    self._done = True
            return bytes(out)
        except ImageError:
            raise
        except (lzma.LZMAError, zlib.error, EOFError) as e:
            raise ImageError(f"corrupt {self._kind} archive in initrd: {e}") from None
        except Exception as e:  # zstandard.ZstdError
            if type(e).__name__.startswith("Zstd"):
                raise ImageError(f"corrupt zstd archive in initrd: {e}") from None
            raise

    def finish(self) -> None:
        """After the trailer: the rest of the decoded stream must be zeros."""
        rest = self._take_buffer()
        while True:
            if rest.count(0) != len(rest):
                raise ImageError("found trailing garbage inside compressed archive")
            rest = self._next()
            if not rest:
                return


class _Plain:
    """An uncompressed archive read straight from the source."""

    def __init__(self, src: _Source) -> None:
        self.read = src.read
        self.skip = src.skip

    def finish(self) -> None:
        pass


def _is_zstd(magic: bytes) -> bool:
    if magic == _ZSTD_MAGIC:
        return True
    # skippable frames: 0x184D2A50 .. 0x184D2A5F, little-endian
    return len(magic) == 4 and magic[1:] == b"\x2a\x4d\x18" and (magic[0] & 0xF0) == 0x50


def _traversal(name: str) -> bool:
    return name.startswith("/") or ".." in name.split("/")


def _compile_patterns(pattern: str | Sequence[str] | None) -> Optional[Callable[[str], bool]]:
    if pattern is None:
        return None
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    # Rust glob::Pattern defaults: case-sensitive, '*' and '?' match '/' too -- like fnmatchcase.
    return lambda name: any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _read_exact(stream: _Plain | _Decoded, n: int, what: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise ImageError(f"truncated cpio archive in initrd (reading {what})")
    return data


def _iter_archive(stream: _Plain | _Decoded, match: Optional[Callable[[str], bool]],
                  max_size: Optional[int]) -> Iterator[tuple[str, bytes]]:
    while True:
        header = _read_exact(stream, _HEADER_LEN, "entry header")
        if header[:6] not in _MAGICS:
            raise ImageError(f"invalid cpio entry in initrd: bad magic {header[:6]!r}")
        try:
            values = [int(header[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        except ValueError:
            raise ImageError("invalid cpio entry in initrd: bad header field") from None
        mode, size, namesize = values[1], values[6], values[11]
        if namesize == 0:
            raise ImageError("invalid cpio entry in initrd: empty name")
        raw_name = _read_exact(stream, namesize, "entry name")
        _read_exact(stream, _pad4(_HEADER_LEN + namesize), "entry name padding")
        try:
            name = raw_name.rstrip(b"\0").decode("utf-8")
        except UnicodeDecodeError:
            raise ImageError("invalid cpio entry in initrd: name is not UTF-8") from None
        if name == TRAILER:
            return
        wanted = (mode & _S_IFMT) == _S_IFREG and (match is None or match(name))
        if wanted:
            if _traversal(name):
                raise ImageError(f"path {name} contains path traversal")
            if max_size is not None and size > max_size:
                raise ImageError(f"initrd member {name} is too large: {size} > {max_size} bytes")
            data = _read_exact(stream, size, f"data of {name}")
        elif stream.skip(size) != size:
            raise ImageError(f"truncated cpio archive in initrd (reading data of {name})")
        if stream.skip(_pad4(size)) != _pad4(size):
            raise ImageError("truncated cpio archive in initrd (reading data padding)")
        if wanted:
            yield name, data


def _open_source(data: Source) -> IO[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(data)
    return data


def iter_initrd(
    data: Source,
    pattern: str | Sequence[str] | None = None,
    *,
    tee: Optional[IO[bytes]] = None,
    max_member_size: Optional[int] = None,
) -> Iterator[tuple[str, bytes]]:
    """Yield ``(path, contents)`` of every regular file in an initramfs, in archive order.

    ``data`` is bytes or a binary file object read forward in 1 MiB chunks. Accepted: any concatenation
    of uncompressed, gzip, xz and zstd newc archives (070701/070702) with zero bytes between or after
    them; dracut's NUL-padded names. Directories, symlinks and devices are skipped. ``pattern`` (one
    glob or several) keeps only matching paths, with coreos-installer's glob rules (``*`` matches
    ``/`` too). A kept path that is absolute or has a ``..`` component raises :class:`ImageError`
    ("path P contains path traversal"). With ``tee``, every raw input byte is also written to it, so
    one pass both copies and parses an image. The same path may be yielded more than once. With
    ``max_member_size``, a kept member whose header declares more bytes raises :class:`ImageError`
    ("initrd member P is too large: N > M bytes") before any of its data is read.
    """
    src = _Source(_open_source(data), tee)
    match = _compile_patterns(pattern)
    while True:
        src.skip_zeros()
        if src.at_end():
            break
        head = src.peek(6)
        stream: _Plain | _Decoded
        if head.startswith(_GZIP_MAGIC):
            stream = _Decoded(src, "gzip")
        elif head == _XZ_MAGIC:
            stream = _Decoded(src, "xz")
        elif _is_zstd(head[:4]):
            stream = _Decoded(src, "zstd")
        elif head[:6] in _MAGICS:
            stream = _Plain(src)
        else:
            raise ImageError(f"unrecognized data at offset {src.position} of initrd (not cpio, gzip, xz or zstd)")
        yield from _iter_archive(stream, match, max_member_size)
        stream.finish()
    if tee is not None:
        src.drain()


def read_initrd(
    data: Source,
    pattern: str | Sequence[str] | None = None,
    *,
    tee: Optional[IO[bytes]] = None,
    max_member_size: Optional[int] = None,
) -> dict[str, bytes]:
    """Read the regular files of an initramfs into a dict path -> contents (the last occurrence wins).

    See :func:`iter_initrd` for what is accepted, ``pattern``, ``tee`` and ``max_member_size``. Errors are
    :class:`ImageError` with one line, e.g. "found trailing garbage inside compressed archive".
    """
    result: dict[str, bytes] = {}
    for name, contents in iter_initrd(data, pattern, tee=tee, max_member_size=max_member_size):
        result[name] = contents
    return result
