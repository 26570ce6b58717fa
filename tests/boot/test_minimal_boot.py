"""A minimal ISO served by `ignkit serve` boots on real firmware and fetches its rootfs from the server.

The ISO is the boot suite's minimal-ISO variant (testdata/bootiso/minibuild.py): the full ISO carries
images/pxeboot/rootfs.img and the coreos/miniso.dat of a minimal ISO that xorriso built from the same tree
without them; its /init fetches ``coreos.live.rootfs_url`` over qemu's user network and reports the digest.
`ignkit serve` gets only that ISO and hosts.yaml (two hosts): it rebuilds the minimal ISO from miniso.dat,
serves ``/hosts/<name>-minimal.iso`` with ``coreos.live.rootfs_url=<server>/artifacts/x86_64/rootfs`` and the
rootfs from the full ISO. Two guests, each with an e1000 NIC and the ISO read as a CD by qemu's HTTP block
driver: OVMF (GRUB) boots worker-0's minimal ISO, SeaBIOS (isolinux) worker-1's. Each boot has its own server:
serve attributes artifact fetches to a host by client address, and every guest reaches the host as 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import bootlib
import cases
import netcases
import netlib
import pytest
import requests
from bootlab import BOOTISO, BUILD, ignkit
from test_boot import check_install_config
from test_netboot import HOST_ARGS, check_words

pytestmark = pytest.mark.boot

MINI = BUILD / "miniboot" / "x86_64"
BOOTS = {  # case: (qemu mode, host, loader prefix)
    "minimal-uefi-cd-worker-0": ("http-uefi-cd", "worker-0", bootlib.GRUB_PREFIX),
    "minimal-bios-cd-worker-1": ("http-bios-cd", "worker-1", bootlib.ISOLINUX_PREFIX),
}


def variant(lab: Any) -> dict:
    """The minimal-ISO variant of the boot ISO (built once, cached under testdata/build/miniboot/x86_64)."""
    def make() -> dict:
        spec = importlib.util.spec_from_file_location("bootiso_minibuild", BOOTISO / "minibuild.py")
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        with lab._build_lock:  # one apt-get download at a time
            return dict(mod.build(MINI, BUILD / "debs"))
    return lab.artifact("minibuild-x86_64", make)  # type: ignore[no-any-return]


def serve(lab: Any, case: str) -> Any:
    """``case``'s `ignkit serve` of hosts.yaml with the variant ISO only (no --pxe-dir: the rootfs comes from
    the ISO), on 127.0.0.1:PORT, guests told to reach it as http://10.0.2.2:PORT; stopped when the lab closes."""
    def make() -> Any:
        tests_dir = str(Path(__file__).resolve().parent.parent)
        if tests_dir not in sys.path:
            sys.path.append(tests_dir)
        from servelib import Served

        variant(lab)
        port = netlib.free_port()
        srv = Served(["--hosts", netcases.HOSTS_YAML, "--iso", f"x86_64={MINI / 'live.iso'}",
                      "--dest-ignition", cases.DEST_IGN, "--listen", f"127.0.0.1:{port}",
                      "--base-url", f"http://{netlib.GUEST_HOST4}:{port}",
                      "--access-log", lab.workdir / f"{case}-access.log"])
        assert srv.port == port
        lab.cleanups.append(srv.stop)
        return srv
    return lab.artifact(f"ignkit-serve-{case}", make)


def access_log(lab: Any, case: str) -> list[str]:
    log = lab.workdir / f"{case}-access.log"
    return log.read_text().splitlines() if log.exists() else []


for _case, (_mode, _host, _) in BOOTS.items():
    cases.CASES[_case] = lambda lab, c=_case, m=_mode, h=_host: netlib.netboot(
        m, log_path=lab.workdir / f"{c}.serial.log", timeout=240,
        cdrom_url=f"{serve(lab, c).url}/hosts/{h}-minimal.iso", nic_mac=netcases.MACS[h])


def served_config(srv: Any, host: str, tmp: Path) -> bytes:
    """The live config in the Ignition area of ``host``'s served minimal ISO (read with xorriso)."""
    iso = tmp / f"{host}-minimal.iso"
    iso.write_bytes(requests.get(f"{srv.url}/hosts/{host}-minimal.iso", timeout=60).content)
    return bootlib.read_newc(bootlib.iso_extract(iso, "/images/ignition.img"))["config.ign"]


def test_variant_extracts_the_xorriso_minimal_iso(lab, tmp_path):
    """`ignkit iso extract minimal-iso` on the variant rebuilds xorriso's minimal ISO (miniso.dat's sha256 is
    checked by the command): its output differs from it only inside the kargs files, which lose
    coreos.liveiso=; --output-rootfs writes the rootfs the variant carries."""
    m = variant(lab)
    out, rootfs = tmp_path / "m.iso", tmp_path / "rootfs.img"
    ignkit("iso", "extract", "minimal-iso", str(MINI / "live.iso"), "-o", str(out), "--output-rootfs", str(rootfs))
    assert hashlib.sha256(rootfs.read_bytes()).hexdigest() == m["rootfs_sha256"]
    xorriso = (MINI / "minimal.iso").read_bytes()
    assert hashlib.sha256(xorriso).hexdigest() == m["minimal_sha256"]
    got = out.read_bytes()
    assert len(got) == len(xorriso)
    lba = mini_lba()
    allowed = {p: lba[p] for p in ("/EFI/fedora/grub.cfg", "/isolinux/isolinux.cfg", "/coreos/kargs.json")}
    changed = {i // 2048 for i in range(0, len(got), 2048) if got[i:i + 2048] != xorriso[i:i + 2048]}
    assert changed == {start for start, _ in allowed.values()}
    for path, (start, size) in allowed.items():
        before = xorriso[start * 2048:start * 2048 + size]
        after = got[start * 2048:start * 2048 + size]
        assert b"coreos.liveiso=" in before and b"coreos.liveiso=" not in after, path
    # An ISO without miniso.dat (the suite's ordinary boot ISO) is refused.
    with pytest.raises(AssertionError, match="does not support extracting a minimal ISO"):
        ignkit("iso", "extract", "minimal-iso", str(lab.build("x86_64")["path"]), "-o", str(tmp_path / "no.iso"))


def mini_lba() -> dict[str, tuple[int, int]]:
    spec = importlib.util.spec_from_file_location("bootiso_minibuild", BOOTISO / "minibuild.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.report_lba(MINI / "minimal.iso")  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.boot_case(c), id=BOOTS[c][0])
                                  for c in BOOTS])
def test_served_minimal_iso_boots_and_fetches_rootfs(lab, tmp_path, case):
    """Firmware boots a host's minimal ISO read from serve by qemu's HTTP block driver: the kernel gets the
    image's kargs without coreos.liveiso= and with the rootfs URL on the server, the live config is the
    host's, the guest fetches the rootfs from serve with the right digest, and /status shows both fetches."""
    mode, host, prefix = BOOTS[case]
    other = next(h for h in netcases.MACS if h != host)
    report = lab.result(case)
    srv = serve(lab, case)
    m = variant(lab)
    url = f"http://{netlib.GUEST_HOST4}:{srv.port}/artifacts/x86_64/rootfs"
    # /status first: the test's own requests below come from 127.0.0.1 too and would count for some host.
    status = requests.get(f"{srv.url}/status", timeout=30).json()
    hosts = {h["hostname"]: h for h in status["hosts"]}
    assert set(hosts) == {host, other}
    assert status["minimal_iso"]["x86_64"]["available"] is True
    assert status["minimal_iso"]["x86_64"]["rootfs_url"] == url
    mine = hosts[host]["fetched"]
    assert mine["minimal iso"]["requests"] > 0 and mine["minimal iso"]["covered"] > 0, mine
    assert mine["minimal iso"]["size"] == hosts[host]["minimal_iso_size"]
    assert mine["rootfs"]["size"] == m["rootfs_size"] and mine["rootfs"]["percent"] == 100.0, mine
    assert hosts[other]["fetched"] == {}, hosts[other]

    # The kernel arguments, word by word: the loader's prefix, the default kargs without coreos.liveiso=, the URL.
    assert m["default_kargs"] == "coreos.liveiso=ignkit-coreos-1.0-0 ignition.firstboot ignition.platform.id=metal"
    check_words(report, [*prefix, "ignition.firstboot", "ignition.platform.id=metal", f"coreos.live.rootfs_url={url}"])
    # The rootfs the guest fetched is the one in the full ISO, byte for byte (digest and size).
    assert report.fetched == {url: (m["rootfs_sha256"], m["rootfs_size"])}, report.fetched
    log = access_log(lab, case)
    assert any(f"GET /hosts/{host}-minimal.iso " in r and '" 206 ' in r for r in log), log[-8:]
    assert any("GET /artifacts/x86_64/rootfs " in r and '" 200 ' in r and '"Wget"' in r for r in log), log[-8:]
    assert not any(f"/hosts/{host}.iso " in r for r in log)  # the full ISO was never read
    # The live config is the host's (as in its served minimal ISO), installing to its disk; not the other's.
    assert report.config == served_config(srv, host, tmp_path)
    files = check_install_config(report.config or b"", HOST_ARGS[host][0].split("=", 1)[1], hostname=host)
    assert "/etc/hostname" in files
    assert report.config != served_config(srv, other, tmp_path)
