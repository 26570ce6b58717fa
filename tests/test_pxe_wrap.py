"""``ignkit pxe ignition|network wrap|unwrap`` end to end (real files, real subprocesses)."""

from __future__ import annotations

import lzma
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CI_FIXTURES
from conftest import run_ignkit as ignkit

from ignkit.cli import main
from ignkit.initrd import build_cpio, cpio_entry_names, read_initrd
from ignkit.live.initramfs import build_initrd

CONFIG = b'{"ignition":{"version":"3.4.0"},"passwd":{"users":[{"name":"core"}]}}\n'
KEYFILE = CI_FIXTURES / "customize" / "installer-test.nmconnection"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.ign"
    path.write_bytes(CONFIG)
    return path


# ---------------------------------------------------------------------------- ignition


def test_ignition_wrap_to_file_is_xz_crc32_cpio(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "ign.img"
    assert main(["pxe", "ignition", "wrap", "-i", str(config), "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data == build_initrd({"config.ign": CONFIG})
    assert data[6:8] == b"\x00\x01"
    assert lzma.decompress(data) == build_cpio({"config.ign": CONFIG})
    assert config.read_bytes() == CONFIG


def test_ignition_wrap_stdout_and_stdin_match_file(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "ign.img"
    assert main(["pxe", "ignition", "wrap", "-i", str(config), "-o", str(out)]) == 0
    via_stdout = ignkit("pxe", "ignition", "wrap", "-i", str(config))
    assert via_stdout.returncode == 0, via_stdout.stderr
    assert via_stdout.stdout == out.read_bytes()
    via_stdin = ignkit("pxe", "ignition", "wrap", "-o", "-", stdin=CONFIG)
    assert via_stdin.stdout == out.read_bytes()


def test_ignition_wrap_overwrites_existing_output(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "ign.img"
    out.write_bytes(b"old contents that are longer than the new image" * 100)
    assert main(["pxe", "ignition", "wrap", "-i", str(config), "-o", str(out)]) == 0
    assert out.read_bytes() == build_initrd({"config.ign": CONFIG})


def test_wrap_refuses_terminal(config: Path) -> None:
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "ignkit", "pxe", "ignition", "wrap", "-i", str(config)],
                              stdout=secondary, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    finally:
        os.close(secondary)
        os.close(primary)
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == "ignkit: error: Refusing to write binary data to terminal (redirect stdout or use -o FILE)"


def test_ignition_unwrap_file_and_stdin(tmp_path: Path, config: Path) -> None:
    img = tmp_path / "ign.img"
    assert main(["pxe", "ignition", "wrap", "-i", str(config), "-o", str(img)]) == 0
    res = ignkit("pxe", "ignition", "unwrap", str(img))
    assert res.returncode == 0 and res.stdout == CONFIG
    res = ignkit("pxe", "ignition", "unwrap", stdin=img.read_bytes())
    assert res.returncode == 0 and res.stdout == CONFIG


def test_ignition_unwrap_last_config_of_concatenated_initrds(tmp_path: Path) -> None:
    img = tmp_path / "all.img"
    img.write_bytes(build_cpio({"usr/x": b"x"}) + build_initrd({"config.ign": b"first\n"}) + b"\0" * 16
                    + build_initrd({"config.ign": b"second\n", "etc/y": b"y"}))
    res = ignkit("pxe", "ignition", "unwrap", str(img))
    assert res.returncode == 0 and res.stdout == b"second\n"


def test_ignition_unwrap_errors(tmp_path: Path) -> None:
    img = tmp_path / "net.img"
    img.write_bytes(build_initrd({"etc/coreos-firstboot-network/a": b"a"}))
    res = ignkit("pxe", "ignition", "unwrap", str(img))
    assert res.returncode == 2
    assert res.stderr.decode() == "ignkit: error: couldn't find Ignition config in archive\n"
    res = ignkit("pxe", "ignition", "unwrap", str(tmp_path / "missing.img"))
    assert res.returncode == 2 and b"missing.img" in res.stderr and b"Traceback" not in res.stderr
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"this is not an initrd")
    res = ignkit("pxe", "ignition", "unwrap", str(junk))
    assert res.returncode == 2 and b"unrecognized data" in res.stderr and b"Traceback" not in res.stderr
    res = ignkit("pxe", "ignition", "unwrap", str(CI_FIXTURES / "initrd" / "traversal-absolute.img"))
    assert res.returncode == 2 and b"couldn't find Ignition config" in res.stderr


# ---------------------------------------------------------------------------- network


def test_network_wrap_layout(tmp_path: Path) -> None:
    second = tmp_path / "b.nmconnection"
    second.write_bytes(b"[connection]\nid=b\n")
    out = tmp_path / "net.img"
    assert main(["pxe", "network", "wrap", "-k", str(second), "-k", str(KEYFILE), "-o", str(out)]) == 0
    expected = {
        "etc/coreos-firstboot-network/b.nmconnection": second.read_bytes(),
        "etc/coreos-firstboot-network/installer-test.nmconnection": KEYFILE.read_bytes(),
    }
    assert read_initrd(out.read_bytes()) == expected
    assert out.read_bytes() == build_initrd(expected)
    assert [n for n, is_dir in cpio_entry_names(expected) if is_dir] == ["etc", "etc/coreos-firstboot-network"]
    if shutil.which("cpio") and shutil.which("xz"):
        listing = subprocess.run(f"xz -dc '{out}' | cpio -t --quiet", shell=True, check=True, capture_output=True)
        assert listing.stdout.decode().splitlines() == [
            "etc", "etc/coreos-firstboot-network", "etc/coreos-firstboot-network/b.nmconnection",
            "etc/coreos-firstboot-network/installer-test.nmconnection"]


def test_network_wrap_errors(tmp_path: Path) -> None:
    other = tmp_path / "sub"
    other.mkdir()
    shutil.copy(KEYFILE, other / KEYFILE.name)
    out = tmp_path / "net.img"
    res = ignkit("pxe", "network", "wrap", "-k", str(KEYFILE), "-k", str(other / KEYFILE.name), "-o", str(out))
    assert res.returncode == 2
    assert res.stderr.decode() == "ignkit: error: multiple input files named 'installer-test.nmconnection'\n"
    assert not out.exists()
    res = ignkit("pxe", "network", "wrap", "-o", str(out))
    assert res.returncode == 2 and b"--keyfile" in res.stderr
    res = ignkit("pxe", "network", "wrap", "-k", str(tmp_path / "nope"), "-o", str(out))
    assert res.returncode == 2 and b"nope" in res.stderr and not out.exists()


def _network_image(tmp_path: Path) -> Path:
    img = tmp_path / "net.img"
    img.write_bytes(build_initrd({"config.ign": CONFIG}) + build_initrd({
        "etc/coreos-firstboot-network/b.nmconnection": b"[connection]\nid=b\n",
        "etc/coreos-firstboot-network/a.nmconnection": b"[connection]\nid=a\n",
    }))
    return img


def test_network_unwrap_stdout(tmp_path: Path) -> None:
    res = ignkit("pxe", "network", "unwrap", str(_network_image(tmp_path)))
    assert res.returncode == 0, res.stderr
    assert res.stdout == (b"########## a.nmconnection ##########\n[connection]\nid=a\n\n"
                          b"########## b.nmconnection ##########\n[connection]\nid=b\n")


def test_network_unwrap_to_directory(tmp_path: Path) -> None:
    img = _network_image(tmp_path)
    target = tmp_path / "out" / "nested"
    res = ignkit("pxe", "network", "unwrap", "-C", str(target), stdin=img.read_bytes())
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode().splitlines() == [str(target / "a.nmconnection"), str(target / "b.nmconnection")]
    assert (target / "a.nmconnection").read_bytes() == b"[connection]\nid=a\n"
    assert (target / "b.nmconnection").stat().st_mode & 0o777 == 0o600
    # existing files are never overwritten
    (target / "a.nmconnection").write_bytes(b"mine")
    (target / "b.nmconnection").unlink()
    res = ignkit("pxe", "network", "unwrap", "-C", str(target), str(img))
    assert res.returncode == 2 and b"File exists" in res.stderr
    assert (target / "a.nmconnection").read_bytes() == b"mine"
    assert not (target / "b.nmconnection").exists()


def test_network_unwrap_nothing(tmp_path: Path, config: Path) -> None:
    img = tmp_path / "ign.img"
    assert main(["pxe", "ignition", "wrap", "-i", str(config), "-o", str(img)]) == 0
    res = ignkit("pxe", "network", "unwrap", str(img))
    assert res.returncode == 2 and res.stderr.decode() == "ignkit: error: No embedded network settings.\n"


def test_round_trip_through_commands(tmp_path: Path, config: Path) -> None:
    ign = ignkit("pxe", "ignition", "wrap", "-i", str(config)).stdout
    net = ignkit("pxe", "network", "wrap", "-k", str(KEYFILE)).stdout
    both = tmp_path / "both.img"
    both.write_bytes(ign + net)
    assert ignkit("pxe", "ignition", "unwrap", str(both)).stdout == CONFIG
    res = ignkit("pxe", "network", "unwrap", "-C", str(tmp_path / "nm"), str(both))
    assert res.returncode == 0
    assert (tmp_path / "nm" / KEYFILE.name).read_bytes() == KEYFILE.read_bytes()
