"""The boot cases: each prepares an image (with ignkit's own commands) and boots it; returns a BootReport.

A case runs in a worker thread of the lab (conftest.py). Images shared by several cases are lab artifacts,
made once. What each case should show is in ``EXPECT`` and is checked by the tests, not here.
"""

from __future__ import annotations

import json
import lzma
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import bootlib
from bootlab import BOOTISO, ignkit

LIVE_IGN = BOOTISO / "live.ign"
DEST_IGN = BOOTISO / "dest.ign"
KEYFILES = sorted((BOOTISO / "keyfiles").glob("*.nmconnection"))

# `ignkit iso kargs modify` edits of the customized ISOs, and the kargs they must give (written out by hand,
# not computed with ignkit's own editor).
KARGS_EDIT = ["-d", "ignition.firstboot", "-a", "ignition.firstboot", "-a", "coreos.inst.install_dev=/dev/sda",
              "-a", "ignkit.boot=custom", "-r", "ignition.platform.id=metal=qemu"]


def custom_kargs(volume_id: str) -> str:
    return (f"coreos.liveiso={volume_id} ignition.platform.id=qemu ignition.firstboot "
            "coreos.inst.install_dev=/dev/sda ignkit.boot=custom")


EMBED_KARGS = ["ignkit.boot=embed", "console=tty0"]
PXE_APPEND = "ignition.firstboot ignition.platform.id=metal ignkit.boot=pxe"

CASES: dict[str, Callable[[Any], bootlib.BootReport]] = {}


def case(name: str) -> Callable:
    def deco(fn: Callable) -> Callable:
        CASES[name] = fn
        return fn
    return deco


def arch_of(mode: str) -> str:
    return "aarch64" if mode.startswith("aa64") else "x86_64"


def do_boot(lab: Any, mode: str, image: Path, **kw: Any) -> bootlib.BootReport:
    log = lab.workdir / f"{mode}-{image.stem}.serial.log"
    return bootlib.boot(mode, image, log_path=log, **kw)


# ---------------------------------------------------------------- images


def customized_iso(lab: Any, arch: str) -> Path:
    """Pristine ISO -> ignition embed (-o) -> network embed (--in-place) -> kargs modify (--in-place)."""
    def make() -> Path:
        pristine = lab.build(arch)["path"]
        out = lab.workdir / f"custom-{arch}.iso"
        ignkit("iso", "ignition", "embed", "--arch", arch, "-i", str(LIVE_IGN), "-o", str(out), str(pristine))
        net = ["iso", "network", "embed"]
        for k in KEYFILES:
            net += ["-k", str(k)]
        ignkit(*net, "--in-place", str(out))
        ignkit("iso", "kargs", "modify", *KARGS_EDIT, "--in-place", str(out))
        return out
    return lab.artifact(f"custom-{arch}", make)  # type: ignore[no-any-return]


def embedded_iso(lab: Any) -> Path:
    """``ignkit embed``: a per-host ISO that installs itself (destination config, device, keyfile, live kargs)."""
    def make() -> Path:
        pristine = lab.build("x86_64")["path"]
        out = lab.workdir / "embed-x86_64.iso"
        args = ["embed", str(pristine), "-o", str(out), "--dest-ignition", str(DEST_IGN), "--dest-device",
                "/dev/vda", "--network-keyfile", str(KEYFILES[0])]
        for k in EMBED_KARGS:
            args += ["--live-karg-append", k]
        ignkit(*args)
        return out
    return lab.artifact("embed-x86_64", make)  # type: ignore[no-any-return]


HOSTS_YAML = BOOTISO / "hosts.yaml"
HOSTS = {"worker-0": ("bios-disk", "/dev/vda", "192.0.2.10/24", "52:54:00:00:00:10"),
         "worker-1": ("uefi-cd", "/dev/sdb", "192.0.2.11/24", "52:54:00:00:00:11")}


def hosts_isos(lab: Any) -> Path:
    """``ignkit embed --hosts``: one ISO per host of hosts.yaml, in one directory."""
    def make() -> Path:
        out = lab.workdir / "hosts"
        ignkit("embed", str(lab.build("x86_64")["path"]), "--hosts", str(HOSTS_YAML), "--output-dir", str(out),
               "--dest-ignition", str(DEST_IGN))
        return out
    return lab.artifact("hosts-x86_64", make)  # type: ignore[no-any-return]


def pxe_initrd(lab: Any) -> Path:
    """``ignkit pxe customize`` of the ISO's live initramfs (x86_64)."""
    def make() -> Path:
        src = lab.build("x86_64")["dir"] / "initrd.img"
        out = lab.workdir / "pxe-initrd.img"
        ignkit("pxe", "customize", str(src), "-o", str(out), "--dest-ignition", str(DEST_IGN),
               "--dest-device", "/dev/vda", "--network-keyfile", str(KEYFILES[0]))
        return out
    return lab.artifact("pxe-initrd", make)  # type: ignore[no-any-return]


def fill_karg(m: dict) -> str:
    """One karg that makes default + " " + it exactly ``size - 1`` bytes: the largest kargs an area holds."""
    room = m["kargs_size"] - 1 - len(m["default_kargs"]) - 1
    return "ignkit.fill=" + "x" * (room - len("ignkit.fill="))


def full_kargs_iso(lab: Any) -> Path:
    """``ignkit iso kargs modify`` filling the kargs areas to the last byte (no room left for '#' padding)."""
    def make() -> Path:
        m = lab.build("x86_64")
        out = lab.workdir / "fullkargs-x86_64.iso"
        ignkit("iso", "kargs", "modify", "-a", fill_karg(m), "-o", str(out), str(m["path"]))
        return out
    return lab.artifact("fullkargs-x86_64", make)  # type: ignore[no-any-return]


def iso_file_lba(iso: Path, path: str) -> int:
    out = subprocess.run(["xorriso", "-indev", str(iso), "-find", path, "-exec", "report_lba", "--"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("File data lba:"):
            # File data lba:  0 ,   1423 ,    128 ,    262144 , '/images/ignition.img'
            return int(line.split(":", 1)[1].split(",")[1])
    raise AssertionError(f"{path} not found in {iso}")


def broken_iso(lab: Any) -> Path:
    """A deliberately wrong image, written without ignkit: the config compressed with xz's default CRC64 check
    (the kernel refuses it) and the kargs areas holding ``<kargs> ####...`` with no newline (isolinux passes
    the '#'s on). Booting it must make the checks fail."""
    def make() -> Path:
        m = lab.build("x86_64")
        out = lab.workdir / "broken-x86_64.iso"
        shutil.copyfile(m["path"], out)
        build = lab.build_mod
        cpio = build._newc("config.ign", 0o100600, LIVE_IGN.read_bytes(), ino=0, mtime=0)
        cpio += build._newc("TRAILER!!!", 0, mtime=0)
        payload = lzma.compress(cpio, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=9)
        kjson = json.loads(bootlib.iso_extract(out, "/coreos/kargs.json"))
        bad_area = (kjson["default"] + " ").ljust(kjson["size"], "#").encode()
        with open(out, "r+b") as f:
            f.seek(iso_file_lba(out, "/images/ignition.img") * 2048)
            f.write(payload)
            for entry in kjson["files"]:
                f.seek(iso_file_lba(out, "/" + entry["path"]) * 2048 + entry["offset"])
                f.write(bad_area)
        return out
    return lab.artifact("broken-x86_64", make)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- cases

for _mode in ("bios-cd", "bios-disk", "uefi-cd", "aa64-cd"):
    def _pristine(lab: Any, mode: str = _mode) -> bootlib.BootReport:
        return do_boot(lab, mode, lab.build(arch_of(mode))["path"])

    def _custom(lab: Any, mode: str = _mode) -> bootlib.BootReport:
        return do_boot(lab, mode, customized_iso(lab, arch_of(mode)))

    CASES[f"pristine-{_mode}"] = _pristine
    CASES[f"custom-{_mode}"] = _custom


for _mode in ("bios-cd", "uefi-cd"):
    def _full(lab: Any, mode: str = _mode) -> bootlib.BootReport:
        return do_boot(lab, mode, full_kargs_iso(lab))

    CASES[f"fullkargs-{_mode}"] = _full


@case("embed-uefi-disk")
def _embed(lab: Any) -> bootlib.BootReport:
    return do_boot(lab, "uefi-disk", embedded_iso(lab))


for _host, (_mode, *_rest) in HOSTS.items():
    def _hostboot(lab: Any, host: str = _host, mode: str = _mode) -> bootlib.BootReport:
        return do_boot(lab, mode, hosts_isos(lab) / f"{host}.iso")

    CASES[f"host-{_host}"] = _hostboot


@case("pxe-kernel")
def _pxe(lab: Any) -> bootlib.BootReport:
    m = lab.build("x86_64")
    return do_boot(lab, "kernel-x86_64", m["dir"] / "vmlinuz", initrd=pxe_initrd(lab), append=PXE_APPEND)


@case("broken-bios-cd")
def _broken(lab: Any) -> bootlib.BootReport:
    return do_boot(lab, "bios-cd", broken_iso(lab))


@case("hang")
def _hang(lab: Any) -> bootlib.BootReport:
    # No boot device: SeaBIOS waits forever; the boot must fail at the timeout instead of blocking the suite.
    m = lab.build("x86_64")
    return do_boot(lab, "nothing", m["path"], timeout=6)


# ---------------------------------------------------------------- a config larger than the Ignition area

GROWN_MODES = ("bios-cd", "bios-disk", "uefi-cd", "uefi-disk", "aa64-cd")


def big_config(lab: Any) -> Path:
    """A live config of about 3 MiB whose xz-compressed archive is over 2 MiB: a file of incompressible
    (seeded, so reproducible) random bytes, base64 in a data URL."""
    def make() -> Path:
        import base64
        import hashlib

        blob = b"".join(hashlib.sha256(b"ignkit-grow-%d" % i).digest() for i in range(2 * 1024 * 1024 // 32))
        config = {"ignition": {"version": "3.3.0"}, "storage": {"files": [
            {"path": "/var/big.bin", "mode": 420,
             "contents": {"source": "data:;base64," + base64.b64encode(blob).decode()}}]}}
        out = lab.workdir / "big.ign"
        out.write_text(json.dumps(config))
        return out
    return lab.artifact("big-config", make)  # type: ignore[no-any-return]


def grown_iso(lab: Any, arch: str) -> Path:
    """``ignkit iso ignition embed --grow-area`` of the big config: images/ignition.img moved to the end."""
    def make() -> Path:
        out = lab.workdir / f"grown-{arch}.iso"
        ignkit("iso", "ignition", "embed", "--grow-area", "-i", str(big_config(lab)), "-o", str(out),
               str(lab.build(arch)["path"]))
        return out
    return lab.artifact(f"grown-{arch}", make)  # type: ignore[no-any-return]


for _mode in GROWN_MODES:
    def _grown(lab: Any, mode: str = _mode) -> bootlib.BootReport:
        return do_boot(lab, mode, grown_iso(lab, arch_of(mode)), timeout=300)

    CASES[f"grown-{_mode}"] = _grown
