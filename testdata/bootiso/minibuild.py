#!/usr/bin/env python3
"""Build the minimal-ISO variant of the boot ISO (x86_64): a full live ISO that carries a rootfs and the
``coreos/miniso.dat`` of its minimal ISO, as a CoreOS build does.

What build.py makes for the rest of the suite is not changed: this script loads its own copy of build.py and
runs the same build with three differences, into ``testdata/build/miniboot/x86_64/``:

- ``/init`` is testdata/bootiso/init with ``fetch-rootfs.sh`` inserted before the report's checksum: given
  ``coreos.live.rootfs_url=URL`` the guest loads the e1000 driver (shipped in a second cpio of the initramfs,
  from the same Debian kernel package), brings up qemu's user network and fetches URL with busybox wget,
  reporting its sha256 and size (``fetched`` record, see tests/boot/bootlib.py);
- the minimal ISO is made first, by the same xorriso command (and isohybrid) on the same tree;
- the full ISO then adds ``images/pxeboot/rootfs.img`` (a small gzip newc archive with a known digest) and
  ``coreos/miniso.dat`` (``MINISO_ROOM`` bytes of zeros), and after the build miniso.dat is packed in place.

The packer (:func:`pack_miniso`) writes coreos-installer's format (bincode 1.x, varint integers: magic
``MINISO\\0\\0``, version 1, an app version, the table of files the two images share as (minimal LBA, full LBA,
length), the sha256 of the minimal image, and an xz stream of every byte of the minimal image outside the
shared files). Files are shared only when their path, length and bytes are the same in both images (a boot
image whose boot-info table records its own LBA is not); the table is checked by unpacking it here with
code independent of ignkit. File extents come from ``xorriso -find / -exec report_lba``.

Output: ``live.iso`` (the full ISO), ``minimal.iso`` (xorriso's minimal ISO, for comparison), ``rootfs.img``,
``vmlinuz``, ``initrd.img``, ``manifest.json`` (with ``minimal_sha256``, ``rootfs_sha256``). Deterministic,
and skipped when the manifest's stamp (this script, build.py, init, fetch-rootfs.sh, package versions)
matches.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_BUILD = HERE.parent / "build"
ARCH = "x86_64"
SECTOR = 2048
MINISO_ROOM = 64 * 1024
APP_VERSION = "ignkit-testdata-minibuild"
ROOTFS_PAYLOAD = 192 * 1024
INIT_ANCHOR = 'SUM=$(sha256sum "$R"'
E1000 = "./lib/modules/*/kernel/drivers/net/ethernet/intel/e1000/e1000.ko"


def load_build() -> Any:
    """A private copy of build.py (its functions are patched on this copy only)."""
    spec = importlib.util.spec_from_file_location("bootiso_build_minimal", HERE / "build.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---------------------------------------------------------------- the rootfs, the init, the NIC driver


def rootfs_image(b: Any) -> bytes:
    """A small stand-in rootfs: a gzip newc archive of a marker file and incompressible filler."""
    filler = b"".join(hashlib.sha256(b"ignkit-rootfs-%d" % i).digest() for i in range(ROOTFS_PAYLOAD // 32))
    entries = [("etc", 0o040755, b""), ("etc/ignkit-rootfs", 0o100644, b"ignkit boot-test rootfs\n"),
               ("usr", 0o040755, b""), ("usr/filler.bin", 0o100644, filler)]
    cpio = b"".join(b._newc(n, m, d, ino=i + 1, nlink=2 if m & 0o040000 else 1) for i, (n, m, d) in enumerate(entries))
    cpio += b._newc("TRAILER!!!", 0, mtime=0)
    return gzip.compress(cpio, compresslevel=9, mtime=0)


def variant_init() -> str:
    init = (HERE / "init").read_text()
    if init.count(INIT_ANCHOR) != 1:
        raise RuntimeError(f"testdata/bootiso/init: no single line starting {INIT_ANCHOR!r} to insert the fetch before")
    i = init.index(INIT_ANCHOR)
    return init[:i] + (HERE / "fetch-rootfs.sh").read_text() + init[i:]


def driver_cpio(b: Any, debs: Path) -> bytes:
    """A gzip newc archive of lib/modules/e1000.ko from the kernel package the ISO's kernel comes from."""
    name, version, darch = b.resolve_packages(ARCH)[0]
    deb = b.fetch_deb(name, version, darch, debs)
    d = b.unpack(deb, [E1000], debs / "unpacked" / (deb.stem + "-e1000"))
    found = sorted(d.glob("lib/modules/*/kernel/drivers/net/ethernet/intel/e1000/e1000.ko"))
    if len(found) != 1:
        raise b.BuildError(f"{deb.name}: no single e1000.ko")
    entries = [("lib", 0o040755, b""), ("lib/modules", 0o040755, b""),
               ("lib/modules/e1000.ko", 0o100644, found[0].read_bytes())]
    cpio = b"".join(b._newc(n, m, data, ino=1000 + i, nlink=2 if m & 0o040000 else 1)
                    for i, (n, m, data) in enumerate(entries))
    cpio += b._newc("TRAILER!!!", 0, mtime=0)
    gz = gzip.compress(cpio, compresslevel=9, mtime=0)
    return gz + b"\0" * (-len(gz) % 4)


# ---------------------------------------------------------------- miniso.dat


def report_lba(iso: Path) -> dict[str, tuple[int, int]]:
    """path -> (start LBA, size) of every regular file of ``iso`` with data (xorriso's report)."""
    proc = subprocess.run(["xorriso", "-indev", str(iso), "-find", "/", "-type", "f", "-exec", "report_lba"],
                          capture_output=True, text=True, check=True)
    out: dict[str, tuple[int, int]] = {}
    for line in (proc.stdout + proc.stderr).splitlines():
        m = re.match(r"File data lba:\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'(.*)'$", line)
        if m:
            if m.group(1) != "0":
                raise RuntimeError(f"{iso}: multi-extent file {m.group(5)}")
            out[m.group(5)] = (int(m.group(2)), int(m.group(4)))
    if not out:
        raise RuntimeError(f"{iso}: xorriso reported no files:\n{proc.stderr[-1000:]}")
    return out


def _varint(n: int) -> bytes:
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfb" + struct.pack("<H", n)
    if n < 1 << 32:
        return b"\xfc" + struct.pack("<I", n)
    return b"\xfd" + struct.pack("<Q", n)


def shared_extents(full: Path, minimal: Path) -> list[tuple[int, int, int]]:
    """(minimal LBA, full LBA, length) of every file with the same path, length and bytes in both images."""
    fl, ml = report_lba(full), report_lba(minimal)
    out: dict[int, tuple[int, int, int]] = {}
    with open(full, "rb") as ff, open(minimal, "rb") as mf:
        for path, (mlba, size) in ml.items():
            if size == 0 or path not in fl or fl[path][1] != size:
                continue
            flba = fl[path][0]
            ff.seek(flba * SECTOR)
            mf.seek(mlba * SECTOR)
            if ff.read(size) == mf.read(size):
                out.setdefault(mlba, (mlba, flba, size))
    table = sorted(out.values())
    for a, c in zip(table, table[1:]):
        if a[0] * SECTOR + a[2] > c[0] * SECTOR:
            raise RuntimeError(f"shared files at minimal LBAs {a[0]} and {c[0]} overlap")
    return table


def pack_miniso(full: Path, minimal: Path) -> bytes:
    """coreos/miniso.dat describing ``minimal`` against ``full`` (checked by unpacking it)."""
    table = shared_extents(full, minimal)
    data = minimal.read_bytes()
    gaps = []
    pos = 0
    for mlba, _, size in table:
        gaps.append(data[pos:mlba * SECTOR])
        pos = mlba * SECTOR + size
    gaps.append(data[pos:])
    packed = lzma.compress(b"".join(gaps), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=9)
    app = APP_VERSION.encode()
    out = b"MINISO\0\0" + _varint(1) + _varint(len(app)) + app + _varint(len(table))
    out += b"".join(_varint(m) + _varint(f) + _varint(n) for m, f, n in table)
    out += hashlib.sha256(data).digest() + _varint(len(packed)) + packed
    # Unpack it again (the full image's shared files + the gaps) and compare.
    rest = lzma.decompress(packed)
    rebuilt = bytearray()
    with open(full, "rb") as ff:
        for mlba, flba, size in table:
            take = mlba * SECTOR - len(rebuilt)
            rebuilt += rest[:take]
            rest = rest[take:]
            ff.seek(flba * SECTOR)
            rebuilt += ff.read(size)
    rebuilt += rest
    if bytes(rebuilt) != data:
        raise RuntimeError("miniso.dat does not unpack to the minimal ISO")
    return out


# ---------------------------------------------------------------- the build


def stamp_of(b: Any) -> str:
    h = hashlib.sha256()
    for name in ("minibuild.py", "build.py", "init", "fetch-rootfs.sh"):
        h.update((HERE / name).read_bytes())
    for p in b.resolve_packages(ARCH):
        h.update(("=".join(p) + "\n").encode())
    return h.hexdigest()


def build(out: Path, debs: Path, force: bool = False) -> dict:
    """Build (or reuse) the variant in ``out``; return its manifest."""
    b = load_build()
    stamp = stamp_of(b)
    manifest_path = out / "manifest.json"
    if not force and manifest_path.is_file():
        old = json.loads(manifest_path.read_text())
        if old.get("stamp") == stamp and all(
                (out / n).is_file() and b.sha256_file(out / n) == old.get(k)
                for n, k in (("live.iso", "sha256"), ("minimal.iso", "minimal_sha256"),
                             ("rootfs.img", "rootfs_sha256"))):
            return old  # type: ignore[no-any-return]

    out.mkdir(parents=True, exist_ok=True)
    rootfs = rootfs_image(b)
    extra = driver_cpio(b, debs)
    work = Path(tempfile.mkdtemp(prefix="mini-", dir=out))
    try:
        (work / "init").write_text(variant_init())
        b.HERE = work  # build() reads HERE / "init"
        make_initramfs, run = b.make_initramfs, b.run
        minimal = work / "minimal.iso"

        def initramfs(*args: Any, **kw: Any) -> bytes:
            return make_initramfs(*args, **kw) + extra  # type: ignore[no-any-return]

        def run_twice(cmd: list[str], **kw: Any) -> Any:
            if cmd[0] != "xorriso" or "-o" not in cmd:
                return run(cmd, **kw)
            i = cmd.index("-o")
            root = Path(cmd[-1])
            run([*cmd[:i + 1], str(minimal), *cmd[i + 2:]], **kw)   # the minimal ISO: the tree as it is
            run(["isohybrid", "--uefi", "--id", "0x" + b.FAT_ID, str(minimal)])
            b.fix_gpt(minimal)
            (root / "images/pxeboot/rootfs.img").write_bytes(rootfs)
            (root / "coreos/miniso.dat").write_bytes(b"\0" * MINISO_ROOM)
            for p in ("images/pxeboot/rootfs.img", "coreos/miniso.dat", "images/pxeboot", "coreos"):
                os.utime(root / p, (b.EPOCH, b.EPOCH))
            return run(cmd, **kw)                                     # the full ISO

        b.make_initramfs, b.run = initramfs, run_twice
        m = dict(b.build(ARCH, out, debs, force=True))
        iso = out / "live.iso"
        dat = pack_miniso(iso, minimal)
        lba, size = report_lba(iso)["/coreos/miniso.dat"]
        if len(dat) > size:
            raise b.BuildError(f"miniso.dat is {len(dat)} bytes, more than its {size} in the ISO")
        with open(iso, "r+b") as f:
            f.seek(lba * SECTOR)
            f.write(dat)
        os.replace(minimal, out / "minimal.iso")
        (out / "rootfs.img").write_bytes(rootfs)
        m.update(size=iso.stat().st_size, sha256=b.sha256_file(iso), stamp=stamp,
                 minimal_iso="minimal.iso", minimal_sha256=b.sha256_file(out / "minimal.iso"),
                 minimal_size=(out / "minimal.iso").stat().st_size,
                 rootfs="rootfs.img", rootfs_sha256=hashlib.sha256(rootfs).hexdigest(), rootfs_size=len(rootfs),
                 miniso_dat_size=len(dat), init="testdata/bootiso/init + fetch-rootfs.sh")
        manifest_path.write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")
        return m
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_BUILD / "miniboot" / ARCH, help="output directory")
    ap.add_argument("--debs", type=Path, default=DEFAULT_BUILD / "debs", help=".deb cache directory")
    ap.add_argument("--force", action="store_true", help="rebuild even if the manifest stamp matches")
    args = ap.parse_args(argv)
    try:
        m = build(args.out, args.debs, force=args.force)
    except Exception as e:  # noqa: BLE001 - one line, like build.py
        print(f"minibuild: error: {e}", file=sys.stderr)
        return 1
    print(f"{args.out / 'live.iso'} {m['size']} sha256:{m['sha256']}")
    print(f"{args.out / 'minimal.iso'} {m['minimal_size']} sha256:{m['minimal_sha256']}")
    print(f"{args.out / 'rootfs.img'} {m['rootfs_size']} sha256:{m['rootfs_sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
