"""Network boots through `ignkit serve` (started by the test on 127.0.0.1, reached by the guests as 10.0.2.2
through qemu's user network): the iPXE chain /boot.ipxe -> /ipxe?mac=... for two guests of different MACs,
and a per-host ISO streamed by serve and read by qemu's HTTP block driver.

serve's boot scripts use the pristine initramfs and name the host's installed-system config by URL
(docs/serve.md): the guest's command line is checked word by word, and the config at the URL the guest was
given is compared byte for byte with the one `ignkit pxe customize --hosts` puts into that host's initramfs.
"""

from __future__ import annotations

import json

import bootlib
import cases
import netcases
import netlib
import pytest
import requests
from test_boot import decode_source
from test_netboot import HOST_ARGS, check_iso_host, check_words, host_config

pytestmark = pytest.mark.boot


def serve_entry_args(url: str, host: str, arch: str = "x86_64") -> list[str]:
    """The arguments of serve's script for ``host`` (docs/serve.md: pristine initramfs, config by URL)."""
    install_dev, ip, ns = HOST_ARGS[host]
    return [f"coreos.live.rootfs_url={url}/artifacts/{arch}/rootfs", install_dev,
            f"coreos.inst.ignition_url={url}/hosts/{host}.ign", ip, ns]


def dest_config(lab, host: str, arch: str = "x86_64") -> bytes:
    """The installed-system config that `pxe customize --hosts` embeds for ``host`` (read without serve)."""
    files = {f["path"]: f for f in json.loads(host_config(lab, host, arch))["storage"]["files"]}
    return decode_source(files["/etc/coreos/dest.ign"]["contents"])


def check_served_host(lab, report: bootlib.BootReport, srv, url: str, host: str, arch: str = "x86_64") -> None:
    """No live config (the pristine initramfs), and the config at the URL this guest was given is its own
    host's, byte for byte; none of the other host's settings."""
    assert report.config is None  # the pristine initramfs: no live config
    # The config at the URL this guest was given is its own host's, byte for byte.
    ign_url = next(w for w in report.words if w.startswith("coreos.inst.ignition_url="))
    got = requests.get(ign_url.split("=", 1)[1].replace(url, srv.url), timeout=30)
    assert got.status_code == 200
    assert got.content == dest_config(lab, host, arch)
    files = {f["path"]: f for f in json.loads(got.content)["storage"]["files"]}
    assert decode_source(files["/etc/hostname"]["contents"]).decode().strip() == host
    for other in HOST_ARGS:
        if other != host:
            assert got.content != dest_config(lab, other, arch)
            assert not set(HOST_ARGS[other][:2]) & set(report.words), report.words


@pytest.mark.parametrize("host", [pytest.param(h, marks=pytest.mark.boot_case(f"serve-ipxe-{h}"), id=h)
                                  for h in netcases.MACS])
def test_ipxe_chain_through_serve(lab, host):
    """iPXE ROM (BIOS) -> serve's /boot.ipxe over TFTP -> chain http://10.0.2.2:PORT/ipxe?mac=<its MAC> ->
    kernel and initramfs from serve: the guest gets its own host's arguments, and its config URL serves its
    own host's config."""
    report = lab.result(f"serve-ipxe-{host}")
    srv = netcases.serve(lab)
    url = f"http://{netlib.GUEST_HOST4}:{srv.port}"
    assert srv.port not in (80, 8080)
    assert (netcases.serve_ipxe_root(lab) / "boot.ipxe").read_text().splitlines()[-1] == \
        f"chain {url}/ipxe?mac=${{net0/mac:hexhyp}}"
    check_words(report, ["initrd=main", *serve_entry_args(url, host)])
    check_served_host(lab, report, srv, url, host)
    mac = netcases.MACS[host].replace(":", "-")
    log = netcases.serve_requests(lab)
    for path in (f"/ipxe?mac={mac}", "/artifacts/x86_64/kernel", "/artifacts/x86_64/initramfs"):
        assert any(f"GET {path} " in r and '" 200 ' in r for r in log), (path, log[-8:])


GRUB_CASES = [pytest.param(f"serve-grub-uefi-{h}", "x86_64", h, marks=pytest.mark.boot_case(f"serve-grub-uefi-{h}"),
                           id=f"x86_64-uefi-{h}") for h in netcases.MACS]
GRUB_CASES.append(pytest.param("serve-grub-aa64-worker-1", "aarch64", "worker-1",
                               marks=pytest.mark.boot_case("serve-grub-aa64-worker-1"), id="aarch64-uefi-worker-1"))


@pytest.mark.parametrize("case,arch,host", GRUB_CASES)
def test_grub_through_serve(lab, case, arch, host):
    """OVMF/AAVMF PXE -> GRUB network image -> serve's /grub/grub.cfg over TFTP -> configfile
    (http,10.0.2.2:PORT)/grub/grub.cfg-01-${net_default_mac} from serve -> kernel and initramfs from serve."""
    report = lab.result(case)
    srv = netcases.serve(lab, arch)
    url = f"http://{netlib.GUEST_HOST4}:{srv.port}"
    assert (netcases.serve_grub_root(lab, arch) / "grub" / "grub.cfg").read_text().splitlines()[-1] == \
        f"configfile (http,{netlib.GUEST_HOST4}:{srv.port})/grub/grub.cfg-01-${{net_default_mac}}"
    check_words(report, [f"BOOT_IMAGE=(http,{netlib.GUEST_HOST4}:{srv.port})/artifacts/{arch}/kernel",
                         *serve_entry_args(url, host, arch)])
    check_served_host(lab, report, srv, url, host, arch)
    log = netcases.serve_requests(lab, arch)
    assert any(f"GET /grub/grub.cfg-01-{netcases.MACS[host]} " in r and '" 200 ' in r for r in log), log[-8:]


@pytest.mark.parametrize("case,host,prefix", [
    pytest.param("serve-http-bios-cd-worker-0", "worker-0", bootlib.ISOLINUX_PREFIX,
                 marks=pytest.mark.boot_case("serve-http-bios-cd-worker-0"), id="bios-cd"),
    pytest.param("serve-http-uefi-cd-worker-1", "worker-1", bootlib.GRUB_PREFIX,
                 marks=pytest.mark.boot_case("serve-http-uefi-cd-worker-1"), id="uefi-cd"),
])
def test_served_iso_over_http_block_driver(lab, case, host, prefix):
    """qemu's HTTP (curl) block driver reads a host's ISO from `ignkit serve` as its CD drive (BIOS, UEFI), in
    Range requests of its own choosing: the guest shows the host's kargs and config exactly as embed's file."""
    report = lab.result(case)
    srv = netcases.serve(lab)
    check_iso_host(lab, report, host, prefix)  # the same as the ISO `ignkit embed --hosts` writes
    iso = cases.hosts_isos(lab) / f"{host}.iso"
    ranged = [r for r in netcases.serve_requests(lab) if f"/hosts/{host}.iso " in r and '" 206 ' in r]
    assert ranged, "the ISO was not read with Range requests"
    # The whole served image is embed's file, byte for byte.
    assert requests.get(f"{srv.url}/hosts/{host}.iso", timeout=60).content == iso.read_bytes()
