"""The Debian-parts live ISO itself: CoreOS layout, El Torito/hybrid boot records, reproducible builds."""

from __future__ import annotations

import json
import struct
import subprocess
import zlib
from pathlib import Path

import bootlib
import pytest

pytestmark = pytest.mark.boot


def extract(iso: Path, path: str) -> bytes:
    return bootlib.iso_extract(iso, path)


def listing(iso: Path) -> set[str]:
    out = subprocess.run(["xorriso", "-indev", str(iso), "-find", "/", "-type", "f"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, check=True).stdout
    return {line.strip().strip("'") for line in out.splitlines() if line.startswith("'")}


def eltorito(iso: Path) -> list[str]:
    out = subprocess.run(["xorriso", "-indev", str(iso), "-report_el_torito", "plain"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.startswith("El Torito")]


COMMON = {"/coreos/igninfo.json", "/coreos/kargs.json", "/coreos/features.json", "/images/ignition.img",
          "/images/efiboot.img", "/images/pxeboot/vmlinuz", "/images/pxeboot/initrd.img", "/EFI/fedora/grub.cfg"}


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_coreos_layout(lab, arch):
    m = lab.build(arch)
    iso = m["path"]
    files = listing(iso)
    assert files >= COMMON
    if arch == "x86_64":
        assert {"/isolinux/isolinux.bin", "/isolinux/isolinux.cfg", "/isolinux/ldlinux.c32", "/isolinux/menu.c32",
                "/EFI/BOOT/BOOTX64.EFI"} <= files
    else:
        assert "/EFI/BOOT/BOOTAA64.EFI" in files
        assert not any(f.startswith("/isolinux/") for f in files)

    assert json.loads(extract(iso, "/coreos/igninfo.json")) == {"file": "images/ignition.img"}
    assert extract(iso, "/images/ignition.img") == b"\0" * 262144
    features = json.loads(extract(iso, "/coreos/features.json"))
    assert features["live-initrd-network"] is True and features["installer-config"] is True
    assert features["installer-config-directives"]["console"] is True

    kargs = json.loads(extract(iso, "/coreos/kargs.json"))
    default = f"coreos.liveiso={m['volume_id']} ignition.firstboot ignition.platform.id=metal"
    assert kargs["default"] == default == m["default_kargs"]
    want_paths = ["EFI/fedora/grub.cfg"] + (["isolinux/isolinux.cfg"] if arch == "x86_64" else [])
    assert [f["path"] for f in kargs["files"]] == want_paths
    size = kargs["size"]
    for f in kargs["files"]:
        assert (f["pad"], f["end"]) == ("#", "\n")
        cfg = extract(iso, "/" + f["path"])
        area = cfg[f["offset"]:f["offset"] + size]
        # The real CoreOS layout: "<kargs>\n", '#' to the end of the area, then "# COREOS_KARG_EMBED_AREA".
        assert area == (default + "\n").encode().ljust(size, b"#")
        assert cfg[f["offset"] + size:].startswith(b"# COREOS_KARG_EMBED_AREA\n")
        line_start = cfg.rfind(b"\n", 0, f["offset"]) + 1
        loader_line = cfg[line_start:f["offset"]].strip()
        assert loader_line in (b"linux /images/pxeboot/vmlinuz",
                               b"append initrd=/images/pxeboot/initrd.img,/images/ignition.img")

    # The live initramfs carries what `pxe customize` looks for in a CoreOS live initramfs.
    members = bootlib.read_newc(extract(iso, "/images/pxeboot/initrd.img"))
    assert members["etc/coreos-live-initramfs"] == (m["build_id"] + "\n").encode()
    assert json.loads(members["etc/coreos/features.json"]) == features
    assert members["init"].startswith(b"#!/bin/busybox sh\n")
    assert m["tty"].encode() in members["init"]


def test_x86_64_boot_records(lab):
    iso = lab.build("x86_64")["path"]
    et = eltorito(iso)
    assert any("El Torito boot img :   1  BIOS" in line and "none" in line for line in et)
    assert any("El Torito boot img :   2  UEFI" in line for line in et)
    assert any("/isolinux/isolinux.bin" in line for line in et)
    assert any("/images/efiboot.img" in line for line in et)

    data = iso.read_bytes()
    assert len(data) % (1024 * 1024) == 0  # isohybrid pads to a whole number of MiB
    assert data[510:512] == b"\x55\xaa"
    assert data[440:444] == bytes.fromhex("494c4b4d")  # MBR disk id 0x4d4b4c49, little-endian
    parts = [data[446 + 16 * i:462 + 16 * i] for i in range(4)]
    assert parts[0][0] == 0x80 and parts[1][4] == 0xEF  # bootable whole-image partition, EFI system partition
    # Both GPT headers and entry arrays carry valid CRCs after the GUIDs were made deterministic.
    for lba in (1, struct.unpack_from("<Q", data, 512 + 32)[0]):
        hdr = bytearray(data[lba * 512:lba * 512 + 512])
        assert hdr[:8] == b"EFI PART"
        hsize, crc = struct.unpack_from("<II", hdr, 12)
        ent_lba, count, esize, ecrc = struct.unpack_from("<QIII", hdr, 72)
        ents = data[ent_lba * 512:ent_lba * 512 + count * esize]
        assert zlib.crc32(ents) & 0xFFFFFFFF == ecrc
        struct.pack_into("<I", hdr, 16, 0)
        assert zlib.crc32(bytes(hdr[:hsize])) & 0xFFFFFFFF == crc


def test_aarch64_boot_records(lab):
    iso = lab.build("aarch64")["path"]
    et = eltorito(iso)
    assert any("El Torito boot img :   1  UEFI" in line for line in et)
    assert not any("BIOS" in line for line in et)
    assert iso.read_bytes()[510:512] != b"\x55\xaa"  # no MBR: a CD image only


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_two_builds_are_byte_identical(lab, tmp_path, arch):
    first = lab.build(arch)
    second = lab.build_mod.build(arch, tmp_path / arch, first["dir"].parent.parent / "debs", force=True)
    assert (tmp_path / arch / "live.iso").read_bytes() == first["path"].read_bytes()
    assert second["sha256"] == first["sha256"]
    for name in ("vmlinuz", "initrd.img"):
        assert (tmp_path / arch / name).read_bytes() == (first["dir"] / name).read_bytes()
