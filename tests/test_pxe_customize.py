"""`ignkit pxe customize`: one appended xz layer on a CoreOS live initramfs, read back through the library."""

from __future__ import annotations

import gzip
import json
import lzma
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CI_FIXTURES
from conftest import run_ignkit as run

from ignkit.errors import ImageError, UsageError
from ignkit.ignition import build
from ignkit.initrd import build_cpio, read_initrd
from ignkit.live.customize import CustomizeOptions, customize_pxe, read_customization
from ignkit.live.initramfs import build_initrd
from ignkit.netconf import parse_keyfile

C = CI_FIXTURES / "customize"
FEATURES = {"installer-config": True, "installer-config-directives": {"console": True},
            "live-initrd-network": True}


def make_initramfs(path: Path, features: dict | None = FEATURES, stamp: bool = True) -> Path:
    files = {"usr/lib/dracut/hooks/x.sh": b"echo hi\n", "etc/os-release": b"ID=fedora\n"}
    if stamp:
        files["etc/coreos-live-initramfs"] = b"36.20220909.dev.0\n"
    if features is not None:
        files["etc/coreos/features.json"] = json.dumps(features, indent=2, sort_keys=True).encode()
    data = gzip.compress(build_cpio(files), mtime=0)
    data += bytes(-len(data) % 4)
    path.write_bytes(data)
    return path


def test_append_layer_and_read_back(tmp_path: Path) -> None:
    src = make_initramfs(tmp_path / "initramfs.img")
    original = src.read_bytes()
    out = tmp_path / "custom.img"
    opts = CustomizeOptions(dest_ignition=[C / "dest.ign"], dest_device="/dev/sda", dest_console=["ttyS0,115200"],
                            network_keyfile=[C / "installer-test.nmconnection"], hostname="pxe1",
                            installer_config=[C / "install-1.conf"])
    result = customize_pxe(src, opts, out)
    data = out.read_bytes()
    assert src.read_bytes() == original  # input untouched
    assert data[:len(original)] == original
    assert data[len(original)] == 0xFD and data[len(original) + 1:len(original) + 5] == b"7zXZ"
    # The layer is xz with a CRC32 check (the kernel's decoder needs it).
    assert data[len(original) + 7] == lzma.CHECK_CRC32
    layer = read_initrd(data[len(original):])
    assert sorted(layer) == ["config.ign", "etc/coreos-firstboot-network/installer-test.nmconnection"]
    whole = read_initrd(data)
    assert "etc/coreos-live-initramfs" in whole and "config.ign" in whole
    parts = read_customization(layer)
    assert parts.installer_config.to_dict() == {
        "append-karg": ["install-config-karg-1"], "ignition-file": "/etc/coreos/dest.ign",
        "console": ["ttyS0,115200n8"], "copy-network": True, "dest-device": "/dev/sda"}
    assert list(parts.installer_files) == ["0000-install-1.conf", "0001-customize.yaml"]
    assert parts.files["/etc/hostname"] == (0o644, b"pxe1\n")
    assert parts.keyfiles == {"installer-test.nmconnection": (C / "installer-test.nmconnection").read_bytes()}
    assert result.messages[-1] == "PXE configuration must include kernel arguments:\n\t" \
        "ignition.firstboot ignition.platform.id=metal"


def test_refusals(tmp_path: Path) -> None:
    plain = make_initramfs(tmp_path / "plain.img", stamp=False)
    with pytest.raises(ImageError, match="not a CoreOS live initramfs image"):
        customize_pxe(plain, CustomizeOptions(), tmp_path / "o1.img")
    src = make_initramfs(tmp_path / "live.img")
    done = tmp_path / "done.img"
    customize_pxe(src, CustomizeOptions(live_ignition=[C / "live.ign"]), done)
    with pytest.raises(ImageError, match="input is already customized"):
        customize_pxe(done, CustomizeOptions(), tmp_path / "o2.img")
    old = make_initramfs(tmp_path / "old.img", features=None)
    with pytest.raises(ImageError, match="does not support customizing network settings"):
        customize_pxe(old, CustomizeOptions(network_keyfile=[C / "installer-test.nmconnection"]), tmp_path / "o3.img")
    with pytest.raises(UsageError, match="ISO images only"):
        customize_pxe(src, CustomizeOptions(live_karg_append=["x"]), tmp_path / "o4.img")
    assert not any(p.name.startswith(("o1", "o2", "o3", "o4", ".o")) for p in tmp_path.iterdir())
    with pytest.raises(UsageError, match="already exists"):
        customize_pxe(src, CustomizeOptions(), done)
    subdir = tmp_path / "sub.img"
    subdir.mkdir()
    with pytest.raises(UsageError, match=r"sub\.img: is a directory"):
        customize_pxe(src, CustomizeOptions(), subdir)
    with pytest.raises(UsageError, match=r"o5\.img: directory .*nowhere does not exist"):
        customize_pxe(src, CustomizeOptions(), tmp_path / "nowhere" / "o5.img")
    assert not list(subdir.iterdir())


def test_no_options_appends_an_empty_archive(tmp_path: Path) -> None:
    src = make_initramfs(tmp_path / "live.img")
    out = tmp_path / "out.img"
    customize_pxe(src, CustomizeOptions(), out)
    tail = out.read_bytes()[src.stat().st_size:]
    assert tail == build_initrd({}) and read_initrd(tail) == {}


def test_cli(tmp_path: Path) -> None:
    src = make_initramfs(tmp_path / "live.img")
    r = run("pxe", "customize", src, "-o", tmp_path / "a.img", "--dest-ignition", C / "dest.ign",
            "--dest-device", "/dev/vda", "--hostname", "n1", "--ip", "192.0.2.21/24", "--gateway", "192.0.2.1",
            "--interface", "eno1")
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert "Boot media will automatically install to /dev/vda without confirmation." in err
    assert "\tignition.firstboot ignition.platform.id=metal" in err
    layer = read_initrd((tmp_path / "a.img").read_bytes()[src.stat().st_size:])
    assert "etc/coreos-firstboot-network/eno1.nmconnection" in layer
    # stdout gives the same bytes.
    r2 = run("pxe", "customize", src, "-o", "-", "--dest-ignition", C / "dest.ign", "--dest-device", "/dev/vda",
             "--hostname", "n1", "--ip", "192.0.2.21/24", "--gateway", "192.0.2.1", "--interface", "eno1")
    assert r2.returncode == 0 and r2.stdout == (tmp_path / "a.img").read_bytes()
    # dry run writes nothing
    r3 = run("pxe", "customize", src, "--dry-run", "--network-keyfile", C / "installer-test.nmconnection")
    assert r3.returncode == 0 and b"network keyfiles: installer-test.nmconnection" in r3.stdout
    r4 = run("pxe", "customize", src, "-o", tmp_path / "b.img", "--live-karg-append", "x")
    assert r4.returncode == 2 and b"No such option" in r4.stderr
    r5 = run("pxe", "customize", tmp_path / "a.img", "-o", tmp_path / "c.img")
    assert r5.returncode == 2
    assert r5.stderr.decode().splitlines() == [f"ignkit: error: {tmp_path / 'a.img'}: input is already customized"]
    assert not (tmp_path / "b.img").exists() and not (tmp_path / "c.img").exists()


HOSTS = """\
hosts:
  - hostname: pxe-a.example.com
    mac: 52:54:00:00:00:21
    ip: 192.0.2.21/24
    gateway: 192.0.2.1
    dns: 192.0.2.53
    install_dev: /dev/vda
    console: ttyS0,115200n8
  - hostname: pxe-b
    interfaces:
      - name: eno1
        macAddress: 52:54:00:00:00:22
    rootDeviceHints:
      deviceName: /dev/sdb
    networkConfig:
      interfaces:
        - name: eno1
          type: ethernet
          state: up
          ipv6:
            enabled: true
            address:
              - ip: 2001:db8::22
                prefix-length: 64
      routes:
        config:
          - destination: ::/0
            next-hop-address: 2001:db8::1
            next-hop-interface: eno1
"""


def test_hosts_one_initramfs_each(tmp_path: Path) -> None:
    src = make_initramfs(tmp_path / "live.img")
    original = src.read_bytes()
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(HOSTS)
    r = run("pxe", "customize", src, "--hosts", hosts, "--output-dir", tmp_path / "out",
            "--dest-ignition", C / "dest.ign", "--dest-karg-append", "quiet")
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert f"pxe-a.example.com: {tmp_path / 'out' / 'pxe-a.example.com.img'}" in err
    assert "\tignition.firstboot ignition.platform.id=metal" in err
    assert "install without confirmation: pxe-a.example.com (/dev/vda), pxe-b (/dev/sdb)" in err
    assert src.read_bytes() == original
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["pxe-a.example.com.img", "pxe-b.img"]

    a = (tmp_path / "out" / "pxe-a.example.com.img").read_bytes()
    assert a[:len(original)] == original and a[len(original):len(original) + 6] == b"\xfd7zXZ\x00"
    pa = read_customization(read_initrd(a[len(original):]))
    assert pa.installer_config.to_dict() == {"ignition-file": "/etc/coreos/dest.ign", "console": ["ttyS0,115200n8"],
                                   "append-karg": ["quiet"], "copy-network": True, "dest-device": "/dev/vda"}
    assert pa.files["/etc/hostname"] == (0o644, b"pxe-a.example.com\n")
    assert pa.dest_config is not None
    assert build.files_of(pa.dest_config)["/etc/hostname"] == (0o644, b"pxe-a.example.com\n")
    assert "dest-ignition-applied.service" in build.units_of(pa.dest_config)
    kfa = parse_keyfile(pa.keyfiles["ethernet-525400000021.nmconnection"])
    assert kfa["ethernet"]["mac-address"] == "52:54:00:00:00:21".upper()
    assert kfa["ipv4"] == {"method": "manual", "address1": "192.0.2.21/24,192.0.2.1", "dns": "192.0.2.53;",
                           "may-fail": "false"}
    assert kfa["ipv6"]["method"] == "disabled"

    b = (tmp_path / "out" / "pxe-b.img").read_bytes()
    assert b[:len(original)] == original
    pb = read_customization(read_initrd(b[len(original):]))
    assert pb.installer_config.dest_device == "/dev/sdb"
    assert pb.files["/etc/hostname"][1] == b"pxe-b\n"
    kfb = parse_keyfile(pb.keyfiles["eno1.nmconnection"])
    assert kfb["ethernet"]["mac-address"] == "52:54:00:00:00:22".upper()
    assert kfb["ipv4"]["method"] == "disabled"
    assert kfb["ipv6"]["method"] == "manual" and kfb["ipv6"]["address1"] == "2001:db8::22/64,2001:db8::1"

    # Existing outputs: refused as a whole; --overwrite replaces the set.
    r2 = run("pxe", "customize", src, "--hosts", hosts, "--output-dir", tmp_path / "out")
    assert r2.returncode == 2 and b"already exists" in r2.stderr
    r3 = run("pxe", "customize", src, "--hosts", hosts, "--output-dir", tmp_path / "out", "--overwrite")
    assert r3.returncode == 0, r3.stderr
    assert "config.ign" in read_initrd((tmp_path / "out" / "pxe-b.img").read_bytes()[len(original):])
    # --dry-run describes each host and writes nothing.
    r4 = run("pxe", "customize", src, "--hosts", hosts, "--dry-run")
    assert r4.returncode == 0, r4.stderr
    assert "== pxe-b: pxe-b.img" in r4.stdout.decode() and "dest-device: /dev/sdb" in r4.stdout.decode()


def test_hosts_bad_third_host_writes_nothing(tmp_path: Path) -> None:
    src = make_initramfs(tmp_path / "live.img")
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(HOSTS + "  - hostname: pxe-c\n    console: com1\n")
    r = run("pxe", "customize", src, "--hosts", hosts, "--output-dir", tmp_path / "out")
    assert r.returncode == 2
    lines = r.stderr.decode().splitlines()
    # The inventory's consoles are checked when it is read (issue 15 item 10).
    assert len(lines) == 1 and lines[0].startswith(f"ignkit: error: {hosts}: hosts[2].console 'com1'"), lines
    assert not (tmp_path / "out").exists()
    # Per-host options on the command line, and -o with --hosts, are usage errors.
    r2 = run("pxe", "customize", src, "--hosts", hosts, "--output-dir", tmp_path / "out", "--ip", "192.0.2.9/24")
    assert r2.returncode == 2 and b"--ip is per host" in r2.stderr
    r3 = run("pxe", "customize", src, "--hosts", hosts, "-o", tmp_path / "x.img")
    assert r3.returncode == 2 and b"drop -o" in r3.stderr
    # The library refuses a non-live initramfs before composing any host.
    from ignkit.inventory import parse_inventory
    from ignkit.live.hosts import plan_pxe_hosts

    plain = make_initramfs(tmp_path / "plain.img", stamp=False)
    with pytest.raises(ImageError, match="plain.img: not a CoreOS live initramfs image"):
        plan_pxe_hosts(plain, CustomizeOptions(), parse_inventory({"hosts": [{"hostname": "a"}]}), tmp_path)


def test_bad_inputs_are_one_line_and_leave_nothing(tmp_path: Path) -> None:
    src = make_initramfs(tmp_path / "live.img")
    iso_like = tmp_path / "data.bin"
    iso_like.write_bytes(b"\x01" * 4096)
    for args, fragment in [
        ([iso_like, "-o", tmp_path / "o.img"], f"{iso_like}: "),
        ([src, "-o", tmp_path / "missing" / "o.img"], f"{tmp_path / 'missing' / 'o.img'}: directory "),
        ([src, "-o", tmp_path / "o.img", "--dest-ignition", C / "install-1.conf"], "parsing Ignition config"),
        ([src, "-o", tmp_path / "o.img", "--ip", "192.0.2.1/24", "--gateway", "198.51.100.1"], "not in the subnet"),
        ([src, "--output-dir", tmp_path], "--output-dir goes with --hosts"),
    ]:
        r = run("pxe", "customize", *args)
        lines = r.stderr.decode().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("ignkit: error: "), (args, lines)
        assert fragment in lines[0], (args, lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin", "live.img"]


def cpio_modes(layer: bytes) -> dict[str, int]:
    """name -> c_mode of every entry of one xz newc archive (read here, independently of ignkit.initrd)."""
    raw = lzma.LZMADecompressor().decompress(layer)  # stops at the end of the stream (an ISO area has zeros after)
    out, pos = {}, 0
    while True:
        head = raw[pos:pos + 110]
        assert head[:6] == b"070701"
        mode, size, namesize = int(head[14:22], 16), int(head[54:62], 16), int(head[94:102], 16)
        name = raw[pos + 110:pos + 110 + namesize - 1].decode()
        if name == "TRAILER!!!":
            return out
        out[name] = mode
        pos += 110 + namesize
        pos += -pos % 4
        pos += size + (-size % 4)


def test_library_hosts_and_member_modes(tmp_path: Path) -> None:
    from ignkit.inventory import parse_inventory
    from ignkit.live.hosts import customize_pxe_hosts

    src = make_initramfs(tmp_path / "live.img")
    hosts = parse_inventory({"hosts": [{"hostname": "m1", "mac": "52:54:00:00:00:31", "ip": "192.0.2.31/24"},
                                       {"hostname": "m2", "interface": "eno2", "ip": "2001:db8::32/64"}]})
    done: list[str] = []
    images = customize_pxe_hosts(src, CustomizeOptions(dest_ignition=[C / "dest.ign"]), hosts, tmp_path / "o",
                                 progress=lambda im: done.append(im.host.hostname))
    assert done == ["m1", "m2"] and [im.path for im in images] == [str(tmp_path / "o" / "m1.img"),
                                                                     str(tmp_path / "o" / "m2.img")]
    n = src.stat().st_size
    layer = (tmp_path / "o" / "m2.img").read_bytes()[n:]
    assert layer == images[1].layer
    # Keyfiles and the config are 0600 regular files (NetworkManager ignores keyfiles others can read);
    # parent directories are synthesized 0755.
    assert cpio_modes(layer) == {"config.ign": 0o100600, "etc": 0o40755, "etc/coreos-firstboot-network": 0o40755,
                                 "etc/coreos-firstboot-network/eno2.nmconnection": 0o100600}
    kf = parse_keyfile(read_customization(read_initrd(layer)).keyfiles["eno2.nmconnection"])
    assert kf["connection"]["interface-name"] == "eno2" and kf["ipv6"]["address1"] == "2001:db8::32/64"
    assert kf["ipv4"]["method"] == "disabled"
    assert oct((tmp_path / "o" / "m1.img").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_stdout_terminal_is_refused(tmp_path: Path) -> None:
    import os
    import pty

    src = make_initramfs(tmp_path / "live.img")
    primary, secondary = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "ignkit", "pxe", "customize", str(src), "-o", "-", "--hostname", "t"],
                           stdout=secondary, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(secondary)
        os.close(primary)
    assert r.returncode == 2
    assert r.stderr.decode().splitlines() == [
        "ignkit: error: Refusing to write binary data to terminal (redirect stdout or use -o FILE)"]
