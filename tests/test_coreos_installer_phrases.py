"""Scripts written for coreos-installer grep its messages: ignkit's start with the same key phrase.

"File exists" for an output that is already there (every command that writes files), and "Compressed
initramfs is too large: N > M" for a config that does not fit the Ignition area; ignkit's detail follows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CI_FIXTURES
from conftest import run_ignkit as run

C = CI_FIXTURES / "customize"
KEYFILE = C / "installer-test.nmconnection"


def _one_error_line(r: object) -> str:
    lines = r.stderr.decode().splitlines()  # type: ignore[attr-defined]
    assert r.returncode == 2 and len(lines) == 1, lines  # type: ignore[attr-defined]
    return str(lines[0])


@pytest.fixture
def iso(fixture_isos: dict[str, Path], tmp_path: Path) -> Path:
    src = tmp_path / "live.iso"
    src.write_bytes(fixture_isos["embed-areas-2023-07.x86_64"].read_bytes())
    return src


def test_existing_outputs_say_file_exists(iso: Path, tmp_path: Path) -> None:
    net_iso = tmp_path / "net.iso"
    assert run("iso", "network", "embed", "-k", KEYFILE, "-o", net_iso, iso).returncode == 0
    wrapped = tmp_path / "net.img"
    assert run("pxe", "network", "wrap", "-k", KEYFILE, "-o", wrapped).returncode == 0
    taken = tmp_path / "taken"
    taken.write_bytes(b"keep me")
    extract_dir = tmp_path / "extract"
    extract_dir.mkdir()
    (extract_dir / KEYFILE.name).write_bytes(b"keep me")
    pxe_dir = tmp_path / "pxe"
    pxe_dir.mkdir()
    (pxe_dir / "live-initrd.img").write_bytes(b"keep me")
    cases = {
        "embed": (["embed", iso, "-o", taken, "--dest-device", "/dev/sda"], taken),
        "iso ignition embed": (["iso", "ignition", "embed", "-i", C / "dest.ign", "-o", taken, iso], taken),
        "iso network extract": (["iso", "network", "extract", "-C", extract_dir, net_iso],
                                extract_dir / KEYFILE.name),
        "pxe network unwrap": (["pxe", "network", "unwrap", "-C", extract_dir, wrapped], extract_dir / KEYFILE.name),
        "iso extract pxe": (["iso", "extract", "pxe", "-C", pxe_dir, iso], pxe_dir / "live-initrd.img"),
    }
    for name, (args, path) in cases.items():
        line = _one_error_line(run(*args))
        assert line.startswith(f"ignkit: error: {path}: File exists"), (name, line)
        assert path.read_bytes() == b"keep me", name


def test_overlarge_config_says_too_large(iso: Path, tmp_path: Path) -> None:
    # a config whose compressed form cannot fit: 400 KiB of incompressible data in a data URL
    import base64
    import json
    import os

    data = base64.b64encode(os.urandom(400 * 1024)).decode()
    big = tmp_path / "big.ign"
    big.write_text(json.dumps({"ignition": {"version": "3.3.0"}, "storage": {"files": [
        {"path": "/big", "contents": {"source": f"data:;base64,{data}"}}]}}))
    for args in (["iso", "ignition", "embed", "-i", big, "-o", tmp_path / "a.iso", iso],
                 ["embed", iso, "-o", tmp_path / "b.iso", "--dest-ignition", big]):
        line = _one_error_line(run(*args))
        m = re.match(r"ignkit: error: (?:.*: )?Compressed initramfs is too large: (\d+) > (\d+) \((.*)\)$", line)
        assert m and int(m.group(1)) > int(m.group(2)) == 262144 and m.group(3), line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.ign", "live.iso"]
