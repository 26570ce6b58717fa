#!/usr/bin/env python3
"""Build small CoreOS-layout live ISOs with pycdlib, one per architecture (x86_64, aarch64, ppc64le, s390x).

Each image has what coreos-installer and ignkit look at: coreos/igninfo.json, coreos/kargs.json (with
pad and end), coreos/features.json, real kernel-argument areas in the bootloader configs followed by the
``# COREOS_KARG_EMBED_AREA`` line (isolinux.cfg and EFI grub.cfg on x86_64; grub.cfg on aarch64 and
ppc64le; the parmfile slot of images/cdboot.img on s390x), a zeroed 256 KiB Ignition area, stub
kernel/initramfs/rootfs under images/pxeboot whose headers tell the architecture, and an El Torito boot
catalog (not on ppc64le, whose grub-mkrescue images have none). The s390x image mimics xorrisofs by
naming ``..`` records 0x00, which pycdlib refuses (ignkit falls back to its own walker).

Builds are deterministic: two runs give byte-identical files.

    python3 testdata/mkiso.py --arch x86_64 out.iso [--rootfs-size BYTES]
    python3 testdata/mkiso.py --all DIR          # DIR/mini-<arch>.iso for every architecture
    python3 testdata/mkiso.py --demo             # testdata/demo/demo.iso (x86_64), used by the README
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import struct
import sys
import time
from pathlib import Path
from typing import BinaryIO
from unittest import mock

import pycdlib

ARCHES = ("x86_64", "aarch64", "ppc64le", "s390x")
EPOCH = 1700000000.0  # 2023-11-14T22:13:20Z: every timestamp in the image
IGNITION_AREA = 256 * 1024
KARGS_SIZE = 1139
S390_KARGS_SIZE = 896
S390_PARM_OFFSET = 0x10480
S390_INITRD_START = 131072
S390_INITRD_STUB = 1024
MARKER = "# COREOS_KARG_EMBED_AREA\n"

FEATURES = {
    "installer-config": True,
    "installer-config-directives": {k: True for k in (
        "append-karg", "architecture", "console", "copy-network", "delete-karg", "dest-device",
        "fetch-retries", "ignition-file", "ignition-hash", "ignition-url", "image-file", "image-url",
        "insecure", "insecure-ignition", "network-dir", "offline", "platform", "preserve-on-error",
        "save-partindex", "save-partlabel", "stream", "stream-base-url")},
    "live-initrd-network": True,
}


def volume_id(arch: str) -> str:
    return f"mcos40-{arch}"  # Joliet holds 16 characters


def default_kargs(arch: str) -> str:
    return f"coreos.liveiso={volume_id(arch)} ignition.firstboot ignition.platform.id=metal"


def pretty_json(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


def kernel_stub(arch: str) -> bytes:
    """A few KiB whose header says the architecture, as a real kernel image's would."""
    buf = bytearray(4096)
    if arch == "x86_64":  # bzImage: boot sector signature and the "HdrS" setup header magic
        buf[0x1FE:0x200] = b"\x55\xaa"
        buf[0x202:0x206] = b"HdrS"
    elif arch == "aarch64":  # arm64 Image with EFI stub: "MZ", then "ARM\x64" at 0x38
        buf[0:2] = b"MZ"
        buf[0x38:0x3C] = b"ARMd"
    elif arch == "ppc64le":  # vmlinux: ELF64, little endian, EM_PPC64
        buf[0:16] = b"\x7fELF\x02\x01\x01" + bytes(9)
        struct.pack_into("<HH", buf, 16, 2, 21)
    else:  # s390x: ELF64 big endian EM_S390
        buf[0:16] = b"\x7fELF\x02\x02\x01" + bytes(9)
        struct.pack_into(">HH", buf, 16, 2, 22)
    tail = f"ignkit test kernel stub for {arch}\n".encode()
    buf[-len(tail):] = tail
    return bytes(buf)


def efi_stub(machine: int) -> bytes:
    """A minimal PE header (for EFI/BOOT/*.EFI and efiboot.img contents)."""
    buf = bytearray(1024)
    buf[0:2] = b"MZ"
    struct.pack_into("<I", buf, 0x3C, 0x80)
    buf[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<H", buf, 0x84, machine)
    return bytes(buf)


def karg_area(kargs: str, size: int, pad: str = "#", end: str = "\n") -> str:
    return kargs + end + pad * (size - len(kargs) - 1)


def isolinux_cfg(kargs: str) -> tuple[bytes, int]:
    head = (
        "serial 0\n"
        "default vesamenu.c32\n"
        "timeout 600\n"
        "menu title Mini CoreOS (Live)\n"
        "label linux\n"
        "  menu label ^Mini CoreOS (Live)\n"
        "  menu default\n"
        "  kernel /images/pxeboot/vmlinuz\n"
        "  append initrd=/images/pxeboot/initrd.img,/images/ignition.img "
    )
    tail = "label local\n  menu label Boot from ^local drive\n  localboot 0xffff\n"
    return _with_karg_area(head, kargs, tail)


def grub_cfg(kargs: str) -> tuple[bytes, int]:
    head = (
        "set default=\"0\"\n"
        "set timeout=1\n"
        "search --label --set=root mini-coreos\n"
        "menuentry 'Mini CoreOS (Live)' --class coreos --class gnu-linux --class os {\n"
        "\tlinux /images/pxeboot/vmlinuz "
    )
    tail = "\tinitrd /images/pxeboot/initrd.img /images/ignition.img\n}\n"
    return _with_karg_area(head, kargs, tail)


def _with_karg_area(head: str, kargs: str, tail: str) -> tuple[bytes, int]:
    """A bootloader config: ``head``, the kargs area and its marker line, ``tail``; and the area's offset."""
    text = head + karg_area(kargs, KARGS_SIZE) + MARKER + tail
    return text.encode(), len(head.encode())


def cdboot_img(kargs: str) -> bytes:
    """s390x: kernel stub + parmfile slot (NUL padded) + stub initrd + the 256 KiB Ignition tail."""
    img = bytearray(S390_INITRD_START)
    img[0:4096] = kernel_stub("s390x")
    struct.pack_into(">QQ", img, 0x10408, S390_INITRD_START, S390_INITRD_STUB + IGNITION_AREA)
    parm = karg_area(kargs, S390_KARGS_SIZE, "\0", "\0").encode()
    img[S390_PARM_OFFSET:S390_PARM_OFFSET + S390_KARGS_SIZE] = parm
    initrd = bytearray(S390_INITRD_STUB)
    initrd[:32] = b"ignkit s390x initrd stub\n".ljust(32, b"\0")
    return bytes(img) + bytes(initrd) + bytes(IGNITION_AREA)


class _Filler(io.RawIOBase):
    """A read-only stream of ``size`` bytes repeating a fixed pseudo-random 1 MiB block (a big, not
    sparse, deterministic rootfs without a big file on disk)."""

    BLOCK = random.Random(4242).randbytes(1 << 20)

    def __init__(self, size: int) -> None:
        self.size = size
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = base + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        n = max(0, min(len(b), self.size - self.pos, len(self.BLOCK) - self.pos % len(self.BLOCK)))
        start = self.pos % len(self.BLOCK)
        b[:n] = self.BLOCK[start:start + n]
        self.pos += n
        return n


def layout(arch: str) -> tuple[dict[str, bytes], dict[str, object]]:
    """The files of the image (ISO path -> bytes) and the kargs.json content."""
    kargs = default_kargs(arch)
    files: dict[str, bytes] = {
        "/images/pxeboot/initrd.img": f"ignkit live initramfs stub ({arch})\n".encode(),
        "/coreos/features.json": pretty_json(FEATURES),
    }
    kfiles: list[dict[str, object]] = []
    if arch == "s390x":
        files["/images/cdboot.img"] = cdboot_img(kargs)
        files["/images/cdboot.prm"] = (kargs + "\n").encode()
        files["/images/pxeboot/kernel.img"] = kernel_stub(arch)
        files["/generic.ins"] = b"* minimal lpar ins file\nimages/pxeboot/kernel.img 0x00000000\n"
        files["/coreos/igninfo.json"] = pretty_json(
            {"file": "images/cdboot.img", "length": IGNITION_AREA,
             "offset": S390_INITRD_START + S390_INITRD_STUB})
        kfiles.append({"end": "\0", "offset": S390_PARM_OFFSET, "pad": "\0", "path": "images/cdboot.img"})
        size = S390_KARGS_SIZE
    else:
        size = KARGS_SIZE
        files["/images/pxeboot/vmlinuz"] = kernel_stub(arch)
        files["/images/ignition.img"] = bytes(IGNITION_AREA)
        files["/coreos/igninfo.json"] = pretty_json({"file": "images/ignition.img"})
        if arch == "ppc64le":
            cfg, off = grub_cfg(kargs)
            files["/boot/grub/grub.cfg"] = cfg
            files["/ppc/bootinfo.txt"] = b"<chrp-boot>\n<boot-script>boot &device;:\\boot\\grub\\powerpc.elf" \
                                         b"</boot-script>\n</chrp-boot>\n"
            kfiles.append({"end": "\n", "offset": off, "pad": "#", "path": "boot/grub/grub.cfg"})
        else:
            machine = 0x8664 if arch == "x86_64" else 0xAA64
            loader = "BOOTX64.EFI" if arch == "x86_64" else "BOOTAA64.EFI"
            files[f"/EFI/BOOT/{loader}"] = efi_stub(machine)
            files["/images/efiboot.img"] = efi_stub(machine) + bytes(2048 * 4 - 1024)
            cfg, off = grub_cfg(kargs)
            files["/EFI/fedora/grub.cfg"] = cfg
            kfiles.append({"end": "\n", "offset": off, "pad": "#", "path": "EFI/fedora/grub.cfg"})
            if arch == "x86_64":
                cfg, off = isolinux_cfg(kargs)
                files["/isolinux/isolinux.cfg"] = cfg
                files["/isolinux/isolinux.bin"] = b"ignkit isolinux.bin stub\n".ljust(2048, b"\0")
                kfiles.append({"end": "\n", "offset": off, "pad": "#", "path": "isolinux/isolinux.cfg"})
    files["/images/pxeboot/rootfs.img"] = f"ignkit rootfs stub ({arch})\n".encode()
    kfiles.sort(key=lambda f: str(f["path"]))
    kargs_json = {"default": kargs, "files": kfiles, "size": size}
    files["/coreos/kargs.json"] = pretty_json(kargs_json)
    return files, kargs_json


def iso9660_name(component: str, is_dir: bool) -> str:
    """The level-1 (8.3, uppercase) name genisoimage would give ``component``."""
    up = component.upper().replace("-", "_")
    if is_dir:
        return up[:8]
    stem, _, ext = up.partition(".")
    return f"{stem[:8]}.{ext[:3]};1"


def build_iso(out: str | os.PathLike[str], arch: str, *, rootfs_size: int = 0,
              overrides: dict[str, bytes | None] | None = None) -> None:
    """Write a CoreOS-layout live ISO for ``arch`` to ``out``.

    ``rootfs_size`` > 0 gives a big rootfs.img of pseudo-random bytes (benchmarks); ``overrides`` maps
    ISO paths (e.g. ``/coreos/kargs.json``) to replacement contents, or to None to leave a file out
    (broken variants for tests).
    """
    if arch not in ARCHES:
        raise SystemExit(f"unknown arch {arch!r}")
    files, _ = layout(arch)
    for path, data in (overrides or {}).items():
        if data is None:
            files.pop(path, None)
        else:
            files[path] = data
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        with mock.patch("time.time", return_value=EPOCH):
            _build(Path(out), arch, files, rootfs_size)
    finally:
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        time.tzset()
    if arch == "s390x":
        zero_dotdot_names(Path(out))


def _build(out: Path, arch: str, files: dict[str, bytes], rootfs_size: int) -> None:
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=1, sys_ident="LINUX", vol_ident=volume_id(arch), app_ident_str="IGNKIT MKISO",
            rock_ridge="1.09", joliet=3)
    made: set[str] = set()

    def add_dir(path: str) -> None:
        if path in made or path == "":
            return
        parent, _, name = path.rpartition("/")
        add_dir(parent)
        iso_path = "/".join(iso9660_name(p, True) for p in path.strip("/").split("/"))
        iso.add_directory(f"/{iso_path}", rr_name=name, joliet_path=path)
        made.add(path)

    streams: list[BinaryIO] = []
    for path in sorted(files):
        parent, _, name = path.rpartition("/")
        add_dir(parent)
        comps = path.strip("/").split("/")
        iso_path = "/" + "/".join([iso9660_name(c, True) for c in comps[:-1]] + [iso9660_name(comps[-1], False)])
        data = files[path]
        fp: BinaryIO
        if path == "/images/pxeboot/rootfs.img" and rootfs_size > 0:
            fp = io.BufferedReader(_Filler(rootfs_size), 1 << 20)  # type: ignore[arg-type]
            length = rootfs_size
        else:
            fp = io.BytesIO(data)
            length = len(data)
        streams.append(fp)
        iso.add_fp(fp, length, iso_path, rr_name=name, joliet_path=path)
    if arch == "x86_64":
        iso.add_eltorito("/ISOLINUX/ISOLINUX.BIN;1", bootcatfile="/ISOLINUX/BOOT.CAT;1", rr_bootcatname="boot.cat",
                         joliet_bootcatfile="/isolinux/boot.cat", boot_load_size=4, boot_info_table=True)
        iso.add_eltorito("/IMAGES/EFIBOOT.IMG;1", efi=True, platform_id=0xEF)
    elif arch == "aarch64":
        iso.add_eltorito("/IMAGES/EFIBOOT.IMG;1", bootcatfile="/IMAGES/BOOT.CAT;1", rr_bootcatname="boot.cat",
                         joliet_bootcatfile="/images/boot.cat", efi=True, platform_id=0xEF)
    elif arch == "s390x":
        iso.add_eltorito("/IMAGES/CDBOOT.IMG;1", bootcatfile="/BOOT.CAT;1", rr_bootcatname="boot.cat",
                         joliet_bootcatfile="/boot.cat", boot_load_size=4)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        iso.write(str(tmp))
        iso.close()
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def zero_dotdot_names(path: Path) -> None:
    """Rename every ``..`` record 0x01 → 0x00 in the primary and Joliet trees, as xorrisofs does on s390x."""
    with open(path, "r+b") as f:
        sector = 16
        roots = []
        while True:
            f.seek(sector * 2048)
            vd = f.read(2048)
            if vd[1:6] != b"CD001" or vd[0] == 255:
                break
            if vd[0] in (1, 2):
                roots.append((struct.unpack_from("<I", vd, 156 + 2)[0], struct.unpack_from("<I", vd, 156 + 10)[0]))
            sector += 1
        seen: set[int] = set()
        todo = list(roots)
        while todo:
            extent, length = todo.pop()
            if extent in seen:
                continue
            seen.add(extent)
            f.seek(extent * 2048)
            data = bytearray(f.read(length))
            pos = 0
            index = 0
            while pos < len(data):
                rlen = data[pos]
                if rlen == 0:
                    pos = (pos // 2048 + 1) * 2048
                    continue
                name_len = data[pos + 32]
                name = bytes(data[pos + 33:pos + 33 + name_len])
                if index == 1 and name == b"\x01":
                    data[pos + 33] = 0
                elif data[pos + 25] & 2 and name not in (b"\x00", b"\x01"):
                    todo.append((struct.unpack_from("<I", data, pos + 2)[0],
                                 struct.unpack_from("<I", data, pos + 10)[0]))
                index += 1
                pos += rlen
            f.seek(extent * 2048)
            f.write(data)


DEMO_DIR = Path(__file__).resolve().parent / "demo"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=ARCHES, default="x86_64")
    ap.add_argument("--rootfs-size", type=int, default=0, help="size of a big pseudo-random rootfs.img (bytes)")
    ap.add_argument("--all", metavar="DIR", help="build mini-<arch>.iso for every architecture into DIR")
    ap.add_argument("--demo", action="store_true", help=f"build {DEMO_DIR / 'demo.iso'}")
    ap.add_argument("out", nargs="?", help="output ISO")
    args = ap.parse_args(argv)
    if args.all:
        os.makedirs(args.all, exist_ok=True)
        for arch in ARCHES:
            target = Path(args.all) / f"mini-{arch}.iso"
            build_iso(target, arch, rootfs_size=args.rootfs_size)
            print(target)
        return 0
    if args.demo:
        target = DEMO_DIR / "demo.iso"
        build_iso(target, "x86_64")
        print(os.path.relpath(target) if target.is_relative_to(Path.cwd()) else target)
        return 0
    if not args.out:
        ap.error("give OUT, --all DIR or --demo")
    build_iso(args.out, args.arch, rootfs_size=args.rootfs_size)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
