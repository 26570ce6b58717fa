"""Output files that appear whole or not at all: write a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, BinaryIO, Union

from .errors import IgnkitError, UsageError

PathLike = Union[str, "os.PathLike[str]"]

# Errors of the output device itself (as opposed to errors reading an input while writing).
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


# Temporary files carry the writer's pid: ``.<target>.ignkit-<pid>-<random>.tmp`` (``.ignkit-<pid>-...`` for
# sets of files). A writer killed with SIGKILL cannot remove its own; the next writer into the same
# directory removes those whose process is gone.
_TEMP_TAG = ".ignkit-"
_STALE_TEMP = re.compile(r"\A\..*?\.ignkit-([0-9]+)-[^/]*\.tmp\Z|\A\.ignkit-([0-9]+)-[^/]*\.tmp\Z", re.S)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return True  # never ours to judge
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temps(directory: PathLike) -> list[str]:
    """Remove ignkit temporary files in ``directory`` whose writer process no longer exists; returns their paths.

    Errors are ignored (a directory that cannot be listed, a file already gone): this is housekeeping.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    me = os.getpid()
    for entry in entries:
        if not entry.name.startswith(".") or _TEMP_TAG not in entry.name:
            continue
        m = _STALE_TEMP.match(entry.name)
        if not m:
            continue
        pid = int(m.group(1) or m.group(2))
        if pid == me or _pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(entry.path)
    return removed


def make_temp(directory: PathLike, prefix: str = "") -> tuple[int, str]:
    """``tempfile.mkstemp`` in ``directory`` under a name tagged with this process's pid, after removing the
    stale temporary files of writers that were killed (see :func:`remove_stale_temps`)."""
    remove_stale_temps(directory)
    return tempfile.mkstemp(prefix=f"{prefix}{_TEMP_TAG.lstrip('.') if prefix.endswith('.') else _TEMP_TAG}"
                                   f"{os.getpid()}-", suffix=".tmp", dir=directory)


@contextlib.contextmanager
def atomic_output(target: PathLike, *, overwrite: bool = True, mode: int | None = None,
                  fsync: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file open for writing; on success it replaces ``target`` atomically.

    On any exception the temporary file is removed and ``target`` is untouched. With
    ``overwrite=False`` an existing target is refused (checked before and again at rename time).
    ``mode`` sets the permission bits of the final file (default: 0666 minus the umask).
    ``fsync=False`` skips flushing the data to disk before the rename (as ``cp`` does): for large
    images, where an fsync would cost seconds.
    """
    path = Path(target)
    if path.is_dir():
        raise UsageError(f"{path}: is a directory")
    if not overwrite and os.path.lexists(path):
        raise UsageError(f"{path}: already exists (use --overwrite to replace it)")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"{path}: directory {directory} does not exist")
    try:
        fd, tmpname = make_temp(directory, f".{path.name}.")
    except OSError as e:
        # Name the target, not the temporary file the user never asked for.
        raise IgnkitError(f"{path}: cannot create: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w+b") as f:
            try:
                yield f  # type: ignore[misc]
                f.flush()
                if fsync:
                    os.fsync(f.fileno())
            except OSError as e:
                if e.errno in _WRITE_ERRNOS:
                    raise IgnkitError(f"{path}: cannot write: {e.strerror or e}") from None
                raise
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmpname, 0o666 & ~umask)
        else:
            os.chmod(tmpname, mode)
        if not overwrite:
            # link() fails if the target appeared meanwhile; never clobber silently.
            try:
                os.link(tmpname, path)
            except FileExistsError:
                raise UsageError(f"{path}: already exists (use --overwrite to replace it)") from None
            os.unlink(tmpname)
        else:
            os.replace(tmpname, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmpname)
        raise


def write_bytes_atomic(target: PathLike, data: bytes, *, overwrite: bool = True, mode: int | None = None) -> None:
    """Write ``data`` to ``target`` atomically (see :func:`atomic_output`)."""
    with atomic_output(target, overwrite=overwrite, mode=mode) as f:
        f.write(data)


def stdout_bytes() -> IO[bytes]:
    """``sys.stdout.buffer``; UsageError when standard output is closed (``>&-``: Python then has no stdout)."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None or getattr(sys.stdout, "closed", False):
        raise UsageError("standard output is closed: give -o FILE, or redirect stdout")
    return out  # type: ignore[no-any-return]


def binary_stdout(stream: IO[bytes] | None = None) -> IO[bytes]:
    """Standard output (or ``stream``) for binary data; refused when it is a terminal or closed."""
    out = stream if stream is not None else stdout_bytes()
    if out.isatty():
        raise UsageError("Refusing to write binary data to terminal (redirect stdout or use -o FILE)")
    return out


def write_output(target: str, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to a path, or to standard output when ``target`` is ``-``."""
    if target == "-":
        out = stdout_bytes()
        out.write(data)
        out.flush()
    else:
        write_bytes_atomic(target, data, overwrite=overwrite)


def refuse_input_as_output(output: PathLike, inputs: Sequence[PathLike], *,
                           hint: str = "write the result to another file") -> None:
    """UsageError when the output path names one of the input files (same path after symlinks, or the
    same file under another name), whatever --overwrite says: writing it would destroy the input."""
    out = os.fspath(output)
    if out == "-":
        return
    try:
        out_stat = os.stat(out)
    except OSError:
        out_stat = None
    out_real = os.path.realpath(out)
    for src in inputs:
        s = os.fspath(src)
        if s == "-":
            continue
        same = os.path.realpath(s) == out_real
        if not same and out_stat is not None:
            with contextlib.suppress(OSError):
                st = os.stat(s)
                same = (st.st_dev, st.st_ino) == (out_stat.st_dev, out_stat.st_ino)
        if same:
            raise UsageError(f"{out}: is also an input; {hint}")


def plain_file_name(name: str, what: str) -> str:
    """``name`` when it can be used as a file name inside a target directory: not empty, not ``.``/``..``, no
    ``/``, ``\\``, NUL or other control character. Names taken from images and archives are checked with this
    before they become paths (ImageError otherwise: the image is what is wrong)."""
    from .errors import ImageError

    if (not name or name in (".", "..") or "/" in name or "\\" in name
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name)):
        raise ImageError(f"{what}: {name!r} is not a plain file name; refusing to use it as a path")
    return name
