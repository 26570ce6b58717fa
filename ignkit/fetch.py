"""The one HTTP(S) client of ignkit: TLS settings, timeouts, retries, progress and Range-resumed downloads.

Every network access of the project goes through :func:`open_url`, :func:`fetch_bytes` or
:func:`download`; network and HTTP failures become :class:`~ignkit.errors.FetchError` with one line.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Optional, Protocol, Union

from .errors import FetchError, InputError, UsageError

if TYPE_CHECKING:  # requests is imported on first network use: reading local files stays fast
    import requests

#: (connect, read) timeouts in seconds.
DEFAULT_TIMEOUT = (15.0, 60.0)
#: HTTP statuses retried with exponential backoff (coreos-installer retries the same set).
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
#: Default cap of :func:`fetch_bytes` (configs, stream metadata, secrets are small).
DEFAULT_MAX_SIZE = 64 * 1024 * 1024
CHUNK = 1024 * 1024
SCHEMES = ("http://", "https://")

#: Overall time limit in seconds of fetching a document (config, stream metadata, signature, Secret), on top of
#: the connect/read timeouts: a server that trickles bytes or never answers cannot hold a command longer.
DOCUMENT_DEADLINE = 120.0
#: Environment variable overriding :data:`DOCUMENT_DEADLINE`; when set it bounds streamed transfers too
#: (``hash URL``, ``download``), which otherwise only have to keep moving (:data:`STALL_BYTES` a minute).
DEADLINE_ENV = "IGNKIT_FETCH_DEADLINE"
#: A streamed transfer that moves fewer bytes than this in :data:`STALL_SECONDS` is given up.
STALL_BYTES = 1024
STALL_SECONDS = 60.0

PathLike = Union[str, "os.PathLike[str]"]

_sessions: dict[tuple[Optional[str], bool, int], requests.Session] = {}


class ChunkSink(Protocol):
    """Something fed every downloaded byte in order (a digest check, a decompressor...)."""

    def reset(self) -> None: ...

    def update(self, data: bytes) -> None: ...


class TransientFetchError(FetchError):
    """A network failure that may go away (connection refused or dropped, timeout): worth another try."""


def is_url(source: str) -> bool:
    """True when ``source`` is an http:// or https:// URL."""
    return source.lower().startswith(SCHEMES)


def unreadable(name: str, error: OSError) -> InputError:
    """The one-line error for a local input file that cannot be opened or read."""
    if isinstance(error, FileNotFoundError):
        return InputError(f"{name}: no such file")
    if isinstance(error, IsADirectoryError):
        return InputError(f"{name}: is a directory")
    return InputError(f"{name}: {error.strerror or error}")


def refuse_other_urls(source: str) -> None:
    """Raise UsageError for a ``scheme://`` source ignkit cannot fetch (ftp, file, ...), unless a file has that name."""
    scheme, sep, _ = source.partition("://")
    if (sep and scheme[:1].isalpha() and all(c.isalnum() or c in "+-." for c in scheme) and not is_url(source)
            and not os.path.exists(source)):
        raise UsageError(f"{source}: only http:// and https:// URLs are supported")


def session(*, ca_cert: Optional[PathLike] = None, insecure: bool = False, retries: int = 3) -> requests.Session:
    """Return the shared :class:`requests.Session` for these TLS settings (created once, then reused).

    ``ca_cert`` is a PEM file of CA certificates to trust instead of the system store; ``insecure`` turns
    certificate verification off (only when the user asked for it). Connection errors and the statuses in
    :data:`RETRY_STATUSES` are retried ``retries`` times with exponential backoff.
    """
    ca = None
    if ca_cert is not None:
        ca = os.fspath(ca_cert)
        if not os.path.isfile(ca):
            raise InputError(f"{ca}: CA certificate file not found")
        import ssl

        try:
            ssl.create_default_context(cafile=ca)
        except (ssl.SSLError, ValueError, UnicodeDecodeError):
            raise InputError(f"{ca}: no PEM CA certificate in this file") from None
    key = (ca, bool(insecure), int(retries))
    s = _sessions.get(key)
    if s is None:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        s = requests.Session()
        retry = Retry(total=retries, connect=retries, read=retries, status=retries, other=0, backoff_factor=0.5,
                      status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET", "HEAD"}),
                      raise_on_status=False, respect_retry_after_header=True)
        adapter = HTTPAdapter(max_retries=retry)
        s.mount("http://", adapter)
        s.mount("https://", adapter)
        s.headers["User-Agent"] = "ignkit"
        # Digests are over the bytes as stored on the server, never a transfer-encoded variant.
        s.headers["Accept-Encoding"] = "identity"
        if insecure:
            s.verify = False
        elif ca is not None:
            s.verify = ca
        _sessions[key] = s
    return s


def _verify_setting(ca_cert: Optional[PathLike], insecure: bool) -> Union[bool, str]:
    # Passed on every request: a session-level setting would lose to $REQUESTS_CA_BUNDLE.
    if insecure:
        return False
    return os.fspath(ca_cert) if ca_cert is not None else True


def _describe(url: str, exc: BaseException) -> str:
    import requests

    if isinstance(exc, requests.exceptions.SSLError):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return f"{url}: TLS certificate verification failed (trust its CA with --ca-cert FILE)"
        hint = " (is it an http:// server?)" if "WRONG_VERSION_NUMBER" in text else ""
        return f"{url}: TLS error: {_last_reason(exc)}{hint}"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"{url}: connection timed out"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"{url}: read timed out"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"{url}: cannot connect: {_last_reason(exc)}"
    if isinstance(exc, requests.exceptions.RetryError):
        return f"{url}: too many retries"
    return f"{url}: {_last_reason(exc)}"


def _last_reason(exc: BaseException) -> str:
    """The innermost useful reason of a requests/urllib3 exception, on one line."""
    reason: BaseException = exc
    for _ in range(6):
        nxt = getattr(reason, "reason", None)  # urllib3 wraps in .reason; ssl.SSLError's .reason is a str
        if not isinstance(nxt, BaseException):
            nxt = reason.args[0] if reason.args and isinstance(reason.args[0], BaseException) else None
        if nxt is None or nxt is reason:
            break
        reason = nxt
    text = str(reason)
    # urllib3 wraps: "HTTPConnection(host=..., port=...): Failed to establish a new connection: [Errno 111] ..."
    if "[Errno" in text:
        text = text[text.index("[Errno"):]
    elif "): " in text:
        text = text.split("): ", 1)[1]
    text = " ".join(text.split())
    while text.endswith(")") and text.count(")") > text.count("("):
        text = text[:-1]  # the closing parenthesis of a wrapper whose start was cut off
    return text or type(reason).__name__


def fetch_deadline(default: Optional[float]) -> Optional[float]:
    """The overall fetch deadline in seconds: ``$IGNKIT_FETCH_DEADLINE`` when set, else ``default`` (None: none)."""
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (value > 0 and value != float("inf")):
        raise UsageError(f"{DEADLINE_ENV}={raw!r}: expected a positive number of seconds")
    return value


def _bounded_timeouts(timeout: Optional[tuple[float, float]], deadline: Optional[float],
                      retries: int) -> tuple[float, float]:
    """Per-attempt (connect, read) timeouts such that every retry of an unanswered request fits the deadline."""
    connect, read = timeout or DEFAULT_TIMEOUT
    if deadline is None:
        return connect, read
    share = max(0.5, deadline / (max(0, retries) + 1))
    return min(connect, share), min(read, share)


def body_chunks(resp: requests.Response, url: str, *, deadline: Optional[float] = None,
                started: Optional[float] = None) -> Iterator[bytes]:
    """Yield the body as it arrives; FetchError past ``deadline`` seconds since ``started`` (default: now), or
    when the transfer stalls (fewer than :data:`STALL_BYTES` in :data:`STALL_SECONDS`)."""
    now = time.monotonic()
    end = None if deadline is None else (started if started is not None else now) + deadline
    window_start, window_bytes = now, 0
    for chunk in _body_chunks(resp):
        yield chunk
        now = time.monotonic()
        if end is not None and now > end:
            raise FetchError(f"{url}: did not finish within {deadline:g} s (set {DEADLINE_ENV} to allow more)")
        window_bytes += len(chunk)
        if now - window_start >= STALL_SECONDS:
            if window_bytes < STALL_BYTES:
                raise FetchError(f"{url}: transfer stalled ({window_bytes} bytes in {now - window_start:.0f} s)")
            window_start, window_bytes = now, 0


def _check_scheme(url: str) -> None:
    if not is_url(url):
        raise UsageError(f"{url}: only http:// and https:// URLs are supported")


@contextlib.contextmanager
def open_url(url: str, *, ca_cert: Optional[PathLike] = None, insecure: bool = False,
             timeout: Optional[tuple[float, float]] = None, headers: Optional[dict[str, str]] = None,
             retries: int = 3, deadline: Optional[float] = None) -> Iterator[requests.Response]:
    """Open ``url`` for streaming and yield the :class:`requests.Response` (status already checked).

    Read the body with ``response.raw.read(n)`` or ``response.iter_content(n)``. Any HTTP status of 400 or
    more, and any connection/TLS failure, raises :class:`FetchError` -- also when the connection breaks
    while the caller reads the body inside the ``with`` block. With a ``Range`` header a 206 or 200
    answer is accepted (the caller checks which), and so is 416. With ``deadline`` (seconds) the
    connect/read timeouts of every attempt are shortened so that an unanswered request gives up in time;
    read the body with :func:`body_chunks` to bound the transfer too.
    """
    import requests
    import urllib3

    _check_scheme(url)
    s = session(ca_cert=ca_cert, insecure=insecure, retries=retries)
    try:
        with warnings.catch_warnings():
            if insecure:
                warnings.simplefilter("ignore")
            resp = s.get(url, stream=True, timeout=_bounded_timeouts(timeout, deadline, retries), headers=headers,
                         verify=_verify_setting(ca_cert, insecure))
    except requests.exceptions.SSLError as e:
        raise FetchError(_describe(url, e)) from None
    except requests.exceptions.RequestException as e:
        raise TransientFetchError(_describe(url, e)) from None
    try:
        if resp.status_code >= 400 and not (resp.status_code == 416 and headers and "Range" in headers):
            reason = resp.reason or ""
            raise FetchError(f"{url}: HTTP {resp.status_code} {reason}".rstrip())
        yield resp
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as e:
        # The body broke off while the caller was reading it.
        raise TransientFetchError(_describe(url, e)) from None
    finally:
        resp.close()


def fetch_bytes(url: str, *, max_size: int = DEFAULT_MAX_SIZE, ca_cert: Optional[PathLike] = None,
                insecure: bool = False, timeout: Optional[tuple[float, float]] = None, retries: int = 3,
                headers: Optional[dict[str, str]] = None) -> bytes:
    """Return the body of ``url`` (http/https), refusing bodies larger than ``max_size`` bytes.

    ``headers`` are sent with the request (e.g. an Ignition reference's ``httpHeaders``).
    """
    parts: list[bytes] = []
    total = 0
    deadline = fetch_deadline(DOCUMENT_DEADLINE)
    started = time.monotonic()
    with open_url(url, ca_cert=ca_cert, insecure=insecure, timeout=timeout, headers=headers,
                  retries=retries, deadline=deadline) as resp:
        length = resp.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_size:
            raise FetchError(f"{url}: {int(length)} bytes is larger than the {max_size}-byte limit")
        for chunk in body_chunks(resp, url, deadline=deadline, started=started):
            total += len(chunk)
            if total > max_size:
                raise FetchError(f"{url}: response is larger than the {max_size}-byte limit")
            parts.append(chunk)
    return b"".join(parts)


def _progress_wanted(progress: Optional[bool]) -> bool:
    if progress is not None:
        return progress
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _Progress:
    """A click progress bar on stderr, or nothing."""

    def __init__(self, enabled: bool, label: str, total: Optional[int], done: int) -> None:
        self.bar: Any = None
        if enabled:
            import click

            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bar.__enter__()
            if done:
                self.bar.update(done)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _body_chunks(resp: requests.Response) -> Iterator[bytes]:
    """Yield the body as it arrives, so that bytes received before a dropped connection are kept."""
    read1 = getattr(resp.raw, "read1", None)
    if read1 is None:  # urllib3 1.x
        yield from resp.iter_content(64 * 1024)
        return
    while True:
        chunk = read1(CHUNK)
        if not chunk:
            return
        yield chunk


def part_path(dest: PathLike) -> Path:
    """Where :func:`download` keeps an unfinished download of ``dest``: ``.<name>.part`` beside it."""
    p = Path(dest)
    return p.with_name(f".{p.name}.part")


def _feed_existing(part: Path, sinks: Sequence[ChunkSink]) -> int:
    """Feed an existing partial file to the sinks; return its size."""
    size = 0
    with open(part, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            for s in sinks:
                s.update(chunk)
            size += len(chunk)
    return size


def _content_range(value: Optional[str]) -> tuple[Optional[int], Optional[int]]:
    """``(start, total)`` of a Content-Range header (``bytes 100-199/200``, ``bytes */200``); None if absent."""
    if not value or not value.startswith("bytes "):
        return None, None
    span, _, total = value[6:].partition("/")
    first = span.split("-", 1)[0].strip()
    return (int(first) if first.isdigit() else None), (int(total) if total.strip().isdigit() else None)


def download(url: str, dest: PathLike, *, sinks: Sequence[ChunkSink] = (), ca_cert: Optional[PathLike] = None,
             insecure: bool = False, progress: Optional[bool] = None, resume: bool = True, attempts: int = 5,
             timeout: Optional[tuple[float, float]] = None, finish: Any = None) -> Path:
    """Download ``url`` to ``dest``; the final name appears only once the whole file is there and checked.

    Bytes go to ``.<name>.part`` beside ``dest`` (see :func:`part_path`). When the connection drops, the
    download continues from where it stopped with an HTTP ``Range`` request (up to ``attempts`` tries);
    with ``resume`` a ``.part`` left by an earlier run is continued too. Every byte is fed, in order, to
    each of ``sinks`` (digest checks); ``finish()``, when given, runs after the last byte and before the
    rename: it may raise (e.g. :class:`~ignkit.errors.DigestMismatch`), in which case the partial file is
    deleted and ``dest`` is untouched. If that happens to a download continued from an earlier run's
    ``.part`` (the remote file may have changed since), it is fetched once more from the start.
    ``progress`` shows a bar on stderr (default: when it is a terminal).
    """
    from .errors import CheckFailed

    _check_scheme(url)
    dest = Path(dest)
    part = part_path(dest)
    offset = 0
    if resume and part.exists():
        offset = _feed_existing(part, sinks)
    else:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    resumed_old_part = offset > 0
    while True:
        _transfer(url, part, dest.name, offset, sinks, ca_cert=ca_cert, insecure=insecure, progress=progress,
                  attempts=attempts, timeout=timeout)
        try:
            if finish is not None:
                finish()
        except CheckFailed:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
            if not resumed_old_part:
                raise
            # The bytes kept from an earlier run may belong to an older file: start over once.
            resumed_old_part = False
            offset = 0
            for s in sinks:
                s.reset()
            continue
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
            raise
        break
    os.replace(part, dest)
    return dest


def _transfer(url: str, part: Path, label: str, offset: int, sinks: Sequence[ChunkSink], *,
              ca_cert: Optional[PathLike], insecure: bool, progress: Optional[bool], attempts: int,
              timeout: Optional[tuple[float, float]]) -> None:
    """Fill ``part`` (already ``offset`` bytes long) with the rest of ``url``, resuming after drops."""
    bar: Optional[_Progress] = None
    last_error = ""
    tries = 0
    deadline = fetch_deadline(None)
    started = time.monotonic()
    try:
        for tries in range(1, max(1, attempts) + 1):
            if tries > 1:
                time.sleep(min(0.25 * (2 ** (tries - 2)), 5.0))
            headers = {"Range": f"bytes={offset}-"} if offset else None
            answered = False
            try:
                with open_url(url, ca_cert=ca_cert, insecure=insecure, timeout=timeout, headers=headers,
                              deadline=deadline or DOCUMENT_DEADLINE) as resp:
                    answered = True
                    if resp.status_code == 416:
                        if _content_range(resp.headers.get("Content-Range"))[1] in (offset, None):
                            return  # nothing past our offset: the partial file is whole
                        offset = 0  # the remote file is shorter than what we have: start over
                        for s in sinks:
                            s.reset()
                        last_error = f"{url}: the remote file changed during the download"
                        continue
                    if offset and (resp.status_code != 206
                                   or _content_range(resp.headers.get("Content-Range"))[0] != offset):
                        # The server sent the whole file again: start over.
                        offset = 0
                        for s in sinks:
                            s.reset()
                    length = resp.headers.get("Content-Length")
                    total = offset + int(length) if length and length.isdigit() else None
                    if bar is None:
                        bar = _Progress(_progress_wanted(progress), label, total, offset)
                    with open(part, "r+b" if offset else "wb") as f:
                        f.seek(offset)
                        f.truncate()
                        try:
                            for chunk in body_chunks(resp, url, deadline=deadline, started=started):
                                f.write(chunk)
                                for s in sinks:
                                    s.update(chunk)
                                offset += len(chunk)
                                bar.update(len(chunk))
                        finally:
                            f.flush()
                            os.fsync(f.fileno())
                return
            except TransientFetchError as e:
                # Dropped connection, timeout: continue from ``offset`` on the next attempt.
                last_error = e.message
                if not answered:
                    break  # no answer at all: the session has already retried the connection
        resume_hint = "; rerun to resume" if part.exists() and part.stat().st_size else ""
        raise FetchError(f"{last_error} (gave up after {tries} attempt{'s' if tries > 1 else ''}{resume_hint})")
    finally:
        if bar is not None:
            bar.close()


def refuse_terminal_stdin(stream: Optional[IO[bytes]] = None) -> None:
    """UsageError when standard input (or ``stream``) is a terminal: the input is meant to be piped in,
    and waiting for someone to type a config or an image would look like a hang."""
    s = stream if stream is not None else sys.stdin
    if s is None:  # started with descriptor 0 closed
        raise InputError("standard input is closed: give a file")
    try:
        tty = s.isatty()
    except (ValueError, OSError):  # closed
        return
    if tty:
        raise UsageError("reading standard input from a terminal: pipe the input in, or give a file")


def read_source(source: str, *, max_size: int = DEFAULT_MAX_SIZE, ca_cert: Optional[PathLike] = None,
                insecure: bool = False, stdin: Optional[BinaryIO] = None) -> bytes:
    """Read a small input named on the command line: a file path, ``-`` (standard input) or an http(s) URL."""
    if is_url(source):
        return fetch_bytes(source, max_size=max_size, ca_cert=ca_cert, insecure=insecure)
    if source == "-":
        refuse_terminal_stdin(stdin)
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read(max_size + 1)
        if len(data) > max_size:
            raise InputError(f"standard input is larger than the {max_size}-byte limit")
        return data
    refuse_other_urls(source)
    try:
        with open(source, "rb") as f:
            data = f.read(max_size + 1)
    except OSError as e:
        raise unreadable(source, e) from None
    if len(data) > max_size:
        raise InputError(f"{source}: larger than the {max_size}-byte limit")
    return data
