"""Copying an image into a new file by the kernel, never through Python buffers, optionally in a thread.

:func:`copy_file` takes the fastest path the file systems allow: a reflink (``FICLONE``: no data copied
at all, on btrfs, XFS, ...), else ``copy_file_range`` (in-kernel copy, what ``cp`` uses), else
``sendfile``, and only where none works (not Linux) reads and writes. :class:`BackgroundCopy` runs it in
a thread: both ``copy_file_range`` and :mod:`lzma` release the GIL, so the edits computed meanwhile (the
ISO opened, the config checked and compressed, a grown layout planned) cost no time beyond the copy's
where a second core is free. Only the patched blocks are written after the copy; :func:`copying` keeps
the output atomic (a temporary file beside it, renamed when complete).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence

from .outfile import atomic_output, refuse_input_as_output

#: Bytes per copy_file_range/sendfile call. Between two calls the copy thread needs the GIL, and waits for any
#: C call the main thread is in (json.loads of a 13 MiB config holds it for 40 ms; strace showed 6-20 ms
#: stalls with 256 MiB steps): one step per GiB makes a 1 GiB image one call, while a cancel (an error in
#: the edits) still takes effect within about 0.3 s.
STEP = 1024 * 1024 * 1024
_BUF = 1024 * 1024
_FICLONE = 0x40049409  # _IOW(0x94, 9, int), as in linux/fs.h (fcntl.FICLONE from Python 3.12)
_NOT_HERE = (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTTY, errno.EPERM, errno.EBADF)


class Cancelled(Exception):
    """The copy was stopped (:meth:`BackgroundCopy.cancel`)."""


def reflink(src: int, dst: int) -> bool:
    """Make ``dst`` (an empty file) share ``src``'s blocks (FICLONE); False where the file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import fcntl

    try:
        fcntl.ioctl(dst, getattr(fcntl, "FICLONE", _FICLONE), src)
    except OSError as e:
        if e.errno in _NOT_HERE:
            return False
        raise
    return True


def pwrite_all(fd: int, data: bytes, offset: int) -> None:
    """Write all of ``data`` to ``fd`` at ``offset`` (pwrite may write less than asked)."""
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        pos += os.pwrite(fd, view[pos:], offset + pos)


def _pump(call: Callable[[int, int], int], done: int, length: int, stop: threading.Event | None) -> int:
    """Repeat ``call(done, count)`` (a kernel copy of up to ``count`` bytes at ``done``; returns how many went)
    until ``length`` bytes are done, the call copies nothing, or the kernel says it cannot copy between these
    files; returns the bytes done by then. ``stop`` set: raises :class:`Cancelled`."""
    try:
        while done < length:
            if stop is not None and stop.is_set():
                raise Cancelled()
            n = call(done, min(length - done, STEP))
            if n == 0:
                break
            done += n
    except OSError as e:
        if e.errno not in _NOT_HERE:
            raise
    return done


def copy_range(src: int, dst: int, length: int, src_offset: int = 0, dst_offset: int = 0,
               stop: threading.Event | None = None) -> str:
    """Copy ``length`` bytes of ``src`` from ``src_offset`` to ``dst`` at ``dst_offset``; returns the way used
    (``copy_file_range``, ``sendfile`` or ``read/write``). ``stop`` set: raises :class:`Cancelled`."""
    how = "copy_file_range"
    cfr = getattr(os, "copy_file_range", None)
    done = 0
    if cfr is not None:
        done = _pump(lambda at, n: cfr(src, dst, n, src_offset + at, dst_offset + at), 0, length, stop)
        if done == length:
            return how
    how = "sendfile"
    if hasattr(os, "sendfile"):
        os.lseek(dst, dst_offset + done, os.SEEK_SET)
        done = _pump(lambda at, n: os.sendfile(dst, src, src_offset + at, n), done, length, stop)
    if done < length:
        how = "read/write"
    while done < length:
        if stop is not None and stop.is_set():
            raise Cancelled()
        chunk = os.pread(src, min(_BUF, length - done), src_offset + done)
        if not chunk:
            break
        pwrite_all(dst, chunk, dst_offset + done)
        done += len(chunk)
    if done != length:
        from .errors import ImageError

        raise ImageError(f"input ISO shrank while copying ({done} of {length} bytes)")
    return how


def copy_file(src: int, dst: int, length: int, stop: threading.Event | None = None) -> str:
    """Copy the first ``length`` bytes of ``src`` into the empty file ``dst``: a reflink of the whole file when
    ``length`` is all of it and the file system can, else :func:`copy_range`. Returns the way used."""
    if length == os.fstat(src).st_size and reflink(src, dst):
        return "reflink"
    return copy_range(src, dst, length, stop=stop)


class BackgroundCopy:
    """:func:`copy_file` of ``src`` into ``dst`` (file descriptors, both kept open by the caller): a reflink at
    once, else :func:`copy_range` in a thread."""

    def __init__(self, src: int, dst: int, length: int) -> None:
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        # The reflink is tried here: it is immediate or refused at once, and each system call in the thread
        # would first wait for the GIL (up to the 5 ms switch interval) while the main thread goes on.
        if length == os.fstat(src).st_size and reflink(src, dst):
            self.how = "reflink"
            return
        self.how = ""
        self._thread = threading.Thread(target=self._run, args=(src, dst, length), name="ignkit-copy", daemon=True)
        self._thread.start()

    def _run(self, src: int, dst: int, length: int) -> None:
        try:
            self.how = copy_range(src, dst, length, stop=self._stop)
        except BaseException as e:  # noqa: BLE001 - handed to the thread that calls wait()
            self._error = e

    def wait(self) -> str:
        """Wait for the copy; re-raise its error. Returns the way it was done."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self.how

    def cancel(self) -> None:
        """Stop the copy (between two kernel calls) and wait for the thread; errors are dropped."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class PendingCopy:
    """A new image file being copied from its source (see :func:`copying`); :meth:`finish` completes it."""

    def __init__(self, job: BackgroundCopy, fd: int, size: int) -> None:
        self._job = job
        self._fd = fd
        self.size = size  #: the source's size when the copy started
        self.finished = False

    def finish(self, patches: Sequence[tuple[int, bytes]], end: int) -> None:
        """Wait for the copy, write ``patches`` (offset, bytes) over it, cut or extend it to ``end`` bytes."""
        self._job.wait()
        for offset, data in patches:
            view = memoryview(data)
            pos = 0
            while pos < len(view):
                pos += os.pwrite(self._fd, view[pos:], offset + pos)
        os.ftruncate(self._fd, end)
        self.finished = True


@contextlib.contextmanager
def copying(src: str, output: str, *, overwrite: bool = False,
            hint: str = "use --in-place to change the input ISO itself") -> Iterator[PendingCopy]:
    """Start copying ``src`` into a temporary file beside ``output`` (a thread, :func:`copy_file`) and yield.

    The body computes the edits meanwhile and calls :meth:`PendingCopy.finish`; on leaving, the file is
    renamed onto ``output`` (refused when it exists, unless ``overwrite``). On an exception in the body the copy
    is stopped and the temporary file removed; a body that leaves without finishing raises :class:`Cancelled`
    (nothing is written). No fsync, like cp: flushing a 1 GiB image would cost seconds; the rename still
    makes the file appear whole.
    """
    refuse_input_as_output(output, [src], hint=hint)
    with atomic_output(output, overwrite=overwrite, fsync=False) as out, open(src, "rb") as s:
        size = os.fstat(s.fileno()).st_size
        pending = PendingCopy(BackgroundCopy(s.fileno(), out.fileno(), size), out.fileno(), size)
        try:
            yield pending
        except BaseException:
            pending._job.cancel()
            raise
        if not pending.finished:
            pending._job.cancel()
            raise Cancelled()
