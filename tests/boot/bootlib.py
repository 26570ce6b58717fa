"""Boot a live ISO or a kernel in qemu (TCG) and read what the guest's /init reported on the serial port.

The guest side is testdata/bootiso/init: between ``IGNKIT-BOOT: begin`` and ``IGNKIT-BOOT: end`` it prints
``/proc/cmdline``, ``/config.ign`` and ``/etc/coreos-firstboot-network/*`` base64-encoded, and a sha256 over
those records, then powers off (qemu exits by itself); the minimal-ISO variant's init also reports what it
fetched from ``coreos.live.rootfs_url`` (``fetched``, ``fetch-failed``: testdata/bootiso/fetch-rootfs.sh).
This module runs qemu under a timeout, parses that report and compares it with what a test expects (kernel
arguments word by word, config and keyfiles byte for byte). It is also a small command line tool:
``python3 tests/boot/bootlib.py MODE IMAGE``.
"""

from __future__ import annotations

import base64
import hashlib
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

MARK = "IGNKIT-BOOT: "

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
AAVMF_CODE = Path("/usr/share/AAVMF/AAVMF_CODE.fd")
AAVMF_VARS = Path("/usr/share/AAVMF/AAVMF_VARS.fd")

# What each bootloader puts in front of the kernel arguments of its config (compared word by word).
ISOLINUX_PREFIX = ["BOOT_IMAGE=/images/pxeboot/vmlinuz", "initrd=/images/pxeboot/initrd.img,/images/ignition.img"]
GRUB_PREFIX = ["BOOT_IMAGE=/images/pxeboot/vmlinuz"]

MODES = {
    # mode: (qemu binary, loader prefix)
    "bios-cd": ("qemu-system-x86_64", ISOLINUX_PREFIX),
    "bios-disk": ("qemu-system-x86_64", ISOLINUX_PREFIX),
    "uefi-cd": ("qemu-system-x86_64", GRUB_PREFIX),
    "uefi-disk": ("qemu-system-x86_64", GRUB_PREFIX),
    "aa64-cd": ("qemu-system-aarch64", GRUB_PREFIX),
    "aa64-disk": ("qemu-system-aarch64", GRUB_PREFIX),
    "kernel-x86_64": ("qemu-system-x86_64", []),
    "nothing": ("qemu-system-x86_64", []),  # no boot device at all: SeaBIOS waits forever (a hang)
}


class BootError(Exception):
    """qemu failed, or the guest printed no complete report."""


class BootTimeout(BootError):
    """The guest did not power off within the timeout (qemu was killed)."""


class BootMismatch(AssertionError):
    """The guest booted but saw something other than what the test expected."""


@dataclass
class BootReport:
    mode: str
    cmdline: str
    config: bytes | None
    keyfiles: dict[str, bytes]
    dmesg: list[str] = field(default_factory=list)
    rootfs: list[str] = field(default_factory=list)
    # URL -> (sha256 hex, size) of what the guest fetched, or (None, wget's exit status) when it failed
    # (the minimal-ISO variant's init fetches coreos.live.rootfs_url: testdata/bootiso/fetch-rootfs.sh)
    fetched: dict[str, tuple[str | None, int]] = field(default_factory=dict)
    seconds: float = 0.0
    log: str = ""

    @property
    def words(self) -> list[str]:
        return self.cmdline.split()


def tail(text: str, n: int = 25) -> str:
    return "\n".join(text.splitlines()[-n:])


def qemu_command(mode: str, image: Path, log: Path, workdir: Path, *, initrd: Path | None = None,
                 append: str = "") -> list[str]:
    """The qemu command line for ``mode`` booting ``image`` (an ISO, or a kernel for ``kernel-*``)."""
    if mode not in MODES:
        raise ValueError(f"unknown boot mode {mode!r} (one of {', '.join(MODES)})")
    binary = MODES[mode][0]
    cmd = [binary, "-accel", "tcg", "-nic", "none", "-display", "none", "-monitor", "none", "-no-reboot",
           "-serial", f"file:{log}"]
    if binary == "qemu-system-x86_64":
        cmd += ["-M", "pc", "-m", "512"]
    else:
        cmd += ["-M", "virt", "-cpu", "cortex-a57", "-m", "1024"]
    if mode.startswith("uefi-") or mode.startswith("aa64-"):
        code, vars_ = (OVMF_CODE, OVMF_VARS) if mode.startswith("uefi-") else (AAVMF_CODE, AAVMF_VARS)
        vars_copy = workdir / f"{mode}-vars.fd"
        shutil.copyfile(vars_, vars_copy)
        cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
                "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
    if mode in ("bios-cd", "uefi-cd"):
        cmd += ["-cdrom", str(image)]
    elif mode in ("bios-disk", "uefi-disk", "aa64-disk"):
        cmd += ["-drive", f"file={image},format=raw,if=virtio,readonly=on"]
    elif mode == "aa64-cd":
        cmd += ["-device", "virtio-scsi-pci",
                "-drive", f"if=none,id=cd0,file={image},format=raw,media=cdrom,readonly=on",
                "-device", "scsi-cd,drive=cd0"]
    elif mode.startswith("kernel-"):
        cmd += ["-kernel", str(image), "-append", append]
        if initrd is not None:
            cmd += ["-initrd", str(initrd)]
    return cmd


def boot(mode: str, image: Path, *, timeout: float = 150.0, initrd: Path | None = None, append: str = "",
         log_path: Path | None = None) -> BootReport:
    """Boot ``image`` in ``mode`` under TCG; return the guest's report.

    Raises BootTimeout if qemu is still running after ``timeout`` seconds (it is then killed) and BootError if
    qemu fails or the serial log holds no complete report.
    """
    with tempfile.TemporaryDirectory(prefix=f"boot-{mode}-") as tmp:
        workdir = Path(tmp)
        log = log_path or workdir / "serial.log"
        cmd = qemu_command(mode, image, log, workdir, initrd=initrd, append=append)
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            text = log.read_bytes().decode("utf-8", "replace") if log.exists() else ""
            raise BootTimeout(
                f"{mode}: no poweroff within {timeout:.0f} s; serial log ends with:\n{tail(text)}") from None
        seconds = time.monotonic() - start
        text = log.read_bytes().decode("utf-8", "replace") if log.exists() else ""
        if proc.returncode != 0:
            raise BootError(f"{mode}: qemu exited {proc.returncode}: {out.decode(errors='replace').strip()}\n"
                            f"serial log ends with:\n{tail(text)}")
        report = parse_report(text, mode)
        report.seconds = seconds
        return report


def parse_report(text: str, mode: str = "") -> BootReport:
    """Parse the ``IGNKIT-BOOT:`` records of a serial log (raises BootError if incomplete or garbled)."""
    lines = []
    for raw in text.replace("\r", "").split("\n"):
        i = raw.find(MARK)
        if i >= 0:
            lines.append(raw[i + len(MARK):])
    if "begin" not in lines or "end" not in lines:
        raise BootError(f"{mode}: the guest printed no complete report; serial log ends with:\n{tail(text)}")
    lines = lines[lines.index("begin") + 1:lines.index("end")]
    records = [ln for ln in lines if ln.split(" ", 1)[0] in ("cmdline-b64", "config-b64", "config", "keyfile-b64",
                                                              "fetched", "fetch-failed")]
    sums = [ln.split(" ", 1)[1] for ln in lines if ln.startswith("sha256 ")]
    digest = hashlib.sha256("".join(r + "\n" for r in records).encode()).hexdigest()
    if sums != [digest]:
        raise BootError(f"{mode}: garbled report (sha256 {sums} != {digest}); serial log:\n{tail(text, 40)}")
    cmdline = ""
    config: bytes | None = None
    keyfiles: dict[str, bytes] = {}
    dmesg: list[str] = []
    rootfs: list[str] = []
    fetched: dict[str, tuple[str | None, int]] = {}
    for ln in lines:
        key, _, value = ln.partition(" ")
        if key == "cmdline-b64":
            cmdline = base64.b64decode(value).decode().rstrip("\n")
        elif key == "config-b64":
            config = base64.b64decode(value)
        elif key == "keyfile-b64":
            name, _, data = value.partition(" ")
            keyfiles[base64.b64decode(name).decode()] = base64.b64decode(data)
        elif key == "DMESG":
            dmesg.append(value)
        elif key == "ROOTFS":
            rootfs = value.split()
        elif key == "fetched":
            url, digest, size = value.split(" ")
            fetched[base64.b64decode(url).decode()] = (digest, int(size))
        elif key == "fetch-failed":
            url, status = value.split(" ")
            fetched[base64.b64decode(url).decode()] = (None, int(status))
    return BootReport(mode=mode, cmdline=cmdline, config=config, keyfiles=keyfiles, dmesg=dmesg, rootfs=rootfs,
                      fetched=fetched, log=text)


def expected_words(mode: str, kargs: str | list[str]) -> list[str]:
    words = kargs.split() if isinstance(kargs, str) else list(kargs)
    return list(MODES[mode][1]) + words


def check_kargs(report: BootReport, kargs: str | list[str]) -> None:
    """The kernel saw exactly the loader's prefix plus ``kargs``, word by word, in order."""
    want = expected_words(report.mode, kargs)
    got = report.words
    if got != want:
        extra = [w for w in got if w not in want]
        missing = [w for w in want if w not in got]
        raise BootMismatch(f"{report.mode}: kernel arguments differ\n  expected: {want}\n  got:      {got}\n"
                           f"  unexpected: {extra}\n  missing: {missing}")


def check_config(report: BootReport, config: bytes | None) -> None:
    """/config.ign in the guest is exactly ``config`` (None: no config)."""
    if report.config != config:
        if config is None:
            raise BootMismatch(f"{report.mode}: expected no /config.ign, the guest has {len(report.config or b'')} B")
        if report.config is None:
            raise BootMismatch(f"{report.mode}: the guest has no /config.ign (dmesg: {report.dmesg})")
        raise BootMismatch(f"{report.mode}: /config.ign differs:\n  expected {config[:200]!r}\n"
                           f"  got      {report.config[:200]!r}")


def check_keyfiles(report: BootReport, keyfiles: dict[str, bytes]) -> None:
    """/etc/coreos-firstboot-network/ in the guest holds exactly ``keyfiles``."""
    if report.keyfiles != keyfiles:
        raise BootMismatch(f"{report.mode}: keyfiles differ: expected {sorted(keyfiles)}, got {sorted(report.keyfiles)}"
                           + ("" if sorted(keyfiles) != sorted(report.keyfiles) else " (contents differ)"))


def check_boot(report: BootReport, *, kargs: str | list[str], config: bytes | None,
               keyfiles: dict[str, bytes] | None = None) -> None:
    check_kargs(report, kargs)
    check_config(report, config)
    check_keyfiles(report, keyfiles or {})


# ---------------------------------------------------------------- reading an ISO / initrd without ignkit


def iso_extract(iso: Path, path: str) -> bytes:
    """The bytes of file ``path`` (Rock Ridge name) of ``iso``, extracted by xorriso into a temporary file.

    (Never extract to /dev/stdout: xorriso, run as root, replaces that symlink with a regular file.)
    """
    with tempfile.TemporaryDirectory(prefix="iso-extract-") as tmp:
        dest = Path(tmp) / "file"
        subprocess.run(["xorriso", "-indev", str(iso), "-osirrox", "on", "-extract", path, str(dest)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
        return dest.read_bytes()



def read_newc(data: bytes) -> dict[str, bytes]:
    """Regular files of concatenated newc archives (uncompressed, gzip or xz, zero padding between)."""
    files: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            pos += 1
            continue
        if data.startswith(b"\xfd7zXZ\x00", pos):
            d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
            files.update(read_newc(d.decompress(data[pos:])))
            pos = len(data) - len(d.unused_data)
            continue
        if data.startswith(b"\x1f\x8b", pos):
            d2 = zlib.decompressobj(31)
            files.update(read_newc(d2.decompress(data[pos:])))
            pos = len(data) - len(d2.unused_data)
            continue
        if not data.startswith(b"07070", pos):
            raise ValueError(f"not a newc archive at offset {pos}")
        hdr = data[pos:pos + 110]
        mode = int(hdr[14:22], 16)
        size = int(hdr[54:62], 16)
        namesize = int(hdr[94:102], 16)
        name = data[pos + 110:pos + 110 + namesize].rstrip(b"\0").decode()
        pos += 110 + namesize
        pos += -pos % 4
        body = data[pos:pos + size]
        pos += size
        pos += -pos % 4
        if name == "TRAILER!!!":
            continue
        if mode & 0o170000 == 0o100000:
            files[name] = body
    return files


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Boot an image in qemu and print the guest's report.")
    ap.add_argument("mode", choices=sorted(MODES))
    ap.add_argument("image", type=Path)
    ap.add_argument("--initrd", type=Path)
    ap.add_argument("--append", default="")
    ap.add_argument("--timeout", type=float, default=150.0)
    ap.add_argument("--log", type=Path)
    args = ap.parse_args(argv)
    try:
        r = boot(args.mode, args.image, timeout=args.timeout, initrd=args.initrd, append=args.append,
                 log_path=args.log)
    except BootError as e:
        print(f"boot: {e}", file=sys.stderr)
        return 1
    print(f"mode: {r.mode} ({r.seconds:.1f} s)")
    print(f"cmdline: {r.cmdline}")
    print(f"config: {r.config!r}")
    for name, data in sorted(r.keyfiles.items()):
        print(f"keyfile {name}: {data!r}")
    for line in r.dmesg:
        print(f"dmesg: {line}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LC_ALL", "C")
    sys.exit(main())
