"""Byte views for ``ignkit serve``: a base file with patched spans, described once, read in any range.

A :class:`ByteView` is a list of pieces, each either a span of one base file (sent by the kernel with
sendfile), bytes held in memory (the host's patches), or zeros (the unused tail of an Ignition area,
shared by every host instead of 256 KiB per host). :func:`patched_view` builds it from the
``(offset, bytes)`` patches the ISO writer applies to files; :func:`extent_view` from the extents of a
file stored inside an ISO. Nothing here writes or copies an image.
"""

from __future__ import annotations

import bisect
import email.utils
import hashlib
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

from ..errors import ImageError

#: Shared source of zero bytes; zero pieces longer than this are sent in several slices.
_ZEROS = bytes(1 << 20)
_ZEROS_VIEW = memoryview(_ZEROS)
#: A patch's trailing zeros become a shared zero piece when at least this long.
ZERO_RUN_MIN = 4096
#: How much of each end of a base file goes into its identity (see :func:`file_identity`).
IDENTITY_SPAN = 1 << 20


@dataclass(frozen=True)
class Piece:
    """``length`` bytes of the view from ``start``: base file bytes at ``file_offset``, ``data``, or zeros."""

    start: int
    length: int
    file_offset: Optional[int] = None
    data: Optional[bytes] = None      # None with file_offset None: zeros

    @property
    def end(self) -> int:
        return self.start + self.length


#: What :meth:`ByteView.spans` yields: ("file", file offset, length) or ("bytes", memoryview, length).
Span = tuple[str, Union[int, memoryview], int]


@dataclass(frozen=True)
class FileIdentity:
    """What identifies a base file's content across restarts and replicas (see :func:`file_identity`)."""

    path: str
    size: int
    digest: str        # sha256 hex of size, first and last IDENTITY_SPAN bytes
    mtime: float


def file_identity(path: str) -> FileIdentity:
    """The identity of a base file: its size and the sha256 of its first and last MiB, plus its mtime.

    Content-derived (not inode or mtime), so two replicas holding copies of the same image give the
    same ETags, and a restart keeps them. An ISO's first MiB holds its volume descriptors (with the
    build's creation time); a squashfs or initramfs starts with its own header. Hashing whole images
    would cost seconds per GiB at every start.
    """
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            size = st.st_size
            h = hashlib.sha256(f"ignkit-serve-base {size}\n".encode())
            h.update(f.read(IDENTITY_SPAN))
            if size > IDENTITY_SPAN:
                f.seek(max(IDENTITY_SPAN, size - IDENTITY_SPAN))
                h.update(f.read(IDENTITY_SPAN))
    except OSError as e:
        raise ImageError(f"{path}: cannot read: {e.strerror}") from None
    return FileIdentity(path, size, h.hexdigest(), st.st_mtime)


class ByteView:
    """A read-only sequence of bytes made of pieces of one base file, in-memory bytes and zeros."""

    def __init__(self, base: FileIdentity, pieces: Sequence[Piece], tag: str) -> None:
        self.base = base
        self.pieces = list(pieces)
        self._starts = [p.start for p in self.pieces]
        self.size = self.pieces[-1].end if self.pieces else 0
        pos = 0
        for p in self.pieces:
            if p.start != pos or p.length <= 0:
                raise ValueError("pieces must be contiguous and non-empty")
            pos = p.end
        #: Strong validator: base identity plus everything substituted (``"..."`` with quotes).
        self.etag = '"' + hashlib.sha256(f"{base.digest} {tag}".encode()).hexdigest()[:40] + '"'
        self.last_modified = email.utils.formatdate(base.mtime, usegmt=True)

    @property
    def memory(self) -> int:
        """Bytes of this view held in memory (patches; shared zeros and file spans not counted)."""
        return sum(len(p.data) for p in self.pieces if p.data is not None)

    def spans(self, start: int, end: int) -> Iterator[Span]:
        """The spans covering ``[start, end)``, in order."""
        if start < 0 or end > self.size or start > end:
            raise ValueError(f"range {start}-{end} outside 0-{self.size}")
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        pos = start
        while pos < end:
            p = self.pieces[i]
            lo, hi = pos - p.start, min(end, p.end) - p.start
            if p.file_offset is not None:
                yield "file", p.file_offset + lo, hi - lo
            elif p.data is not None:
                yield "bytes", memoryview(p.data)[lo:hi], hi - lo
            else:
                n = hi - lo
                while n > 0:
                    k = min(n, len(_ZEROS))
                    yield "bytes", _ZEROS_VIEW[:k], k
                    n -= k
            pos = p.start + hi
            i += 1

    def read(self, start: int = 0, end: Optional[int] = None) -> bytes:
        """The bytes of ``[start, end)`` (for tests and small views; serving uses :meth:`spans`)."""
        end = self.size if end is None else end
        out = bytearray()
        with open(self.base.path, "rb") as f:
            for kind, ref, n in self.spans(start, end):
                if kind == "file":
                    assert isinstance(ref, int)
                    chunk = os.pread(f.fileno(), n, ref)
                    if len(chunk) != n:
                        raise ImageError(f"{self.base.path}: the file shrank")
                    out += chunk
                else:
                    assert isinstance(ref, memoryview)
                    out += ref
        return bytes(out)


def _content_end(data: bytes) -> int:
    """Length of ``data`` without its trailing zeros: a binary search on the zero tail's length with
    ``endswith`` against the shared zero buffer (memcmp; ``bytes.rstrip`` is ~100 times slower)."""
    n = len(data)
    lo, hi = 0, min(n, len(_ZEROS))          # the tail of ``lo`` bytes is zero; of ``hi + 1`` is not known
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if data.endswith(_ZEROS_VIEW[:mid]):  # type: ignore[arg-type]
            lo = mid
        else:
            hi = mid - 1
    if lo == len(_ZEROS) and n > lo:
        return len(data.rstrip(b"\0"))        # more than 1 MiB of zeros: rare, take the slow way
    return n - lo


def _patch_pieces(offset: int, data: bytes) -> list[Piece]:
    """One patch as pieces: its bytes, with a long run of trailing zeros as a shared zero piece."""
    head = data[:_content_end(data)]
    zeros = len(data) - len(head)
    if zeros < ZERO_RUN_MIN:
        return [Piece(offset, len(data), data=bytes(data))]
    out = [Piece(offset, len(head), data=head)] if head else []
    out.append(Piece(offset + len(head), zeros))
    return out


def patched_view(base: FileIdentity, patches: Sequence[tuple[int, bytes]], size: Optional[int] = None) -> ByteView:
    """The base file with ``patches`` (absolute offset, bytes) substituted, ``size`` bytes long (default the
    base's): what :func:`ignkit.live.image.write_patched` writes with ``new_size``. Past the base file's end
    the view is zeros where no patch says otherwise (a grown Ignition area, an appended PXE layer); a
    smaller ``size`` cuts the file."""
    end = base.size if size is None else size
    pieces: list[Piece] = []
    h = hashlib.sha256(f"size {end}".encode())

    def fill(a: int, b: int) -> None:
        """[a, b) from the file, and zeros past its end."""
        if a < min(b, base.size):
            pieces.append(Piece(a, min(b, base.size) - a, file_offset=a))
        if max(a, base.size) < b:
            pieces.append(Piece(max(a, base.size), b - max(a, base.size)))

    pos = 0
    for offset, data in sorted(patches):
        if not data:
            continue
        if offset < pos or offset + len(data) > end:
            raise ImageError(f"patch at {offset} ({len(data)} bytes) overlaps another or lies outside the image")
        fill(pos, offset)
        pieces += _patch_pieces(offset, data)
        h.update(f"{offset} {len(data)} ".encode() + hashlib.sha256(data).digest())
        pos = offset + len(data)
    fill(pos, end)
    return ByteView(base, pieces, "patched " + h.hexdigest())


def extent_view(base: FileIdentity, ranges: Sequence[tuple[int, int]], *,
                append: bytes = b"") -> ByteView:
    """A file stored in the ISO ``base`` as ``ranges`` ((offset, length) extents), then ``append``."""
    pieces: list[Piece] = []
    pos = 0
    for offset, length in ranges:
        if offset < 0 or offset + length > base.size:
            raise ImageError(f"{base.path}: ISO image is incomplete (an extent ends past the end)")
        if length:
            pieces.append(Piece(pos, length, file_offset=offset))
            pos += length
    tag = "extents " + ",".join(f"{o}+{n}" for o, n in ranges)
    if append:
        pieces.append(Piece(pos, len(append), data=bytes(append)))
        tag += " append " + hashlib.sha256(append).hexdigest()
    return ByteView(base, pieces, tag)


def file_view(base: FileIdentity, *, append: bytes = b"") -> ByteView:
    """The whole base file, then ``append`` (a pristine artifact, or an initramfs plus a host's layer)."""
    return patched_view(base, [(base.size, append)] if append else [], base.size + len(append))


class ViewReader(io.RawIOBase):
    """A sequential binary reader over a :class:`ByteView` (e.g. to scan an initramfs stored in an ISO)."""

    def __init__(self, view: ByteView) -> None:
        super().__init__()
        self.view = view
        self.pos = 0
        self._fd = os.open(view.base.path, os.O_RDONLY)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), self.view.size - self.pos)
        if n <= 0:
            return 0
        out = memoryview(b).cast("B")
        done = 0
        for kind, ref, k in self.view.spans(self.pos, self.pos + n):
            if kind == "file":
                assert isinstance(ref, int)
                chunk = os.pread(self._fd, k, ref)
                if len(chunk) != k:
                    raise ImageError(f"{self.view.base.path}: the file shrank")
                out[done:done + k] = chunk
            else:
                assert isinstance(ref, memoryview)
                out[done:done + k] = ref
            done += k
        self.pos += n
        return n

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()
