"""The aiohttp application of ``ignkit serve``: read-only routes over a :class:`~ignkit.serve.catalog.Catalog`.

No request path is ever joined to a file name: every route looks its parameters up in the catalog
(host names, MACs, architectures, artifact kinds) and answers 404 otherwise. Bodies are
:class:`~ignkit.serve.media.ByteView` s: base-file spans go out with ``loop.sendfile`` (the kernel's
sendfile(2) on plain TCP), patched bytes from memory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Optional

from aiohttp import web

from ..errors import InputError
from .catalog import ARTIFACTS, Catalog, ServedHost
from .media import ByteView
from .minimal import SUFFIX as MINIMAL_SUFFIX
from .minimal import host_minimal
from .ranges import Unsatisfiable, none_match, not_modified_since, parse_range, range_applies
from .status import Progress, render_html

log = logging.getLogger("ignkit.serve")

#: sendfile calls start this long and double up to SENDFILE_MAX: progress is recorded between calls
#: (fine-grained at the start of a download), and each call has a fixed cost in the event loop.
SENDFILE_FIRST = 4 << 20
SENDFILE_MAX = 64 << 20
#: File spans up to this long are read and written instead (sendfile's set-up costs more than the copy).
SMALL_SPAN = 64 << 10

PROGRESS: web.AppKey[Progress] = web.AppKey("progress", Progress)


def _catalog(request: web.Request) -> Catalog:
    """The catalog now in force (a reload replaces it; running downloads keep the views they started with)."""
    return request.app[PROGRESS].catalog


def _peer(request: web.BaseRequest) -> str:
    return request.remote or "-"


def _not_found(request: web.BaseRequest, what: str) -> web.Response:
    log.warning("%s: 404 %s (%s)", _peer(request), request.path_qs[:200].encode("unicode_escape").decode(), what)
    return web.Response(status=404, text=f"404: {what}\n")


def _norm_mac(text: str) -> Optional[str]:
    from ..netconf import normalize_mac

    try:
        return normalize_mac(text)
    except InputError:
        return None


async def send_view(request: web.Request, view: ByteView, *, content_type: str,
                    host: Optional[str] = None, step: Optional[str] = None) -> web.StreamResponse:
    """Answer GET/HEAD with ``view``: conditional requests, a single byte range, sendfile for file spans."""
    headers = {"Accept-Ranges": "bytes", "ETag": view.etag, "Last-Modified": view.last_modified}
    inm = request.headers.get("If-None-Match")
    if (none_match(inm, view.etag) if inm is not None
            else not_modified_since(request.headers.get("If-Modified-Since"), view.last_modified)):
        return web.Response(status=304, headers=headers)
    rng: Optional[tuple[int, int]] = None
    header = request.headers.get("Range")
    if header is not None and range_applies(request.headers.get("If-Range"), view.etag, view.last_modified):
        try:
            rng = parse_range(header, view.size)
        except Unsatisfiable:
            log.warning("%s: 416 %s (Range %r, size %d)", _peer(request), request.path, header[:100], view.size)
            return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{view.size}"})
        if rng is None:
            log.warning("%s: %s: ignored Range %r (malformed or several ranges): sending all", _peer(request),
                        request.path, header[:100])
    start, end = rng or (0, view.size)
    resp = web.StreamResponse(status=206 if rng else 200, headers=headers)
    resp.content_type = content_type
    resp.content_length = end - start
    if rng:
        resp.headers["Content-Range"] = f"bytes {start}-{end - 1}/{view.size}"
    progress = request.app[PROGRESS]
    rec = None
    if host and step and request.method != "HEAD":
        rec = progress.begin(host, step, request.remote, view.size)
    await resp.prepare(request)
    if request.method == "HEAD" or start == end:
        return resp
    pos = start
    chunk = SENDFILE_FIRST
    try:
        loop = asyncio.get_running_loop()
        with open(view.base.path, "rb") as f:
            for kind, ref, n in view.spans(start, end):
                if kind == "file" and n <= SMALL_SPAN:
                    # A few KiB (a client's small Range read, a gap between patches): one pread costs less
                    # than setting up a sendfile.
                    assert isinstance(ref, int)
                    data = os.pread(f.fileno(), n, ref)
                    if len(data) != n:
                        raise OSError(f"{view.base.path} ended early (file shrank?)")
                    await resp.write(data)
                    if rec:
                        progress.sent(rec, pos, pos + n)
                    pos += n
                elif kind == "file":
                    assert isinstance(ref, int)
                    done = 0
                    while done < n:
                        transport = request.transport
                        if transport is None or transport.is_closing():
                            raise ConnectionResetError("connection closed")
                        k = min(chunk, n - done)
                        chunk = min(chunk * 2, SENDFILE_MAX)
                        sent = await loop.sendfile(transport, f, ref + done, k)
                        if sent != k:
                            raise OSError(f"{view.base.path} ended early (file shrank?)")
                        done += k
                        if rec:
                            progress.sent(rec, pos, pos + k)
                        pos += k
                else:
                    assert isinstance(ref, memoryview)
                    await resp.write(ref)
                    if rec:
                        progress.sent(rec, pos, pos + n)
                    pos += n
    except (ConnectionError, OSError, RuntimeError) as e:
        # The client went away (or the file vanished): one line, then drop the connection.
        log.warning("%s: %s: stopped after %d of %d bytes: %s", _peer(request), request.path, pos - start,
                    end - start, e or type(e).__name__)
        if request.transport is not None:
            request.transport.close()
        return resp
    await resp.write_eof()
    return resp


def _host(request: web.Request, name: str) -> Optional[ServedHost]:
    return _catalog(request).hosts.get(name)


async def host_file(request: web.Request) -> web.StreamResponse:
    """``/hosts/<name>.iso``, ``/hosts/<name>-minimal.iso`` and ``/hosts/<name>.ign``."""
    file = request.match_info["file"]
    if file.endswith(MINIMAL_SUFFIX) and _host(request, file[:-4]) is None:
        # A host actually named "<x>-minimal" keeps its full ISO at that path.
        sh = _host(request, file[: -len(MINIMAL_SUFFIX)])
        if sh is None:
            return _not_found(request, "unknown host")
        return await _minimal_iso(request, sh)
    for suffix in (".iso", ".ign"):
        if file.endswith(suffix):
            sh = _host(request, file[: -len(suffix)])
            if sh is None:
                return _not_found(request, "unknown host")
            if suffix == ".iso":
                return await _iso(request, sh)
            return _ignition(request, sh)
    return _not_found(request, "no such file")


def _ignition(request: web.Request, sh: ServedHost) -> web.StreamResponse:
    if sh.ignition is None or sh.ignition_digest is None:
        return _not_found(request, f"{sh.name}: no installed-system config")
    if request.method != "HEAD":
        request.app[PROGRESS].begin(sh.name, "config", request.remote)
    import base64
    import hashlib

    b64 = base64.b64encode(hashlib.sha512(sh.ignition).digest()).decode()
    etag = '"' + sh.ignition_digest[7:47] + '"'
    headers = {"X-Ignition-Hash": sh.ignition_digest, "Repr-Digest": f"sha-512=:{b64}:", "ETag": etag,
               "Cache-Control": "no-cache"}
    if none_match(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=sh.ignition, content_type="application/vnd.coreos.ignition+json", headers=headers)


async def _iso(request: web.Request, sh: ServedHost) -> web.StreamResponse:
    if sh.iso is None:
        return _not_found(request, f"{sh.name}: no ISO for {sh.arch}")
    return await send_view(request, sh.iso, content_type="application/x-iso9660-image", host=sh.name, step="iso")


async def _minimal_iso(request: web.Request, sh: ServedHost) -> web.StreamResponse:
    view, note = host_minimal(sh)
    if view is None:
        return _not_found(request, note or f"{sh.name}: no minimal ISO")
    return await send_view(request, view, content_type="application/x-iso9660-image", host=sh.name,
                           step="minimal iso")


async def mac_iso(request: web.Request) -> web.StreamResponse:
    """``/mac/<mac>.iso`` and ``/mac/<mac>-minimal.iso``."""
    file = request.match_info["file"]
    minimal = file.endswith(MINIMAL_SUFFIX)
    mac = _norm_mac(file[: -len(MINIMAL_SUFFIX) if minimal else -4]) if file.endswith(".iso") else None
    name = _catalog(request).by_mac.get(mac or "")
    if name is None:
        return _not_found(request, "unknown MAC")
    sh = _catalog(request).hosts[name]
    return await (_minimal_iso(request, sh) if minimal else _iso(request, sh))


async def host_initramfs(request: web.Request) -> web.StreamResponse:
    """``/hosts/<name>/initramfs.img``: the live initramfs followed by the host's ``pxe customize`` layer."""
    sh = _host(request, request.match_info["name"])
    if sh is None:
        return _not_found(request, "unknown host")
    if sh.initramfs is None:
        return _not_found(request, f"{sh.name}: no live initramfs for {sh.arch}")
    return await send_view(request, sh.initramfs, content_type="application/octet-stream", host=sh.name,
                           step="initramfs")


async def artifact(request: web.Request) -> web.StreamResponse:
    """``/artifacts/<arch>/{kernel,initramfs,rootfs}``: the pristine files."""
    arch, kind = request.match_info["arch"], request.match_info["kind"]
    view = _catalog(request).artifacts.get(arch, {}).get(kind) if kind in ARTIFACTS else None
    if view is None:
        return _not_found(request, "no such artifact")
    host = request.app[PROGRESS].host_of_peer(request.remote)
    return await send_view(request, view, content_type="application/octet-stream", host=host, step=kind)


def _text(request: web.Request, text: str, host: Optional[str] = None) -> web.Response:
    if host and request.method != "HEAD":
        request.app[PROGRESS].begin(host, "boot script", request.remote)
    return web.Response(text=text, content_type="text/plain", headers={"Cache-Control": "no-cache"})


def _mac_host(request: web.Request, text: str) -> tuple[Optional[str], Optional[ServedHost]]:
    mac = _norm_mac(text)
    name = _catalog(request).by_mac.get(mac or "")
    return mac, (_catalog(request).hosts[name] if name else None)


async def boot_ipxe(request: web.Request) -> web.Response:
    """``/boot.ipxe``: chain to this host's script by the booting NIC's MAC."""
    base = _catalog(request).base_url
    target = f"{base.rstrip('/')}/ipxe" if base else "/ipxe"
    return _text(request, "#!ipxe\n# ignkit serve: chain this machine's own script, by the booting NIC's MAC.\n"
                          f"chain {target}?mac=${{net0/mac:hexhyp}}\n")


async def ipxe(request: web.Request) -> web.Response:
    """``/ipxe?mac=...``: the text ``ignkit pxe config --format ipxe`` writes for that host."""
    mac, sh = _mac_host(request, request.query.get("mac", ""))
    if sh is None or mac is None:
        return _not_found(request, "unknown MAC")
    if mac not in sh.ipxe:
        return _not_found(request, f"{sh.name}: {'; '.join(sh.notes) or 'no boot script'}")
    return _text(request, sh.ipxe[mac], sh.name)


async def grub_cfg(request: web.Request) -> web.Response:
    """``/grub/grub.cfg``: load this machine's own config from this server, by ``net_default_mac``."""
    from ..errors import UsageError
    from ..pxeconfig import _loader_path

    base = _catalog(request).base_url
    if not base:
        return _not_found(request, "GRUB configs need --base-url")
    try:
        url = _loader_path("GRUB config URL", f"{base.rstrip('/')}/grub/grub.cfg-01-", "grub")
    except UsageError as e:
        return _not_found(request, e.message)
    return _text(request, "# ignkit serve: load this machine's own config, by the MAC of the NIC that booted.\n"
                          f"configfile {url}${{net_default_mac}}\n")


async def grub_host(request: web.Request) -> web.Response:
    """``/grub/grub.cfg-01-<mac>`` (``aa-bb-..`` or ``aa:bb:..``): what ``ignkit pxe config --format grub`` writes."""
    file = request.match_info["file"]
    if not file.startswith("grub.cfg-01-"):
        return _not_found(request, "no such file")
    mac, sh = _mac_host(request, file[len("grub.cfg-01-"):])
    if sh is None or mac is None:
        return _not_found(request, "unknown MAC")
    if mac not in sh.grub:
        return _not_found(request, f"{sh.name}: {'; '.join(sh.notes) or 'no boot script'}")
    return _text(request, sh.grub[mac], sh.name)


async def status_json(request: web.Request) -> web.Response:
    return web.Response(text=json.dumps(request.app[PROGRESS].snapshot(), indent=1) + "\n",
                        content_type="application/json", headers={"Cache-Control": "no-cache"})


async def status_html(request: web.Request) -> web.Response:
    return web.Response(text=render_html(request.app[PROGRESS].snapshot()), content_type="text/html",
                        headers={"Cache-Control": "no-cache"})


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def make_app(catalog: Catalog, progress: Optional[Progress] = None) -> web.Application:
    """The read-only application: GET/HEAD routes only (anything else is 405)."""
    app = web.Application()
    app[PROGRESS] = progress or Progress(catalog)
    r = app.router
    r.add_get("/", status_html)
    r.add_get("/status", status_json)
    r.add_get("/health", health)
    r.add_get("/boot.ipxe", boot_ipxe)
    r.add_get("/ipxe", ipxe)
    r.add_get("/grub/grub.cfg", grub_cfg)
    r.add_get("/grub/{file}", grub_host)
    r.add_get("/hosts/{file}", host_file)
    r.add_get("/hosts/{name}/initramfs.img", host_initramfs)
    r.add_get("/mac/{file}", mac_iso)
    r.add_get("/artifacts/{arch}/{kind}", artifact)
    return app
