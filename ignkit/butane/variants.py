"""What the variants add to the base translation: fcos's ``boot_device``/``grub`` sugar and lints, the
openshift variant's MachineConfig wrapping and refusals, and the final Ignition validation.

Generated parts are merged into the user's config the way Butane does it: as an Ignition parent
config (generated entries first, the user's entries with the same key merged into them).
"""

from __future__ import annotations

import copy
import re
from typing import Any, Optional

from .base import _NON_POINTER, O_KEY, Ctx, _mount_units, _quadlets, _trees, _value, go_shape
from .dataurl import make_data_url
from .report import Entry, YPath
from .schema import BStruct, snake

__all__ = ["check_variant", "finish", "machine_config"]

ERR_LAYOUT_OLD = "layout must be one of: aarch64, ppc64le, x86_64"
ERR_LAYOUT = "layout must be one of: aarch64, ppc64le, s390x-eckd, s390x-virt, s390x-zfcp, x86_64"
ERR_MIRROR_FEW = "mirroring requires at least two devices"
ERR_MIRROR_S390 = "mirroring not supported on layouts: s390x-eckd, s390x-zfcp, s390x-virt"
ERR_NO_LUKS_DEVICE = "device is required for layouts: s390x-eckd, s390x-zfcp"
ERR_LUKS_DEVICE_NAME = "device name must start with /dev/dasd on s390x-eckd layout or /dev/sd on s390x-zfcp layout"
ERR_CEX_ARCH = "when using cex the targeted architecture must match s390x"
ERR_CEX_CLEVIS = "cannot use cex with clevis"
ERR_NO_LUKS_METHOD = "no method specified for luks"
ERR_ZEROES_NOT_EXIST = "shouldExist is false for a partition and other partition(s) has start or size 0"
ERR_CEX_PLATFORM = "cex is not currently supported on the target platform"
_CEX_KARG = "rd.luks.key=/etc/luks/cex.key"
WARN_MIRROR_LAYOUT = "boot_device.layout should be specified when boot_device.mirror is specified"
ERR_REUSE_BY_LABEL = ("partitions cannot be reused by label; number must be specified except on boot disk "
                      "(/dev/disk/by-id/coreos-boot-disk) or when wipe_table is true")
ERR_MOUNTPOINT = "path must be under /etc or /var if with_mount_unit is true"
WARN_ROOT_CONSTRAINED = ("root partition cannot expand; it is set to fill available space but is followed by an "
                         "auto-positioned partition")
WARN_ROOT_SMALL = "root should have 8GiB of space assigned"
WARN_PART_NUMBER = "incorrect partition number; a new partition will be created using reserved label"

_RESERVED_GUID = "8DA63339-0007-60C0-C436-083AC8230908"
_BIOS_GUID = "21686148-6449-6E6F-744E-656564454649"
_PREP_GUID = "9E1A2D38-C612-4316-AA26-8B49521E5A8B"
_ESP_GUID = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"

_OS_FILTERS: list[tuple[tuple[str, ...], str]] = [
    (("kernelArguments",), "this section cannot be used for kernel arguments in this spec version; use "
                           "openshift.kernel_arguments instead"),
    (("passwd", "groups"), "groups are not supported in this spec version"),
    (("storage", "directories"), "directories are not supported in this spec version"),
    (("storage", "files", "*", "append"), "appending to files is not supported in this spec version"),
    (("storage", "files", "*", "contents", "httpHeaders"), "file HTTP headers are not supported in this spec "
                                                          "version"),
    (("storage", "links"), "links are not supported in this spec version"),
]
_USER_FIELDS = ("gecos", "groups", "homeDir", "noCreateHome", "noLogInit", "noUserGroup", "passwordHash",
                "primaryGroup", "shell", "shouldExist", "system", "uid")


# --- source checks ----------------------------------------------------------------------------------------


def check_variant(ctx: Ctx, v: dict[str, Any], path: YPath) -> None:
    spec = ctx.spec
    # fcos's whole-config checks; the openshift variant's own Config.Validate shadows them (Butane skips them)
    if spec.variant == "fcos" and spec.base >= 6:
        storage = v.get("storage") or {}
        mirrored = set(((v.get("boot_device") or {}).get("mirror") or {}).get("devices") or [])
        for i, disk in enumerate(storage.get("disks") or []):
            if (disk.get("device") != "/dev/disk/by-id/coreos-boot-disk" and disk.get("wipe_table") is not True
                    and disk.get("device") not in mirrored):
                for p, part in enumerate(disk.get("partitions") or []):
                    if not part.get("number") and "label" in part:
                        ctx.warn(("storage", "disks", i, "partitions", p, "number"), ERR_REUSE_BY_LABEL)
        for i, fs in enumerate(storage.get("filesystems") or []):
            p = fs.get("path")
            if p is not None and not re.match(r"^/(etc|var)(/|$)", p) and fs.get("with_mount_unit") is True:
                ctx.error(("storage", "filesystems", i, "path"), ERR_MOUNTPOINT)
    if spec.variant == "flatcar":
        for i, luks in enumerate((v.get("storage") or {}).get("luks") or []):
            if (luks.get("cex") or {}).get("enabled") is not None:
                ctx.error(("storage", "luks", i, "cex"), ERR_CEX_PLATFORM)
    if spec.openshift:
        md = v.get("metadata") or {}
        if not md.get("name"):
            ctx.error(("metadata", "name"), "metadata.name is required")
        if not (md.get("labels") or {}).get("machineconfiguration.openshift.io/role"):
            ctx.error(("metadata", "labels"), "machineconfiguration.openshift.io/role label is required")
        kt = (v.get("openshift") or {}).get("kernel_type")
        if kt not in (None, "", "default", "realtime"):
            ctx.error(("openshift", "kernel_type"), 'must be empty, "default", or "realtime"')
    bd = v.get("boot_device")
    if spec.boot_device and bd:
        _check_boot_device(ctx, bd)
    if spec.openshift and spec.base >= 6 and (((bd or {}).get("luks") or {}).get("cex") or {}).get("enabled") is True:
        if _CEX_KARG not in ((v.get("openshift") or {}).get("kernel_arguments") or []):
            ctx.error(("openshift", "kernel_arguments"),
                      f"'{_CEX_KARG}' must be set as kernel argument when CEX is enabled for the boot device")
    grub = v.get("grub")
    if spec.grub and grub:
        for i, user in enumerate(grub.get("users") or []):
            if not user.get("name"):
                ctx.error(("grub", "users", i, "name"), 'field "name" is required')
            if not user.get("password_hash"):
                ctx.error(("grub", "users", i, "password_hash"), 'field "password_hash" is required')


def _check_boot_device(ctx: Ctx, bd: dict[str, Any]) -> None:
    new = ctx.spec.base >= 6
    layout = bd.get("layout")
    luks = bd.get("luks") or {}
    mirror = bd.get("mirror") or {}
    devices = mirror.get("devices") or []
    if devices and layout is None:
        ctx.add("error" if ctx.spec.base >= 7 else "warning", ("boot_device", "mirror"), WARN_MIRROR_LAYOUT)
    lp: YPath = ("boot_device", "layout")
    if layout is not None:
        if layout in ("aarch64", "ppc64le", "x86_64"):
            pass
        elif new and layout in ("s390x-eckd", "s390x-zfcp"):
            dev = luks.get("device")
            pat = r"/dev/dasd[a-z]$" if layout == "s390x-eckd" else r"/dev/sd[a-z]$"
            if not dev:
                ctx.error(lp, ERR_NO_LUKS_DEVICE)
            elif not re.search(pat, dev):
                ctx.error(lp, ERR_LUKS_DEVICE_NAME)
        elif new and layout == "s390x-virt":
            pass
        else:
            ctx.error(lp, ERR_LAYOUT if new else ERR_LAYOUT_OLD)
        if new and layout.startswith("s390x-") and layout in ("s390x-eckd", "s390x-zfcp", "s390x-virt") and devices:
            ctx.error(lp, ERR_MIRROR_S390)
    if new and (luks.get("cex") or {}).get("enabled") is True:
        if layout is None:
            ctx.error(("boot_device", "luks", "cex"), ERR_CEX_ARCH)
        elif not layout.startswith("s390x"):
            ctx.error(lp, ERR_CEX_ARCH)
        if luks.get("tang") or luks.get("tpm2") is True:
            ctx.error(("boot_device", "luks"), ERR_CEX_CLEVIS)
    if len(devices) == 1:
        ctx.error(("boot_device", "mirror", "devices"), ERR_MIRROR_FEW)
        ctx.error(("boot_device", "mirror", "devices"), ERR_MIRROR_FEW)
    tang_given = any(isinstance(t, dict) and any(x is not None for x in t.values()) for t in luks.get("tang") or [])
    if ctx.spec.base >= 7 and luks.get("device") and not (
            tang_given or luks.get("tpm2") is True or (luks.get("cex") or {}).get("enabled") is True):
        ctx.error(("boot_device", "luks", "luks"), ERR_NO_LUKS_METHOD)  # (sic: Butane's path)


# --- translation --------------------------------------------------------------------------------------------


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    from ..ignition.merge import merge

    return merge(parent, child)


def _base(ctx: Ctx, tree: BStruct, v: dict[str, Any]) -> dict[str, Any]:
    cfg: dict[str, Any] = {}
    for key, f in tree.fields.items():
        if f.json is None or key not in v:
            continue
        cfg[f.json] = _value(ctx, f, v[key], (key,))
    ign = cfg.setdefault("ignition", {})
    ign["version"] = ctx.spec.ignition
    return cfg


def _sugar(out: dict[str, Any], ypath: YPath) -> dict[str, Any]:
    out[O_KEY] = (ypath, {}, True)
    return out


def _boot_device(ctx: Ctx, bd: dict[str, Any]) -> Optional[dict[str, Any]]:
    luks = bd.get("luks") or {}
    cex = (luks.get("cex") or {}).get("enabled") is True
    want_luks = luks.get("tpm2") is True or bool(luks.get("tang")) or cex
    devices = (bd.get("mirror") or {}).get("devices") or []
    want_mirror = bool(devices)
    if not want_luks and not want_mirror:
        return None
    layout = bd.get("layout")
    bios = efi = prep = False
    if layout in (None, "x86_64"):
        bios = efi = True
    elif layout == "aarch64":
        efi = True
    elif layout == "ppc64le":
        prep = True
    disks: list[dict[str, Any]] = []
    filesystems: list[dict[str, Any]] = []
    storage: dict[str, Any] = {}
    mp: YPath = ("boot_device", "mirror")
    if want_mirror:
        for i, device in enumerate(devices):
            n = len(disks) + 1
            parts = []
            if bios:
                parts.append({"label": f"bios-{n}", "sizeMiB": 1, "typeGuid": _BIOS_GUID})
            elif prep:
                parts.append({"label": f"prep-{n}", "sizeMiB": 4, "typeGuid": _PREP_GUID})
            else:
                parts.append({"label": f"reserved-{n}", "sizeMiB": 1, "typeGuid": _RESERVED_GUID})
            if efi:
                parts.append({"label": f"esp-{n}", "sizeMiB": 127, "typeGuid": _ESP_GUID})
            else:
                parts.append({"label": f"reserved-{n}", "sizeMiB": 1, "typeGuid": _RESERVED_GUID})
            parts.append({"label": f"boot-{n}", "sizeMiB": 384})
            parts.append({"label": f"root-{n}"})
            disks.append(_sugar({"device": device, "partitions": parts, "wipeTable": True}, mp + ("devices", i)))
            if efi:
                filesystems.append(_sugar({"device": f"/dev/disk/by-partlabel/esp-{n}", "format": "vfat",
                                           "label": f"esp-{n}", "wipeFilesystem": True}, mp + ("devices", i)))
        count = len(disks)
        storage["raid"] = [
            _sugar({"devices": [f"/dev/disk/by-partlabel/boot-{i + 1}" for i in range(count)], "level": "raid1",
                    "name": "md-boot", "options": ["--metadata=1.0"]}, mp),
            _sugar({"devices": [f"/dev/disk/by-partlabel/root-{i + 1}" for i in range(count)], "level": "raid1",
                    "name": "md-root"}, mp),
        ]
        filesystems.append(_sugar({"device": "/dev/md/md-boot", "format": "ext4", "label": "boot",
                                   "wipeFilesystem": True}, mp))
        storage["disks"] = disks
    if want_luks:
        lp: YPath = ("boot_device", "luks")
        if layout == "s390x-eckd":
            dev = luks.get("device", "") + "2"
        elif layout == "s390x-zfcp":
            dev = luks.get("device", "") + "4"
        elif want_mirror:
            dev = "/dev/md/md-root"
        else:
            dev = "/dev/disk/by-partlabel/root"
        entry: dict[str, Any] = {}
        if cex:
            entry["cex"] = {"enabled": True}
        else:
            clevis: dict[str, Any] = {}
            if luks.get("tang"):
                clevis["tang"] = []
                for i, t in enumerate(luks["tang"]):
                    server = dict(t)
                    ctx.origin(server, lp + ("tang", i))  # findings in a tang server point into it
                    clevis["tang"].append(server)
            if "threshold" in luks:
                clevis["threshold"] = luks["threshold"]
            if "tpm2" in luks:
                clevis["tpm2"] = luks["tpm2"]
            ctx.origin(clevis, lp)
            entry["clevis"] = clevis
        entry["device"] = dev
        if "discard" in luks:
            entry["discard"] = luks["discard"]
        entry.update({"label": "luks-root", "name": "root", "wipeVolume": True})
        # as Butane's translations: clevis's own fields and discard map into boot_device.luks, the rest to it
        ctx.origin(entry, lp, {k: lp for k in ("clevis", "cex", "device", "label", "name", "wipeVolume", "options")})
        storage["luks"] = [entry]
    root_dev = "/dev/mapper/root" if want_luks else "/dev/md/md-root"
    filesystems.append(_sugar({"device": root_dev, "format": "xfs", "label": "root", "wipeFilesystem": True},
                              ("boot_device",)))
    storage["filesystems"] = filesystems
    return {"storage": storage}


def _grub(ctx: Ctx, grub: dict[str, Any]) -> Optional[dict[str, Any]]:
    users = grub.get("users") or []
    if not users:
        return None
    names = [u.get("name", "") for u in users]
    cmds = [f"password_pbkdf2 {u.get('name', '')} {u.get('password_hash', '')}" for u in users]
    text = "# Generated by Butane\n\nset superusers=\"" + " ".join(names) + "\"\n" + "\n".join(cmds) + "\n"
    url, comp = make_data_url(text.encode("utf-8"), None)
    res: dict[str, Any] = {"source": url}
    if comp is not None:
        res["compression"] = comp
    yp: YPath = ("grub", "users")
    _sugar(res, yp)
    return {"storage": {
        "filesystems": [_sugar({"device": "/dev/disk/by-label/boot", "format": "ext4", "path": "/boot"}, yp)],
        "files": [_sugar({"path": "/boot/grub2/user.cfg", **({"contents": res} if _grub_as_contents(ctx) else
                                                              {"append": [res]})}, yp)],
    }}


def _grub_as_contents(ctx: Ctx) -> bool:
    """openshift 4.23.0-experimental writes user.cfg as the file's contents (MachineConfigs cannot append),
    over the user's own config."""
    return ctx.spec.openshift and ctx.spec.version == "4.23.0-experimental"


def _partition_lints(ctx: Ctx, cfg: dict[str, Any]) -> None:
    new = ctx.spec.boot_device or (ctx.spec.variant == "fcos" and ctx.spec.base >= 4)
    mc = ctx.spec.openshift and not ctx.raw

    def label_at(jp: tuple[Any, ...]) -> YPath:
        # fcos translates these findings' paths back to the source; inside a MachineConfig they stay JSON paths
        return jp + ("label",) if mc else back(cfg, jp + ("label",))

    for i, disk in enumerate((cfg.get("storage") or {}).get("disks") or []):
        parts = disk.get("partitions") or []
        for p, part in enumerate(parts):
            label = part.get("label")
            if label is None:
                continue
            jp = ("storage", "disks", i, "partitions", p)
            if label == "root" and new:
                size = part.get("sizeMiB")
                if not size:  # any other partition placed automatically (before it or after it) constrains it
                    for later in parts[:p] + parts[p + 1:]:
                        if not later.get("startMiB"):
                            ctx.warn(label_at(jp), WARN_ROOT_CONSTRAINED)
                            break
                elif size < 8192:  # Butane names this one by the merged config's indices, untranslated
                    ctx.warn(jp + ("size_mib",), WARN_ROOT_SMALL)
            if disk.get("wipeTable") is not True:
                number = part.get("number", 0)
                if ((label == "BIOS-BOOT" and number != 1) or (label == "PowerPC-PReP-boot" and number != 1)
                        or (label == "EFI-SYSTEM" and number != 2) or (label == "boot" and number != 3)
                        or (label == "root" and number != 4)):
                    ctx.warn(label_at(jp), WARN_PART_NUMBER)


def back(cfg: dict[str, Any], jpath: tuple[Any, ...]) -> YPath:
    """The Butane path a path of the translated config comes from (origins recorded on the dicts)."""
    node: Any = cfg
    cur: YPath = ()
    renames: dict[str, YPath] = {}
    last = ""
    for el in jpath:
        if isinstance(node, dict) and O_KEY in node:
            yp, rn, sugar = node[O_KEY]
            if sugar:
                return tuple(yp)
            cur, renames = tuple(yp), rn
        if isinstance(el, str):
            cur = tuple(renames[el]) if el in renames else cur + (snake(el),)
            last = el
            node = node.get(el) if isinstance(node, dict) else None
            if isinstance(node, list) and node and all(isinstance(x, dict) and O_KEY in x and x[O_KEY][2]
                                                       for x in node):
                origins = {tuple(x[O_KEY][0]) for x in node}
                if len(origins) == 1:
                    return origins.pop()  # a list only generated sugar fills comes from that sugar
        else:
            item = renames.get(f"{last}.{el}")
            cur = tuple(item) if item is not None else cur + (el,)
            renames = {}
            node = node[el] if isinstance(node, list) and 0 <= el < len(node) else None
            if isinstance(node, dict) and O_KEY in node and not node[O_KEY][2]:
                cur = tuple(node[O_KEY][0])  # an item merged into generated ones keeps its own source path
    if isinstance(node, dict) and O_KEY in node and node[O_KEY][2]:
        return tuple(node[O_KEY][0])
    return cur


def strip(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k != O_KEY}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def finish(ctx: Ctx, tree: BStruct, v: dict[str, Any]) -> Optional[dict[str, Any]]:
    """Translate the decoded document ``v``; None when translation itself failed (source errors)."""
    spec = ctx.spec
    cfg = _base(ctx, tree, v)
    if ctx.fatal:
        return None
    if spec.grub or (spec.base >= 2 and (v.get("storage") or {}).get("filesystems")):
        ctx.merged = True  # Butane merges the grub sugar always, mount units whenever filesystems are listed
    mounts = _mount_units(ctx, v)
    if mounts is not None:
        cfg = _merge(mounts, cfg)
    trees = (v.get("storage") or {}).get("trees")
    if trees:
        _trees(ctx, trees, cfg)
    quadlets = (v.get("systemd") or {}).get("quadlets")
    if quadlets:
        _quadlets(ctx, quadlets, cfg)
    if ctx.fatal:
        return None
    if spec.boot_device and v.get("boot_device"):
        bd = _boot_device(ctx, v["boot_device"])
        if bd is not None:
            ctx.merged = True
            cfg = _merge(bd, cfg)
    if spec.variant in ("fcos", "openshift"):
        _partition_lints(ctx, cfg)
    if spec.grub and v.get("grub"):
        g = _grub(ctx, v["grub"])
        if g is not None:
            cfg = _merge(cfg, g) if _grub_as_contents(ctx) else _merge(g, cfg)
    _variant_filters(ctx, cfg)
    if ctx.fatal:
        return None
    raw_mode = getattr(ctx, "raw", False)
    if spec.openshift:
        _openshift(ctx, v, cfg, raw_mode)
        if ctx.fatal:
            return None
    _validate(ctx, cfg)
    if spec.openshift and not raw_mode:
        _machine_config_dups(ctx, v)
    return go_shape(strip(cfg), spec.ignition)


def _machine_config_dups(ctx: Ctx, v: dict[str, Any]) -> None:
    """The MachineConfig's own lists (extensions, kernel arguments) hold no value twice (Ignition's dups check
    over the whole MachineConfig)."""
    osf = v.get("openshift") or {}
    for key in ("extensions", "kernel_arguments"):
        seen: set[Any] = set()
        for i, x in enumerate(osf.get(key) or []):
            if x in seen:
                ctx.error(("openshift", key, i), "duplicate entry defined")
            seen.add(x)


def _openshift(ctx: Ctx, v: dict[str, Any], cfg: dict[str, Any], raw: bool) -> None:
    osf = v.get("openshift") or {}
    if osf.get("fips") is True and ctx.spec.base < 6:  # 4.19+ no longer adds the cipher options
        for luks in (cfg.get("storage") or {}).get("luks") or []:
            opts = list(luks.get("options") or [])
            if any(o == "--cipher" or o.startswith("--cipher=") or o == "-c" for o in opts):
                continue
            luks["options"] = opts + ["--cipher", "aes-cbc-essiv:sha256"]

    def at(jp: tuple[Any, ...]) -> YPath:
        if raw or not translated(ctx, cfg, jp):
            return ("spec", "config") + tuple(snake(x) if isinstance(x, str) else x for x in jp)
        return back(cfg, jp)

    storage = cfg.get("storage") or {}
    for i, fs in enumerate(storage.get("filesystems") or []):
        if fs.get("format") == "btrfs":
            ctx.error(at(("storage", "filesystems", i, "format")), "btrfs is not supported in this spec version")
    for i, fs in enumerate(storage.get("filesystems") or []):
        if fs.get("format") == "none" and ctx.spec.base >= 5:  # before, Ignition itself refuses the format
            ctx.error(at(("storage", "filesystems", i, "format")),
                      'format "none" is not supported in this spec version')
    for i, f in enumerate(storage.get("files") or []):
        src = (f.get("contents") or {}).get("source")
        if isinstance(src, str):
            m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", src)
            if m is None or m.group(1).lower() != "data":
                ctx.error(at(("storage", "files", i, "contents", "source")),
                          "file contents source must be data URL in this spec version")
        mode = f.get("mode")
        if isinstance(mode, int) and mode & ~0o777 and int(ctx.spec.version.split(".")[1]) >= 10:
            ctx.error(at(("storage", "files", i, "mode")), "special mode bits are not supported in this spec version")
    for i, u in enumerate((cfg.get("passwd") or {}).get("users") or []):
        if u.get("name") != "core":
            ctx.error(at(("passwd", "users", i, "name")),
                      'users other than "core" are not supported in this spec version')
    if raw:
        for key in ("kernel_arguments", "extensions", "fips", "kernel_type"):
            if key in osf:
                ctx.warn(("openshift", key), "field ignored in raw mode")
        return
    if ctx.fatal:
        return
    # field filters (MachineConfig output only)
    pw_ok = ctx.spec.version >= "4.13.0" if ctx.spec.version[:4] != "4.8." and ctx.spec.version[:4] != "4.9." \
        else False
    for keys, msg in _OS_FILTERS:
        for jp in _expand(cfg, keys):
            ctx.error(at(jp), msg)
        if keys == ("passwd", "groups"):
            users = (cfg.get("passwd") or {}).get("users") or []
            for i, u in enumerate(users):
                for fld in _USER_FIELDS:
                    if fld == "passwordHash" and pw_ok:
                        continue
                    if _nonzero(u.get(fld)):
                        ctx.error(at(("passwd", "users", i, fld)),
                                  'fields other than "name", "ssh_authorized_keys", and "password_hash" (4.13.0+) '
                                  "are not supported in this spec version")


def _nonzero(v: Any) -> bool:
    """Go's ``!IsZero()`` for a decoded value: empty structs are zero, present lists (even empty) are not."""
    if v is None:
        return False
    if isinstance(v, dict):
        return any(_nonzero(x) for k, x in v.items() if k != O_KEY)
    if isinstance(v, list):
        return bool(v)  # the translator leaves empty lists out
    return True


_EDGE_FILTERS: list[tuple[tuple[str, ...], str]] = [
    (("kernelArguments",), "kernel argument customization is not supported in this spec version"),
    (("storage", "disks"), "disk customization is not supported in this spec version"),
    (("storage", "filesystems"), "filesystem customization is not supported in this spec version"),
    (("storage", "luks"), "luks is not supported in this spec version"),
    (("storage", "raid"), "raid is not supported in this spec version"),
]


def _variant_filters(ctx: Ctx, cfg: dict[str, Any]) -> None:
    """Fields the flatcar, r4e and fiot variants refuse (Butane's field filters)."""
    spec = ctx.spec
    if spec.variant in ("r4e", "fiot"):
        filters = _EDGE_FILTERS
    elif spec.variant == "flatcar" and spec.base < 8:
        filters = [(("storage", "luks", "*", "clevis"), "clevis is not supported in this spec version")]
    else:
        return
    for keys, msg in filters:
        for jp in _expand(cfg, keys):
            ctx.error(back(cfg, jp), msg)


def _expand(cfg: Any, keys: tuple[str, ...], prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if not keys:
        return [prefix] if _nonzero(cfg) else []
    k = keys[0]
    if k == "*":
        if not isinstance(cfg, list):
            return []
        out = []
        for i, x in enumerate(cfg):
            out += _expand(x, keys[1:], prefix + (i,))
        return out
    if not isinstance(cfg, dict) or k not in cfg:
        return []
    return _expand(cfg[k], keys[1:], prefix + (k,))


def _validate(ctx: Ctx, cfg: dict[str, Any]) -> None:
    from ..ignition.validate import validate

    clean = go_shape(strip(cfg), ctx.spec.ignition)
    rep = validate(copy.deepcopy(clean), spec=ctx.spec.ignition)
    # Butane checks duplicates over the whole config first, then validates
    for e in sorted(rep.entries, key=lambda e: e.message != "duplicate entry defined"):
        if e.path is None:
            ctx.entries.append(Entry(e.kind, None, None, None, e.message))
            continue
        jp = tuple(int(x) if x.isdigit() else x for x in e.path[2:].split(".")) if e.path != "$" else ()
        ctx.add(e.kind, _back_shaped(ctx, cfg, clean, jp), e.message)
    # A rule of the Ignition Butane vendors (newer Ignition dropped it): a partition that must not exist
    # beside one without a number
    for i, disk in enumerate((clean.get("storage") or {}).get("disks") or []):
        parts = [p for p in disk.get("partitions") or [] if isinstance(p, dict)]
        if disk.get("device") and any(p.get("shouldExist") is False for p in parts) \
                and any(not p.get("number") for p in parts):
            ctx.error(_back_shaped(ctx, cfg, clean, ("storage", "disks", i, "partitions")), ERR_ZEROES_NOT_EXIST)


def _exists(v: Any, jp: tuple[Any, ...]) -> bool:
    for el in jp:
        if isinstance(el, str) and isinstance(v, dict) and el in v:
            v = v[el]
        elif isinstance(el, int) and isinstance(v, list) and 0 <= el < len(v):
            v = v[el]
        else:
            return False
    return True


def translated(ctx: Ctx, cfg: dict[str, Any], jp: tuple[Any, ...]) -> bool:
    """Whether Butane's translation set maps the JSON path ``jp`` of the translated config back to the source.

    Butane's translator records every non-pointer scalar field of a struct it translates (even one the source
    leaves out), pointer fields and lists the source gives, and structs that are not empty. Merging generated
    sugar into the config (Butane's MergeTranslatedConfigs, :attr:`Ctx.merged`) keeps only the paths of the
    merge transcript: values that are not Go zero values. Paths without a translation are reported at their
    snake_case JSON path.
    """
    from ..ignition.schema import field_tree

    st: Any = field_tree(ctx.spec.ignition)
    node: Any = cfg
    field: Any = None
    for n, el in enumerate(jp):
        last = n == len(jp) - 1
        if isinstance(el, str):
            if st is None or not isinstance(node, dict) or el not in st.fields:
                return False
            field = st.fields[el]
            scalar_required = field.kind in ("string", "integer", "boolean") and _value_field(ctx, st.name, el)
            value = node.get(el)
            if value is None:
                return last and scalar_required and not ctx.merged
            node = value
            st = field.struct if field.kind == "struct" else None
            if field.kind == "list":
                st = None
            if last:
                return _nonzero_go(node, field, scalar_required, ctx) if (ctx.merged or field.kind == "struct") \
                    else True
        else:
            if not isinstance(node, list) or not 0 <= el < len(node) or field is None or field.item is None:
                return False
            node = node[el]
            item = field.item
            st = item.struct if item.kind == "struct" else None
            if last:
                if not ctx.merged and st is not None and _custom_translated(ctx, st.name):
                    # Butane's custom translators record the item when they record any of its fields
                    return any(translated(ctx, cfg, jp + (k,)) for k in st.fields)
                return _nonzero_go(node, item, True, ctx) if (ctx.merged or item.kind == "struct") else True
    return True


def _custom_translated(ctx: Ctx, struct: str) -> bool:
    """Whether Butane translates this struct with a custom translator (which records the struct itself)."""
    if struct == "File" or (struct in ("Directory", "Link") and ctx.spec.base >= 2):
        return True
    return struct in ("Unit", "Dropin", "PasswdUser") and ctx.spec.base >= 5


def _value_field(ctx: Ctx, struct: str, name: str) -> bool:
    """Whether Ignition's Go struct holds this scalar field by value (not through a pointer)."""
    if name in _NON_POINTER.get(struct, ()) or (struct, name) in (("Partition", "number"), ("Ignition", "version")):
        return True
    # pointers since spec 3.3
    return (struct, name) in (("Raid", "level"), ("Link", "target")) and ctx.spec.ignition < "3.3.0"


def _nonzero_go(v: Any, f: Any, scalar_required: bool, ctx: Ctx) -> bool:
    """Go's "not the zero value" for a translated value of field ``f`` (a pointer scalar given is not zero)."""
    if v is None:
        return False
    if f.kind == "struct" and isinstance(v, dict):
        st = f.struct
        for k, x in v.items():
            if k == O_KEY or st is None or k not in st.fields:
                continue
            sub = st.fields[k]
            sreq = sub.kind in ("string", "integer", "boolean") and _value_field(ctx, st.name, k)
            if _nonzero_go(x, sub, sreq, ctx):
                return True
        return False
    if f.kind == "list" and isinstance(v, list):
        if not ctx.merged:
            return True  # Go's IsZero: a list given, even empty, is not zero
        # a merge transcribes a list only through its transcribed items
        return any(_nonzero_go(x, f.item, True, ctx) for x in v) if f.item is not None else bool(v)
    if scalar_required:
        return v not in ("", 0, False) or isinstance(v, float)
    return True


def _back_shaped(ctx: Ctx, cfg: dict[str, Any], clean: dict[str, Any], jp: tuple[Any, ...]) -> YPath:
    # go_shape keeps list indices and keys, so paths of the shaped config are paths of cfg. A path Butane never
    # translated (see translated) falls back to the snake_case JSON path, in MachineConfig space for a wrapped
    # openshift config.
    if not translated(ctx, cfg, jp):
        snaked = tuple(snake(x) if isinstance(x, str) else x for x in jp)
        return (("spec", "config") if ctx.spec.openshift and not ctx.raw else ()) + snaked
    return back(cfg, jp)


def machine_config(ctx: Ctx, v: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
    md = v.get("metadata") or {}
    osf = v.get("openshift") or {}
    spec: dict[str, Any] = {"config": cfg}
    if osf.get("extensions"):
        spec["extensions"] = list(osf["extensions"])
    if "fips" in osf:
        spec["fips"] = osf["fips"]
    if osf.get("kernel_arguments"):
        spec["kernelArguments"] = list(osf["kernel_arguments"])
    if "kernel_type" in osf:
        spec["kernelType"] = osf["kernel_type"]
    return {"apiVersion": "machineconfiguration.openshift.io/v1", "kind": "MachineConfig",
            "metadata": {"labels": dict(md.get("labels") or {}), "name": md.get("name", "")}, "spec": spec}
