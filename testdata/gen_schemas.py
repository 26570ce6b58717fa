#!/usr/bin/env python3
"""Generate schemas/ignition-<spec>.json, one JSON Schema (draft-07) per Ignition spec version.

The schemas serve two readers:

* ignkit's validator uses their structure (``type``, ``properties``, ``items``, ``$ref``) as the
  field tree Go's decoder would use: which members exist in which version and what JSON type
  each one takes. Property order is Go's struct field order (it drives report order).
* editors: ``$id``, titles, descriptions, and ``enum``/``pattern``/``additionalProperties`` where
  the spec fixes a value. Ignition itself reports those as semantic errors (or unknown keys as
  warnings), so ignkit's type pass ignores these keywords.

Every member also accepts ``null``: Go's decoder treats ``null`` as "absent" for every field.
Run: python3 testdata/gen_schemas.py  (writes into ../schemas/)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

VERSIONS = ["3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0", "3.7.0-experimental"]
BASE_ID = "https://ignkit.invalid/schemas/ignition-{}.json"
INT64 = {"minimum": -(1 << 63), "maximum": (1 << 63) - 1}


def vt(spec: str) -> tuple[int, int]:
    major, minor = spec.split("-")[0].split(".")[:2]
    return (int(major), int(minor))


def s(desc: str, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"type": ["string", "null"], "description": desc}
    d.update(kw)
    return d


def i(desc: str, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"type": ["integer", "null"], "description": desc}
    d.update(INT64)
    d.update(kw)
    return d


def b(desc: str) -> dict[str, Any]:
    return {"type": ["boolean", "null"], "description": desc}


def ref(name: str, desc: str) -> dict[str, Any]:
    # draft-07 validators ignore siblings of $ref (the definition allows null); editors show the
    # description of the place where the object is used.
    return {"$ref": f"#/definitions/{name}", "description": desc}


def arr(items: dict[str, Any], desc: str) -> dict[str, Any]:
    return {"type": ["array", "null"], "description": desc, "items": items}


def sarr(desc: str, item_desc: str = "", go: str = "", **kw: Any) -> dict[str, Any]:
    it: dict[str, Any] = {"type": ["string", "null"]}  # Go decodes a null element as ""
    if go:
        # Ignition's named string type (only used in Go's type-error messages).
        it["x-go-type"] = "types." + go
    if item_desc:
        it["description"] = item_desc
    it.update(kw)
    return arr(it, desc)


def rarr(name: str, desc: str) -> dict[str, Any]:
    return arr({"$ref": f"#/definitions/{name}"}, desc)


def sourced(name: str) -> dict[str, Any]:
    """A resource that must name a source (3.1+ merge and CA references share ``Resource``).

    ignkit's field tree takes the type from the first ``allOf`` member.
    """
    return {"allOf": [{"$ref": f"#/definitions/{name}"},
                      {"required": ["source"], "properties": {"source": {"minLength": 1}}}]}


# Ignition's path rule: absolute and fully simplified (Go's path.Clean leaves it unchanged): no empty,
# "." or ".." segment and no trailing slash. (?![\s\S]) is "end of string" in both ECMA-262 and
# Python regular expressions (Python's $ also matches before a final newline).
ABS_PATH = r"^/$|^(/(?!\.\.?(?:/|(?![\s\S])))[^/]+)+$"
ABS_PATH_DESC = "absolute and fully simplified: no //, /./, /../ or trailing /"
HTTP_URL = "^[hH][tT][tT][pP][sS]?:"


def url_schemes(v: tuple[int, int]) -> list[str]:
    schemes = ["http", "https", "tftp", "s3", "data"]
    if v >= (3, 2):
        schemes.append("gs")
    if v >= (3, 4):
        schemes.append("arn")
    return schemes


def hash_pattern(v: tuple[int, int]) -> str:
    # Ignition checks the function and the digest's length in bytes, not that it is hexadecimal. A
    # regular expression counts characters: exact for ASCII digests; any non-ASCII digest is let through.
    def digest(size: int) -> str:
        return r"([\u0000-\u007f]{" + str(size) + r"}|[\s\S]*[^\u0000-\u007f][\s\S]*)"

    if v >= (3, 1):
        return "^(sha512-" + digest(128) + "|sha256-" + digest(64) + ")$"
    return "^sha512-" + digest(128) + "$"


def struct(title: str, desc: str, props: dict[str, Any], required: list[str] | None = None,
           **kw: Any) -> dict[str, Any]:
    """An object definition. ``required``: members whose absence Ignition reports as an error."""
    d: dict[str, Any] = {"title": title, "description": desc, "type": ["object", "null"],
                         "properties": props, "additionalProperties": False}
    if required:
        d["required"] = required
    d.update(kw)
    return d


def definitions(spec: str) -> dict[str, Any]:
    v = vt(spec)
    schemes = url_schemes(v)
    source_desc = ("URL of the contents; schemes: " + ", ".join(schemes) + ". "
                   "Data URLs follow RFC 2397.")
    # "" counts as no source; the scheme is matched case-insensitively.
    source = s(source_desc, pattern="^$|^(" + "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" for c in sch) for sch in schemes) + "):")
    verification = struct("Verification", "Verification of fetched contents.", {
        "hash": s("Hash of the (decompressed) contents as <function>-<hex digest>: sha512"
                  + (" or sha256" if v >= (3, 1) else "") + ".", pattern=hash_pattern(v)),
    })
    defs: dict[str, Any] = {}
    defs["Verification"] = verification
    mode_desc = ("File mode as a decimal integer (e.g. 420 for 0644); 0 to 4095 (07777)"
                 + ("; setuid/setgid/sticky bits are honoured." if v >= (3, 6)
                    else "; setuid/setgid/sticky bits are not honoured before spec 3.6.0."))
    compression = s("Compression of the fetched contents: gzip, or empty for none.", enum=["", "gzip", None])

    if v >= (3, 1):
        defs["HTTPHeader"] = struct("HTTPHeader", "An HTTP header sent when fetching an http(s) resource.", {
            "name": s("Header name (required, non-empty).", minLength=1),
            "value": s("Header value (non-empty); null in a merged config removes the header.", minLength=1),
        }, required=["name"])
        defs["Resource"] = struct("Resource", "A remote or inline resource.", {
            "compression": compression,
            "httpHeaders": rarr("HTTPHeader", "Extra HTTP headers (http/https sources only)."),
            "source": source,
            "verification": ref("Verification", "Verification of the fetched contents."),
        })
        cfgref = "Resource"
        caref = "Resource"
        contents = "Resource"
    else:
        defs["ConfigReference"] = struct("ConfigReference", "A config to merge or replace with.", {
            "source": source,
            "verification": ref("Verification", "Verification of the fetched config."),
        })
        defs["CaReference"] = struct("CaReference", "A certificate authority bundle (PEM).", {
            "source": s(source_desc + " Required.", pattern=source["pattern"], minLength=1),
            "verification": ref("Verification", "Verification of the fetched bundle."),
        }, required=["source"])
        defs["FileContents"] = struct("FileContents", "File contents.", {
            "compression": compression,
            "source": source,
            "verification": ref("Verification", "Verification of the fetched contents."),
        })
        cfgref = "ConfigReference"
        caref = "CaReference"
        contents = "FileContents"

    defs["IgnitionConfig"] = struct("IgnitionConfig", "Other configs to merge with or replace this one.", {
        "merge": arr(sourced(cfgref) if v >= (3, 1) else {"$ref": f"#/definitions/{cfgref}"},
                     "Configs merged into this one, in order" + (" (each needs a source)." if v >= (3, 1) else ".")),
        "replace": ref(cfgref, "A config that replaces this one."),
    })
    if v >= (3, 1):
        defs["Proxy"] = struct("Proxy", "HTTP(S) proxy used while fetching resources.", {
            "httpProxy": s("Proxy URL (http or https) for http requests.", pattern=HTTP_URL),
            "httpsProxy": s("Proxy URL (http or https) for https requests.", pattern=HTTP_URL),
            "noProxy": sarr("Hosts excluded from proxying.", "A host, domain or address.", go="NoProxyItem"),
        })
    defs["TLS"] = struct("TLS", "TLS options.", {
        "certificateAuthorities": arr(sourced(caref) if v >= (3, 1) else {"$ref": f"#/definitions/{caref}"},
                                      "Additional certificate authorities trusted for https (each needs a source)."),
    })
    defs["Security"] = struct("Security", "Security options.", {"tls": ref("TLS", "TLS options.")})
    defs["Timeouts"] = struct("Timeouts", "HTTP timeouts, in seconds.", {
        "httpResponseHeaders": i("Seconds to wait for response headers."),
        "httpTotal": i("Seconds an HTTP fetch may take in total (0: no limit)."),
    })
    ign_props: dict[str, Any] = {"config": ref("IgnitionConfig", "Config merging and replacement.")}
    if v >= (3, 1):
        ign_props["proxy"] = ref("Proxy", "Proxy settings.")
    ign_props["security"] = ref("Security", "Security options.")
    ign_props["timeouts"] = ref("Timeouts", "HTTP timeouts.")
    # Ignition compares parsed semantic versions: leading zeros are allowed ("03.3.0" is 3.3.0).
    major, minor, rest = spec.split(".", 2)
    ign_props["version"] = {"type": ["string", "null"], "description": "The spec version of this config.",
                            "pattern": f"^0*{major}\\.0*{minor}\\.0*{rest}$", "examples": [spec]}
    defs["Ignition"] = struct("Ignition", "Metadata about the config itself.", ign_props, required=["version"])

    if v >= (3, 3):
        defs["KernelArguments"] = struct("KernelArguments", "Kernel arguments to ensure present or absent.", {
            "shouldExist": sarr("Kernel arguments that must be present.", "A kernel argument.", go="KernelArgument"),
            "shouldNotExist": sarr("Kernel arguments that must be absent.", "A kernel argument.",
                                 go="KernelArgument"),
        })

    group_props: dict[str, Any] = {
        "gid": i("Group ID."),
        "name": s("Group name."),
        "passwordHash": s("Hashed password (crypt(3))."),
    }
    if v >= (3, 2):
        group_props["shouldExist"] = b("Whether the group should exist (false deletes it).")
    group_props["system"] = b("Create a system group.")
    defs["PasswdGroup"] = struct("PasswdGroup", "A group to create or modify.", group_props)
    user_props: dict[str, Any] = {
        "gecos": s("GECOS field."),
        "groups": sarr("Supplementary groups.", "A group name.", go="Group"),
        "homeDir": s("Home directory."),
        "name": s("User name."),
        "noCreateHome": b("Do not create the home directory."),
        "noLogInit": b("Do not add the user to lastlog/faillog."),
        "noUserGroup": b("Do not create a group named after the user."),
        "passwordHash": s("Hashed password (crypt(3))."),
        "primaryGroup": s("Primary group."),
        "sshAuthorizedKeys": sarr("SSH public keys added to authorized_keys.", "An SSH public key line.",
                                  go="SSHAuthorizedKey"),
        "shell": s("Login shell."),
    }
    if v >= (3, 2):
        user_props["shouldExist"] = b("Whether the user should exist (false deletes it).")
    user_props["system"] = b("Create a system user.")
    user_props["uid"] = i("User ID.")
    defs["PasswdUser"] = struct("PasswdUser", "A user to create or modify.", user_props)
    defs["Passwd"] = struct("Passwd", "Users and groups.", {
        "groups": rarr("PasswdGroup", "Groups."),
        "users": rarr("PasswdUser", "Users."),
    })

    guid = s("GPT GUID (8-4-4-4-12 hex digits).",
             pattern=r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")
    part_props: dict[str, Any] = {
        "guid": guid,
        "label": s("GPT partition label (at most 36 characters, no colon).", maxLength=36, pattern="^[^:]*$"),
        "number": i("Partition number (0: next free, then a label is required)."),
    }
    if v >= (3, 2):
        part_props["resize"] = b("Resize an existing partition to sizeMiB.")
    part_props.update({
        "shouldExist": b("Whether the partition should exist."),
        "sizeMiB": i("Size in MiB (0: fill the available space)."),
        "startMiB": i("Start in MiB (0: start of the largest free block)."),
        "typeGuid": dict(guid, description="GPT partition type GUID."),
        "wipePartitionEntry": b("Allow Ignition to wipe a mismatching partition entry."),
    })
    numbered_or_labelled = {"anyOf": [
        {"required": ["label"], "properties": {"label": {"type": "string"}}},
        {"required": ["number"], "properties": {"number": {"type": "integer", "not": {"const": 0}}}},
    ]}
    defs["Partition"] = struct("Partition", "A GPT partition (a number other than 0 or a label is required).",
                               part_props, **numbered_or_labelled)
    defs["Disk"] = struct("Disk", "A disk to partition.", {
        "device": s(f"Path of the disk device (required; {ABS_PATH_DESC}).", pattern=ABS_PATH),
        "partitions": rarr("Partition", "Partitions of the disk."),
        "wipeTable": b("Wipe the partition table first."),
    }, required=["device"])
    levels = ["linear", "raid0", "0", "stripe", "raid1", "1", "mirror", "raid4", "4", "raid5", "5",
              "raid6", "6", "raid10", "10"]
    # A missing or null level is an error in every version ("unrecognized raid level" before 3.3).
    defs["Raid"] = struct("Raid", "A software RAID array.", {
        "devices": dict(sarr("Member devices (at least one).", f"A device path ({ABS_PATH_DESC}).", go="Device",
                             pattern=ABS_PATH), minItems=1),
        "level": s("RAID level (required).", enum=levels),
        "name": s("Array name (/dev/md/<name>)."),
        "options": sarr("Extra mdadm options.", "An mdadm option.", go="RaidOption"),
        "spares": i("Number of spare devices."),
    }, required=["devices", "level"])
    formats = ["ext4", "btrfs", "xfs", "swap", "vfat"]
    if v >= (3, 3):
        formats.append("none")
    if v >= (3, 7):
        formats.append("virtiofs")
    fs_props: dict[str, Any] = {
        "device": s(f"Path of the device (required; {ABS_PATH_DESC})"
                    + ("; for virtiofs the tag (at most 36 bytes)." if v >= (3, 7) else ".")),
        "format": s("Filesystem type.", enum=formats + ["", None]),
        "label": s("Filesystem label (length limit depends on the format)."),
    }
    if v >= (3, 1):
        fs_props["mountOptions"] = sarr("Mount options.", "A mount option.", go="MountOption")
    fs_props.update({
        "options": sarr("mkfs options.", "An mkfs option.", go="FilesystemOption"),
        "path": s(f"Mount point in the real root ({ABS_PATH_DESC}; empty for none).", pattern="^$|" + ABS_PATH),
        "uuid": s("Filesystem UUID."),
        "wipeFilesystem": b("Wipe an existing filesystem."),
    })
    def fmt_is(name: str) -> dict[str, Any]:
        return {"properties": {"format": {"const": name}}, "required": ["format"]}

    def non_empty(member: str, kind: str = "string") -> dict[str, Any]:
        size = "minItems" if kind == "array" else "minLength"
        return {"properties": {member: {"type": kind, size: 1}}, "required": [member]}

    # A format is required as soon as anything but the device is set.
    needs_format = [non_empty("path"), non_empty("label"), non_empty("uuid"), non_empty("options", "array"),
                    {"properties": {"wipeFilesystem": {"const": True}}, "required": ["wipeFilesystem"]}]
    if v >= (3, 1):
        needs_format.append(non_empty("mountOptions", "array"))
    fs_rules: list[dict[str, Any]] = [{"if": {"anyOf": needs_format}, "then": non_empty("format")}]
    # Label limits are in bytes; a schema counts characters, so multi-byte labels may pass here.
    fs_rules += [{"if": fmt_is(name), "then": {"properties": {"label": {"maxLength": size}}}}
                 for name, size in (("ext4", 16), ("btrfs", 256), ("xfs", 12), ("swap", 15), ("vfat", 11))]
    if v < (3, 7):
        fs_props["device"]["pattern"] = ABS_PATH
    else:  # a virtiofs device is a tag (and the share takes no block-device settings), any other a path
        fs_rules.append({"if": fmt_is("virtiofs"), "then": {"properties": {
            "device": {"minLength": 1, "maxLength": 36}, "label": {"maxLength": 0}, "uuid": {"maxLength": 0},
            "wipeFilesystem": {"not": {"const": True}}, "options": {"maxItems": 0}}},
            "else": {"properties": {"device": {"pattern": ABS_PATH}}}})
    defs["Filesystem"] = struct("Filesystem", "A filesystem to create or reuse.", fs_props, required=["device"],
                                allOf=fs_rules)

    owner = {"id": i("Numeric ID."), "name": s("Name (do not combine with id).")}
    not_both = {"not": {"type": "object", "required": ["id", "name"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string", "minLength": 1}}}}
    defs["NodeUser"] = struct("NodeUser", "Owner user: an id or a name, not both.", dict(owner), **not_both)
    defs["NodeGroup"] = struct("NodeGroup", "Owner group: an id or a name, not both.", dict(owner), **not_both)

    def node(extra: dict[str, Any]) -> dict[str, Any]:
        props = {
            "group": ref("NodeGroup", "Owner group."),
            "overwrite": b("Replace an existing node at the path."),
            "path": s(f"Path of the node (required; {ABS_PATH_DESC}).", pattern=ABS_PATH),
            "user": ref("NodeUser", "Owner user."),
        }
        props.update(extra)
        return props

    defs["File"] = struct("File", "A regular file.", node({
        "append": rarr(contents, "Contents appended to the file."),
        "contents": ref(contents, "Contents of the file."),
        "mode": i(mode_desc, minimum=0, maximum=0o7777),
    }), required=["path"])
    defs["Directory"] = struct("Directory", "A directory.", node({"mode": i(mode_desc, minimum=0, maximum=0o7777)}),
                               required=["path"])
    target = s("Link target (required, non-empty).", minLength=1) if v >= (3, 3) else s("Link target.")
    defs["Link"] = struct("Link", "A symbolic or hard link.", node({
        "hard": b("Create a hard link."),
        "target": target,
    }), required=["path", "target"] if v >= (3, 3) else ["path"])

    storage_props: dict[str, Any] = {
        "directories": rarr("Directory", "Directories."),
        "disks": rarr("Disk", "Disks to partition."),
        "files": rarr("File", "Files."),
        "filesystems": rarr("Filesystem", "Filesystems."),
        "links": rarr("Link", "Links."),
    }
    if v >= (3, 2):
        defs["Tang"] = struct("Tang", "A Tang server for Clevis.", dict(
            ({"advertisement": s("The server's advertisement (JSON).")} if v >= (3, 4) else {}),
            thumbprint=s("Thumbprint of a trusted signing key (required).", minLength=1),
            url=s("URL of the Tang server (http or https; required).", pattern=HTTP_URL),
        ), required=["thumbprint", "url"])
        pins = {"enum": ["tpm2", "tang", "sss", "", None]} if v < (3, 6) else {}
        custom_name = "Custom" if v < (3, 3) else "ClevisCustom"  # Ignition's Go type names
        defs[custom_name] = struct(custom_name, "A custom Clevis pin and config.", {
            "config": s("The Clevis config (JSON)."),
            "needsNetwork": b("The config needs networking."),
            "pin": s("The Clevis pin" + (": tpm2, tang or sss." if v < (3, 6) else "."), **pins),
        })
        defs["Clevis"] = struct("Clevis", "Clevis bindings.", {
            "custom": ref(custom_name, "A custom pin (not combinable with tang, tpm2 or threshold)."),
            "tang": rarr("Tang", "Tang servers."),
            "threshold": i("How many pins must succeed (sss)."),
            "tpm2": b("Bind to the TPM2."),
        })
        luks: dict[str, Any] = {}
        if v >= (3, 5):
            defs["Cex"] = struct("Cex", "IBM Crypto Express (s390x) secure key.", {"enabled": b("Use CEX.")})
            luks["cex"] = ref("Cex", "IBM Crypto Express settings.")
        luks["clevis"] = ref("Clevis", "Clevis bindings.")
        luks["device"] = s(f"Path of the underlying device (required; {ABS_PATH_DESC}).", pattern=ABS_PATH)
        if v >= (3, 4):
            luks["discard"] = b("Allow discards.")
        luks["keyFile"] = ref("Resource", "Key file.")
        luks["label"] = s("LUKS label (at most 47 characters).", maxLength=47)
        luks["name"] = s("Mapped device name (/dev/mapper/<name>), without slashes.", pattern="^[^/]*$")
        if v >= (3, 4):
            luks["openOptions"] = sarr("cryptsetup options used when opening.", "A cryptsetup option.",
                                       go="OpenOption")
        luks["options"] = sarr("cryptsetup luksFormat options.", "A cryptsetup option.", go="LuksOption")
        luks["uuid"] = s("LUKS UUID.")
        luks["wipeVolume"] = b("Wipe an existing LUKS volume.")
        defs["Luks"] = struct("Luks", "A LUKS2 volume.", luks, required=["device"])
        storage_props["luks"] = rarr("Luks", "LUKS volumes.")
    storage_props["raid"] = rarr("Raid", "Software RAID arrays.")
    defs["Storage"] = struct("Storage", "Disks, filesystems and files.", storage_props)

    unit_ext = (r"\.(service|socket|device|mount|automount|swap|target|path|timer|snapshot|slice|scope)$")
    defs["Dropin"] = struct("Dropin", "A systemd drop-in.", {
        "contents": s("Contents of the drop-in."),
        "name": s("File name of the drop-in (required; ends in .conf).", pattern=r"\.conf$"),
    }, required=["name"])
    defs["Unit"] = struct("Unit", "A systemd unit.", {
        "contents": s("Contents of the unit file."),
        "dropins": rarr("Dropin", "Drop-ins."),
        "enabled": b("Enable (true) or disable (false) the unit."),
        "mask": b("Mask the unit."),
        "name": s("Unit name with its type suffix (required).", pattern=unit_ext),
    }, required=["name"])
    defs["Systemd"] = struct("Systemd", "systemd units.", {"units": rarr("Unit", "Units.")})
    return defs


def schema(spec: str) -> dict[str, Any]:
    v = vt(spec)
    props: dict[str, Any] = {"ignition": {"$ref": "#/definitions/Ignition"}}
    if v >= (3, 3):
        props["kernelArguments"] = ref("KernelArguments", "Kernel arguments.")
    props["passwd"] = ref("Passwd", "Users and groups.")
    props["storage"] = ref("Storage", "Storage.")
    props["systemd"] = ref("Systemd", "systemd units.")
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": BASE_ID.format(spec),
        "title": f"Ignition config, spec {spec}",
        "description": (f"CoreOS Ignition config, spec version {spec}. Generated by ignkit's "
                        "testdata/gen_schemas.py; Ignition also enforces semantic rules that a schema "
                        "cannot express (run `ignkit validate`)."),
        "type": "object",
        "properties": props,
        "required": ["ignition"],
        "additionalProperties": False,
        "definitions": definitions(spec),
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "schemas"
    for spec in VERSIONS:
        path = out / f"ignition-{spec}.json"
        path.write_text(json.dumps(schema(spec), indent=2) + "\n")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
