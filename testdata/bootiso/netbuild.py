#!/usr/bin/env python3
"""Build the network boot loaders of the network-boot suite (tests/boot/test_netboot.py), from Debian packages.

Beside build.py (the live ISO, kernel and initramfs), this makes what a TFTP root needs:

- ``grubx64.efi`` (x86_64 UEFI) and ``grubaa64.efi`` (aarch64 UEFI): GRUB network images, ``grub-mkimage``
  over the module directories of Debian's ``grub-efi-amd64-bin`` / ``grub-efi-arm64-bin`` .debs, with the
  ``net tftp http efinet`` modules and the prefix ``/grub`` on the TFTP server GRUB came from, so GRUB reads
  ``grub/grub.cfg-01-<mac>`` (then ``grub/grub.cfg``) of the booting NIC, as ``grub-mknetdir`` sets it up;
- x86_64 BIOS: ``lpxelinux.0`` (the PXELINUX that fetches http:// URLs) from Debian's ``pxelinux`` .deb and
  ``ldlinux.c32`` from ``syslinux-common``; ``ipxe.lkrn`` from Debian's ``ipxe`` .deb (iPXE as a Linux-style
  kernel: qemu runs it with a script as initrd, an iPXE that starts without a network address).

The iPXE ROM is not built: qemu loads its NIC's ROM from Debian's ``ipxe-qemu`` package (installed).

Output: ``testdata/build/netboot/<arch>/`` with ``manifest.json``. Deterministic (grub-mkimage writes the same
bytes for the same inputs; checked by the suite) and skipped when the manifest's stamp (this script, build.py,
the resolved package versions) matches. The .debs share build.py's cache, ``testdata/build/debs/``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_BUILD = HERE.parent / "build"

GRUB_NET_MODULES = [
    "net", "tftp", "http", "efinet", "linux", "normal", "configfile", "echo", "test", "gzio", "ls", "cat",
    "halt", "reboot",
]
GRUB_PREFIX = "/grub"  # on the TFTP server of the DHCP answer: (tftp,<next-server>)/grub
NET = {
    "x86_64": {"deb": "amd64", "grub": "x86_64-efi", "efi": "grubx64.efi", "bios": True},
    "aarch64": {"deb": "arm64", "grub": "arm64-efi", "efi": "grubaa64.efi", "bios": False},
}


_BUILD: list[Any] = []


def _build_module() -> Any:
    """build.py, loaded once (its BuildError is the one raised and caught here)."""
    if not _BUILD:
        spec = importlib.util.spec_from_file_location("bootiso_build", HERE / "build.py")
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _BUILD.append(mod)
    return _BUILD[0]


def _version(b: Any, spec: str) -> str:
    show = subprocess.run(["apt-cache", "show", "--no-all-versions", spec], capture_output=True, text=True)
    for line in show.stdout.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    raise b.BuildError(f"package {spec} not found in the apt lists"
                       + ("" if ":" not in spec else " (run: dpkg --add-architecture arm64 && apt-get update)"))


def packages(arch: str) -> list[tuple[str, str, str]]:
    b = _build_module()
    a = NET[arch]
    names = [(f"grub-efi-{a['deb']}-bin", a["deb"])]
    if a["bios"]:
        names += [("pxelinux", "all"), ("syslinux-common", "all"), ("ipxe", "all")]
    return [(n, _version(b, n if d in ("all", "amd64") else f"{n}:{d}"), d) for n, d in names]


def build(arch: str, out: Path, debs: Path, force: bool = False) -> dict:
    """Build (or reuse) the network loaders for ``arch`` in ``out``; return the manifest."""
    b = _build_module()
    a = NET[arch]
    pkgs = packages(arch)
    h = hashlib.sha256(Path(__file__).read_bytes() + (HERE / "build.py").read_bytes() + arch.encode())
    for p in pkgs:
        h.update(("=".join(p) + "\n").encode())
    stamp = h.hexdigest()
    manifest_path = out / "manifest.json"
    if not force and manifest_path.is_file():
        old = json.loads(manifest_path.read_text())
        if old.get("stamp") == stamp and all(
                (out / name).is_file() and b.sha256_file(out / name) == digest
                for name, digest in old.get("files", {}).items()):
            return old  # type: ignore[no-any-return]

    files = {name: b.fetch_deb(name, version, darch, debs) for name, version, darch in pkgs}
    unpacked = debs / "unpacked"
    gname = f"grub-efi-{a['deb']}-bin"
    gdir = b.unpack(files[gname], [f"./usr/lib/grub/{a['grub']}/*"], unpacked / files[gname].stem)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (a["efi"] + ".tmp")
    b.run(["grub-mkimage", "-d", str(gdir / "usr/lib/grub" / a["grub"]), "-O", a["grub"], "-o", str(tmp),
           "-p", GRUB_PREFIX, *GRUB_NET_MODULES])
    tmp.replace(out / a["efi"])
    made = [a["efi"]]
    if a["bios"]:
        pdir = b.unpack(files["pxelinux"], ["./usr/lib/PXELINUX/lpxelinux.0"], unpacked / files["pxelinux"].stem)
        shutil.copyfile(pdir / "usr/lib/PXELINUX/lpxelinux.0", out / "lpxelinux.0")
        sdir = b.unpack(files["syslinux-common"], ["./usr/lib/syslinux/modules/bios/ldlinux.c32"],
                        unpacked / (files["syslinux-common"].stem + "-ldlinux"))
        shutil.copyfile(sdir / "usr/lib/syslinux/modules/bios/ldlinux.c32", out / "ldlinux.c32")
        idir = b.unpack(files["ipxe"], ["./boot/ipxe.lkrn"], unpacked / files["ipxe"].stem)
        shutil.copyfile(idir / "boot/ipxe.lkrn", out / "ipxe.lkrn")
        made += ["lpxelinux.0", "ldlinux.c32", "ipxe.lkrn"]
    manifest = {
        "arch": arch,
        "grub_efi": a["efi"],
        "grub_prefix": GRUB_PREFIX,
        "grub_modules": GRUB_NET_MODULES,
        "packages": {name: f"{version} ({darch})" for name, version, darch in pkgs},
        "files": {name: b.sha256_file(out / name) for name in made},
        "stamp": stamp,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=sorted(NET), action="append", help="architecture (default: both)")
    ap.add_argument("--out", type=Path, help="output directory (default testdata/build/netboot/<arch>)")
    ap.add_argument("--debs", type=Path, default=DEFAULT_BUILD / "debs", help=".deb cache directory")
    ap.add_argument("--force", action="store_true", help="rebuild even if the manifest stamp matches")
    args = ap.parse_args(argv)
    arches = args.arch or sorted(NET)
    if args.out and len(arches) > 1:
        ap.error("--out needs exactly one --arch")
    b = _build_module()
    try:
        for arch in arches:
            out = args.out or DEFAULT_BUILD / "netboot" / arch
            m = build(arch, out, args.debs, force=args.force)
            for name, digest in sorted(m["files"].items()):
                print(f"{out / name} sha256:{digest}")
    except b.BuildError as e:
        print(f"netboot: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
