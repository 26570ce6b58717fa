"""``sha512-``/``sha256-`` digests of files, standard input, URLs and bytes, in constant memory.

The text form ``<algo>-<hex>`` is the one ``coreos-installer install --ignition-hash`` and Ignition's
``verification.hash`` take.
"""

from __future__ import annotations

import hashlib
import os
import queue
import stat
import sys
import threading
from typing import IO, Any, Optional, Union

from .errors import DigestMismatch, InputError
from .fetch import is_url, open_url, refuse_other_urls, unreadable

ALGORITHMS = {"sha256": 32, "sha512": 64}
#: Read size: large reads into one reused buffer keep the hash function busy and memory flat.
BUFSIZE = 1024 * 1024

PathLike = Union[str, "os.PathLike[str]"]
Source = Union[PathLike, IO[bytes]]


def _new(algo: str) -> Any:
    if algo not in ALGORITHMS:
        raise InputError(f"unknown hash type '{algo}' (use sha512 or sha256)")
    return hashlib.new(algo)


def format_digest(algo: str, hexdigest: str) -> str:
    """``format_digest("sha512", "ab..")`` → ``"sha512-ab.."``."""
    return f"{algo}-{hexdigest.lower()}"


def digest_bytes(data: Union[bytes, bytearray, memoryview], algo: str = "sha512") -> str:
    """The ``<algo>-<hex>`` digest of ``data``."""
    h = _new(algo)
    h.update(data)
    return format_digest(algo, h.hexdigest())


def parse_digest(text: str) -> tuple[str, str]:
    """Split ``sha512-<hex>`` / ``sha256-<hex>`` into ``(algo, lowercase hex)``; InputError if malformed."""
    text = text.strip()
    algo, sep, hexpart = text.partition("-")
    if not sep or not algo or not hexpart:
        raise InputError(f"failed to detect hash-type and digest in '{text}' (expected sha512-<hex> or sha256-<hex>)")
    algo = algo.lower()
    if algo not in ALGORITHMS:
        raise InputError(f"unknown hash type '{algo}' in '{text}' (use sha512 or sha256)")
    try:
        raw = bytes.fromhex(hexpart)
    except ValueError:
        raise InputError(f"digest in '{text}' is not hexadecimal") from None
    if len(raw) != ALGORITHMS[algo]:
        raise InputError(f"wrong digest length ({len(raw) * 8} bits) for {algo} in '{text}' "
                         f"(expected {ALGORITHMS[algo] * 8})")
    return algo, raw.hex()


def hash_stream(f: IO[bytes], algo: str = "sha512") -> str:
    """Digest everything readable from the binary stream ``f`` (constant memory)."""
    h = _new(algo)
    buf = bytearray(BUFSIZE)
    view = memoryview(buf)
    readinto = getattr(f, "readinto", None)
    if readinto is not None:
        while True:
            n = readinto(buf)
            if not n:
                break
            h.update(view[:n])
    else:
        while True:
            chunk = f.read(BUFSIZE)
            if not chunk:
                break
            h.update(chunk)
    return format_digest(algo, h.hexdigest())


#: Files at least this large are read by a helper thread while the main thread hashes.
PIPELINE_MIN = 16 * 1024 * 1024


def hash_file(path: PathLike, algo: str = "sha512") -> str:
    """Digest a file in constant memory (unbuffered reads straight into reused buffers).

    Large regular files are read by a helper thread while the main thread hashes the previous buffer
    (both release the GIL), so reading and hashing overlap: faster than ``sha512sum`` on two cores.
    """
    name = os.fspath(path)
    h = _new(algo)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise unreadable(name, e) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise unreadable(name, IsADirectoryError())
        if hasattr(os, "posix_fadvise"):
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
            except OSError:
                pass
        try:
            if stat.S_ISREG(st.st_mode) and st.st_size >= PIPELINE_MIN:
                _hash_fd_pipelined(fd, h)
            else:
                _hash_fd(fd, h)
        except OSError as e:
            raise unreadable(name, e) from None
        return format_digest(algo, h.hexdigest())
    finally:
        os.close(fd)


def _hash_fd(fd: int, h: Any) -> None:
    buf = bytearray(BUFSIZE)
    view = memoryview(buf)
    while True:
        n = os.readv(fd, [buf])
        if not n:
            return
        h.update(view[:n])


def _hash_fd_pipelined(fd: int, h: Any) -> None:
    """Hash ``fd`` with a reader thread filling one of three reused buffers ahead of the hasher."""
    free: queue.Queue[Optional[bytearray]] = queue.Queue()
    full: queue.Queue[tuple[Any, int]] = queue.Queue()
    for _ in range(3):
        free.put(bytearray(BUFSIZE))

    def reader() -> None:
        try:
            while True:
                buf = free.get()
                if buf is None:  # the hasher stopped early
                    return
                n = os.readv(fd, [buf])
                full.put((buf, n))
                if not n:
                    return
        except BaseException as e:  # noqa: BLE001 - handed to the hashing thread
            full.put((e, -1))

    t = threading.Thread(target=reader, name="ignkit-hash-reader", daemon=True)
    t.start()
    try:
        while True:
            buf, n = full.get()
            if n < 0:
                raise buf
            if n == 0:
                return
            h.update(memoryview(buf)[:n])
            free.put(buf)
    finally:
        free.put(None)
        t.join()


def digest(source: Source, algo: str = "sha512", *, ca_cert: Optional[PathLike] = None,
           insecure: bool = False) -> str:
    """The ``<algo>-<hex>`` digest of a file path, ``-`` (standard input), an http(s) URL or a binary stream.

    URLs are fetched through :mod:`ignkit.fetch` (TLS verified unless ``insecure``; ``ca_cert`` adds a CA
    file). Everything streams in constant memory.
    """
    _new(algo)
    if hasattr(source, "read"):
        return hash_stream(source, algo)  # type: ignore[arg-type]
    name = os.fspath(source)  # type: ignore[arg-type]
    if name == "-":
        from .fetch import refuse_terminal_stdin

        refuse_terminal_stdin()
        return hash_stream(sys.stdin.buffer, algo)
    if is_url(name):  # requests is imported only for URLs
        return _digest_url(name, algo, ca_cert=ca_cert, insecure=insecure)
    refuse_other_urls(name)
    return hash_file(name, algo)


def _digest_url(url: str, algo: str, *, ca_cert: Optional[PathLike], insecure: bool) -> str:
    from .fetch import DOCUMENT_DEADLINE, body_chunks, fetch_deadline

    h = _new(algo)
    deadline = fetch_deadline(None)  # a stream: only bounded overall when the user asks
    # The answer itself (status and headers) is awaited no longer than a document would be.
    with open_url(url, ca_cert=ca_cert, insecure=insecure, deadline=fetch_deadline(DOCUMENT_DEADLINE)) as resp:
        for chunk in body_chunks(resp, url, deadline=deadline):
            h.update(chunk)
    return format_digest(algo, h.hexdigest())


def check(source: Source, expected: str, *, ca_cert: Optional[PathLike] = None, insecure: bool = False) -> str:
    """Digest ``source`` with the algorithm named by ``expected`` (``sha512-<hex>``/``sha256-<hex>``).

    Returns the computed digest when it matches; raises :class:`DigestMismatch` (exit status 1) otherwise.
    """
    algo, want = parse_digest(expected)
    got = digest(source, algo, ca_cert=ca_cert, insecure=insecure)
    if got != format_digest(algo, want):
        raise DigestMismatch(f"hash mismatch, computed '{got}' but expected '{format_digest(algo, want)}'")
    return got


class DigestSink:
    """A running digest checked at the end: feed it with :meth:`update`, then call :meth:`verify`.

    Used as a sink of :func:`ignkit.fetch.download` to check a download while it streams.
    """

    def __init__(self, algo: str, expected_hex: str, label: str = "") -> None:
        self.algo = algo
        self.expected = expected_hex.lower()
        self.label = label
        self._h = _new(algo)

    def reset(self) -> None:
        self._h = _new(self.algo)

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def hexdigest(self) -> str:
        return str(self._h.hexdigest())

    def verify(self) -> None:
        got = self.hexdigest()
        if got != self.expected:
            where = f"{self.label}: " if self.label else ""
            raise DigestMismatch(f"{where}{self.algo} mismatch, computed {got} but expected {self.expected}")
