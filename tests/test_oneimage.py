"""``--one-image``: one ISO / initramfs for every inventory host, read back, and its selection script run with sh."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import CI_FIXTURES
from conftest import run_ignkit as run

from ignkit.errors import ImageError, UsageError
from ignkit.ignition import build
from ignkit.initrd import build_cpio, read_initrd
from ignkit.inventory import Host, Interface, parse_inventory
from ignkit.live.customize import CustomizeOptions, read_customization
from ignkit.live.image import open_iso
from ignkit.live.oneimage import (
    HOSTS_DIR,
    INDEX_PATH,
    SCRIPT_PATH,
    UNIT_NAME,
    compose_one_image,
    hosts_that_fit,
    one_image_iso,
)
from ignkit.netconf import parse_keyfile

C = CI_FIXTURES / "customize"
FEATURES = {"installer-config": True, "installer-config-directives": {"console": True},
            "live-initrd-network": True}

NODES = """\
cpuArchitecture: x86_64
hosts:
  - hostname: rack-a
    rootDeviceHints:
      deviceName: /dev/sda
    interfaces:
      - name: eth0
        macAddress: 00:16:3e:00:00:01
    keyfiles:
      eth0.nmconnection: |
        [connection]
        id=eth0
        type=ethernet
        interface-name=eth0

        [ipv4]
        method=manual
        address1=192.168.122.2/23
  - hostname: rack-b
    mac: 00:16:3E:00:00:02
    install_dev: /dev/vda
    ip: 192.168.122.3/23
    gateway: 192.168.122.1
    console: ttyS0,115200n8
    kargs: nosmt
"""


@pytest.fixture
def iso(fixture_isos: dict[str, Path]) -> Path:
    return fixture_isos["embed-areas-2023-07.x86_64"]


def make_initramfs(path: Path) -> Path:
    files = {"etc/coreos-live-initramfs": b"36.20220909.dev.0\n", "etc/os-release": b"ID=fedora\n",
             "etc/coreos/features.json": json.dumps(FEATURES).encode()}
    data = gzip.compress(build_cpio(files), mtime=0)
    path.write_bytes(data + bytes(-len(data) % 4))
    return path


def apply_live_config(members: dict[str, bytes], root: Path) -> dict[str, dict]:
    """Write the live config's files into ``root`` the way Ignition would; return its units."""
    parts = read_customization(members)
    for path, (mode, data) in parts.files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)
    return parts.units


def fake_nics(root: Path, nics: dict[str, str]) -> None:
    for name, mac in nics.items():
        d = root / "sys/class/net" / name
        d.mkdir(parents=True)
        (d / "address").write_text(mac + "\n")


def select(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, IGNKIT_ROOT=str(root), IGNKIT_SELECT_WAIT="0")
    return subprocess.run(["sh", str(root / SCRIPT_PATH.lstrip("/"))], env=env, capture_output=True, text=True,
                          timeout=60)


def check_rack(members: dict[str, bytes]) -> None:
    """Every host's files are in the image, under its own directory, and nothing identifies a machine outright."""
    assert set(members) == {"config.ign"}           # no keyfiles in the initrd: they would apply to every machine
    parts = read_customization(members)
    a, b = f"{HOSTS_DIR}/00-16-3e-00-00-01", f"{HOSTS_DIR}/00-16-3e-00-00-02"
    assert parts.files[INDEX_PATH][1] == b"00:16:3e:00:00:01 00-16-3e-00-00-01\n00:16:3e:00:00:02 00-16-3e-00-00-02\n"
    assert parts.installer_files == {}                 # nothing in installer.d until a host is selected
    assert "/etc/hostname" not in parts.files and "/etc/coreos/dest.ign" not in parts.files
    assert parts.files[f"{a}/root/etc/hostname"] == (0o644, b"rack-a\n")
    assert parts.files[f"{b}/root/etc/hostname"] == (0o644, b"rack-b\n")
    ia = parts.files[f"{a}/root/etc/coreos/installer.d/0000-customize.yaml"]
    assert ia[0] == 0o600 and b"dest-device: /dev/sda" in ia[1] and b"quiet" in ia[1]
    ib = parts.files[f"{b}/root/etc/coreos/installer.d/0000-customize.yaml"][1]
    assert b"dest-device: /dev/vda" in ib and b"nosmt" in ib and b"ttyS0,115200n8" in ib
    da = build.parse(parts.files[f"{a}/root/etc/coreos/dest.ign"][1])
    assert build.files_of(da)["/etc/hostname"][1] == b"rack-a\n"
    assert parts.files[f"{a}/interfaces"][1] == b"00:16:3e:00:00:01 eth0\n"
    ka = parse_keyfile(parts.files[f"{a}/network/eth0.nmconnection"][1])
    assert ka["connection"]["interface-name"] == "eth0"
    assert ka["ipv4"]["address1"].startswith("192.168.122.2/23")
    kb = parse_keyfile(parts.files[f"{b}/network/ethernet-00163e000002.nmconnection"][1])
    assert kb["ethernet"]["mac-address"] == "00:16:3E:00:00:02"
    assert parts.files[SCRIPT_PATH][0] == 0o755
    unit = parts.units[UNIT_NAME]
    assert unit["enabled"] is True
    assert "Before=network-pre.target NetworkManager.service coreos-installer-pre.target coreos-installer.service" \
        in unit["contents"]


def test_embed_one_image_cli_reads_back(iso: Path, tmp_path: Path) -> None:
    hosts = tmp_path / "nodes.yaml"
    hosts.write_text(NODES)
    out = tmp_path / "rack.iso"
    r = run("embed", iso, "--hosts", hosts, "--one-image", "-o", out, "--dest-ignition", C / "dest.ign",
            "--dest-karg-append", "quiet")
    assert r.returncode == 0, r.stderr
    assert "rack-a (/dev/sda), rack-b (/dev/vda); other machines stay on DHCP" in r.stderr.decode()
    check_rack(open_iso(out).members())
    # the output is the input outside the Ignition area
    a, b = iso.read_bytes(), out.read_bytes()
    area = open_iso(iso).ignition_area
    assert len(a) == len(b) and a[:area.offset] == b[:area.offset]
    assert a[area.offset + area.length:] == b[area.offset + area.length:]
    # the same composition through ignkit iso ignition show
    shown = run("iso", "ignition", "show", out)
    assert shown.returncode == 0, shown.stderr
    shown_config = json.loads(shown.stdout)
    assert shown_config == json.loads(open_iso(out).members()["config.ign"])
    assert INDEX_PATH in build.files_of(shown_config)
    # --dry-run: per host and total
    d = run("embed", iso, "--hosts", hosts, "--one-image", "--dry-run", "--dest-ignition", C / "dest.ign")
    assert d.returncode == 0, d.stderr
    lines = d.stdout.decode().splitlines()
    assert lines[0] == f"one image for 2 hosts (selected by MAC at boot by {UNIT_NAME}):"
    assert lines[1].startswith("  rack-a: MAC 00:16:3e:00:00:01, ") and lines[1].endswith("installs to /dev/sda")
    assert lines[2].startswith("  rack-b: MAC 00:16:3e:00:00:02, ")
    assert lines[-1].startswith("total compressed size: ") and "% of the embed area)" in lines[-1]


@pytest.mark.parametrize("args,msg", [
    (["--one-image", "-o", "x.iso"], "--one-image needs --hosts HOSTS.yaml"),
    (["--one-image", "--hosts", "h.yaml", "--output-dir", "d"], "not --output-dir"),
    (["--one-image", "--hosts", "h.yaml", "-o", "x.iso", "--hostname", "a"], "--hostname is per host"),
])
def test_usage_errors(iso: Path, tmp_path: Path, args: list[str], msg: str) -> None:
    r = run("embed", iso, *args, cwd=tmp_path)
    assert r.returncode == 2
    err = r.stderr.decode()
    assert err.startswith("ignkit: error: ") and msg in err and err.count("\n") == 1


def test_hosts_need_distinct_macs() -> None:
    with pytest.raises(UsageError, match="selects hosts by MAC"):
        compose_one_image(CustomizeOptions(), parse_inventory({"hosts": [{"hostname": "a"}]}), FEATURES)
    twice = [Host("a", [Interface(mac="52:54:00:00:00:01")]), Host("b", [Interface(mac="52:54:00:00:00:01")])]
    with pytest.raises(UsageError, match="also a's"):
        compose_one_image(CustomizeOptions(), twice, FEATURES)


def test_pxe_one_image(tmp_path: Path) -> None:
    src = make_initramfs(tmp_path / "live.img")
    original = src.read_bytes()
    hosts = tmp_path / "nodes.yaml"
    hosts.write_text(NODES)
    r = run("pxe", "customize", src, "--hosts", hosts, "--one-image", "-o", tmp_path / "rack.img",
            "--dest-ignition", C / "dest.ign", "--dest-karg-append", "quiet")
    assert r.returncode == 0, r.stderr
    data = (tmp_path / "rack.img").read_bytes()
    assert data[:len(original)] == original
    check_rack(read_initrd(data[len(original):]))
    d = run("pxe", "customize", src, "--hosts", hosts, "--one-image", "--dry-run")
    assert d.returncode == 0, d.stderr
    out = d.stdout.decode()
    assert "  rack-b: MAC 00:16:3e:00:00:02, " in out and "total compressed size: " in out
    assert run("pxe", "customize", src, "--hosts", hosts, "--one-image").returncode == 2   # no -o


def test_overflow_names_how_many_fit(iso: Path) -> None:
    live = open_iso(iso)
    # incompressible per-host content: random-looking host names and kargs
    hosts = parse_inventory({"hosts": [
        {"hostname": f"h{i}", "mac": f"52:54:00:00:{i // 256:02x}:{i % 256:02x}", "install_dev": "/dev/sda",
         "kargs": " ".join(f"k{os.urandom(24).hex()}" for _ in range(40))} for i in range(300)]})
    with pytest.raises(ImageError, match=r"300 hosts do not fit the Ignition area; the first (\d+) would fit") as e:
        one_image_iso(live, CustomizeOptions(), hosts)
    n = int(e.value.message.split("the first ")[1].split()[0])
    assert 0 < n < 300
    one = compose_one_image(CustomizeOptions(), hosts, live.features)
    assert len(one.hosts) == 300 and all(p.size > 1000 for p in one.hosts)
    assert hosts_that_fit(one, live.ignition_area.length) == n
    one_image_iso(open_iso(iso), CustomizeOptions(), hosts[:n])           # n fit ...
    with pytest.raises(ImageError):
        one_image_iso(open_iso(iso), CustomizeOptions(), hosts[:n + 1])   # ... n + 1 do not


def test_selection_script_with_sh(iso: Path, tmp_path: Path) -> None:
    hosts = tmp_path / "nodes.yaml"
    hosts.write_text(NODES)
    out = tmp_path / "rack.iso"
    r = run("embed", iso, "--hosts", hosts, "--one-image", "-o", out, "--dest-ignition", C / "dest.ign",
            "--dest-karg-append", "quiet")
    assert r.returncode == 0, r.stderr
    members = open_iso(out).members()
    nm = "etc/NetworkManager/system-connections"

    # Machine 1: rack-a's MAC on an interface that is not called eth0 (upper-case address, as some drivers print)
    m1 = tmp_path / "m1"
    apply_live_config(members, m1)
    fake_nics(m1, {"lo": "00:00:00:00:00:00", "enp1s0": "00:16:3E:00:00:01", "enp2s0": "52:54:00:12:34:56"})
    p = select(m1)
    assert p.returncode == 0, p.stderr
    assert "this machine is inventory host rack-a (MAC 00:16:3e:00:00:01)" in p.stdout
    assert (m1 / "etc/hostname").read_text() == "rack-a\n"
    kf = parse_keyfile((m1 / nm / "eth0.nmconnection").read_bytes())
    assert kf["connection"]["interface-name"] == "enp1s0"
    assert kf["ipv4"]["address1"].startswith("192.168.122.2/23")
    assert ((m1 / nm / "eth0.nmconnection").stat().st_mode & 0o777) == 0o600
    assert sorted(os.listdir(m1 / nm)) == ["eth0.nmconnection"]
    inst = m1 / "etc/coreos/installer.d/0000-customize.yaml"
    assert b"dest-device: /dev/sda" in inst.read_bytes() and (inst.stat().st_mode & 0o777) == 0o600
    assert build.files_of(build.parse((m1 / "etc/coreos/dest.ign").read_bytes()))["/etc/hostname"][1] == b"rack-a\n"

    # Machine 2: rack-b (keyfile bound by MAC: copied as it is)
    m2 = tmp_path / "m2"
    units = apply_live_config(members, m2)
    assert UNIT_NAME in units
    fake_nics(m2, {"eno1": "00:16:3e:00:00:02"})
    p = select(m2)
    assert p.returncode == 0 and "inventory host rack-b" in p.stdout, p.stdout + p.stderr
    assert (m2 / "etc/hostname").read_text() == "rack-b\n"
    assert sorted(os.listdir(m2 / nm)) == ["ethernet-00163e000002.nmconnection"]
    assert parse_keyfile((m2 / nm / "ethernet-00163e000002.nmconnection").read_bytes())["ipv4"]["address1"] \
        .startswith("192.168.122.3/23")
    inst2 = (m2 / "etc/coreos/installer.d/0000-customize.yaml").read_bytes()
    assert b"dest-device: /dev/vda" in inst2 and b"nosmt" in inst2

    # Machine 3: no inventory MAC -> nothing of any host, no installer config, a message
    m3 = tmp_path / "m3"
    apply_live_config(members, m3)
    fake_nics(m3, {"eth0": "52:54:00:99:99:99"})
    p = select(m3)
    assert p.returncode == 0
    assert "no inventory host has a MAC address of this machine (52:54:00:99:99:99 )" in p.stdout
    assert "no automatic install" in p.stdout
    assert not (m3 / "etc/hostname").exists()
    assert not (m3 / "etc/coreos/installer.d").exists()
    assert not (m3 / "etc/coreos/dest.ign").exists()
    assert not (m3 / nm).exists()


def test_first_inventory_host_wins(iso: Path, tmp_path: Path) -> None:
    """A machine carrying two inventory hosts' MACs becomes the one listed first, never a mix."""
    hosts = tmp_path / "nodes.yaml"
    hosts.write_text(NODES)
    out = tmp_path / "rack.iso"
    assert run("embed", iso, "--hosts", hosts, "--one-image", "-o", out).returncode == 0
    m = tmp_path / "m"
    apply_live_config(open_iso(out).members(), m)
    fake_nics(m, {"a": "00:16:3e:00:00:02", "b": "00:16:3e:00:00:01"})
    p = select(m)
    assert "inventory host rack-a" in p.stdout, p.stdout + p.stderr
    assert (m / "etc/hostname").read_text() == "rack-a\n"
    assert os.listdir(m / "etc/NetworkManager/system-connections") == ["eth0.nmconnection"]
