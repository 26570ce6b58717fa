"""Rules of the ``systemd`` section: unit and drop-in names, unit file syntax, [Install] sections."""

from __future__ import annotations

import re
from typing import Any, Optional

from ...gocompat.strconv import go_quote
from ...gocompat.unitfile import UnitParseError, parse_unit
from .common import is_true, nil_or_empty
from .context import Ctx, Path, register

_UNIT_EXT = {".service", ".socket", ".device", ".mount", ".automount", ".swap", ".target", ".path", ".timer",
             ".snapshot", ".slice", ".scope"}


def _ext(name: str) -> str:
    i = name.rfind(".")
    return name[i:] if i >= 0 else ""


def _parse(contents: Optional[str]) -> tuple[Optional[list[tuple[str, str, str]]], Optional[str]]:
    if contents is None:
        return None, None
    try:
        return parse_unit(contents), None
    except UnitParseError as e:
        return None, f"invalid unit content: {e}"


def _has_install(opts: list[tuple[str, str, str]]) -> bool:
    return any(sec == "Install" for sec, _, _ in opts)


@register("Unit")
def unit(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    name = obj.get("name", "")
    if _ext(name) not in _UNIT_EXT:
        ctx.error(path + ("name",), "invalid systemd unit extension")
    contents = obj.get("contents")
    opts, err = _parse(contents)
    ctx.error(path + ("contents",), err)
    if is_true(obj.get("enabled")) and not nil_or_empty(contents) and err is None:
        assert opts is not None
        if not _has_install(opts):
            ctx.warn(path + ("contents",),
                     f"unit {go_quote(name)} is enabled, but has no install section so enable does nothing")


@register("Dropin")
def dropin(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    if _ext(obj.get("name", "")) != ".conf":
        ctx.error(path + ("name",), "invalid systemd drop-in extension")
    _, err = _parse(obj.get("contents"))
    ctx.error(path + ("contents",), err)


_INSTANCE = re.compile(r"^(.+?)@(.+?)\.service$")


@register("Systemd")
def systemd(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    units = obj.get("units") or []
    if not any("@" in u.get("name", "") for u in units):
        return
    templates_without_install: dict[str, bool] = {}
    for u in units:
        name = u.get("name", "")
        if name.endswith("@.service") and not nil_or_empty(u.get("contents")):
            opts, err = _parse(u.get("contents"))
            if err is None and opts is not None:
                templates_without_install[name] = not _has_install(opts)
    for i, u in enumerate(units):
        name = u.get("name", "")
        m = _INSTANCE.match(name)
        if not m or not is_true(u.get("enabled")):
            continue
        template = m.group(1) + "@.service"
        if templates_without_install.get(template):
            ctx.warn(path + ("units", i, "contents"),
                     f"template unit {go_quote(template)} for {go_quote(name)} doesn't have Install section")
