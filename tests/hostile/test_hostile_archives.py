"""Hostile archives and oversized payloads (issue 10 item 6 and the closing paragraph): a member whose header
announces gigabytes is refused from the header before anything is decompressed, a real decompression bomb too,
and a config far too big for the Ignition area is refused as soon as compression passes the area's size."""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import zlib
from pathlib import Path

import pytest
from hostile_cases import CONFIG, assert_refused, live_initramfs

from ignkit.initrd import build_cpio


def _with_member_size(member: str, size: int) -> bytes:
    """A gzip newc archive (live stamp + ``member``) whose header for ``member`` announces ``size`` bytes."""
    cpio = bytearray(build_cpio({"etc/coreos-live-initramfs": b"1\n", member: b"{}"}))
    name = member.encode() + b"\0"
    pos = cpio.index(name) - 110
    cpio[pos + 54:pos + 62] = b"%08X" % size
    return gzip.compress(bytes(cpio), mtime=0)


def _bomb(member: str, size: int) -> bytes:
    """A gzip newc archive whose ``member`` really is ``size`` zero bytes (a few hundred KiB compressed)."""
    head = build_cpio({"etc/coreos-live-initramfs": b"1\n"})
    trailer_at = head.index(b"070701", len(head) - 200)
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    out = [comp.compress(head[:trailer_at])]
    name = member.encode() + b"\0"
    hdr = b"070701" + b"".join(b"%08X" % v for v in (9, 0o100644, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name), 0))
    rec = hdr + name + bytes(-(110 + len(name)) % 4)
    out.append(comp.compress(rec))
    zeros = bytes(1 << 20)
    for _ in range(size >> 20):
        out.append(comp.compress(zeros))
    out.append(comp.compress(head[trailer_at:]))
    out.append(comp.flush())
    return b"".join(out)


CASES = {
    "features-announces-2gib": lambda: _with_member_size("etc/coreos/features.json", 0x80000000),
    "config-announces-4gib": lambda: _with_member_size("config.ign", 0xFFFFFFFF),
    "features-bomb-40mib": lambda: _bomb("etc/coreos/features.json", 40 << 20),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_pxe_customize_member_too_large(case: str, tmp_path: Path) -> None:
    (tmp_path / "initrd.img").write_bytes(CASES[case]())
    (tmp_path / "c.ign").write_bytes(CONFIG)
    assert_refused(["pxe", "customize", "initrd.img", "--dest-ignition", "c.ign", "-o", "out.img"], tmp_path,
                   expect="too large")


@pytest.mark.parametrize("case", sorted(CASES))
def test_pxe_ignition_unwrap_member_too_large(case: str, tmp_path: Path) -> None:
    (tmp_path / "initrd.img").write_bytes(CASES[case]())
    assert_refused(["pxe", "ignition", "unwrap", "initrd.img"], tmp_path)


@pytest.fixture(scope="module")
def big_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50 MB Ignition config that cannot compress (random bytes in a data URL)."""
    path = tmp_path_factory.mktemp("big") / "big.ign"
    data = base64.b64encode(os.urandom(37 << 20)).decode()
    path.write_text(json.dumps({"ignition": {"version": "3.4.0"}, "storage": {"files": [
        {"path": "/big", "contents": {"source": "data:;base64," + data}}]}}))
    return path


def test_big_config_refused_early(tmp_path: Path, iso_x86: Path, big_config: Path) -> None:
    shutil.copyfile(iso_x86, tmp_path / "in.iso")
    os.symlink(big_config, tmp_path / "big.ign")
    assert_refused(["iso", "ignition", "embed", "-i", "big.ign", "in.iso", "-o", "out.iso"], tmp_path,
                   expect="Compressed initramfs is too large")


def test_live_initramfs_unaffected_by_cap(tmp_path: Path) -> None:
    """The cap only refuses what is beyond it: an ordinary live initramfs still customizes."""
    import subprocess
    import sys

    live_initramfs(tmp_path / "initrd.img")
    (tmp_path / "c.ign").write_bytes(CONFIG)
    proc = subprocess.run([sys.executable, "-m", "ignkit", "pxe", "customize", "initrd.img", "--dest-ignition",
                           "c.ign", "-o", "out.img"], cwd=tmp_path, capture_output=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.img").stat().st_size > (tmp_path / "initrd.img").stat().st_size
