"""Network boots in qemu's user-mode network: the PXELINUX, iPXE and GRUB entries `ignkit pxe config` writes,
loaded by real firmware (SeaBIOS + iPXE ROM, OVMF, AAVMF) over TFTP, kernel and per-host initramfs over HTTP
from nginx on a non-default port, and per-host ISOs read over HTTP (qemu's curl block driver, iPXE sanboot).

Each boot is checked like the rest of the suite: the kernel command line word by word (the loader's own words,
then exactly the entry's arguments), the live config byte for byte, and that the guest got its own host's
settings and no other host's. Deliberately broken entries must fail the boot.
"""

from __future__ import annotations

import subprocess

import bootlib
import cases
import netcases
import netlib
import pytest
from bootlib import BootMismatch, check_config
from test_boot import check_install_config, decode_source

pytestmark = pytest.mark.boot

# Each host's own settings from testdata/bootiso/hosts.yaml, written out by hand (not computed by ignkit).
HOST_ARGS = {
    "worker-0": ["coreos.inst.install_dev=/dev/vda", "ip=192.0.2.10::192.0.2.1:24:worker-0::none",
                 "nameserver=192.0.2.53"],
    "worker-1": ["coreos.inst.install_dev=/dev/sdb", "ip=192.0.2.11::192.0.2.1:24:worker-1::none",
                 "nameserver=192.0.2.53"],
}


def entry_args(url: str, host: str, arch: str = "x86_64") -> list[str]:
    """The arguments of a host's entry, as `pxe config --customized-initramfs` must write them."""
    install_dev, ip, ns = HOST_ARGS[host]
    return [f"coreos.live.rootfs_url={url}/rootfs.img", "ignition.firstboot", "ignition.platform.id=metal",
            install_dev, f"coreos.inst.ignition_url={url}/ign/{host}.ign", ip, ns,
            f"console={netcases.CONSOLE[arch]}"]


def check_iso_host(lab, report: bootlib.BootReport, host: str, prefix: list[str]) -> None:
    """A guest booted from ``host``'s ISO (as `ignkit embed --hosts` writes it) shows that ISO's kernel
    arguments, config and install config, and not the other host's config."""
    iso = cases.hosts_isos(lab) / f"{host}.iso"
    members = bootlib.read_newc(bootlib.iso_extract(iso, "/images/ignition.img"))
    check_words(report, [*prefix, *lab.build("x86_64")["default_kargs"].split()])
    check_config(report, members["config.ign"])
    check_install_config(report.config or b"", HOST_ARGS[host][0].split("=", 1)[1], hostname=host)
    other = next(h for h in HOST_ARGS if h != host)
    other_members = bootlib.read_newc(bootlib.iso_extract(cases.hosts_isos(lab) / f"{other}.iso",
                                                          "/images/ignition.img"))
    assert report.config != other_members["config.ign"]


def check_words(report: bootlib.BootReport, want: list[str]) -> None:
    if report.words != want:
        raise BootMismatch(f"{report.mode}: kernel arguments differ\n  expected: {want}\n  got:      {report.words}")


def host_config(lab, host: str, arch: str = "x86_64") -> bytes:
    """The live config in the layer `pxe customize` appended to ``host``'s initramfs (read without ignkit)."""
    src = (lab.build(arch)["dir"] / "initrd.img").read_bytes()
    img = (netcases.host_initrds(lab, arch) / f"{host}.img").read_bytes()
    assert img[:len(src)] == src
    return bootlib.read_newc(img[len(src):])["config.ign"]


def check_host(lab, report: bootlib.BootReport, host: str, arch: str = "x86_64") -> None:
    """The guest has ``host``'s config (byte for byte) and none of the other host's settings."""
    check_config(report, host_config(lab, host, arch))
    files = check_install_config(report.config or b"", HOST_ARGS[host][0].split("=", 1)[1], hostname=host)
    assert decode_source(files["/etc/hostname"]["contents"]).decode().strip() == host
    for other in HOST_ARGS:
        if other != host:
            assert report.config != host_config(lab, other, arch)
            assert not set(HOST_ARGS[other][:2]) & set(report.words), report.words
            assert f"/hosts/{other}.img" not in report.cmdline


def mac_id(host: str) -> str:
    return "01-" + netcases.MACS[host].replace(":", "-")


# ---------------------------------------------------------------- iPXE


@pytest.mark.boot_case("net-ipxe-bios-worker-1")
def test_ipxe_chain_per_mac_script(lab):
    """iPXE ROM (BIOS) -> boot.ipxe over TFTP -> chain ${mac:hexhyp}.ipxe -> kernel + initrd over HTTP."""
    report = lab.result("net-ipxe-bios-worker-1")
    url = netcases.base_url(lab)
    check_words(report, ["initrd=main", *entry_args(url, "worker-1")])
    check_host(lab, report, "worker-1")
    script = (netcases.ipxe_root(lab) / "52-54-00-00-00-11.ipxe").read_text().splitlines()
    assert script[1] == "isset ${ip} || dhcp"
    assert script[2].startswith(f"kernel {url}/x86_64/vmlinuz initrd=main ")


@pytest.mark.boot_case("ipxe-no-address-worker-0")
def test_ipxe_script_without_an_address(lab):
    """The same kind of script started by an iPXE that has no address yet (as from a NIC ROM or an embedded
    script; here Debian's ipxe.lkrn with the script as its initrd, no DHCP done): its `dhcp` line runs."""
    report = lab.result("ipxe-no-address-worker-0")
    check_words(report, ["initrd=main", *entry_args(netcases.base_url(lab), "worker-0")])
    check_host(lab, report, "worker-0")
    assert netcases.rom_script(lab).read_text().splitlines()[1] == "isset ${ip} || dhcp"


# ---------------------------------------------------------------- PXELINUX


@pytest.mark.parametrize("host", [pytest.param(h, marks=pytest.mark.boot_case(f"net-pxelinux-{h}"), id=h)
                                  for h in netcases.MACS])
def test_pxelinux_per_mac_http(lab, host):
    """lpxelinux.0 -> pxelinux.cfg/01-<mac> over TFTP -> kernel and initrd by http:// URLs (port != 80)."""
    report = lab.result(f"net-pxelinux-{host}")
    url = netcases.base_url(lab)
    # PXELINUX puts BOOT_IMAGE= and its initrd= first; IPAPPEND 2 adds the booting NIC as BOOTIF= last.
    check_words(report, [f"BOOT_IMAGE={url}/x86_64/vmlinuz", f"initrd={url}/x86_64/hosts/{host}.img",
                         *entry_args(url, host), f"BOOTIF={mac_id(host)}"])
    check_host(lab, report, host)
    cfg = (netcases.pxelinux_root(lab) / "pxelinux.cfg" / mac_id(host)).read_text()
    assert "lpxelinux.0" in cfg.splitlines()[0]


# ---------------------------------------------------------------- GRUB


@pytest.mark.parametrize("case,arch,host", [
    pytest.param("net-grub-uefi-worker-0", "x86_64", "worker-0", marks=pytest.mark.boot_case("net-grub-uefi-worker-0"),
                 id="x86_64-uefi"),
    pytest.param("net-grub-aa64-worker-1", "aarch64", "worker-1", marks=pytest.mark.boot_case("net-grub-aa64-worker-1"),
                 id="aarch64-uefi"),
])
def test_grub_per_mac_http_port(lab, case, arch, host):
    """OVMF/AAVMF PXE -> GRUB network image -> grub/grub.cfg-01-<mac> -> (http,10.0.2.2:PORT)/... ."""
    report = lab.result(case)
    port = netcases.server(lab).port
    assert port not in (80, 8080)
    check_words(report, [f"BOOT_IMAGE=(http,10.0.2.2:{port})/{arch}/vmlinuz",
                         *entry_args(netcases.base_url(lab), host, arch)])
    check_host(lab, report, host, arch)


@pytest.mark.boot_case("net-grub-uefi-ipv6")
def test_grub_ipv6_literal_with_port(lab):
    """Kernel and initramfs from http://[fec0::2]:PORT/ (slirp's IPv6 gateway = the host's ::1)."""
    report = lab.result("net-grub-uefi-ipv6")
    port = netcases.server(lab).port
    url4 = netcases.base_url(lab)
    url6 = netcases.base_url(lab, netlib.GUEST_HOST6)
    want = entry_args(url4, "worker-0")
    check_words(report, [f"BOOT_IMAGE=(http,[fec0::2]:{port})/x86_64/vmlinuz", *want])
    check_host(lab, report, "worker-0")
    cfg = (netcases.grub_ipv6_root(lab) / "grub" / "grub.cfg").read_text()
    assert f"    initrd (http,[fec0::2]:{port})/x86_64/hosts/worker-0.img\n" in cfg
    assert url6 == f"http://[fec0::2]:{port}"
    assert any(line.startswith("::1 ") and "/x86_64/vmlinuz" in line for line in netcases.server(lab).requests())


# ---------------------------------------------------------------- ISOs over HTTP


@pytest.mark.parametrize("case,host,prefix", [
    pytest.param("http-bios-cd-worker-0", "worker-0", bootlib.ISOLINUX_PREFIX,
                 marks=pytest.mark.boot_case("http-bios-cd-worker-0"), id="bios-cd"),
    pytest.param("http-uefi-cd-worker-1", "worker-1", bootlib.GRUB_PREFIX,
                 marks=pytest.mark.boot_case("http-uefi-cd-worker-1"), id="uefi-cd"),
    pytest.param("net-ipxe-sanboot-worker-0", "worker-0", bootlib.ISOLINUX_PREFIX,
                 marks=pytest.mark.boot_case("net-ipxe-sanboot-worker-0"), id="ipxe-sanboot"),
])
def test_per_host_iso_over_http(lab, case, host, prefix):
    """`ignkit embed --hosts` ISOs read over HTTP in ranges the client chooses: qemu's curl block driver as
    the CD drive (BIOS, UEFI), and iPXE's `sanboot http://...` (BIOS, El Torito via int 13h)."""
    report = lab.result(case)
    check_iso_host(lab, report, host, prefix)
    ranged = [r for r in netcases.server(lab).requests() if f"/iso/{host}.iso" in r and '" 206 ' in r]
    assert ranged, "the ISO was not read with Range requests"


# ---------------------------------------------------------------- broken entries fail


@pytest.mark.boot_case("broken-grub-port-syntax")
def test_grub_old_port_syntax_fails(lab):
    """``(http,HOST,PORT)`` (what pxe config wrote before): GRUB resolves "HOST,PORT" as a name and fails."""
    with pytest.raises(netlib.BootFailed, match="error: "):
        lab.result("broken-grub-port-syntax")


@pytest.mark.boot_case("broken-ipxe-missing-initrd")
def test_ipxe_missing_initrd_fails(lab):
    """An entry whose initramfs is not on the server: iPXE (EFI ROM, its console on the serial port) stops."""
    with pytest.raises(netlib.BootFailed, match=r"no-such-host\.img\.\.\. No such file") as e:
        lab.result("broken-ipxe-missing-initrd")
    requests = netcases.server(lab).requests()
    assert any("/no-such-host.img" in r and '" 404 ' in r for r in requests), (str(e.value), requests[-5:])


# ---------------------------------------------------------------- the build


def test_netbuild_is_deterministic(lab, tmp_path):
    m = netcases.net_build(lab, "x86_64")
    again = netcases._netbuild_module().build("x86_64", tmp_path / "x86_64", netcases.BUILD / "debs", force=True)
    assert again["files"] == m["files"]
    assert set(m["files"]) == {"grubx64.efi", "lpxelinux.0", "ldlinux.c32", "ipxe.lkrn"}


def test_failure_lines_are_recognized():
    assert netlib.failure("GRUB\nerror: no suitable video mode found.\nLinux version 6") is None
    assert netlib.failure("x\r\nerror: no DNS record found.\r\n") == "error: no DNS record found."
    assert netlib.failure("Linux version 6\n[1.0] Kernel panic - not syncing: VFS") == "Kernel panic - not syncing: VFS"
    assert netlib.failure("Linux version 6\nerror: whatever the kernel says") is None
    # Polled while the guest writes: a half-written line does not count until it is complete.
    assert netlib.failure("GRUB\r\nerror: no s", whole=False) is None
    assert netlib.failure("GRUB\r\nerror: no suitable video mode found.\r\n", whole=False) is None
    assert netlib.failure("GRUB\r\nerror: no server is specified.\r\n", whole=False) == \
        "error: no server is specified."
    subprocess.run(["nginx", "-v"], check=True, capture_output=True)
