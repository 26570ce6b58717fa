"""Rules of ``storage.luks`` (spec 3.2+): names, labels, devices, key files, Clevis, Tang and CEX."""

from __future__ import annotations

from typing import Any

from ...gocompat.neturl import URLError, go_url_parse
from ..jsonpos import syntax_error
from .common import check_path, check_url, is_true, nil_or_empty, not_empty
from .context import Ctx, Path, register

_PINS = ("tpm2", "tang", "sss")


def _clevis_others(clevis: dict[str, Any]) -> bool:
    return bool(clevis.get("tang")) or is_true(clevis.get("tpm2")) or clevis.get("threshold", 0) != 0


@register("Luks")
def luks(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    if "/" in obj.get("name", ""):
        ctx.error(path + ("name",), "device names cannot contain slashes")
    label = obj.get("label")
    if label is not None and len(label.encode("utf-8", errors="surrogatepass")) > 47:
        ctx.error(path + ("label",), "luks device labels cannot be longer than 47 characters")
    dev = obj.get("device")
    if nil_or_empty(dev):
        ctx.error(path + ("device",), "disk device is required")
    else:
        ctx.error(path + ("device",), check_path(dev))
    src = obj.get("keyFile", {}).get("source")
    if src and check_url(src, ctx.v):
        ctx.error(path + ("keys",), "invalid key-file source")
    clevis = obj.get("clevis")
    if clevis is not None:
        custom = clevis.get("custom")
        # 3.2's custom is a pointer: present means used; from 3.3 on a custom pin must be set
        uses_custom = custom is not None and (ctx.v < (3, 3) or not_empty(custom.get("pin")))
        if uses_custom and _clevis_others(clevis):
            ctx.error(path + ("clevis",), "cannot use custom clevis config with tpm2, tang, or threshold")
    if ctx.v >= (3, 5) and is_true(obj.get("cex", {}).get("enabled")):
        if clevis is not None:
            custom = clevis.get("custom") or {}
            if not_empty(custom.get("pin")) or _clevis_others(clevis):
                ctx.error(path + ("cex",), "cannot use cex with clevis")
        if not_empty(src):
            ctx.error(path + ("cex",), "cannot use key file with cex")


@register("ClevisCustom", "Custom")
def clevis_custom(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    pin = obj.get("pin", "") or ""
    config = obj.get("config", "") or ""
    if ctx.v < (3, 3):
        if pin == "" and config == "":
            return
        if pin not in _PINS:
            ctx.error(path + ("pin",), "unsupported clevis pin")
        if config == "":
            ctx.error(path + ("config",), "missing required custom clevis config")
        return
    if pin == "" and config == "" and not is_true(obj.get("needsNetwork")):
        return
    if pin == "":
        ctx.error(path + ("pin",), "missing required custom clevis pin")
    elif ctx.v < (3, 6) and pin not in _PINS:
        ctx.error(path + ("pin",), "unsupported clevis pin")
    if config == "":
        ctx.error(path + ("config",), "missing required custom clevis config")


@register("Tang")
def tang(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    url = obj.get("url", "")
    try:
        u = go_url_parse(url)
        if u.scheme not in ("http", "https"):
            ctx.error(path + ("url",), "invalid url scheme")
    except URLError:
        ctx.error(path + ("url",), "unable to parse url")
    if nil_or_empty(obj.get("thumbprint")):
        ctx.error(path + ("thumbprint",), "thumbprint is required")
    adv = obj.get("advertisement")
    if ctx.v >= (3, 4) and adv and syntax_error(adv.encode("utf-8", errors="surrogatepass")) is not None:
        ctx.error(path + ("advertisement",), "advertisement is not valid JSON")
