#!/usr/bin/env python3
"""Build a small bootable live ISO with the layout of a CoreOS live ISO, from Debian packages only.

The boot suite (tests/boot/) customizes this ISO with ignkit and boots it in qemu. What goes in:

- a Debian kernel (``apt-get download`` of the package ``linux-image-<arch>`` depends on, unpacked, never
  installed) as ``images/pxeboot/vmlinuz``;
- ``images/pxeboot/initrd.img``: a gzip newc initramfs of busybox-static plus ``/init`` (testdata/bootiso/init),
  which prints ``/proc/cmdline``, ``/config.ign`` and ``/etc/coreos-firstboot-network/*`` on the serial port
  and powers off; it carries ``etc/coreos-live-initramfs`` and ``etc/coreos/features.json`` like a real
  CoreOS live initramfs;
- ``images/ignition.img`` (256 KiB of zeros), loaded by both bootloaders as a second initrd;
- ``coreos/igninfo.json``, ``coreos/kargs.json`` (embed areas in ``EFI/fedora/grub.cfg`` and, on x86_64,
  ``isolinux/isolinux.cfg``: ``<kargs>\\n####...# COREOS_KARG_EMBED_AREA``) and ``coreos/features.json``;
- x86_64: isolinux (BIOS El Torito) + GRUB EFI in ``images/efiboot.img`` (UEFI El Torito) + an isohybrid
  MBR/GPT (``isohybrid --uefi``, GUIDs then derived from the volume descriptor); aarch64: GRUB EFI only.

Output (default ``testdata/build/bootiso/<arch>/``): ``live.iso``, ``vmlinuz``, ``initrd.img`` (for direct
kernel boots / PXE) and ``manifest.json`` (default kargs, volume id, package versions, sha256). The build is
deterministic (fixed dates, ids and GUIDs): two builds are byte-identical. It is skipped when the manifest's
stamp (this script, /init, the resolved package versions) matches. Downloaded .debs are cached in
``testdata/build/debs/``.

Needs: apt-get/apt-cache/dpkg-deb, xorriso, grub-mkimage (grub-common), mkfs.vfat (dosfstools), mtools,
isohybrid (syslinux-utils, x86_64 only); for aarch64 ``dpkg --add-architecture arm64 && apt-get update``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTDATA = HERE.parent
DEFAULT_BUILD = TESTDATA / "build"

EPOCH = 1700000000  # SOURCE_DATE_EPOCH: every date in the image
VOLUME_ID = "ignkit-coreos-1.0-0"
IGNITION_IMG_SIZE = 256 * 1024
KARGS_PAD = 1025  # '#' characters after "<kargs>\n" (as in FCOS: default 113 chars, area 1139 bytes)
EMBED_MARK = "# COREOS_KARG_EMBED_AREA"
FAT_ID = "4d4b4c49"
EFIBOOT_SIZE = 2 * 1024 * 1024
GRUB_MODULES = [
    "normal", "configfile", "linux", "echo", "test", "search", "search_fs_file", "search_label",
    "search_fs_uuid", "iso9660", "fat", "part_gpt", "part_msdos", "ls", "cat", "efi_gop", "gzio", "xzio",
    "reboot", "halt",
]

ARCHES = {
    "x86_64": {
        "deb": "amd64", "grub": "x86_64-efi", "efi": "BOOTX64.EFI", "tty": "/dev/ttyS0",
        "kernel_meta": "linux-image-amd64", "bios": True,
    },
    "aarch64": {
        "deb": "arm64", "grub": "arm64-efi", "efi": "BOOTAA64.EFI", "tty": "/dev/ttyAMA0",
        "kernel_meta": "linux-image-arm64", "bios": False,
    },
}

FEATURES = {
    "installer-config": True,
    "installer-config-directives": {k: True for k in [
        "append-karg", "architecture", "console", "copy-network", "delete-karg", "dest-device",
        "fetch-retries", "ignition-file", "ignition-hash", "ignition-url", "image-file", "image-url",
        "insecure", "insecure-ignition", "network-dir", "offline", "platform", "preserve-on-error",
        "save-partindex", "save-partlabel", "stream", "stream-base-url",
    ]},
    "live-initrd-network": True,
}

GRUB_EARLY_CFG = """\
search --no-floppy --set=root --hint "$root" --file /coreos/igninfo.json
set prefix=($root)/EFI/fedora
configfile $prefix/grub.cfg
"""

GRUB_CFG = """\
# ignkit boot-test live image: GRUB configuration (UEFI, El Torito or hybrid disk).
# The text after "linux ... vmlinuz " is a kernel-argument embed area (coreos/kargs.json).
set default="0"
set timeout=1

menuentry 'ignkit test CoreOS (Live)' --class fedora --class gnu-linux --class gnu --class os {
\tlinux /images/pxeboot/vmlinuz @@KARGS@@
\tinitrd /images/pxeboot/initrd.img /images/ignition.img
}
"""

ISOLINUX_CFG = """\
serial 0 115200
# ignkit boot-test live image: isolinux configuration (BIOS, CD or hybrid disk).
# The text after "append initrd=... " is a kernel-argument embed area (coreos/kargs.json).
ui menu.c32
timeout 10
menu title ignkit test CoreOS

label linux
  menu label ^ignkit test CoreOS (Live)
  menu default
  kernel /images/pxeboot/vmlinuz
  append initrd=/images/pxeboot/initrd.img,/images/ignition.img @@KARGS@@

menu end
"""


class BuildError(Exception):
    pass


def log(msg: str) -> None:
    print(f"bootiso: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH), LC_ALL="C", TZ="UTC")
    try:
        return subprocess.run(cmd, check=True, env=env, capture_output=True, text=True, **kw)
    except FileNotFoundError as e:
        raise BuildError(f"{cmd[0]} not found: install the boot-suite packages (see .ci/run)") from e
    except subprocess.CalledProcessError as e:
        raise BuildError(f"{' '.join(cmd)} failed ({e.returncode}): {e.stderr.strip()[-2000:]}") from e


# ---------------------------------------------------------------- packages


def default_kargs() -> str:
    return f"coreos.liveiso={VOLUME_ID} ignition.firstboot ignition.platform.id=metal"


def resolve_packages(arch: str) -> list[tuple[str, str, str]]:
    """[(package, version, deb architecture)] for ``arch``, resolved against the current apt lists."""
    a = ARCHES[arch]
    deb = a["deb"]
    q = "" if deb == "amd64" else f":{deb}"
    out = run(["apt-cache", "depends", "--no-recommends", "--no-suggests", a["kernel_meta"] + q]).stdout
    kernel = None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends:") and "linux-image-" in line:
            kernel = line.split(":", 1)[1].strip().split(":")[0]
            break
    if not kernel:
        raise BuildError(f"cannot resolve the kernel package of {a['kernel_meta']}{q}"
                         + ("" if deb == "amd64" else f" (run: dpkg --add-architecture {deb} && apt-get update)"))
    names = [(kernel, deb), ("busybox-static", deb), (f"grub-efi-{deb}-bin", deb)]
    if a["bios"]:
        names += [("isolinux", "all"), ("syslinux-common", "all")]
    result = []
    for name, darch in names:
        spec = name if darch in ("all", "amd64") else f"{name}:{darch}"
        show = subprocess.run(["apt-cache", "show", "--no-all-versions", spec], capture_output=True,
                              text=True)
        version = None
        for line in show.stdout.splitlines():
            if line.startswith("Version:"):
                version = line.split(":", 1)[1].strip()
                break
        if show.returncode != 0 or not version:
            hint = "" if darch in ("all", "amd64") else f" (run: dpkg --add-architecture {darch} && apt-get update)"
            raise BuildError(f"package {spec} not found in the apt lists{hint}")
        result.append((name, version, darch))
    return result


def fetch_deb(name: str, version: str, darch: str, debs: Path) -> Path:
    """Download name=version with ``apt-get download`` into the .deb cache (once)."""
    debs.mkdir(parents=True, exist_ok=True)
    target = debs / f"{name}_{version.replace(':', '%3a')}_{darch}.deb"
    if target.is_file():
        return target
    spec = name if darch in ("all", "amd64") else f"{name}:{darch}"
    with tempfile.TemporaryDirectory(dir=debs) as tmp:
        log(f"apt-get download {spec}={version}")
        run(["apt-get", "download", "-q", f"{spec}={version}"], cwd=tmp)
        got = list(Path(tmp).glob("*.deb"))
        if len(got) != 1:
            raise BuildError(f"apt-get download {spec}={version} gave {len(got)} files")
        os.replace(got[0], target)
    for old in debs.glob(f"{name}_*_{darch}.deb"):  # keep one version per package in the cache
        if old != target:
            old.unlink()
            shutil.rmtree(debs / "unpacked" / old.stem, ignore_errors=True)
    return target


def unpack(deb: Path, patterns: list[str], dest: Path) -> Path:
    """Unpack the members of ``deb`` matching ``patterns`` (tar wildcards) into ``dest`` (once)."""
    stamp = dest / ".unpacked"
    if stamp.is_file() and stamp.read_text() == "\n".join(patterns):
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    tar = subprocess.Popen(["tar", "-x", "-C", str(dest), "--wildcards", *patterns], stdin=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    rc = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=tar.stdin, stderr=subprocess.PIPE)
    assert tar.stdin is not None
    tar.stdin.close()
    err = tar.stderr.read().decode() if tar.stderr else ""
    if tar.wait() != 0 or rc.returncode != 0:
        raise BuildError(f"unpacking {deb.name} failed: {err.strip() or rc.stderr.decode().strip()}")
    stamp.write_text("\n".join(patterns))
    return dest


# ---------------------------------------------------------------- initramfs (newc)


def _newc(name: str, mode: int, data: bytes = b"", ino: int = 0, nlink: int = 1, rdev: tuple[int, int] = (0, 0),
          mtime: int = EPOCH) -> bytes:
    nameb = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, mtime, len(data), 0, 0, rdev[0], rdev[1], len(nameb), 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = hdr + nameb
    out += b"\0" * (-len(out) % 4)
    out += data + b"\0" * (-len(data) % 4)
    return out


def make_initramfs(busybox: bytes, init: bytes, build_id: str) -> bytes:
    """gzip newc archive: busybox, /init, device nodes, the CoreOS live-initramfs stamp and features."""
    entries: list[tuple[str, int, bytes, tuple[int, int]]] = [
        ("bin", 0o040755, b"", (0, 0)),
        ("bin/busybox", 0o100755, busybox, (0, 0)),
        ("dev", 0o040755, b"", (0, 0)),
        ("dev/console", 0o020600, b"", (5, 1)),
        ("dev/null", 0o020666, b"", (1, 3)),
        ("etc", 0o040755, b"", (0, 0)),
        ("etc/coreos", 0o040755, b"", (0, 0)),
        ("etc/coreos/features.json", 0o100644, features_json(), (0, 0)),
        ("etc/coreos-live-initramfs", 0o100644, (build_id + "\n").encode(), (0, 0)),
        ("init", 0o100755, init, (0, 0)),
        ("proc", 0o040755, b"", (0, 0)),
        ("sys", 0o040755, b"", (0, 0)),
        ("tmp", 0o041777, b"", (0, 0)),
    ]
    cpio = b"".join(
        _newc(name, mode, data, ino=i + 1, nlink=2 if mode & 0o040000 else 1, rdev=rdev)
        for i, (name, mode, data, rdev) in enumerate(entries)
    )
    cpio += _newc("TRAILER!!!", 0, mtime=0)
    gz = gzip.compress(cpio, compresslevel=9, mtime=0)
    return gz + b"\0" * (-len(gz) % 4)


def features_json() -> bytes:
    return (json.dumps(FEATURES, indent=2, sort_keys=True) + "\n").encode()


# ---------------------------------------------------------------- kargs areas


def expand_kargs(template: str, kargs: str, size: int) -> tuple[str, int]:
    """Replace @@KARGS@@ with the embed area; return (text, byte offset of the area)."""
    area = kargs + "\n" + "#" * (size - len(kargs) - 1)
    before, after = template.split("@@KARGS@@")
    text = before + area + EMBED_MARK + after
    return text, len(before.encode())


# ---------------------------------------------------------------- GPT (isohybrid)


def _guid(seed: bytes, label: str) -> bytes:
    g = bytearray(hashlib.sha256(seed + label.encode()).digest()[:16])
    g[7] = (g[7] & 0x0F) | 0x40  # version 4 (mixed-endian GUID: byte 7 is the high byte of field 3)
    g[8] = (g[8] & 0x3F) | 0x80
    return bytes(g)


def fix_gpt(iso: Path) -> None:
    """Replace isohybrid's random GPT GUIDs with GUIDs derived from the volume descriptor; fix the CRCs."""
    with open(iso, "r+b") as f:
        f.seek(16 * 2048)
        seed = f.read(2048)
        f.seek(512)
        primary = f.read(512)
        if primary[:8] != b"EFI PART":
            raise BuildError("no GPT after isohybrid --uefi")
        backup_lba = struct.unpack_from("<Q", primary, 32)[0]
        for lba in (1, backup_lba):
            f.seek(lba * 512)
            hdr = bytearray(f.read(512))
            if hdr[:8] != b"EFI PART":
                raise BuildError(f"no GPT header at LBA {lba}")
            hsize = struct.unpack_from("<I", hdr, 12)[0]
            ent_lba, count, esize = struct.unpack_from("<QII", hdr, 72)
            f.seek(ent_lba * 512)
            ents = bytearray(f.read(count * esize))
            for i in range(count):
                e = i * esize
                if any(ents[e:e + 16]):
                    ents[e + 16:e + 32] = _guid(seed, f"partition-{i}")
            hdr[56:72] = _guid(seed, "disk")
            struct.pack_into("<I", hdr, 88, zlib.crc32(bytes(ents)) & 0xFFFFFFFF)
            struct.pack_into("<I", hdr, 16, 0)
            struct.pack_into("<I", hdr, 16, zlib.crc32(bytes(hdr[:hsize])) & 0xFFFFFFFF)
            f.seek(ent_lba * 512)
            f.write(ents)
            f.seek(lba * 512)
            f.write(hdr)


# ---------------------------------------------------------------- the build


def stamp_of(arch: str, packages: list[tuple[str, str, str]]) -> str:
    h = hashlib.sha256()
    h.update(Path(__file__).read_bytes())
    h.update((HERE / "init").read_bytes())
    h.update(arch.encode())
    for p in packages:
        h.update(("=".join(p) + "\n").encode())
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build(arch: str, out: Path, debs: Path, force: bool = False) -> dict:
    """Build (or reuse) the ISO for ``arch`` in ``out``; return the manifest."""
    a = ARCHES[arch]
    packages = resolve_packages(arch)
    stamp = stamp_of(arch, packages)
    manifest_path = out / "manifest.json"
    iso = out / "live.iso"
    if not force and manifest_path.is_file() and iso.is_file():
        old = json.loads(manifest_path.read_text())
        if old.get("stamp") == stamp and old.get("sha256") == sha256_file(iso):
            return old  # type: ignore[no-any-return]

    files = {name: fetch_deb(name, version, darch, debs) for name, version, darch in packages}
    kernel_pkg = packages[0][0]
    unpacked = debs / "unpacked"
    kdir = unpack(files[kernel_pkg], ["./boot/vmlinuz-*"], unpacked / files[kernel_pkg].stem)
    vmlinuz = sorted((kdir / "boot").glob("vmlinuz-*"))[0]
    bbdir = unpack(files["busybox-static"], ["./bin/busybox"], unpacked / files["busybox-static"].stem)
    gname = f"grub-efi-{a['deb']}-bin"
    gdir = unpack(files[gname], [f"./usr/lib/grub/{a['grub']}/*"], unpacked / files[gname].stem)

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="work-", dir=out))
    try:
        root = work / "root"
        (root / "images" / "pxeboot").mkdir(parents=True)
        (root / "coreos").mkdir()
        (root / "EFI" / "BOOT").mkdir(parents=True)
        (root / "EFI" / "fedora").mkdir(parents=True)

        shutil.copyfile(vmlinuz, root / "images/pxeboot/vmlinuz")
        init = (HERE / "init").read_text().replace("@@TTY@@", a["tty"]).encode()
        build_id = f"{VOLUME_ID}-{arch}"
        (root / "images/pxeboot/initrd.img").write_bytes(
            make_initramfs((bbdir / "bin/busybox").read_bytes(), init, build_id))
        (root / "images/ignition.img").write_bytes(b"\0" * IGNITION_IMG_SIZE)

        kargs = default_kargs()
        size = len(kargs) + 1 + KARGS_PAD
        kfiles = []
        text, off = expand_kargs(GRUB_CFG, kargs, size)
        (root / "EFI/fedora/grub.cfg").write_text(text)
        kfiles.append({"end": "\n", "offset": off, "pad": "#", "path": "EFI/fedora/grub.cfg"})
        if a["bios"]:
            (root / "isolinux").mkdir()
            text, off = expand_kargs(ISOLINUX_CFG, kargs, size)
            (root / "isolinux/isolinux.cfg").write_text(text)
            kfiles.append({"end": "\n", "offset": off, "pad": "#", "path": "isolinux/isolinux.cfg"})
            idir = unpack(files["isolinux"], ["./usr/lib/ISOLINUX/isolinux.bin"],
                          unpacked / files["isolinux"].stem)
            shutil.copyfile(idir / "usr/lib/ISOLINUX/isolinux.bin", root / "isolinux/isolinux.bin")
            mods = ["ldlinux.c32", "menu.c32", "libcom32.c32", "libutil.c32"]
            sdir = unpack(files["syslinux-common"], [f"./usr/lib/syslinux/modules/bios/{m}" for m in mods],
                          unpacked / files["syslinux-common"].stem)
            for m in mods:
                shutil.copyfile(sdir / "usr/lib/syslinux/modules/bios" / m, root / "isolinux" / m)
        kjson = {"default": kargs, "files": sorted(kfiles, key=lambda k: k["path"]), "size": size}
        (root / "coreos/kargs.json").write_text(json.dumps(kjson, indent=2, sort_keys=True) + "\n")
        (root / "coreos/igninfo.json").write_text(
            json.dumps({"file": "images/ignition.img"}, indent=2, sort_keys=True) + "\n")
        (root / "coreos/features.json").write_bytes(features_json())

        # GRUB EFI image, in the ISO tree and in the FAT image El Torito / the hybrid ESP point at.
        early = work / "early.cfg"
        early.write_text(GRUB_EARLY_CFG)
        efi = root / "EFI/BOOT" / a["efi"]
        run(["grub-mkimage", "-d", str(gdir / "usr/lib/grub" / a["grub"]), "-O", a["grub"], "-o", str(efi),
             "-p", "/EFI/fedora", "-c", str(early), *GRUB_MODULES])
        efiboot = root / "images/efiboot.img"
        with open(efiboot, "wb") as f:
            f.truncate(EFIBOOT_SIZE)
        run(["mkfs.vfat", "--invariant", "-i", FAT_ID, "-n", "EFIBOOT", str(efiboot)])
        for p in [efi, *root.rglob("*")]:
            os.utime(p, (EPOCH, EPOCH), follow_symlinks=False)
        _mtools(["mmd", "-i", str(efiboot), "::/EFI", "::/EFI/BOOT"])
        _mtools(["mcopy", "-m", "-i", str(efiboot), str(efi), f"::/EFI/BOOT/{a['efi']}"])
        for p in [root, *root.rglob("*")]:
            os.utime(p, (EPOCH, EPOCH), follow_symlinks=False)

        tmp_iso = work / "live.iso"
        cmd = ["xorriso", "-as", "mkisofs", "-o", str(tmp_iso), "-V", VOLUME_ID, "-volset", VOLUME_ID,
               "-sysid", "LINUX", "-r", "-J", "-joliet-long"]
        if a["bios"]:
            cmd += ["-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat", "-no-emul-boot",
                    "-boot-load-size", "4", "-boot-info-table", "-eltorito-alt-boot"]
        else:
            cmd += ["-c", "images/boot.cat"]
        cmd += ["-e", "images/efiboot.img", "-no-emul-boot", str(root)]
        run(cmd)
        if a["bios"]:
            run(["isohybrid", "--uefi", "--id", "0x" + FAT_ID, str(tmp_iso)])
            fix_gpt(tmp_iso)

        os.replace(tmp_iso, iso)
        shutil.copyfile(root / "images/pxeboot/vmlinuz", out / "vmlinuz")
        shutil.copyfile(root / "images/pxeboot/initrd.img", out / "initrd.img")
        manifest = {
            "arch": arch,
            "iso": "live.iso",
            "volume_id": VOLUME_ID,
            "default_kargs": kargs,
            "kargs_size": size,
            "build_id": build_id,
            "tty": a["tty"],
            "packages": {name: f"{version} ({darch})" for name, version, darch in packages},
            "size": iso.stat().st_size,
            "sha256": sha256_file(iso),
            "stamp": stamp,
        }
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _mtools(cmd: list[str]) -> None:
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH), MTOOLS_SKIP_CHECK="1", LC_ALL="C", TZ="UTC")
    try:
        subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise BuildError(f"{cmd[0]} not found: install mtools") from e
    except subprocess.CalledProcessError as e:
        raise BuildError(f"{' '.join(cmd)} failed: {e.stderr.strip()}") from e


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=sorted(ARCHES), action="append",
                    help="architecture to build (repeatable; default: both)")
    ap.add_argument("--out", type=Path, help="output directory (default testdata/build/bootiso/<arch>)")
    ap.add_argument("--debs", type=Path, default=DEFAULT_BUILD / "debs", help=".deb cache directory")
    ap.add_argument("--force", action="store_true", help="rebuild even if the manifest stamp matches")
    args = ap.parse_args(argv)
    arches = args.arch or sorted(ARCHES)
    if args.out and len(arches) > 1:
        ap.error("--out needs exactly one --arch")
    try:
        for arch in arches:
            out = args.out or DEFAULT_BUILD / "bootiso" / arch
            m = build(arch, out, args.debs, force=args.force)
            print(f"{out / m['iso']} {m['size']} sha256:{m['sha256']}")
    except BuildError as e:
        print(f"bootiso: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
