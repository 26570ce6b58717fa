"""Network boot cases (registered into cases.CASES): the entries `ignkit pxe config` writes, loaded by real
firmware and loaders over qemu's TFTP, kernel and initramfs over HTTP from nginx on a non-default port.

Per host (testdata/bootiso/hosts.yaml): `ignkit pxe customize --hosts` makes each host's initramfs (its own
live config), `ignkit pxe config --hosts` each host's boot entry (its own install device, ip=, Ignition URL),
`ignkit embed --hosts` each host's ISO. The guest's MAC picks the entry, so a guest that shows another host's
settings has been given the wrong file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import bootlib
import cases
import netlib
from bootlab import BOOTISO, BUILD, ignkit

HOSTS_YAML = BOOTISO / "hosts.yaml"
MACS = {"worker-0": "52:54:00:00:00:10", "worker-1": "52:54:00:00:00:11"}
CONSOLE = {"x86_64": "ttyS0,115200n8", "aarch64": "ttyAMA0"}
NET_BUILD = BUILD / "netboot"


def _netbuild_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bootiso_netbuild", BOOTISO / "netbuild.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def net_build(lab: Any, arch: str) -> dict:
    """GRUB network image (and for x86_64 lpxelinux.0 + ldlinux.c32), built by testdata/bootiso/netbuild.py."""
    def make() -> dict:
        with lab._build_lock:  # one apt-get download at a time
            m = dict(_netbuild_module().build(arch, NET_BUILD / arch, BUILD / "debs"))
        m["dir"] = NET_BUILD / arch
        return m
    return lab.artifact(f"netbuild-{arch}", make)  # type: ignore[no-any-return]


def www(lab: Any) -> Path:
    d = lab.workdir / "www"
    d.mkdir(exist_ok=True)
    return d


def _link(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        os.symlink(target, link)


def server(lab: Any) -> netlib.Nginx:
    """nginx on 127.0.0.1 and ::1 (a free port, never 80), serving www/; stopped when the lab closes."""
    def make() -> netlib.Nginx:
        srv = netlib.Nginx(www(lab), lab.workdir / "nginx")
        srv.start()
        lab.cleanups.append(srv.stop)
        return srv
    return lab.artifact("nginx", make)  # type: ignore[no-any-return]


def host_initrds(lab: Any, arch: str) -> Path:
    """``ignkit pxe customize --hosts``: www/<arch>/hosts/<hostname>.img, and the kernel at www/<arch>/vmlinuz."""
    def make() -> Path:
        m = lab.build(arch)
        out = www(lab) / arch / "hosts"
        ignkit("pxe", "customize", str(m["dir"] / "initrd.img"), "--hosts", str(HOSTS_YAML), "--output-dir",
               str(out), "--dest-ignition", str(cases.DEST_IGN))
        _link(m["dir"] / "vmlinuz", www(lab) / arch / "vmlinuz")
        return out
    return lab.artifact(f"host-initrds-{arch}", make)  # type: ignore[no-any-return]


def base_url(lab: Any, host: str = netlib.GUEST_HOST4) -> str:
    return server(lab).url("", host).rstrip("/")


def config_args(lab: Any, arch: str, host: str = netlib.GUEST_HOST4) -> list[str]:
    """`ignkit pxe config` options of the suite: kernel and per-host initramfs over HTTP, per-host config URL."""
    u = base_url(lab, host)
    u4 = base_url(lab)
    return ["--arch", arch, "--kernel-url", f"{u}/{arch}/vmlinuz",
            "--initramfs-url", f"{u}/{arch}/hosts/{{hostname}}.img", "--rootfs-url", f"{u4}/rootfs.img",
            "--ignition-url", f"{u4}/ign/{{short_name}}.ign", "--customized-initramfs", "--console", CONSOLE[arch]]


def tftp_root(lab: Any, name: str) -> Path:
    d = lab.workdir / "tftp" / name
    d.mkdir(parents=True, exist_ok=True)
    return d


# ---------------------------------------------------------------- TFTP roots


def ipxe_root(lab: Any) -> Path:
    """`pxe config -F ipxe --hosts`: boot.ipxe (chains ${mac:hexhyp}.ipxe) and one script per MAC."""
    def make() -> Path:
        host_initrds(lab, "x86_64")
        d = tftp_root(lab, "ipxe")
        ignkit("pxe", "config", "-F", "ipxe", "--hosts", str(HOSTS_YAML), "--output-dir", str(d),
               *config_args(lab, "x86_64"))
        return d
    return lab.artifact("tftp-ipxe", make)  # type: ignore[no-any-return]


def pxelinux_root(lab: Any) -> Path:
    """lpxelinux.0 + ldlinux.c32 and `pxe config -F pxelinux --hosts`'s pxelinux.cfg/01-<mac> files."""
    def make() -> Path:
        host_initrds(lab, "x86_64")
        nb = net_build(lab, "x86_64")
        d = tftp_root(lab, "pxelinux")
        for f in ("lpxelinux.0", "ldlinux.c32"):
            _link(nb["dir"] / f, d / f)
        ignkit("pxe", "config", "-F", "pxelinux", "--hosts", str(HOSTS_YAML), "--output-dir", str(d),
               *config_args(lab, "x86_64"))
        return d
    return lab.artifact("tftp-pxelinux", make)  # type: ignore[no-any-return]


def grub_root(lab: Any, arch: str) -> Path:
    """The GRUB network image and `pxe config -F grub --hosts`'s grub/grub.cfg-01-<mac> files."""
    def make() -> Path:
        host_initrds(lab, arch)
        nb = net_build(lab, arch)
        d = tftp_root(lab, f"grub-{arch}")
        _link(nb["dir"] / nb["grub_efi"], d / nb["grub_efi"])
        ignkit("pxe", "config", "-F", "grub", "--hosts", str(HOSTS_YAML), "--output-dir", str(d / "grub"),
               *config_args(lab, arch))
        return d
    return lab.artifact(f"tftp-grub-{arch}", make)  # type: ignore[no-any-return]


def grub_ipv6_root(lab: Any) -> Path:
    """One grub/grub.cfg (`pxe config -F grub`, no --hosts) fetching from http://[fec0::2]:PORT/."""
    def make() -> Path:
        host_initrds(lab, "x86_64")
        nb = net_build(lab, "x86_64")
        d = tftp_root(lab, "grub-ipv6")
        _link(nb["dir"] / nb["grub_efi"], d / nb["grub_efi"])
        args = [a.replace("{hostname}", "worker-0").replace("{short_name}", "worker-0")
                for a in config_args(lab, "x86_64", netlib.GUEST_HOST6)]
        (d / "grub").mkdir()
        ignkit("pxe", "config", "-F", "grub", *args, "--install-dev", "/dev/vda", "--ip",
               "192.0.2.10::192.0.2.1:24:worker-0::none", "--nameserver", "192.0.2.53", "-o", str(d / "grub/grub.cfg"))
        return d
    return lab.artifact("tftp-grub-ipv6", make)  # type: ignore[no-any-return]


def rom_script(lab: Any) -> Path:
    """worker-0's entry (`pxe config -F ipxe`, one host) as iPXE would run it from a NIC ROM: no address yet."""
    def make() -> Path:
        host_initrds(lab, "x86_64")
        d = tftp_root(lab, "ipxe-rom")
        args = [a.replace("{hostname}", "worker-0").replace("{short_name}", "worker-0")
                for a in config_args(lab, "x86_64")]
        ignkit("pxe", "config", "-F", "ipxe", *args, "--install-dev", "/dev/vda", "--ip",
               "192.0.2.10::192.0.2.1:24:worker-0::none", "--nameserver", "192.0.2.53", "-o", str(d / "worker-0.ipxe"))
        return d / "worker-0.ipxe"
    return lab.artifact("ipxe-rom-script", make)  # type: ignore[no-any-return]


def sanboot_root(lab: Any) -> Path:
    """An iPXE script that boots worker-0's ISO (`ignkit embed --hosts`) with `sanboot http://...`."""
    def make() -> Path:
        iso = hosts_isos_served(lab)
        d = tftp_root(lab, "sanboot")
        (d / "boot.ipxe").write_text("#!ipxe\nisset ${ip} || dhcp\n"
                                     f"sanboot {server(lab).url(f'iso/{iso[0].name}')}\n")
        return d
    return lab.artifact("tftp-sanboot", make)  # type: ignore[no-any-return]


def hosts_isos_served(lab: Any) -> list[Path]:
    def make() -> list[Path]:
        d = cases.hosts_isos(lab)
        isos = [d / f"{h}.iso" for h in MACS]
        for iso in isos:
            _link(iso, www(lab) / "iso" / iso.name)
        return isos
    return lab.artifact("www-isos", make)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- deliberately broken entries


def broken_grub_root(lab: Any) -> Path:
    """worker-0's GRUB entry with the pre-fix port syntax ``(http,HOST,PORT)``: GRUB looks up HOST,PORT."""
    def make() -> Path:
        good = grub_root(lab, "x86_64")
        d = tftp_root(lab, "grub-broken-port")
        _link(good / "grubx64.efi", d / "grubx64.efi")
        cfg = (good / "grub" / "grub.cfg-01-52-54-00-00-00-10").read_text()
        port = server(lab).port
        wrong = cfg.replace(f"(http,{netlib.GUEST_HOST4}:{port})", f"(http,{netlib.GUEST_HOST4},{port})")
        assert wrong != cfg
        (d / "grub").mkdir()
        (d / "grub" / "grub.cfg-01-52-54-00-00-00-10").write_text(wrong)
        return d
    return lab.artifact("tftp-grub-broken-port", make)  # type: ignore[no-any-return]


def broken_ipxe_root(lab: Any) -> Path:
    """An iPXE entry (`pxe config -F ipxe`) whose initramfs is not on the server."""
    def make() -> Path:
        d = tftp_root(lab, "ipxe-missing-initrd")
        args = [a.replace("{hostname}", "no-such-host").replace("{short_name}", "worker-0")
                for a in config_args(lab, "x86_64")]
        ignkit("pxe", "config", "-F", "ipxe", *args, "--install-dev", "/dev/vda", "-o", str(d / "boot.ipxe"))
        return d
    return lab.artifact("tftp-ipxe-missing-initrd", make)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- cases


def _boot(lab: Any, name: str, mode: str, **kw: Any) -> bootlib.BootReport:
    server(lab)
    return netlib.netboot(mode, log_path=lab.workdir / f"{name}.serial.log", **kw)


def register() -> None:
    c = cases.CASES

    c["net-ipxe-bios-worker-1"] = lambda lab: _boot(
        lab, "net-ipxe-bios-worker-1", "net-bios", tftp=ipxe_root(lab), bootfile="boot.ipxe", mac=MACS["worker-1"])
    for host in MACS:
        c[f"net-pxelinux-{host}"] = lambda lab, h=host: _boot(
            lab, f"net-pxelinux-{h}", "net-bios", tftp=pxelinux_root(lab), bootfile="lpxelinux.0", mac=MACS[h])
    c["net-grub-uefi-worker-0"] = lambda lab: _boot(
        lab, "net-grub-uefi-worker-0", "net-uefi", tftp=grub_root(lab, "x86_64"), bootfile="grubx64.efi",
        mac=MACS["worker-0"])
    c["net-grub-aa64-worker-1"] = lambda lab: _boot(
        lab, "net-grub-aa64-worker-1", "net-aa64", tftp=grub_root(lab, "aarch64"), bootfile="grubaa64.efi",
        mac=MACS["worker-1"])
    c["net-grub-uefi-ipv6"] = lambda lab: _boot(
        lab, "net-grub-uefi-ipv6", "net-uefi", tftp=grub_ipv6_root(lab), bootfile="grubx64.efi",
        mac="52:54:00:00:00:66", ipv6=True)
    c["ipxe-no-address-worker-0"] = lambda lab: _boot(
        lab, "ipxe-no-address-worker-0", "ipxe-lkrn", lkrn=net_build(lab, "x86_64")["dir"] / "ipxe.lkrn",
        script=rom_script(lab), mac=MACS["worker-0"])
    c["net-ipxe-sanboot-worker-0"] = lambda lab: _boot(
        lab, "net-ipxe-sanboot-worker-0", "net-bios", tftp=sanboot_root(lab), bootfile="boot.ipxe",
        mac=MACS["worker-0"])
    c["http-bios-cd-worker-0"] = lambda lab: _boot(
        lab, "http-bios-cd-worker-0", "http-bios-cd",
        cdrom_url=server(lab).url(f"iso/{hosts_isos_served(lab)[0].name}", "127.0.0.1"))
    c["http-uefi-cd-worker-1"] = lambda lab: _boot(
        lab, "http-uefi-cd-worker-1", "http-uefi-cd",
        cdrom_url=server(lab).url(f"iso/{hosts_isos_served(lab)[1].name}", "127.0.0.1"))
    c["broken-grub-port-syntax"] = lambda lab: _boot(
        lab, "broken-grub-port-syntax", "net-uefi", tftp=broken_grub_root(lab), bootfile="grubx64.efi",
        mac=MACS["worker-0"], timeout=240)
    c["broken-ipxe-missing-initrd"] = lambda lab: _boot(
        lab, "broken-ipxe-missing-initrd", "net-uefi-ipxe", tftp=broken_ipxe_root(lab), bootfile="boot.ipxe",
        mac=MACS["worker-0"], timeout=240)


register()


# ---------------------------------------------------------------- through `ignkit serve`


def serve_pxe_dir(lab: Any, arch: str = "x86_64") -> Path:
    """``--pxe-dir`` for serve: the suite's kernel and live initramfs, and an empty ``rootfs.img``
    (the guests only carry its URL in ``coreos.live.rootfs_url``; the suite's init never fetches it)."""
    def make() -> Path:
        m = lab.build(arch)
        d = lab.workdir / f"serve-pxe-{arch}"
        _link(m["dir"] / "vmlinuz", d / "vmlinuz")
        _link(m["dir"] / "initrd.img", d / "initrd.img")
        (d / "rootfs.img").write_bytes(b"")
        return d
    return lab.artifact(f"serve-pxe-dir-{arch}", make)  # type: ignore[no-any-return]


def serve(lab: Any, arch: str = "x86_64") -> Any:
    """``ignkit serve`` of hosts.yaml for ``arch`` (tests/servelib.py's launcher) on 127.0.0.1:PORT, guests told
    to reach it as http://10.0.2.2:PORT; its access log in the lab's workdir; stopped when the lab closes."""
    def make() -> Any:
        import sys

        tests_dir = str(Path(__file__).resolve().parent.parent)
        if tests_dir not in sys.path:
            sys.path.append(tests_dir)
        from servelib import Served

        port = netlib.free_port()
        srv = Served(["--hosts", HOSTS_YAML, "--iso", f"{arch}={lab.build(arch)['path']}",
                      "--pxe-dir", f"{arch}={serve_pxe_dir(lab, arch)}",
                      "--dest-ignition", cases.DEST_IGN, "--listen", f"127.0.0.1:{port}",
                      "--base-url", f"http://{netlib.GUEST_HOST4}:{port}",
                      "--access-log", lab.workdir / f"serve-access-{arch}.log"])
        assert srv.port == port
        lab.cleanups.append(srv.stop)
        return srv
    return lab.artifact(f"ignkit-serve-{arch}", make)


def serve_requests(lab: Any, arch: str = "x86_64") -> list[str]:
    log = lab.workdir / f"serve-access-{arch}.log"
    return log.read_text().splitlines() if log.exists() else []


def serve_ipxe_root(lab: Any) -> Path:
    """A TFTP root holding serve's own ``/boot.ipxe`` (fetched from it), which chains to ``/ipxe?mac=...``."""
    def make() -> Path:
        import requests

        d = tftp_root(lab, "serve-ipxe")
        r = requests.get(f"{serve(lab).url}/boot.ipxe", timeout=30)
        r.raise_for_status()
        (d / "boot.ipxe").write_bytes(r.content)
        return d
    return lab.artifact("tftp-serve-ipxe", make)  # type: ignore[no-any-return]


def serve_grub_root(lab: Any, arch: str) -> Path:
    """A TFTP root: the GRUB network image (prefix /grub) and serve's own ``/grub/grub.cfg`` as grub/grub.cfg,
    which loads ``(http,10.0.2.2:PORT)/grub/grub.cfg-01-${net_default_mac}`` from serve."""
    def make() -> Path:
        import requests

        nb = net_build(lab, arch)
        d = tftp_root(lab, f"serve-grub-{arch}")
        _link(nb["dir"] / nb["grub_efi"], d / nb["grub_efi"])
        r = requests.get(f"{serve(lab, arch).url}/grub/grub.cfg", timeout=30)
        r.raise_for_status()
        (d / "grub").mkdir()
        (d / "grub" / "grub.cfg").write_bytes(r.content)
        return d
    return lab.artifact(f"tftp-serve-grub-{arch}", make)  # type: ignore[no-any-return]


def register_serve() -> None:
    c = cases.CASES
    for host in MACS:
        c[f"serve-ipxe-{host}"] = lambda lab, h=host: netlib.netboot(
            "net-bios", log_path=lab.workdir / f"serve-ipxe-{h}.serial.log", tftp=serve_ipxe_root(lab),
            bootfile="boot.ipxe", mac=MACS[h])
        c[f"serve-grub-uefi-{host}"] = lambda lab, h=host: netlib.netboot(
            "net-uefi", log_path=lab.workdir / f"serve-grub-uefi-{h}.serial.log", tftp=serve_grub_root(lab, "x86_64"),
            bootfile="grubx64.efi", mac=MACS[h])
    c["serve-grub-aa64-worker-1"] = lambda lab: netlib.netboot(
        "net-aa64", log_path=lab.workdir / "serve-grub-aa64-worker-1.serial.log", tftp=serve_grub_root(lab, "aarch64"),
        bootfile="grubaa64.efi", mac=MACS["worker-1"])
    for mode, host in (("http-bios-cd", "worker-0"), ("http-uefi-cd", "worker-1")):
        c[f"serve-{mode}-{host}"] = lambda lab, m=mode, h=host: netlib.netboot(
            m, log_path=lab.workdir / f"serve-{m}-{h}.serial.log", cdrom_url=f"{serve(lab).url}/hosts/{h}.iso")


register_serve()
