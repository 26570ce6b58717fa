"""Network boots in qemu's user-mode network, and the HTTP server they fetch from.

qemu's user network (slirp) gives the guest DHCP and a TFTP server (``-netdev user,tftp=DIR,bootfile=F``);
the guest reaches the host's loopback through the gateway: 10.0.2.2 is the host's 127.0.0.1 and fec0::2 its
::1 (slirp connects to them on the guest's behalf; nothing outside the machine is reached). The HTTP server is
nginx, started by the test on 127.0.0.1 and ::1 with a generated configuration and stopped by it.

Firmware: x86_64 BIOS (SeaBIOS) boots through the NIC's iPXE ROM (Debian ``ipxe-qemu``, which qemu loads for
the virtio-net device): iPXE runs a script or hands over to a PXE boot file (lpxelinux.0). UEFI (OVMF, AAVMF)
PXE-boots GRUB with the firmware's own network stack (``net-uefi``, ``net-aa64``) or runs iPXE's EFI ROM
(``net-uefi-ipxe``), whose console the firmware mirrors on the serial port.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import bootlib

GUEST_HOST4 = "10.0.2.2"   # the host's 127.0.0.1 as the guest sees it
GUEST_HOST6 = "fec0::2"    # the host's ::1 as the guest sees it

NET_MODES = {
    # mode: (qemu binary, firmware)
    "net-bios": ("qemu-system-x86_64", None),
    "net-uefi": ("qemu-system-x86_64", (bootlib.OVMF_CODE, bootlib.OVMF_VARS)),       # OVMF's own PXE
    "net-uefi-ipxe": ("qemu-system-x86_64", (bootlib.OVMF_CODE, bootlib.OVMF_VARS)),  # the iPXE EFI ROM
    "net-aa64": ("qemu-system-aarch64", (bootlib.AAVMF_CODE, bootlib.AAVMF_VARS)),
    # iPXE started with no address: Debian's ipxe.lkrn run as a kernel, the script as its initrd
    "ipxe-lkrn": ("qemu-system-x86_64", None),
    # a CD image read by qemu's HTTP block driver (curl) from the host's server
    "http-bios-cd": ("qemu-system-x86_64", None),
    "http-uefi-cd": ("qemu-system-x86_64", (bootlib.OVMF_CODE, bootlib.OVMF_VARS)),
}


class BootFailed(bootlib.BootError):
    """The serial log showed a loader or kernel failure (qemu was stopped at once)."""


# What loaders print when a boot cannot go on (GRUB and iPXE under UEFI, whose console the firmware mirrors on
# the serial port), looked for before the kernel starts, and what the kernel prints (with console=ttyS0).
LOADER_FAILURE = re.compile(r"error: (?!no suitable video mode)[^\r\n]*|Could not boot[^\r\n]*"
                            r"|[^\r\n]*\(https?://ipxe\.org/[0-9a-f]+\)[^\r\n]*")
KERNEL_FAILURE = re.compile(r"Kernel panic[^\r\n]*")
KERNEL_START = re.compile(r"Linux version |EFI stub: ")


def failure(text: str, whole: bool = True) -> str | None:
    """The first loader or kernel failure line of a serial log, if any. While the guest still writes
    (``whole`` false) only complete lines count: a line caught half written ("error: no s") could still
    become a harmless one ("error: no suitable video mode found.")."""
    if not whole:
        text = text[:max(text.rfind("\n"), text.rfind("\r")) + 1]
    start = KERNEL_START.search(text)
    m = LOADER_FAILURE.search(text[:start.start()] if start else text) or KERNEL_FAILURE.search(text)
    return m.group(0).strip() if m else None


def free_port() -> int:
    """A TCP port free on both 127.0.0.1 and ::1 (not 80/8080: the suite proves non-default ports work)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s4:
            s4.bind(("127.0.0.1", 0))
            port = s4.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
                    s6.bind(("::1", port))
            except OSError:
                continue
            return int(port)
    raise RuntimeError("no free port on 127.0.0.1 and ::1")


class Nginx:
    """nginx serving ``root`` on 127.0.0.1:PORT and [::1]:PORT (Range requests, HEAD, sendfile: stock nginx)."""

    def __init__(self, root: Path, workdir: Path) -> None:
        self.root = root
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> None:
        for _ in range(5):
            self.port = free_port()
            conf = self.dir / "nginx.conf"
            d = self.dir
            conf.write_text(f"""\
worker_processes 1;
master_process off;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    default_type application/octet-stream;
    sendfile on;
    server {{
        listen 127.0.0.1:{self.port};
        listen [::1]:{self.port};
        root {self.root};
    }}
}}
""")
            self.proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(d)], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=open(d / "stderr.log", "wb"))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return
                except OSError:
                    time.sleep(0.05)
            self.stop()
        raise RuntimeError(f"nginx did not start: {(self.dir / 'stderr.log').read_text()[-500:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def url(self, path: str, host: str = GUEST_HOST4) -> str:
        """The URL of ``path`` (under root) as a guest (default) or the host (``127.0.0.1``) reaches it."""
        h = f"[{host}]" if ":" in host else host
        return f"http://{h}:{self.port}/{path.lstrip('/')}"

    def requests(self) -> list[str]:
        """The request lines of the access log so far (``GET /path HTTP/1.1`` ... with status and size)."""
        log = self.dir / "access.log"
        return log.read_text().splitlines() if log.exists() else []


def qemu_command(mode: str, log: Path, workdir: Path, *, tftp: Path | None = None, bootfile: str = "",
                 mac: str = "52:54:00:12:34:56", cdrom_url: str = "", ipv6: bool = False,
                 lkrn: Path | None = None, script: Path | None = None, nic_mac: str = "") -> list[str]:
    binary, firmware = NET_MODES[mode]
    cmd = [binary, "-accel", "tcg", "-display", "none", "-monitor", "none", "-no-reboot", "-serial", f"file:{log}"]
    if binary == "qemu-system-x86_64":
        cmd += ["-M", "pc", "-m", "512"]
    else:
        cmd += ["-M", "virt", "-cpu", "cortex-a57", "-m", "1024"]
    if firmware is not None:
        code, vars_ = firmware
        vars_copy = workdir / "vars.fd"
        shutil.copyfile(vars_, vars_copy)
        cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
                "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
    if mode.startswith("net-"):
        assert tftp is not None
        # ipv4=on spelled out: given ipv6=on alone, qemu turns IPv4 off (no DHCPv4 answer at all: PXE-E18)
        netdev = f"user,id=n0,tftp={tftp},bootfile={bootfile},ipv4=on,ipv6={'on' if ipv6 else 'off'}"
        # UEFI: the firmware's own virtio-net driver and PXE, except in net-uefi-ipxe (the ipxe-qemu ROMs are
        # x86 code for BIOS and x86_64 UEFI).
        rom = ",romfile=" if mode in ("net-uefi", "net-aa64") else ""
        cmd += ["-netdev", netdev, "-device", f"virtio-net-pci,netdev=n0,mac={mac}{rom}"]
        if binary == "qemu-system-x86_64":
            cmd += ["-boot", "n"]
    elif mode == "ipxe-lkrn":
        # No DHCP, no TFTP boot file, no ROM: iPXE's own virtio driver, and the script is all it has.
        cmd += ["-netdev", "user,id=n0,ipv4=on,ipv6=off", "-device", f"virtio-net-pci,netdev=n0,mac={mac},romfile=",
                "-kernel", str(lkrn), "-initrd", str(script)]
    else:
        # nic_mac: an e1000 NIC (no option ROM: nothing to network-boot) on the user network, for a guest whose
        # init fetches from the host (10.0.2.2); otherwise no network at all.
        net = ["-netdev", "user,id=n0,ipv4=on,ipv6=off", "-device", f"e1000,netdev=n0,mac={nic_mac},romfile="] \
            if nic_mac else ["-nic", "none"]
        cmd += [*net, "-drive", f"file={cdrom_url},format=raw,media=cdrom,readonly=on"]
    return cmd


def netboot(mode: str, *, log_path: Path, timeout: float = 300.0, **kw: object) -> bootlib.BootReport:
    """Boot in ``mode`` (see NET_MODES) and return the guest's report.

    A loader or kernel failure seen on the serial port stops qemu at once (BootFailed with the line); no
    poweroff within ``timeout`` is a BootTimeout; a report that does not parse, a BootError.
    """
    with tempfile.TemporaryDirectory(prefix=f"netboot-{mode}-") as tmp:
        cmd = qemu_command(mode, log_path, Path(tmp), **kw)  # type: ignore[arg-type]
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=dict(os.environ, LC_ALL="C"))
        try:
            while proc.poll() is None:
                text = log_path.read_bytes().decode("utf-8", "replace") if log_path.exists() else ""
                bad = failure(text, whole=False)
                if bad:
                    raise BootFailed(f"{mode}: {bad}\nserial log ends with:\n{bootlib.tail(text)}")
                if time.monotonic() - start > timeout:
                    raise bootlib.BootTimeout(f"{mode}: no poweroff within {timeout:.0f} s; serial log ends with:\n"
                                              f"{bootlib.tail(text)}")
                time.sleep(0.25)
        finally:
            if proc.poll() is None:
                proc.kill()
            out = proc.communicate()[0]
        seconds = time.monotonic() - start
        text = log_path.read_bytes().decode("utf-8", "replace") if log_path.exists() else ""
        if proc.returncode != 0:
            raise bootlib.BootError(f"{mode}: qemu exited {proc.returncode}: {out.decode(errors='replace').strip()}"
                                    f"\nserial log ends with:\n{bootlib.tail(text)}")
        bad = failure(text)
        if bad:
            raise BootFailed(f"{mode}: {bad}\nserial log ends with:\n{bootlib.tail(text)}")
        report = bootlib.parse_report(text, mode)
        report.seconds = seconds
        return report
