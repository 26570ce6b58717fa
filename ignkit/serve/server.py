"""Running ``ignkit serve``: bind, build the catalog, listen, log in the Combined Log Format, stop on a signal."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import ssl
import sys
import time as _time
from collections.abc import Callable
from typing import Any, Optional

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ..errors import IgnkitError, InputError, UsageError
from .app import make_app
from .catalog import Catalog
from .status import Progress

log = logging.getLogger("ignkit.serve")


class CombinedLog(AbstractAccessLogger):
    """One line per request in Apache/nginx's Combined Log Format (bytes = the body length promised)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        now = _time.strftime("%d/%b/%Y:%H:%M:%S +0000", _time.gmtime())
        line = f"{request.method} {request.path_qs} HTTP/{request.version.major}.{request.version.minor}"
        size = response.content_length if response.content_length is not None else (response.body_length or 0)
        if request.method == "HEAD" or response.status == 304:
            size = 0

        def q(v: Optional[str]) -> str:
            return (v or "-").replace("\\", "\\\\").replace('"', '\\"')

        self.logger.info('%s - - [%s] "%s" %d %s "%s" "%s"', request.remote or "-", now, q(line)[:2000],
                         response.status, size if size else "-", q(request.headers.get("Referer")),
                         q(request.headers.get("User-Agent")))



def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT``; ``:PORT`` for every address) -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--listen {text!r}: expected HOST:PORT")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def bind(host: str, port: int) -> socket.socket:
    """A bound (not yet listening) TCP socket; the server's start-up checks run before it listens."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise InputError(f"--listen {host}:{port}: {e.strerror}") from None
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as e:
        sock.close()
        raise InputError(f"--listen {host}:{port}: {e.strerror}") from None
    return sock


def default_base_url(sock: socket.socket, tls: bool) -> Optional[str]:
    """``http(s)://HOST:PORT`` of a socket bound to one address; None for a wildcard address."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if tls else 'http'}://{host}:{port}"


def tls_context(cert: Optional[str], key: Optional[str]) -> Optional[ssl.SSLContext]:
    if not cert and not key:
        return None
    if not (cert and key):
        raise UsageError("--tls-cert and --tls-key go together")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        raise InputError(f"--tls-cert/--tls-key: cannot load: {e}") from None
    return ctx


def run(catalog: Catalog, sock: socket.socket, *, ssl_context: Optional[ssl.SSLContext] = None,
        access_log: Optional[str] = None, on_ready: Optional[Callable[[str], None]] = None,
        background: Optional[Callable[[Progress, asyncio.AbstractEventLoop], Any]] = None,
        reload: Optional[Callable[[], Catalog]] = None) -> None:
    """Serve ``catalog`` on ``sock`` until SIGINT/SIGTERM. ``background(progress, loop)`` starts helpers
    (the CSR watcher). ``on_ready(url)`` is called once listening. On SIGHUP, ``reload()`` builds a new
    catalog in a thread; it replaces the old one when it succeeds (running downloads finish with the
    bytes they started with), and a failure is logged and changes nothing."""
    alog = logging.getLogger("ignkit.serve.access")
    alog.propagate = False
    alog.setLevel(logging.INFO)
    handler: logging.Handler = (logging.FileHandler(access_log) if access_log
                                else logging.StreamHandler(sys.stderr))
    handler.setFormatter(logging.Formatter("%(message)s"))
    alog.handlers[:] = [handler]
    progress = Progress(catalog)

    async def main() -> None:
        app = make_app(catalog, progress)
        runner = web.AppRunner(app, access_log=alog, access_log_class=CombinedLog, handle_signals=False)
        await runner.setup()
        site = web.SockSite(runner, sock, ssl_context=ssl_context)
        await site.start()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        reloading: list[asyncio.Future[Catalog]] = []

        async def do_reload() -> None:
            assert reload is not None
            if reloading:
                log.warning("reload already running: SIGHUP ignored")
                return
            started = _time.monotonic()
            reloading.append(loop.run_in_executor(None, reload))
            try:
                new = await reloading[0]
            except IgnkitError as e:
                log.warning("reload failed, still serving the previous inventory: %s", e.message)
                return
            except Exception as e:  # noqa: BLE001 - one line; the server keeps serving what it had
                log.warning("reload failed, still serving the previous inventory: %s: %s", type(e).__name__, e)
                return
            finally:
                reloading.clear()
            progress.replace_catalog(new)
            for w in new.warnings:
                log.warning("%s", w)
            log.info("reloaded: %d hosts (%.1f s)", len(new.hosts), _time.monotonic() - started)

        if reload is not None:
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(do_reload()))
        host, port = sock.getsockname()[:2]
        url = f"{'https' if ssl_context else 'http'}://{f'[{host}]' if ':' in host else host}:{port}/"
        if background is not None:
            background(progress, loop)
        if on_ready is not None:
            on_ready(url)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    asyncio.run(main())
