"""Rules of the ``storage`` section: files, directories, links, disks, partitions, filesystems, RAID."""

from __future__ import annotations

import re
from typing import Any, Optional

from ...gocompat.path import clean_path
from .common import check_path, is_false, is_true, nil_or_empty, not_empty
from .context import Ctx, Path, register

# --------------------------------------------------------------------------------------------
# Nodes


@register("NodeUser", "NodeGroup")
def node_owner(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    if obj.get("id") is not None and not_empty(obj.get("name")):
        ctx.error(path, "cannot set both id and name")


def _mode(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    m = obj.get("mode")
    if m is None:
        return
    if m < 0 or m > 0o7777:
        ctx.error(path + ("mode",), "illegal file mode")
    if ctx.v < (3, 6) and (m & 0o7000):
        ctx.warn(path + ("mode",),
                 "setuid/setgid/sticky bits are not supported or functional in spec versions older than 3.6.0")


@register("File")
def file(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    ctx.error(path + ("path",), check_path(obj.get("path")))
    _mode(obj, path, ctx)
    if is_true(obj.get("overwrite")) and obj.get("contents", {}).get("source") is None:
        ctx.error(path + ("overwrite",), "overwrite must be false if source is unspecified")


@register("Directory")
def directory(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    ctx.error(path + ("path",), check_path(obj.get("path")))
    _mode(obj, path, ctx)


@register("Link")
def link(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    ctx.error(path + ("path",), check_path(obj.get("path")))
    if ctx.v >= (3, 3) and nil_or_empty(obj.get("target")):
        ctx.error(path + ("target",), "link target is required")


@register("Storage")
def storage(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    links = obj.get("links") or []
    dirs = obj.get("directories") or []
    link_prefixes = [lk.get("path", "") + "/" for lk in links]
    nodes_under_links = (("directories", dirs, "directory"), ("files", obj.get("files") or [], "file"))
    for kind, nodes, what in nodes_under_links if links else ():
        for i, node in enumerate(nodes):
            p = node.get("path", "")
            for pre in link_prefixes:
                if p.startswith(pre):
                    ctx.error(path + (kind, i), f"{what} path includes link in config")
    dir_paths = {d.get("path", "") for d in dirs}
    for i, lk in enumerate(links):
        p = lk.get("path", "")
        for pre in link_prefixes:
            if p.startswith(pre):
                ctx.error(path + ("links", i), "link path includes link in config")
        if not is_true(lk.get("hard")):
            continue
        target = lk.get("target")
        if ctx.v >= (3, 3) and nil_or_empty(target):
            continue
        t = clean_path(target or "")
        if not t.startswith("/"):
            # Go's path.Join(link path, target): empty elements are left out
            t = clean_path("/".join(x for x in (p, target or "") if x)) if (p or target) else ""
        if t in dir_paths:
            ctx.error(path + ("links", i), "hard link target is a directory")
        for who in ("user", "group"):
            owner = lk.get(who, {})
            for key in ("id", "name"):
                if owner.get(key) is not None:
                    ctx.warn(path + ("links", i, who, key), "user/group ignored for hard link")
    disks = obj.get("disks") or []
    if disks:
        for i, fs in enumerate(obj.get("filesystems") or []):
            dev = fs.get("device", "")
            # Ignition looks the device up in a map of the disks: of several with one device, the last counts
            for d in [d for d in disks if d.get("device", "") == dev][-1:]:
                if d.get("partitions"):
                    ctx.warn(path + ("filesystems", i, "device"), "filesystem overwrites partitioned device")
                elif is_true(d.get("wipeTable")) and not is_true(fs.get("wipeFilesystem")):
                    ctx.warn(path + ("filesystems", i, "device"),
                             "device matches disk with wipeTable enabled; filesystem will be wiped")


# --------------------------------------------------------------------------------------------
# Disks and partitions


def _numbers_collide(parts: list[dict[str, Any]]) -> Optional[int]:
    seen: set[int] = set()
    for i, p in enumerate(parts):
        n = p.get("number", 0)
        if n == 0:
            continue
        if n in seen:
            return i
        seen.add(n)
    return None


def _overlap(parts: list[dict[str, Any]]) -> Optional[int]:
    def span(p: dict[str, Any]) -> Optional[tuple[int, int]]:
        start, size = p.get("startMiB"), p.get("sizeMiB")
        if start is None or size is None or start == 0:
            return None
        return (start, start + size - 1 if size != 0 else start)

    spans = [span(p) for p in parts]
    for a, sa in enumerate(spans):
        if sa is None:
            continue
        for b, sb in enumerate(spans):
            if a == b or sb is None:
                continue
            s1, e1 = sa
            s2, e2 = sb
            if s2 <= s1 <= e2 or s2 <= e1 <= e2 or (s1 < s2 and e1 > e2):
                return b
    return None


def _labels_collide(parts: list[dict[str, Any]]) -> Optional[int]:
    seen: set[str] = set()
    for i, p in enumerate(parts):
        lab = p.get("label")
        if lab is None:
            continue
        if lab in seen:
            return i
        seen.add(lab)
    return None


@register("Disk")
def disk(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    dev = obj.get("device", "")
    if dev == "":
        ctx.error(path + ("device",), "disk device is required")
        return
    ctx.error(path + ("device",), check_path(dev))
    parts = obj.get("partitions") or []
    i = _numbers_collide(parts)
    if i is not None:
        ctx.error(path + ("partitions", i), "partition numbers collide")
    i = _overlap(parts)
    if i is not None:
        ctx.error(path + ("partitions", i), "partitions overlap")
    i = _labels_collide(parts)
    if i is not None:
        ctx.error(path + ("partitions", i), "cannot use the same partition label twice")


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def _guid(v: Optional[str]) -> Optional[str]:
    if v is None or v == "" or _GUID.match(v):
        return None
    return 'doesn\'t match the form "01234567-89AB-CDEF-EDCB-A98765432101"'


@register("Partition")
def partition(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    label = obj.get("label")
    if is_false(obj.get("shouldExist")) and (
            label is not None or not_empty(obj.get("typeGuid")) or not_empty(obj.get("guid"))
            or obj.get("startMiB") is not None or obj.get("sizeMiB") is not None):
        ctx.error(path, "shouldExist specified false with other options also specified")
    if obj.get("number", 0) == 0 and label is None:
        ctx.error(path, "a partition number >= 1 or a label must be specified")
    if label is not None:
        if len(label.encode("utf-8", errors="surrogatepass")) > 36:
            ctx.error(path + ("label",), "partition labels may not exceed 36 characters")
        elif ":" in label:
            ctx.error(path + ("label",), "partition label will be truncated to text before the colon")
    ctx.error(path + ("guid",), _guid(obj.get("guid")))
    ctx.error(path + ("typeGuid",), _guid(obj.get("typeGuid")))


# --------------------------------------------------------------------------------------------
# Filesystems

_LABEL_MAX = {"ext4": 16, "btrfs": 256, "xfs": 12, "swap": 15, "vfat": 11}


def _formats(v: tuple[int, int]) -> tuple[str, ...]:
    f: tuple[str, ...] = ("ext4", "btrfs", "xfs", "swap", "vfat")
    if v >= (3, 3):
        f += ("none",)
    if v >= (3, 7):
        f += ("virtiofs",)
    return f


@register("Filesystem")
def filesystem(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    fmt = obj.get("format")
    virtiofs = ctx.v >= (3, 7) and fmt == "virtiofs"
    if not_empty(obj.get("path")):
        ctx.error(path + ("path",), check_path(obj.get("path")))
    dev = obj.get("device", "")
    if virtiofs:
        if dev == "":
            ctx.error(path + ("device",), "device not specified")
        elif len(dev.encode("utf-8", errors="surrogatepass")) > 36:
            ctx.error(path + ("device",), "virtiofs device tag cannot be longer than 36 bytes")
    else:
        ctx.error(path + ("device",), check_path(dev))
    label = obj.get("label")
    if nil_or_empty(fmt):
        if (not_empty(obj.get("path")) or not_empty(label) or not_empty(obj.get("uuid"))
                or is_true(obj.get("wipeFilesystem")) or obj.get("options")
                or (ctx.v >= (3, 1) and obj.get("mountOptions"))):
            ctx.error(path + ("format",), "format cannot be empty when path, label, uuid, wipeFilesystem, "
                      "options, or mountOptions is specified")
    elif fmt not in _formats(ctx.v):
        ctx.error(path + ("format",), "invalid filesystem format")
    if not_empty(label):
        assert label is not None
        if nil_or_empty(fmt):
            ctx.error(path + ("label",), "filesystem must specify format if label is specified")
        elif virtiofs:
            ctx.error(path + ("label",), "filesystem labels cannot be set when using virtiofs")
        elif fmt in _LABEL_MAX and len(label.encode("utf-8", errors="surrogatepass")) > _LABEL_MAX[fmt]:
            ctx.error(path + ("label",),
                      f"filesystem labels cannot be longer than {_LABEL_MAX[fmt]} characters when using {fmt}")
    if virtiofs:
        if not_empty(obj.get("uuid")):
            ctx.error(path + ("uuid",), "filesystem uuid cannot be set for non-block-device filesystems")
        if is_true(obj.get("wipeFilesystem")):
            ctx.error(path + ("wipeFilesystem",), "wipeFilesystem cannot be set for non-block-device filesystems")
        if obj.get("options"):
            ctx.error(path + ("options",),
                      "filesystem options (mkfs) cannot be set for non-block-device filesystems")


# --------------------------------------------------------------------------------------------
# RAID

_LEVELS_NO_SPARES = {"linear", "raid0", "0", "stripe"}
_LEVELS = {"raid1", "1", "mirror", "raid4", "4", "raid5", "5", "raid6", "6", "raid10", "10"}


@register("Raid")
def raid(obj: dict[str, Any], path: Path, ctx: Ctx) -> None:
    level = obj.get("level")
    if ctx.v >= (3, 3) and nil_or_empty(level):
        ctx.error(path + ("level",), "raid level is required")
    else:
        level = level or ""
        if level in _LEVELS_NO_SPARES:
            if obj.get("spares", 0) != 0:
                ctx.error(path + ("level",), "spares unsupported for linear and raid0 arrays")
        elif level not in _LEVELS:
            ctx.error(path + ("level",), "unrecognized raid level")
    devices = obj.get("devices") or []
    if not devices:
        ctx.error(path + ("devices",), "raid devices required")
    for i, d in enumerate(devices):
        ctx.error(path + ("devices", i), check_path(d))
