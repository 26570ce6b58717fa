"""Output files that appear whole or not at all: write a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Union

from .errors import UsageError

PathLike = Union[str, "os.PathLike[str]"]


@contextlib.contextmanager
def atomic_output(target: PathLike, *, overwrite: bool = True, mode: int | None = None) -> Iterator[BinaryIO]:
    """Yield a binary file open for writing; on success it replaces ``target`` atomically.

    On any exception the temporary file is removed and ``target`` is untouched. With
    ``overwrite=False`` an existing target is refused (checked before and again at rename time).
    ``mode`` sets the permission bits of the final file (default: 0666 minus the umask).
    """
    path = Path(target)
    if not overwrite and path.exists():
        raise UsageError(f"{path}: already exists (use --overwrite to replace it)")
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmpname = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f  # type: ignore[misc]
            f.flush()
            os.fsync(f.fileno())
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


def write_output(target: str, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to a path, or to standard output when ``target`` is ``-``."""
    if target == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_bytes_atomic(target, data, overwrite=overwrite)
