"""The stored-chunk xz stream the grown Ignition area holds: every size decodes to the input with Python's
lzma and with xz itself, carries a CRC32 check (what the kernel's decoder supports) and a small dictionary,
and its length is known before it is written."""

from __future__ import annotations

import lzma
import os
import subprocess

import pytest

from ignkit.xzstored import stored_size, xz_stored

SIZES = [0, 1, 3, 4, 65535, 65536, 65537, 3 * 65536 + 17, 1_000_003]


@pytest.mark.parametrize("n", SIZES)
def test_round_trip_and_size(n: int) -> None:
    data = os.urandom(n)
    out = xz_stored(data)
    assert len(out) == stored_size(n)
    assert lzma.decompress(out, format=lzma.FORMAT_XZ) == data
    assert len(out) <= n + 3 * (n // 65536 + 1) + 64  # stored: the input plus a few bytes per 64 KiB


def test_xz_utils_agree(tmp_path) -> None:
    data = os.urandom(300_000)
    path = tmp_path / "a.xz"
    path.write_bytes(xz_stored(data))
    r = subprocess.run(["xz", "-t", str(path)], capture_output=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["xz", "--robot", "-lvv", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    block = next(row for row in rows if row[0] == "block")
    assert "CRC32" in block and block[-1] == "--lzma2=dict=64KiB"
    r = subprocess.run(["xz", "-dc", str(path)], capture_output=True)
    assert r.returncode == 0 and r.stdout == data


def test_corruption_is_detected() -> None:
    data = bytes(range(256)) * 1000
    out = bytearray(xz_stored(data))
    out[40000] ^= 1  # a data byte: the CRC32 of the block no longer matches
    with pytest.raises(lzma.LZMAError):
        lzma.decompress(bytes(out), format=lzma.FORMAT_XZ)
