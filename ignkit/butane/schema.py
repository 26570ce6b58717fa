"""Butane's field trees per variant and version, derived from the Ignition spec each one targets.

A Butane config is its Ignition spec with snake_case keys (``sizeMiB`` -> ``size_mib``), without
``ignition.version``, plus the sugar fields Butane adds at each base level (``inline``/``local``
resources, ``storage.trees``, ``contents_local``, ``ssh_authorized_keys_local``,
``with_mount_unit``, ``systemd.quadlets``) and the variant's own sections (``boot_device``,
``grub``, ``metadata``/``openshift``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from ..ignition.schema import Field, Struct, field_tree

__all__ = ["BField", "BStruct", "Spec", "SPECS", "lookup", "snake", "butane_tree", "KNOWN_VARIANTS"]

_SNAKE_RE = re.compile(r"(MiB|[A-Z])")


def snake(name: str) -> str:
    """Butane's camelCase -> snake_case (``sizeMiB`` -> ``size_mib``)."""
    return _SNAKE_RE.sub(r"_\1", name).lower()


@dataclass(frozen=True)
class Spec:
    """One Butane variant/version: its Ignition target and the Butane base level (v0_<base>)."""

    variant: str
    version: str
    ignition: str
    base: int
    boot_device: bool = False
    grub: bool = False
    openshift: bool = False

    @property
    def pkg(self) -> str:
        return f"v0_{self.base}" + ("_exp" if self.ignition.endswith("experimental") else "")

    @property
    def vpkg(self) -> str:
        return "v" + self.version.split("-")[0].rsplit(".", 1)[0].replace(".", "_") + (
            "_exp" if self.version.endswith("experimental") else "")


_IGN_BY_BASE = {1: "3.0.0", 2: "3.1.0", 3: "3.2.0", 4: "3.3.0", 5: "3.4.0", 6: "3.5.0", 7: "3.6.0",
                8: "3.7.0-experimental"}


def _specs() -> dict[tuple[str, str], Spec]:
    out: dict[tuple[str, str], Spec] = {}
    fcos = {"1.0.0": 1, "1.1.0": 2, "1.2.0": 3, "1.3.0": 3, "1.4.0": 4, "1.5.0": 5, "1.6.0": 6, "1.7.0": 7,
            "1.8.0-experimental": 8}
    for v, b in fcos.items():
        minor = int(v.split(".")[1])
        out[("fcos", v)] = Spec("fcos", v, _IGN_BY_BASE[b], b, boot_device=minor >= 3, grub=b >= 5)
    for m in range(8, 23):
        b = 3 if m <= 13 else 5 if m <= 18 else 6
        v = f"4.{m}.0"
        out[("openshift", v)] = Spec("openshift", v, _IGN_BY_BASE[b], b, boot_device=True, grub=b >= 5,
                                     openshift=True)
    out[("openshift", "4.23.0-experimental")] = Spec("openshift", "4.23.0-experimental", _IGN_BY_BASE[8], 8,
                                                     boot_device=True, grub=True, openshift=True)
    for variant, table in (("flatcar", {"1.0.0": 4, "1.1.0": 5, "1.2.0-experimental": 8}),
                           ("r4e", {"1.0.0": 4, "1.1.0": 5, "1.2.0-experimental": 8}),
                           ("fiot", {"1.0.0": 5, "1.1.0-experimental": 8})):
        for v, b in table.items():
            out[(variant, v)] = Spec(variant, v, _IGN_BY_BASE[b], b)
    return out


SPECS = _specs()
KNOWN_VARIANTS = ("fcos", "openshift", "flatcar", "r4e", "fiot")


def lookup(variant: str, version: str) -> Optional[Spec]:
    return SPECS.get((variant, version))


class BField:
    """A Butane field: its kind, the Ignition (JSON) name it translates to (None for sugar), Go type name."""

    __slots__ = ("kind", "struct", "item", "json", "gotype")

    def __init__(self, kind: str, json: Optional[str], gotype: str, struct: Optional[BStruct] = None,
                 item: Optional[BField] = None) -> None:
        self.kind = kind
        self.json = json
        self.gotype = gotype
        self.struct = struct
        self.item = item


class BStruct:
    __slots__ = ("name", "fields", "ign")

    def __init__(self, name: str, ign: Optional[Struct] = None) -> None:
        self.name = name
        self.fields: dict[str, BField] = {}
        self.ign = ign


_SCALAR_GO = {"string": "string", "integer": "int", "boolean": "bool"}
# Ignition list items that Butane keeps as plain strings.
_PLAIN_ITEMS = {"NoProxyItem", "MountOption", "FilesystemOption", "RaidOption", "LuksOption", "OpenOption"}


def _scalar(kind: str, json: Optional[str], gotype: str = "") -> BField:
    return BField(kind, json, gotype or _SCALAR_GO[kind])


def _tree(spec: Spec) -> BStruct:
    pkg = spec.pkg
    memo: dict[int, BStruct] = {}

    def conv(f: Field, json: Optional[str]) -> BField:
        if f.kind == "struct":
            assert f.struct is not None
            st = struct(f.struct)
            return BField("struct", json, f"{pkg}.{st.name}", struct=st)
        if f.kind == "list":
            assert f.item is not None
            item = conv(f.item, None)
            if item.kind not in ("struct", "list") and f.item.go_name:
                short = f.item.go_name.split(".")[-1]
                # older Butane bases declare their own string types for some of these
                typed = {1: {"RaidOption", "FilesystemOption"}}.get(spec.base, {"RaidOption", "LuksOption"}) \
                    if spec.base <= 4 else set()
                if short not in _PLAIN_ITEMS or short in typed:
                    item.gotype = f"{pkg}.{short}"
            return BField("list", json, "[]" + item.gotype, item=item)
        return _scalar(f.kind, json)

    def struct(ist: Struct) -> BStruct:
        got = memo.get(id(ist))
        if got is not None:
            return got
        name = ist.name
        if spec.base == 1 and name in ("ConfigReference", "CaReference", "FileContents"):
            name = {"ConfigReference": "ConfigReference", "CaReference": "CaReference",
                    "FileContents": "FileContents"}[name]
        bs = BStruct(name, ist)
        memo[id(ist)] = bs
        for jname in ist.order:
            if ist.name == "Ignition" and jname == "version":
                continue
            bs.fields[snake(jname)] = conv(ist.fields[jname], jname)
        _extras(spec, bs)
        return bs

    root = struct(field_tree(spec.ignition))
    top = BStruct("Config", root.ign)
    top.fields["version"] = _scalar("string", None)
    top.fields["variant"] = _scalar("string", None)
    top.fields.update(root.fields)
    vp = spec.vpkg
    if spec.boot_device:
        tang = BStruct("Tang")
        tang.fields["thumbprint"] = _scalar("string", None)
        tang.fields["url"] = _scalar("string", None)
        if spec.base >= 5:
            tang.fields["advertisement"] = _scalar("string", None)
        luks = BStruct("BootDeviceLuks")
        if spec.base >= 6:
            cex = BStruct("Cex")
            cex.fields["enabled"] = _scalar("boolean", None)
            luks.fields["cex"] = BField("struct", None, f"{pkg}.Cex", struct=cex)
            luks.fields["device"] = _scalar("string", None)
        if spec.base >= 5:
            luks.fields["discard"] = _scalar("boolean", None)
        luks.fields["tang"] = BField("list", None, f"[]{pkg}.Tang",
                                     item=BField("struct", None, f"{pkg}.Tang", struct=tang))
        luks.fields["threshold"] = _scalar("integer", None)
        luks.fields["tpm2"] = _scalar("boolean", None)
        mirror = BStruct("BootDeviceMirror")
        mirror.fields["devices"] = BField("list", None, "[]string", item=_scalar("string", None))
        bd = BStruct("BootDevice")
        bd.fields["layout"] = _scalar("string", None)
        bd.fields["luks"] = BField("struct", None, f"{vp}.BootDeviceLuks", struct=luks)
        bd.fields["mirror"] = BField("struct", None, f"{vp}.BootDeviceMirror", struct=mirror)
        top.fields["boot_device"] = BField("struct", None, f"{vp}.BootDevice", struct=bd)
    if spec.grub:
        gu = BStruct("GrubUser")
        gu.fields["name"] = _scalar("string", None)
        gu.fields["password_hash"] = _scalar("string", None)
        grub = BStruct("Grub")
        grub.fields["users"] = BField("list", None, f"[]{vp}.GrubUser",
                                      item=BField("struct", None, f"{vp}.GrubUser", struct=gu))
        top.fields["grub"] = BField("struct", None, f"{vp}.Grub", struct=grub)
    if spec.openshift:
        md = BStruct("Metadata")
        md.fields["name"] = _scalar("string", None)
        md.fields["labels"] = BField("map", None, "map[string]string")
        top.fields["metadata"] = BField("struct", None, f"{vp}.Metadata", struct=md)
        osf = BStruct("OpenShift")
        osf.fields["extensions"] = BField("list", None, "[]string", item=_scalar("string", None))
        osf.fields["fips"] = _scalar("boolean", None)
        osf.fields["kernel_arguments"] = BField("list", None, "[]string", item=_scalar("string", None))
        osf.fields["kernel_type"] = _scalar("string", None)
        top.fields["openshift"] = BField("struct", None, f"{vp}.OpenShift", struct=osf)
    return top


def _extras(spec: Spec, bs: BStruct) -> None:
    b = spec.base
    name = bs.name
    s = _scalar
    if name in ("Resource", "FileContents") and (b >= 2 or name == "FileContents"):
        bs.fields["inline"] = s("string", None)
        if b >= 2:
            bs.fields["local"] = s("string", None)
    elif name in ("Unit", "Dropin") and b >= 5:
        bs.fields["contents_local"] = s("string", None)
    elif name == "PasswdUser" and b >= 5:
        bs.fields["ssh_authorized_keys_local"] = BField("list", None, "[]string", item=s("string", None))
    elif name == "Filesystem" and b >= 2:
        bs.fields["with_mount_unit"] = s("boolean", None)
    elif name == "Storage" and b >= 2:
        tree = BStruct("Tree")
        if b >= 7:
            for k in ("group", "user"):
                node = BStruct("NodeGroup" if k == "group" else "NodeUser")
                node.fields["id"] = s("integer", None)
                node.fields["name"] = s("string", None)
                tree.fields[k] = BField("struct", None, f"{spec.pkg}.{node.name}", struct=node)
        tree.fields["local"] = s("string", None)
        tree.fields["path"] = s("string", None)
        if b >= 7:
            tree.fields["file_mode"] = s("integer", None)
            tree.fields["dir_mode"] = s("integer", None)
        bs.fields["trees"] = BField("list", None, f"[]{spec.pkg}.Tree",
                                    item=BField("struct", None, f"{spec.pkg}.Tree", struct=tree))
    elif name == "Systemd" and b >= 8:
        q = BStruct("Quadlet")
        q.fields["contents"] = s("string", None)
        q.fields["contents_local"] = s("string", None)
        q.fields["name"] = s("string", None)
        q.fields["rootful"] = s("boolean", None)
        bs.fields["quadlets"] = BField("list", None, f"[]{spec.pkg}.Quadlet",
                                       item=BField("struct", None, f"{spec.pkg}.Quadlet", struct=q))


_CACHE: dict[Spec, BStruct] = {}


def butane_tree(spec: Spec) -> BStruct:
    """The root struct of ``spec``'s Butane config (cached)."""
    t = _CACHE.get(spec)
    if t is None:
        t = _CACHE[spec] = _tree(spec)
    return t
