"""`ignkit embed`: the command line, one ISO and one ISO per host, read back through the library."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import CI_FIXTURES
from conftest import run_ignkit as run

from ignkit.ignition import build
from ignkit.live.customize import read_customization
from ignkit.live.image import open_iso
from ignkit.netconf import parse_keyfile

C = CI_FIXTURES / "customize"


@pytest.fixture
def iso(fixture_isos: dict[str, Path]) -> Path:
    return fixture_isos["embed-areas-2023-07.x86_64"]


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_one_host(iso: Path, tmp_path: Path) -> None:
    before = sha(iso)
    out = tmp_path / "w1.iso"
    args = ["embed", iso, "--dest-ignition", C / "dest.ign", "--dest-ignition", C / "dest-2.ign",
            "--dest-device", "/dev/sda", "--dest-console", "ttyS0,115200n8", "--hostname", "w1.example.com",
            "--ip", "192.0.2.11/24", "--ip", "2001:db8::11/64", "--gateway", "192.0.2.1", "--dns", "192.0.2.53",
            "--mac", "52:54:00:aa:bb:01", "--live-karg-append", "console=ttyS0"]
    r = run(*args, "-o", out)
    assert r.returncode == 0, r.stderr
    assert r.stderr.decode().splitlines() == ["Boot media will automatically install to /dev/sda without confirmation."]
    assert sha(iso) == before
    back = open_iso(out)
    assert back.current_kargs() == back.default_kargs + " console=ttyS0"
    parts = read_customization(back.members())
    assert parts.installer_config.to_dict() == {"ignition-file": "/etc/coreos/dest.ign", "console": ["ttyS0,115200n8"],
                                      "copy-network": True, "dest-device": "/dev/sda"}
    kf = parse_keyfile(parts.keyfiles["ethernet-525400aabb01.nmconnection"])
    assert kf["ethernet"]["mac-address"] == "52:54:00:AA:BB:01"
    assert kf["ipv4"]["address1"] == "192.0.2.11/24,192.0.2.1"
    assert kf["ipv6"]["address1"] == "2001:db8::11/64"
    assert parts.files["/etc/hostname"][1] == b"w1.example.com\n"
    assert parts.dest_config is not None
    assert build.files_of(parts.dest_config)["/etc/hostname"][1] == b"w1.example.com\n"
    assert "dest-2-ignition-applied.service" in build.units_of(parts.dest_config)
    # The area holds one xz cpio: config and keyfile as 0600 files.
    from test_pxe_customize import cpio_modes

    assert cpio_modes(back.read_ignition_area()) == {
        "config.ign": 0o100600, "etc": 0o40755, "etc/coreos-firstboot-network": 0o40755,
        "etc/coreos-firstboot-network/ethernet-525400aabb01.nmconnection": 0o100600}
    # -o - streams the same bytes.
    r2 = run(*args, "-o", "-")
    assert r2.returncode == 0 and hashlib.sha256(r2.stdout).hexdigest() == sha(out)
    # The output is customized now: refused without -f, accepted with it.
    r3 = run("embed", out, "-o", tmp_path / "again.iso")
    assert r3.returncode == 2
    assert r3.stderr.decode().splitlines() == ["ignkit: error: This ISO image is already customized; use -f to force."]
    r4 = run("embed", out, "-f", "-o", tmp_path / "again.iso", "--live-ignition", C / "live.ign")
    assert r4.returncode == 0, r4.stderr
    assert sorted(open_iso(tmp_path / "again.iso").members()) == ["config.ign"]
    r5 = run("embed", iso, "-o", out, "--hostname", "x")
    assert r5.returncode == 2 and b"already exists" in r5.stderr


def test_dry_run_writes_nothing(iso: Path, tmp_path: Path) -> None:
    r = run("embed", iso, "--dry-run", "--dest-ignition", C / "dest.ign", "--dest-device", "/dev/nvme0n1",
            "--network-keyfile", C / "installer-test.nmconnection", "--live-karg-append", "quiet")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "config.ign (" in out and "dest-device: /dev/nvme0n1" in out
    assert "network keyfiles: installer-test.nmconnection" in out
    assert "ignition.platform.id=metal quiet" in out
    assert "of 262144 (" in out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, fragment", [
    (["-o", "x.iso", "--dest-console", "com1"], "invalid or unsupported console argument"),
    (["-o", "x.iso", "--gateway", "192.0.2.1"], "need --ip"),
    (["-o", "x.iso", "--dest-ignition-url", "http://192.0.2.1:9/w.ign", "--dest-ignition-hash", "md5-00"],
     "unknown hash type"),
    (["--dest-device", "/dev/sda"], "give -o OUT"),
    (["-o", "a.iso", "--in-place"], "not both"),
    (["--hosts", "h.yaml", "-o", "x.iso"], "drop -o"),
    (["--hosts", "h.yaml", "--output-dir", "d", "--hostname", "a"], "--hostname is per host"),
])
def test_usage_errors_are_one_line(iso: Path, tmp_path: Path, args: list[str], fragment: str) -> None:
    r = subprocess.run([sys.executable, "-m", "ignkit", "embed", str(iso), *args], capture_output=True, timeout=60,
                       cwd=tmp_path)
    lines = r.stderr.decode().splitlines()
    assert r.returncode == 2, lines
    assert len(lines) == 1 and lines[0].startswith("ignkit: error: ") and fragment in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_dest_url_fetches_and_hashes(iso: Path, tmp_path: Path, httpserver) -> None:  # type: ignore[no-untyped-def]
    cfg = (C / "dest.ign").read_bytes()
    httpserver.expect_request("/worker.ign").respond_with_data(cfg)
    url = httpserver.url_for("/worker.ign")
    r = run("embed", iso, "-o", tmp_path / "u.iso", "--dest-ignition-url", url, "--dest-device", "/dev/sda")
    assert r.returncode == 0, r.stderr
    parts = read_customization(open_iso(tmp_path / "u.iso").members())
    assert parts.installer_config.to_dict() == {"ignition-url": url,
                                      "ignition-hash": "sha512-" + hashlib.sha512(cfg).hexdigest(),
                                      "dest-device": "/dev/sda"}
    assert parts.dest_config is None
    r2 = run("embed", iso, "-o", tmp_path / "v.iso", "--dest-ignition-url", "http://127.0.0.1:9/none.ign")
    assert r2.returncode == 2 and b"--insecure-ignition" in r2.stderr
    r3 = run("embed", iso, "-o", tmp_path / "v.iso", "--dest-ignition-url", "http://127.0.0.1:9/none.ign",
             "--insecure-ignition")
    assert r3.returncode == 0, r3.stderr
    assert read_customization(open_iso(tmp_path / "v.iso").members()).installer_config.to_dict() == {
        "ignition-url": "http://127.0.0.1:9/none.ign", "insecure-ignition": True}


NODES = """\
cpuArchitecture: x86_64
hosts:
  - hostname: extra-worker-1
    rootDeviceHints:
      deviceName: /dev/sda
    interfaces:
      - name: eth0
        macAddress: 00:16:3e:00:00:01
    networkConfig:
      interfaces:
        - name: eth0
          type: ethernet
          state: up
          mac-address: 00:16:3e:00:00:01
          ipv4:
            enabled: true
            address:
              - ip: 192.168.122.2
                prefix-length: 23
            dhcp: false
      dns-resolver:
        config:
          server: [192.168.122.1]
      routes:
        config:
          - destination: 0.0.0.0/0
            next-hop-address: 192.168.122.1
            next-hop-interface: eth0
            table-id: 254
  - hostname: extra-worker-2
    mac: 00:16:3e:00:00:02
    install_dev: /dev/vda
    ip: 192.168.122.3/23
    gateway: 192.168.122.1
    console: ttyS0,115200n8
    kargs: nosmt
"""


def test_hosts(iso: Path, tmp_path: Path) -> None:
    hosts = tmp_path / "nodes-config.yaml"
    hosts.write_text(NODES)
    outdir = tmp_path / "out"
    r = run("embed", iso, "--hosts", hosts, "--output-dir", outdir, "--dest-ignition", C / "dest.ign",
            "--dest-karg-append", "quiet")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in outdir.iterdir()) == ["extra-worker-1.iso", "extra-worker-2.iso"]
    assert "extra-worker-1 (/dev/sda)" in r.stderr.decode()
    p1 = read_customization(open_iso(outdir / "extra-worker-1.iso").members())
    assert p1.installer_config.to_dict() == {"ignition-file": "/etc/coreos/dest.ign", "append-karg": ["quiet"],
                                   "copy-network": True, "dest-device": "/dev/sda"}
    kf = parse_keyfile(p1.keyfiles["eth0.nmconnection"])
    assert kf["ethernet"]["mac-address"] == "00:16:3E:00:00:01"
    assert kf["ipv4"]["address1"] == "192.168.122.2/23,192.168.122.1"
    assert kf["ipv4"]["dns"] == "192.168.122.1;"
    assert p1.files["/etc/hostname"][1] == b"extra-worker-1\n"
    p2 = read_customization(open_iso(outdir / "extra-worker-2.iso").members())
    assert p2.installer_config.to_dict() == {"ignition-file": "/etc/coreos/dest.ign", "console": ["ttyS0,115200n8"],
                                   "append-karg": ["quiet", "nosmt"], "copy-network": True, "dest-device": "/dev/vda"}
    assert list(p2.keyfiles) == ["ethernet-00163e000002.nmconnection"]
    assert p2.dest_config is not None
    assert build.files_of(p2.dest_config)["/etc/hostname"][1] == b"extra-worker-2\n"
    # The rest of each ISO is the input ISO.
    a, b = iso.read_bytes(), (outdir / "extra-worker-2.iso").read_bytes()
    assert len(a) == len(b)
    diff = [i for i in range(0, len(a), 2048) if a[i:i + 2048] != b[i:i + 2048]]
    area = open_iso(iso).ignition_area
    assert all(area.offset <= i < area.offset + area.length for i in diff)
    # Existing outputs are refused as a whole, before anything is written.
    r2 = run("embed", iso, "--hosts", hosts, "--output-dir", outdir)
    assert r2.returncode == 2 and b"already exists" in r2.stderr


def test_hosts_bad_host_writes_nothing(iso: Path, tmp_path: Path) -> None:
    hosts = tmp_path / "h.yaml"
    hosts.write_text(json.dumps({"hosts": [{"hostname": "a", "console": "ttyS0"},
                                           {"hostname": "b", "console": "com1"}]}))
    r = run("embed", iso, "--hosts", hosts, "--output-dir", tmp_path / "o")
    assert r.returncode == 2
    # The inventory's consoles are checked when it is read (issue 15 item 10), naming the entry.
    assert r.stderr.decode().splitlines() == [
        f"ignkit: error: {hosts}: hosts[1].console 'com1': invalid or unsupported console argument (expected "
        "ttyS<n>[,<speed>[n|o|e[5-8]]], ttyAMA<n>..., tty0, hvc0 or ttysclp0)"]
    assert not (tmp_path / "o").exists()
    arm = tmp_path / "arm.yaml"
    arm.write_text("cpuArchitecture: arm64\nhosts:\n  - hostname: a1\n")
    r2 = run("embed", iso, "--hosts", arm, "--output-dir", tmp_path / "o")
    assert r2.returncode == 2
    assert r2.stderr.decode().splitlines() == [f"ignkit: error: a1 is aarch64 but {iso} is a x86_64 ISO"]
    done = tmp_path / "done.iso"
    assert run("embed", iso, "-o", done, "--hostname", "x").returncode == 0
    good = tmp_path / "good.yaml"
    good.write_text(json.dumps({"hosts": [{"hostname": "a", "console": "ttyS0"}]}))
    r3 = run("embed", done, "--hosts", good, "--output-dir", tmp_path / "o")
    assert r3.stderr.decode().splitlines() == ["ignkit: error: This ISO image is already customized; use -f to force."]
    assert not (tmp_path / "o").exists()


def test_in_place(iso: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.iso"
    mine.write_bytes(iso.read_bytes())
    r = run("embed", mine, "--in-place", "--live-ignition", C / "live.ign", "--live-karg-delete",
            "ignition.platform.id=metal")
    assert r.returncode == 0, r.stderr
    back = open_iso(mine)
    assert "ignition.platform.id=metal" not in back.current_kargs()
    parts = read_customization(back.members())
    assert parts.live_config is not None and "terminate-multi-user.service" in parts.units
    assert mine.stat().st_size == iso.stat().st_size


def test_https_dest_url_is_verified_with_the_ignition_ca(tls_server: tuple[Any, Path]) -> None:
    from ignkit.errors import FetchError
    from ignkit.live.customize import CustomizeOptions, compose, resolve_dest_ignition_hash

    server, ca = tls_server
    cfg = (C / "dest-2.ign").read_bytes()
    server.expect_request("/w.ign").respond_with_data(cfg)
    url = server.url_for("/w.ign")
    with pytest.raises(FetchError, match="--insecure-ignition"):
        resolve_dest_ignition_hash(CustomizeOptions(dest_ignition_url=url))
    opts = CustomizeOptions(dest_ignition_url=url, ignition_ca=[ca], hostname="tls1")
    assert resolve_dest_ignition_hash(opts) == "sha512-" + hashlib.sha512(cfg).hexdigest()
    # The CA and host name go to a small dest config that references the URL with its digest.
    r = compose(opts, {"installer-config": True})
    assert r.dest_config is not None
    assert r.dest_config["ignition"]["config"]["merge"] == [
        {"source": url, "verification": {"hash": opts.dest_ignition_hash}}]
    assert [build.read_resource(c) for c in r.dest_config["ignition"]["security"]["tls"]["certificateAuthorities"]] \
        == [ca.read_bytes()]


def test_hosts_library_progress_and_all_or_nothing(iso: Path, tmp_path: Path) -> None:
    from ignkit.errors import UsageError
    from ignkit.inventory import parse_inventory
    from ignkit.live.customize import CustomizeOptions
    from ignkit.live.hosts import customize_iso_hosts, plan_iso_hosts, write_host_images

    hosts = parse_inventory({"hosts": [{"hostname": f"n{i}", "mac": f"52:54:00:00:00:0{i}", "ip": f"192.0.2.{i}/24",
                                        "install_dev": "/dev/sda"} for i in (1, 2, 3)]})
    opts = CustomizeOptions(dest_ignition=[C / "dest.ign"])
    live = open_iso(iso)
    seen: list[str] = []
    images = customize_iso_hosts(live, opts, hosts, tmp_path / "out", progress=lambda im: seen.append(im.host.hostname))
    assert seen == ["n1", "n2", "n3"]
    assert [im.path for im in images] == [str(tmp_path / "out" / f"n{i}.iso") for i in (1, 2, 3)]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["n1.iso", "n2.iso", "n3.iso"]
    for i in (1, 2, 3):
        parts = read_customization(open_iso(tmp_path / "out" / f"n{i}.iso").members())
        assert parts.files["/etc/hostname"][1] == f"n{i}\n".encode()
        assert list(parts.keyfiles) == [f"ethernet-52540000000{i}.nmconnection"]

    # A writer failing at the third image (a full disk, say): nothing of the run appears.
    planned = plan_iso_hosts(live, opts, hosts, tmp_path / "out2")

    def fail_third(im, tmp: str) -> None:  # type: ignore[no-untyped-def]
        if im.host.hostname == "n3":
            raise OSError(28, "No space left on device")
        Path(tmp).write_bytes(b"partial")

    with pytest.raises(OSError, match="No space left"):
        write_host_images(planned, fail_third)
    assert list((tmp_path / "out2").iterdir()) == []
    # A target that is a directory is refused before anything is written.
    (tmp_path / "out3" / "n2.iso").mkdir(parents=True)
    with pytest.raises(UsageError, match="n2.iso: is a directory"):
        customize_iso_hosts(live, opts, hosts, tmp_path / "out3", overwrite=True)
    assert [p.name for p in (tmp_path / "out3").iterdir()] == ["n2.iso"]
    # With --overwrite the set is replaced as a whole.
    customize_iso_hosts(live, CustomizeOptions(), hosts, tmp_path / "out", overwrite=True)
    replaced = read_customization(open_iso(tmp_path / "out" / "n1.iso").members()).dest_config
    assert replaced is not None and build.units_of(replaced) == {}  # only the host name now, no dest.ign units
    # A host name that cannot be a file name is refused at planning time.
    long_name = ".".join(["a" * 63] * 3) + "." + "b" * 61
    with pytest.raises(UsageError, match="too long for a file name"):
        plan_iso_hosts(live, opts, parse_inventory({"hosts": [{"hostname": long_name}]}), tmp_path)


def test_hosts_progress_bar_on_a_terminal(iso: Path, tmp_path: Path) -> None:
    import os
    import pty

    hosts = tmp_path / "h.yaml"
    hosts.write_text("hosts:\n" + "".join(f"  - hostname: p{i}\n    install_dev: /dev/vda\n" for i in range(3)))
    primary, secondary = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "ignkit", "embed", str(iso), "--hosts", str(hosts), "--output-dir",
                            str(tmp_path / "o"), "--dest-ignition", str(C / "dest.ign")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=secondary, timeout=120)
        os.close(secondary)
        secondary = -1
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the other side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if secondary >= 0:
            os.close(secondary)
        os.close(primary)
    assert r.returncode == 0
    tty = b"".join(chunks).decode()
    assert "Writing ISOs" in tty and "3/3" in tty and "p2" in tty, tty
    assert "Boot media will automatically install without confirmation: p0 (/dev/vda), p1 (/dev/vda), p2" in tty
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["p0.iso", "p1.iso", "p2.iso"]


def test_arch_is_checked(iso: Path, tmp_path: Path) -> None:
    r = run("embed", iso, "--arch", "aarch64", "-o", tmp_path / "a.iso", "--hostname", "a")
    assert r.returncode == 1
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ignkit: error: ") and "not aarch64" in lines[0]
    assert not (tmp_path / "a.iso").exists()
    r2 = run("embed", iso, "--arch", "x86_64", "-o", tmp_path / "a.iso", "--hostname", "a")
    assert r2.returncode == 0, r2.stderr


def test_dry_run_computes_the_url_digest(iso: Path, tmp_path: Path, httpserver) -> None:  # type: ignore[no-untyped-def]
    cfg = (C / "dest-2.ign").read_bytes()
    httpserver.expect_request("/w.ign").respond_with_data(cfg)
    r = run("embed", iso, "--dry-run", "--dest-ignition-url", httpserver.url_for("/w.ign"))
    assert r.returncode == 0, r.stderr
    assert f"ignition-hash: sha512-{hashlib.sha512(cfg).hexdigest()}" in r.stdout.decode()


def test_invalid_config_exit_status_and_no_validate(iso: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ign"
    bad.write_text('{"ignition": {"version": "3.3.0"},\n "storage": {"files": [{"path": "etc/x"}]}}\n')
    r = run("embed", iso, "-o", tmp_path / "a.iso", "--dest-ignition", C / "dest.ign", "--dest-ignition", bad)
    assert r.returncode == 1
    assert r.stderr.decode().splitlines() == [
        f"ignkit: error: {bad} does not validate: error at $.storage.files.0.path, line 2 col 33: path not absolute "
        "(use --no-validate to skip)"]
    assert not (tmp_path / "a.iso").exists()
    r2 = run("embed", iso, "-o", tmp_path / "a.iso", "--dest-ignition", bad, "--no-validate")
    assert r2.returncode == 0, r2.stderr
    dest = read_customization(open_iso(tmp_path / "a.iso").members()).dest_config
    assert dest is not None and dest["storage"]["files"] == [{"path": "etc/x"}]


def test_iso_customize_is_embed(iso: Path, tmp_path: Path) -> None:
    # coreos-installer's name for the command: the same options, the same image, byte for byte.
    opts = ["--dest-ignition", C / "dest.ign", "--dest-device", "/dev/sda", "--hostname", "w1",
            "--live-karg-append", "console=ttyS0"]
    a, b = tmp_path / "embed.iso", tmp_path / "customize.iso"
    assert run("embed", iso, *opts, "-o", a).returncode == 0
    r = run("iso", "customize", iso, *opts, "-o", b)
    assert r.returncode == 0, r.stderr
    assert sha(a) == sha(b) != sha(iso)
