"""Rules of the ``ignition`` section and of resources (sources, verification, HTTP headers, proxies)."""

from __future__ import annotations

from typing import Any

from ...gocompat.neturl import URLError, go_url_parse
from .common import check_hash, check_url, nil_or_empty
from .context import Ctx, Path, register

# --------------------------------------------------------------------------------------------
# Config (root): files/directories/links that collide with systemd units or drop-ins.


@register("Config")
def config(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    units = obj.get("systemd", {}).get("units") or []
    taken: set[str] = set()
    for u in units:
        name = u.get("name", "")
        if not nil_or_empty(u.get("contents")):
            taken.add("/etc/systemd/system/" + name)
        for d in u.get("dropins") or []:
            if not nil_or_empty(d.get("contents")):
                taken.add("/etc/systemd/system/" + name + ".d/" + d.get("name", ""))
    if not taken:
        return
    storage = obj.get("storage", {})
    for kind in ("files", "directories", "links"):
        for i, node in enumerate(storage.get(kind) or []):
            if node.get("path", "") in taken:
                ctx.error(path + ("storage", kind, i, "path"), "path conflicts with systemd unit or dropin")


# --------------------------------------------------------------------------------------------
# ignition.config / ignition.security / ignition.proxy


def _required_sources(refs: list[dict[str, Any]], path: Path, ctx: Ctx) -> None:
    """Merge and CA references (3.1+) need a source; its URL error is also reported at the item."""
    if ctx.v < (3, 1):
        return
    for i, ref in enumerate(refs):
        src = ref.get("source")
        ctx.error(path + (i,), check_url(src, ctx.v) if src else "source is required")


@register("IgnitionConfig")
def ignition_config(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    _required_sources(obj.get("merge") or [], path + ("merge",), ctx)


@register("TLS")
def tls(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    _required_sources(obj.get("certificateAuthorities") or [], path + ("certificateAuthorities",), ctx)


def _proxy_url(value: str) -> tuple[str | None, str | None]:
    try:
        u = go_url_parse(value)
    except URLError:
        return "unable to parse url", None
    if u.scheme not in ("http", "https"):
        return "proxies must be http(s)", None
    return None, u.scheme


@register("Proxy")
def proxy(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    if "httpProxy" in obj:
        err, _ = _proxy_url(obj["httpProxy"])
        ctx.error(path + ("httpProxy",), err)
    if "httpsProxy" in obj:
        err, scheme = _proxy_url(obj["httpsProxy"])
        ctx.error(path + ("httpsProxy",), err)
        if scheme == "http":
            ctx.warn(path + ("httpsProxy",), "insecure plaintext HTTP proxy specified for HTTPS resources")


# --------------------------------------------------------------------------------------------
# Resources


def _source(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    src = obj.get("source")
    if src:
        ctx.error(path + ("source",), check_url(src, ctx.v))


@register("FileContents")
def file_contents(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    c = obj.get("compression")
    if c is not None and c not in ("", "gzip"):
        ctx.error(path + ("compression",), "invalid compression method")
    if obj.get("verification", {}).get("hash") is not None and obj.get("source") is None:
        ctx.error(path + ("verification", "hash"), "source must be specified if verification is specified")
    _source(obj, path, ctx)


@register("Resource")
def resource(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    file_contents(obj, path, ctx)  # 3.1's Resource grew out of 3.0's FileContents
    if obj.get("httpHeaders"):
        src = obj.get("source")
        if not src:
            ctx.error(path + ("httpHeaders",), "unable to parse url")
            return
        try:
            u = go_url_parse(src)
        except URLError:
            ctx.error(path + ("httpHeaders",), "unable to parse url")
            return
        if u.scheme not in ("http", "https"):
            ctx.error(path + ("httpHeaders",), "cannot use HTTP headers with this source scheme")


@register("ConfigReference")
def config_reference(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    # spec 3.0 checks "source must be specified if verification is specified" for file contents only
    _source(obj, path, ctx)


@register("CaReference")
def ca_reference(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    ctx.error(path + ("source",), check_url(obj.get("source", ""), ctx.v))


@register("Verification")
def verification(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    h = obj.get("hash")
    if h is not None:
        ctx.error(path + ("hash",), check_hash(h, ctx.v))


@register("HTTPHeader")
def http_header(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    if obj.get("name", "") == "":
        ctx.error(path + ("name",), "HTTP header name can't be empty")
    if obj.get("value") == "":
        ctx.error(path + ("value",), "unable to parse HTTP header")

