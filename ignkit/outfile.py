"""Output files that appear whole or not at all: write a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
from collections.abc import Iterator, Sequence
from typing import IO, BinaryIO, Callable, Optional, Union

from .errors import IgnkitError, UsageError

PathLike = Union[str, "os.PathLike[str]"]

# Errors of the output device itself (as opposed to errors reading an input while writing).
OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})
_WRITE_ERRNOS = OUTPUT_ERRNOS


_EXISTS = "File exists (the output already exists; use --overwrite to replace it)"


def exists_error(path: str | os.PathLike[str]) -> UsageError:
    """The refusal to replace an existing output: coreos-installer's words ("File exists", which scripts grep
    for), then ignkit's hint."""
    return UsageError(f"{os.fspath(path)}: File exists (the output already exists; use --overwrite to replace it)")


def check_output_mode(output: str | None, in_place: bool) -> None:
    """Refuse (UsageError) unless exactly one of ``output`` (a path or ``-``) and ``in_place`` is given: where a
    changed image goes. Here rather than in ignkit.live.image so that the CLI checks it without loading that."""
    if in_place and output is not None:
        raise UsageError("give either -o/--output or --in-place, not both")
    if not in_place and output is None:
        raise UsageError("this command changes the ISO: give -o OUT (a new file), -o - (stdout) "
                         "or --in-place (change the input)")


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


def _default_mode() -> int:
    """The permission bits a new file gets from ``open()``: 0666 minus the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def make_temp(directory: PathLike, prefix: str = "") -> tuple[int, str]:
    """A new file (mode 0600, as ``tempfile.mkstemp`` makes it) in ``directory`` under a name tagged with this
    process's pid, after removing the stale temporary files of writers that were killed (see
    :func:`remove_stale_temps`): (descriptor, absolute path)."""
    remove_stale_temps(directory)
    # mkstemp's way, without importing tempfile (shutil, random: milliseconds before `embed -o` starts its copy)
    start = f"{prefix}{_TEMP_TAG.lstrip('.') if prefix.endswith('.') else _TEMP_TAG}{os.getpid()}-"
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = os.path.abspath(os.path.join(os.fspath(directory), f"{start}{os.urandom(6).hex()}.tmp"))
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", os.fspath(directory))


def pure_path(target: PathLike) -> tuple[str, str, str]:
    """(path, parent, name) of ``target`` written as ``pathlib.PurePosixPath`` writes them (``.`` and empty
    components dropped, ``//`` kept as a root, the parent of ``a`` is ``.``), without importing pathlib
    (milliseconds before ``embed -o`` starts its copy)."""
    text = os.fspath(target)
    root = ""
    if text.startswith("/"):
        root = "//" if len(text) - len(text.lstrip("/")) == 2 else "/"
    parts = [p for p in text.split("/") if p and p != "."]
    path = root + "/".join(parts) or "."
    if not parts:
        return path, path, ""
    return path, root + "/".join(parts[:-1]) or ".", parts[-1]


def _is_dir(path: str) -> bool:
    """``pathlib.Path.is_dir``: False where the path is missing or unusable, other errors raised."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            return False
        raise
    except ValueError:
        return False


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
    path, directory, name = pure_path(target)
    if _is_dir(path):
        raise UsageError(f"{path}: is a directory")
    if not overwrite and os.path.lexists(path):
        raise exists_error(path)
    if not _is_dir(directory):
        raise UsageError(f"{path}: directory {directory} does not exist")
    try:
        fd, tmpname = make_temp(directory, f".{name}.")
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
            os.chmod(tmpname, _default_mode())
        else:
            os.chmod(tmpname, mode)
        if not overwrite:
            # link() fails if the target appeared meanwhile; never clobber silently.
            try:
                os.link(tmpname, path)
            except FileExistsError:
                raise exists_error(path) from None
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


#: binary_stdout's refusal; commands that must print coreos-installer's exact words pass ``TERMINAL_REFUSAL``.
TERMINAL_REFUSAL = "Refusing to write binary data to terminal"


def stdout_bytes() -> IO[bytes]:
    """``sys.stdout.buffer``; UsageError when standard output is closed (``>&-``: Python then has no stdout)."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None or getattr(sys.stdout, "closed", False):
        raise UsageError("standard output is closed: give -o FILE, or redirect stdout")
    return out  # type: ignore[no-any-return]


def binary_stdout(stream: IO[bytes] | None = None, *,
                  message: str = TERMINAL_REFUSAL + " (redirect stdout or use -o FILE)") -> IO[bytes]:
    """Standard output (or ``stream``) for binary data; refused (UsageError ``message``) when it is a terminal,
    or when standard output is closed."""
    out = stream if stream is not None else stdout_bytes()
    if out.isatty():
        raise UsageError(message)
    return out


def write_output(target: str, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to a path, or to standard output when ``target`` is ``-``."""
    if target == "-":
        out = stdout_bytes()
        out.write(data)
        out.flush()
    else:
        write_bytes_atomic(target, data, overwrite=overwrite)


#: One file of a set: its bytes, or a function that writes the file at the (temporary) path it is given.
FileSource = Union[bytes, Callable[[str], None]]


def write_files_atomic(files: Sequence[tuple[PathLike, FileSource]], *, overwrite: bool = False,
                       mode: Optional[int] = None, fsync: bool = True,
                       progress: Optional[Callable[[int], None]] = None,
                       exists: str = _EXISTS) -> list[str]:
    """Write a set of files all or nothing: every file to a temporary file beside its target, then all renamed.

    ``files`` are ``(target, source)`` pairs. Every target is checked first (a directory, or an
    existing file without ``overwrite``, is refused with ``"<target>: " + exists``; the same target
    twice is refused); missing parent directories are created. Each source is written to its
    temporary file (``progress(i)`` is called after the i-th), and only when all are written are they
    renamed onto their targets. On any failure or interruption every temporary file is removed and
    the targets this call had already linked are removed again: no file of a failed set appears
    (directories it created stay, empty). (With ``overwrite``, a failure in the rename
    phase itself, which does no I/O but a rename, can leave the earlier targets replaced.)
    ``mode`` sets the files' permission bits (default: 0666 minus the umask). Returns the targets.
    """
    import stat

    targets = [os.fspath(t) for t, _ in files]
    seen: set[str] = set()
    for t in targets:
        key = os.path.normpath(os.path.abspath(t))
        if key in seen:
            raise UsageError(f"{t}: given twice in one set of files")
        seen.add(key)
        if os.path.isdir(t):
            raise UsageError(f"{t}: is a directory")
        if not overwrite and os.path.lexists(t):
            raise UsageError(f"{t}: {exists}")
    if mode is None:
        mode = _default_mode()
    temps: list[str] = []
    published: list[str] = []
    try:
        for target, source in files:
            directory = os.path.dirname(os.fspath(target)) or "."
            _make_dirs(directory)
            try:
                fd, tmp = make_temp(directory, prefix=f".{os.path.basename(os.fspath(target))}.")
            except OSError as e:
                raise IgnkitError(f"{os.fspath(target)}: cannot create: {e.strerror or e}") from None
            temps.append(tmp)
            if isinstance(source, bytes):
                try:
                    with os.fdopen(fd, "wb") as f:
                        f.write(source)
                        f.flush()
                        if fsync:
                            os.fsync(f.fileno())
                except OSError as e:
                    if e.errno in _WRITE_ERRNOS:
                        raise IgnkitError(f"{os.fspath(target)}: cannot write: {e.strerror or e}") from None
                    raise
            else:
                os.close(fd)
                source(tmp)  # its own errors propagate as they are
                if fsync:
                    _fsync_path(tmp)
            if stat.S_ISREG(os.lstat(tmp).st_mode):
                os.chmod(tmp, mode)
            if progress is not None:
                progress(len(temps) - 1)
        for target, tmp in zip(targets, temps):
            if overwrite:
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)  # fails if the target appeared meanwhile: never clobber silently
                except FileExistsError:
                    raise UsageError(f"{target}: {exists}") from None
                published.append(target)
                os.unlink(tmp)
    except BaseException:
        for path in temps + published:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        raise
    return targets


def _make_dirs(directory: str) -> None:
    if os.path.isdir(directory):
        return
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise IgnkitError(f"{directory}: cannot create directory: {e.strerror or e}") from None


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
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
