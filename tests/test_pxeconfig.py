"""PXELINUX / iPXE / GRUB boot configs, checked line by line against the documented forms."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import TESTDATA

from ignkit import pxeconfig as pc
from ignkit.cli import main
from ignkit.errors import InputError, UsageError
from ignkit.inventory import Address, Host, Interface

K = "http://10.0.0.1/rhcos/rhcos-live-kernel.x86_64"
I = "http://10.0.0.1/rhcos/rhcos-live-initramfs.x86_64.img"  # noqa: E741
R = "http://10.0.0.1/rhcos/rhcos-live-rootfs.x86_64.img"
IGN = "https://10.0.0.1:22623/config/worker"


def base(**kw: object) -> pc.BootParams:
    p = pc.BootParams(kernel_url=K, initramfs_url=I, rootfs_url=R, ignition_url=IGN, install_dev="/dev/sda")
    return replace(p, **kw)  # type: ignore[arg-type]


def test_pxelinux_documented_form() -> None:
    text, warnings = pc.render("pxelinux", base(console=["tty0", "ttyS0,115200n8"]))
    assert warnings == []
    assert text.splitlines() == [
        "# http:// kernel/initramfs URLs need lpxelinux.0 (with ldlinux.c32) as the boot file;",
        "# pxelinux.0 fetches over TFTP only.",
        "DEFAULT coreos",
        "TIMEOUT 20",
        "PROMPT 0",
        "LABEL coreos",
        f"    KERNEL {K}",
        f"    APPEND initrd={I} coreos.live.rootfs_url={R} coreos.inst.install_dev=/dev/sda "
        f"coreos.inst.ignition_url={IGN} console=tty0 console=ttyS0,115200n8",
        "IPAPPEND 2",
    ]


def test_ipxe_documented_form() -> None:
    text, _ = pc.render("ipxe", base(kargs=["rd.neednet=1"], ip=["dhcp"]))
    assert text.splitlines() == [
        "#!ipxe",
        "isset ${ip} || dhcp",
        f"kernel {K} initrd=main coreos.live.rootfs_url={R} coreos.inst.install_dev=/dev/sda "
        f"coreos.inst.ignition_url={IGN} ip=dhcp rd.neednet=1",
        f"initrd --name main {I}",
        "boot",
    ]


def test_grub_documented_form_uses_grub_device_syntax() -> None:
    text, _ = pc.render("grub", base(arch="aarch64", kernel_url="http://10.0.0.1:8080/k",
                                     initramfs_url="/rhcos/i.img"))
    lines = text.splitlines()
    assert lines[:3] == ["set default=0", "set timeout=5", "menuentry coreos {"]
    assert lines[3] == (f"    linux (http,10.0.0.1:8080)/k coreos.live.rootfs_url={R} "
                        f"coreos.inst.install_dev=/dev/sda coreos.inst.ignition_url={IGN}")
    assert lines[4:] == ["    initrd /rhcos/i.img", "}"]
    t2, _ = pc.render("grub", base(kernel_url="tftp://10.0.0.2/k"))
    assert "    linux (tftp,10.0.0.2)/k " in t2


def test_customized_initramfs_adds_ignition_firstboot() -> None:
    args = pc.kernel_args(base(customized=True))
    assert args[:3] == [f"coreos.live.rootfs_url={R}", "ignition.firstboot", "ignition.platform.id=metal"]
    assert "ignition.firstboot" not in pc.kernel_args(base())
    # Every format always carries the three install arguments.
    for fmt in ("pxelinux", "ipxe", "grub"):
        text, _ = pc.render(fmt, base(customized=True))
        for arg in (f"coreos.live.rootfs_url={R}", "coreos.inst.install_dev=/dev/sda",
                    f"coreos.inst.ignition_url={IGN}", "ignition.firstboot ignition.platform.id=metal"):
            assert arg in text


@pytest.mark.parametrize("fmt,kw,msg", [
    ("pxelinux", {"arch": "aarch64"}, "PXELINUX is BIOS-only"),
    ("ipxe", {"arch": "ppc64le"}, "ipxe does not boot ppc64le; use --format grub$"),
    ("grub", {"arch": "s390x"}, "s390x does not network-boot"),
    ("ipxe", {"rootfs_url": None}, "rootfs URL is required"),
    ("ipxe", {"rootfs_url": "tftp://10.0.0.1/rootfs.img"}, "must be an http:// or https:// URL"),
    ("ipxe", {"rootfs_url": "rootfs.img"}, "not a relative path"),
    ("grub", {"ignition_url": "file:///srv/worker.ign"}, "must be an http:// or https:// URL, not file://"),
    ("ipxe", {"ignition_url": None}, "Ignition config URL is required"),
    ("ipxe", {"install_dev": None}, "install device is required"),
    ("ipxe", {"install_dev": "sda"}, "full /dev/"),
    ("pxelinux", {"ignition_url": "http://10.0.0.1/my config.ign"}, "contains whitespace"),
    ("ipxe", {"rootfs_url": 'http://10.0.0.1/"rootfs".img'}, "contains a quote"),
    ("grub", {"kargs": ["a=b c=d"]}, "contains whitespace"),
    ("ipxe", {"kargs": ["x=${y}"]}, "contains '\\$\\{', which ipxe interprets"),
    ("ipxe", {"ignition_url": "http://10.0.0.1/a?b=1&&c=2"}, "contains '&&', which ipxe interprets"),
    ("pxelinux", {"kernel_url": "https://10.0.0.1/k"}, "cannot fetch https"),
    ("grub", {"initramfs_url": "https://10.0.0.1/i"}, "GRUB cannot fetch https"),
    ("pxelinux", {"initramfs_url": "a,b"}, "comma"),
    ("ipxe", {"kernel_url": "ftp://10.0.0.1/k"}, "cannot load ftp://"),
    ("ipxe", {"kargs": ["x" * 2100]}, "kernel command line is"),
    ("ipxe", {"ignition_url": "http://10.0.0.1/{short_name}.ign"}, "only replaced per host"),
])
def test_refusals(fmt: str, kw: dict, msg: str) -> None:
    with pytest.raises(UsageError, match=msg):
        pc.render(fmt, base(**kw))


def test_ipxe_takes_a_query_string() -> None:
    """A single & or a $ not followed by { is literal to iPXE (matchbox-style URLs)."""
    url = "http://10.0.0.1/ignition?mac=52-54-00-aa-bb-01&os=installed&cost=$5"
    text, _ = pc.render("ipxe", base(ignition_url=url))
    assert text.splitlines()[2] == (f"kernel {K} initrd=main coreos.live.rootfs_url={R} "
                                    f"coreos.inst.install_dev=/dev/sda coreos.inst.ignition_url={url}")


def test_aarch64_ipxe_warns_image_gzip() -> None:
    _, warnings = pc.render("ipxe", base(arch="aarch64"))
    assert any("IMAGE_GZIP" in w for w in warnings)
    _, warnings = pc.render("grub", base(arch="aarch64"))
    assert warnings == []


def _hosts() -> list[Host]:
    return [
        Host(hostname="worker-0.example.com", interfaces=[Interface("eno1", "52:54:00:AA:BB:01")],
             addresses=[Address("192.0.2.10", 24)], gateway="192.0.2.1", dns=["192.0.2.53"],
             install_dev="/dev/nvme0n1", console=["ttyS0,115200n8"], kargs=["nosmt"]),
        Host(hostname="worker-1",
             interfaces=[Interface(None, "52:54:00:aa:bb:02"), Interface("eno2", "52:54:00:aa:bb:03")],
             addresses=[Address("2001:db8::11", 64)], gateway6="2001:db8::1"),
    ]


def test_file_names_per_loader() -> None:
    assert pc.file_name("pxelinux", "52:54:00:AA:BB:01") == "pxelinux.cfg/01-52-54-00-aa-bb-01"
    assert pc.file_name("grub", "52-54-00-aa-bb-01") == "grub.cfg-01-52-54-00-aa-bb-01"
    assert pc.file_name("ipxe", "52:54:00:aa:bb:01") == "52-54-00-aa-bb-01.ipxe"
    with pytest.raises(InputError):
        pc.file_name("grub", "52:54:00:aa:bb")


def test_render_hosts_pxelinux() -> None:
    params = base(ignition_url="http://10.0.0.1/ign/{short_name}.ign")
    files, warnings = pc.render_hosts("pxelinux", params, _hosts())
    assert sorted(files) == ["pxelinux.cfg/01-52-54-00-aa-bb-01", "pxelinux.cfg/01-52-54-00-aa-bb-02",
                             "pxelinux.cfg/01-52-54-00-aa-bb-03"]
    w0 = files["pxelinux.cfg/01-52-54-00-aa-bb-01"].splitlines()
    assert w0[7] == (f"    APPEND initrd={I} coreos.live.rootfs_url={R} coreos.inst.install_dev=/dev/nvme0n1 "
                     "coreos.inst.ignition_url=http://10.0.0.1/ign/worker-0.ign "
                     "ip=192.0.2.10::192.0.2.1:24:worker-0.example.com:eno1:none nameserver=192.0.2.53 "
                     "console=ttyS0,115200n8 nosmt")
    w1 = files["pxelinux.cfg/01-52-54-00-aa-bb-03"]
    assert "coreos.inst.install_dev=/dev/sda " in w1
    assert "ip=[2001:db8::11]::[2001:db8::1]:64:worker-1:eno2:none" in w1
    assert files["pxelinux.cfg/01-52-54-00-aa-bb-02"] == w1
    assert warnings == []


def test_render_hosts_ipxe_chain_and_grub() -> None:
    files, _ = pc.render_hosts("ipxe", base(initramfs_url="http://10.0.0.1/{mac}/initramfs.img", customized=True),
                               _hosts())
    assert files["boot.ipxe"].splitlines() == ["#!ipxe", "isset ${ip} || dhcp",
                                              files["boot.ipxe"].splitlines()[2], "chain ${mac:hexhyp}.ipxe"]
    script = files["52-54-00-aa-bb-02.ipxe"].splitlines()
    assert script[3] == "initrd --name main http://10.0.0.1/52-54-00-aa-bb-02/initramfs.img"
    files, _ = pc.render_hosts("grub", base(), _hosts())
    assert sorted(files) == ["grub.cfg-01-52-54-00-aa-bb-01", "grub.cfg-01-52-54-00-aa-bb-02",
                             "grub.cfg-01-52-54-00-aa-bb-03"]


def test_render_hosts_errors() -> None:
    with pytest.raises(InputError, match="no MAC"):
        pc.render_hosts("ipxe", base(), [Host(hostname="nomac")])
    dup = _hosts()
    dup[1].interfaces[0].mac = "52:54:00:aa:bb:01"
    with pytest.raises(InputError, match="listed for both"):
        pc.render_hosts("ipxe", base(), dup)
    with pytest.raises(UsageError, match="host worker-0.example.com: PXELINUX is BIOS-only"):
        pc.render_hosts("pxelinux", base(), [replace(_hosts()[0], arch="arm64")])


# --- CLI ----------------------------------------------------------------------------------------------------------

def test_cli_single_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "default"
    rc = main(["pxe", "config", "--format", "pxelinux", "--kernel-url", K, "--initramfs-url", I, "--rootfs-url", R,
               "--ignition-url", IGN, "--install-dev", "/dev/sda", "--karg", "nosmt", "-o", str(out)])
    assert rc == 0
    assert out.read_text() == pc.render("pxelinux", base(kargs=["nosmt"]))[0]
    rc = main(["pxe", "config", "-F", "ipxe", "-a", "aarch64", "--kernel-url", K, "--initramfs-url", I,
               "--rootfs-url", R, "--ignition-url", IGN, "--install-dev", "/dev/sda"])
    assert rc == 0
    cap = capsys.readouterr()
    assert cap.out.startswith("#!ipxe\n") and "ignkit: warning:" in cap.err and "IMAGE_GZIP" in cap.err
    rc = main(["pxe", "config", "-F", "pxelinux", "-a", "aarch64", "--kernel-url", K, "--initramfs-url", I,
               "--rootfs-url", R, "--ignition-url", IGN, "--install-dev", "/dev/sda"])
    assert rc == 2 and "BIOS-only" in capsys.readouterr().err


def test_cli_from_stream_with_base_url(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["pxe", "config", "-F", "grub", "--stream", str(TESTDATA / "stream" / "rhcos-4.19.json"),
               "--base-url", "http://10.0.0.1/rhcos/", "--ignition-url", IGN, "--install-dev", "/dev/sda"])
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[3].startswith("    linux (http,10.0.0.1)/rhcos/rhcos-9.6.20250701-0-live-kernel.x86_64 "
                               "coreos.live.rootfs_url=http://10.0.0.1/rhcos/rhcos-9.6.20250701-0-live-rootfs"
                               ".x86_64.img ")
    assert lines[4] == "    initrd (http,10.0.0.1)/rhcos/rhcos-9.6.20250701-0-live-initramfs.x86_64.img"


def test_cli_hosts_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(
        "hosts:\n"
        "  - hostname: master-0.lab.example.com\n"
        "    mac: 52:54:00:00:00:10\n"  # unquoted: YAML 1.1 alone would read a base-60 integer
        "    interface: eno1\n"
        "    install_dev: /dev/vda\n"
        "    ip: 192.0.2.20/24\n"
        "    gateway: 192.0.2.1\n"
        "    dns: 192.0.2.53\n"
        "  - hostname: master-1.lab.example.com\n"
        "    interfaces:\n"
        "      - name: eno1\n"
        "        macAddress: \"52:54:00:00:00:11\"\n"
        "    rootDeviceHints:\n"
        "      deviceName: /dev/sdb\n"
    )
    outdir = tmp_path / "tftp"
    rc = main(["pxe", "config", "-F", "pxelinux", "--hosts", str(hosts), "--output-dir", str(outdir),
               "--kernel-url", "rhcos/kernel", "--initramfs-url", "rhcos/initramfs.img", "--rootfs-url", R,
               "--ignition-url", "http://10.0.0.1/{short_name}.ign"])
    assert rc == 0, capsys.readouterr().err
    printed = capsys.readouterr().out.split()
    assert printed == [str(outdir / "pxelinux.cfg/01-52-54-00-00-00-10"),
                       str(outdir / "pxelinux.cfg/01-52-54-00-00-00-11")]
    m0 = (outdir / "pxelinux.cfg/01-52-54-00-00-00-10").read_text().splitlines()
    assert m0[4] == "    KERNEL rhcos/kernel"
    assert m0[5] == (f"    APPEND initrd=rhcos/initramfs.img coreos.live.rootfs_url={R} "
                     "coreos.inst.install_dev=/dev/vda "
                     "coreos.inst.ignition_url=http://10.0.0.1/master-0.ign "
                     "ip=192.0.2.20::192.0.2.1:24:master-0.lab.example.com:eno1:none nameserver=192.0.2.53")
    m1 = (outdir / "pxelinux.cfg/01-52-54-00-00-00-11").read_text()
    assert "coreos.inst.install_dev=/dev/sdb coreos.inst.ignition_url=http://10.0.0.1/master-1.ign\n" in m1
    # --hosts without --output-dir is a usage error.
    assert main(["pxe", "config", "-F", "ipxe", "--hosts", str(hosts), "--kernel-url", K, "--initramfs-url", I,
                 "--rootfs-url", R, "--ignition-url", IGN]) == 2
