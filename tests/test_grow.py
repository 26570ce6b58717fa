"""Growing the Ignition area (``--grow-area``) on coreos-installer's fixture ISOs: the area moves to a larger
extent after the volume, every structure recording the layout follows (directory records of all trees, volume
sizes, MBR, GPT with its CRCs and backup, the legacy coreiso+ header), nothing else moves, the three output
modes agree, and a reset gives back the original image byte for byte."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pycdlib
import pytest
from conftest import run_ignkit

from ignkit.errors import ImageError
from ignkit.isofs import IsoFS
from ignkit.live import open_iso, write_iso

WHOLE_FILE_AREA = ["embed-areas-2020-09", "embed-areas-2021-01", "embed-areas-2021-09", "embed-areas-2021-12",
                   "embed-areas-2022-02", "embed-areas-2022-09", "embed-areas-2023-03.x86_64",
                   "embed-areas-2023-07.x86_64"]
WITH_GPT = ["embed-areas-2022-02", "embed-areas-2022-09", "embed-areas-2023-03.x86_64", "embed-areas-2023-07.x86_64"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose archive is about 1.1 MiB compressed (incompressible bytes in a data URL)."""
    blob = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(1024 * 1024 // 32 + 4096))
    path = tmp_path_factory.mktemp("grow") / "big.ign"
    path.write_text(json.dumps({"ignition": {"version": "3.3.0"}, "storage": {"files": [
        {"path": "/big", "contents": {"source": "data:;base64," + base64.b64encode(blob).decode()}}]}}))
    return path


def grow(src: Path, out: Path, config: Path, *extra: object) -> None:
    r = run_ignkit("iso", "ignition", "embed", "--grow-area", "-i", config, *extra, src, "-o", out)
    assert r.returncode == 0, r.stderr


def gpt_check(path: Path) -> None:
    """The GPT as a reader would check it: both headers' CRCs, entry CRCs, backup at the last LBA."""
    data = path.read_bytes()
    last = len(data) // 512 - 1
    for lba, other in ((1, last), (last, 1)):
        hdr = bytearray(data[lba * 512:lba * 512 + 92])
        assert hdr[:8] == b"EFI PART"
        my, alt = struct.unpack_from("<QQ", hdr, 24)
        assert (my, alt) == (lba, other)
        crc = struct.unpack_from("<I", hdr, 16)[0]
        struct.pack_into("<I", hdr, 16, 0)
        assert zlib.crc32(bytes(hdr)) == crc
        ent_lba, count, esize, ecrc = struct.unpack_from("<QIII", hdr, 72)
        ents = data[ent_lba * 512:ent_lba * 512 + count * esize]
        assert zlib.crc32(ents) == ecrc
        assert struct.unpack_from("<Q", hdr, 48)[0] == last - 33  # last usable LBA
    mbr = data[446:510]
    first, count = struct.unpack_from("<II", mbr, 8)
    assert (first, count) == (0, len(data) // 512)


@pytest.mark.parametrize("name", WHOLE_FILE_AREA)
def test_grow_embed_show_reset(fixture_isos: dict[str, Path], tmp_path: Path, big: Path, name: str) -> None:
    src = fixture_isos[name]
    a, b, c = tmp_path / "a.iso", tmp_path / "b.iso", tmp_path / "c.iso"
    grow(src, a, big)
    r = run_ignkit("iso", "ignition", "embed", "--grow-area", "-i", big, src, "-o", "-")
    assert r.returncode == 0, r.stderr
    b.write_bytes(r.stdout)
    shutil.copyfile(src, c)
    r = run_ignkit("iso", "ignition", "embed", "--grow-area", "-i", big, "--in-place", c)
    assert r.returncode == 0, r.stderr
    assert sha(a) == sha(b) == sha(c)
    assert a.stat().st_size > src.stat().st_size
    r = run_ignkit("iso", "ignition", "show", a)
    assert r.returncode == 0 and r.stdout == big.read_bytes()
    live = open_iso(a)
    assert live.grown is not None and live.ignition_area.length >= 1024 * 1024
    assert live.ignition_area.offset >= live.grown.original_offset
    # Nothing else moved: every other file has the same extent and the same bytes.
    orig, new = src.read_bytes(), a.read_bytes()
    with IsoFS(src) as f1, IsoFS(a) as f2:
        old_files = {e.path: (e.offset, e.length) for e in f1.walk() if not e.is_dir}
        new_files = {e.path: (e.offset, e.length) for e in f2.walk() if not e.is_dir}
        assert f2.volume_blocks * 2048 <= a.stat().st_size
    area_path = "IMAGES/IGNITION.IMG"
    assert new_files.pop(area_path) == (live.ignition_area.offset, live.ignition_area.length)
    old_area = old_files.pop(area_path)
    assert new_files == old_files
    for path, (off, length) in old_files.items():
        if not path.startswith("COREOS/IGNINFO"):
            assert new[off:off + length] == orig[off:off + length], path
    assert new[old_area[0]:old_area[0] + old_area[1]] == bytes(old_area[1])  # old extent cleared
    # reset / remove, in every mode, give back the original bytes (and size)
    r = run_ignkit("iso", "reset", a, "-o", tmp_path / "r.iso")
    assert r.returncode == 0 and sha(tmp_path / "r.iso") == sha(src), r.stderr
    r = run_ignkit("iso", "ignition", "remove", a, "-o", "-")
    assert r.returncode == 0 and hashlib.sha256(r.stdout).hexdigest() == sha(src)
    r = run_ignkit("iso", "reset", "--in-place", c)
    assert r.returncode == 0 and sha(c) == sha(src) and c.stat().st_size == src.stat().st_size


def test_all_directory_records_and_volume_sizes(fixture_isos: dict[str, Path], tmp_path: Path, big: Path) -> None:
    out = tmp_path / "g.iso"
    grow(fixture_isos["embed-areas-2023-07.x86_64"], out, big)
    area = open_iso(out).ignition_area
    iso = pycdlib.PyCdlib()
    iso.open(str(out))
    try:
        for kw in ({"iso_path": "/IMAGES/IGNITION.IMG;1"}, {"rr_path": "/images/ignition.img"},
                   {"joliet_path": "/images/ignition.img"}):
            rec = iso.get_record(**kw)
            assert (rec.extent_location() * 2048, rec.get_data_length()) == (area.offset, area.length), kw
        assert iso.pvd.space_size == iso.joliet_vd.space_size
        assert iso.pvd.space_size * 2048 >= area.offset + area.length
        got = bytearray()
        iso.get_file_from_iso_fp(_Sink(got), rr_path="/images/ignition.img")
        assert bytes(got) == open_iso(out).read_ignition_area()
    finally:
        iso.close()


class _Sink:
    def __init__(self, buf: bytearray) -> None:
        self.buf = buf

    def write(self, data: bytes) -> int:
        self.buf += data
        return len(data)


@pytest.mark.parametrize("name", WITH_GPT)
def test_partition_tables_follow(fixture_isos: dict[str, Path], tmp_path: Path, big: Path, name: str) -> None:
    src = fixture_isos[name]
    out = tmp_path / "g.iso"
    grow(src, out, big)
    gpt_check(src)
    gpt_check(out)
    assert out.stat().st_size % (1024 * 1024) == 0  # isohybrid images stay whole 1 MiB cylinders
    if shutil.which("sgdisk"):
        def verify(path: Path) -> list[str]:
            text = subprocess.run(["sgdisk", "-v", str(path)], capture_output=True, text=True).stdout
            return [line for line in text.splitlines() if line.strip()]
        assert verify(out) == verify(src)
    if shutil.which("fdisk"):
        r = subprocess.run(["fdisk", "-l", str(out)], capture_output=True, text=True)
        assert r.returncode == 0 and not r.stderr, r.stderr
    if shutil.which("xorriso"):
        r = subprocess.run(["xorriso", "-indev", str(out), "-find", "/images", "-type", "f"], capture_output=True,
                           text=True)
        assert r.returncode == 0 and "'/images/ignition.img'" in r.stdout, r.stderr
        assert not any(w in r.stderr for w in ("FAILURE", "SORRY", "WARNING", "MISHAP")), r.stderr
    if shutil.which("isoinfo"):
        r = subprocess.run(["isoinfo", "-d", "-i", str(out)], capture_output=True, text=True)
        assert r.returncode == 0 and not r.stderr, r.stderr


def test_legacy_coreiso_header_follows(fixture_isos: dict[str, Path], tmp_path: Path, big: Path) -> None:
    src = fixture_isos["embed-areas-2021-09"]
    assert src.read_bytes()[32744:32752] == b"coreiso+"
    out = tmp_path / "g.iso"
    grow(src, out, big)
    area = open_iso(out).ignition_area
    assert struct.unpack_from("<QQ", out.read_bytes(), 32752) == (area.offset, area.length)


def test_without_grow_area_the_error_says_how(fixture_isos: dict[str, Path], tmp_path: Path, big: Path) -> None:
    src = fixture_isos["embed-areas-2023-07.x86_64"]
    r = run_ignkit("iso", "ignition", "embed", "-i", big, src, "-o", tmp_path / "x.iso")
    assert r.returncode == 2 and b"the embed area holds 262144" in r.stderr and b"--grow-area" in r.stderr
    assert not (tmp_path / "x.iso").exists()


def test_embed_command_grows_too(fixture_isos: dict[str, Path], tmp_path: Path, big: Path) -> None:
    src = fixture_isos["embed-areas-2023-07.x86_64"]
    out = tmp_path / "e.iso"
    key = tmp_path / "eth0.nmconnection"
    key.write_text("[connection]\nid=eth0\ntype=ethernet\n")
    r = run_ignkit("embed", src, "-o", out, "--live-ignition", big, "--network-keyfile", key, "--grow-area",
                   "--no-validate")
    assert r.returncode == 0, r.stderr
    live = open_iso(out)
    assert live.grown is not None and live.network_keyfiles() == {"eth0.nmconnection": key.read_bytes()}
    r = run_ignkit("iso", "inspect", out)
    assert r.returncode == 0 and b"grown:" in r.stdout and b"iso reset gives it back" in r.stdout
    info = json.loads(run_ignkit("iso", "inspect", "--json", out).stdout)
    assert info["ignition"]["grown"]["original_size"] == src.stat().st_size


def test_grown_then_smaller_and_larger(fixture_isos: dict[str, Path], tmp_path: Path, big: Path) -> None:
    src = fixture_isos["embed-areas-2022-09"]
    grown = tmp_path / "g.iso"
    grow(src, grown, big)
    small = tmp_path / "small.ign"
    small.write_text('{"ignition": {"version": "3.3.0"}}')
    # a config that fits the original area: the original layout comes back, as if embedded there
    r = run_ignkit("iso", "ignition", "embed", "-f", "-i", small, grown, "-o", tmp_path / "s.iso")
    assert r.returncode == 0, r.stderr
    r = run_ignkit("iso", "ignition", "embed", "-i", small, src, "-o", tmp_path / "direct.iso")
    assert sha(tmp_path / "s.iso") == sha(tmp_path / "direct.iso")
    # one that still needs the grown area stays there (in place, the size does not change)
    mid = tmp_path / "mid.ign"
    blob = b"".join(hashlib.sha256(b"m%d" % i).digest() for i in range(400 * 1024 // 32))
    mid.write_text(json.dumps({"ignition": {"version": "3.3.0"}, "storage": {"files": [
        {"path": "/m", "contents": {"source": "data:;base64," + base64.b64encode(blob).decode()}}]}}))
    before = grown.stat().st_size
    r = run_ignkit("iso", "ignition", "embed", "-f", "-i", mid, "--in-place", grown)
    assert r.returncode == 0, r.stderr
    assert grown.stat().st_size == before and open_iso(grown).ignition_config() == mid.read_bytes()
    # more than the grown area holds: refused with the way out
    live = open_iso(grown)
    live.allow_grow = True
    with pytest.raises(ImageError, match="already grown"):
        live.set_ignition_payload(b"x" * (live.ignition_area.length + 1))
    r = run_ignkit("iso", "reset", "--in-place", grown)
    assert r.returncode == 0 and sha(grown) == sha(src)


def test_area_inside_a_larger_file_is_refused(fixture_isos: dict[str, Path], tmp_path: Path, big: Path) -> None:
    src = fixture_isos["embed-areas-2023-07.s390x"]
    r = run_ignkit("iso", "ignition", "embed", "--grow-area", "-i", big, src, "-o", tmp_path / "x.iso")
    assert r.returncode == 2 and b"part of images/cdboot.img" in r.stderr and r.stderr.count(b"\n") == 1
    assert not (tmp_path / "x.iso").exists()


def test_library_grow_and_write(fixture_isos: dict[str, Path], tmp_path: Path, big: Path) -> None:
    live = open_iso(fixture_isos["embed-areas-2023-03.x86_64"])
    live.allow_grow = True
    live.embed_ignition(big.read_bytes())
    assert live.new_size > live.size
    write_iso(live, output=str(tmp_path / "lib.iso"))
    assert open_iso(tmp_path / "lib.iso").ignition_config() == big.read_bytes()
    assert os.path.getsize(tmp_path / "lib.iso") == live.new_size


def test_igninfo_length_follows(tmp_path: Path, big: Path) -> None:
    from conftest import TESTDATA, load_script

    mkiso = load_script(TESTDATA / "mkiso.py", "ignkit_testdata_mkiso_grow")
    # an igninfo.json stating offset and length, with room to spare (as a producer might write it)
    info = b'{"file": "images/ignition.img", "offset": 0, "length": 262144}'.ljust(96) + b"\n"
    src = tmp_path / "src.iso"
    mkiso.build_iso(src, "aarch64", overrides={"/coreos/igninfo.json": info})
    assert open_iso(src).ignition_area.length == 262144
    out = tmp_path / "g.iso"
    grow(src, out, big)
    live = open_iso(out)
    with IsoFS(out) as fs:
        text = fs.read("COREOS/IGNINFO.JSO")
    assert len(text) == len(info) and json.loads(text)["length"] == live.ignition_area.length > 262144
    assert live.ignition_config() == big.read_bytes()
    r = run_ignkit("iso", "reset", out, "-o", tmp_path / "r.iso")
    assert r.returncode == 0 and sha(tmp_path / "r.iso") == sha(src), r.stderr
    # no room for the longer number: refused, nothing written
    tight = b'{"file":"images/ignition.img","length":262144}'
    src2 = tmp_path / "tight.iso"
    mkiso.build_iso(src2, "aarch64", overrides={"/coreos/igninfo.json": tight})
    r = run_ignkit("iso", "ignition", "embed", "--grow-area", "-i", big, src2, "-o", tmp_path / "t.iso")
    assert r.returncode == 2 and b"igninfo.json has no room" in r.stderr and not (tmp_path / "t.iso").exists()


def test_hosts_fan_out_grows_each_image(fixture_isos: dict[str, Path], tmp_path: Path, big: Path) -> None:
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text('hosts:\n  - {hostname: w0, mac: "52:54:00:00:00:10", install_dev: /dev/vda}\n'
                     '  - {hostname: w1, mac: "52:54:00:00:00:11", install_dev: /dev/vdb}\n')
    src = fixture_isos["embed-areas-2023-07.x86_64"]
    r = run_ignkit("embed", src, "--hosts", hosts, "--output-dir", tmp_path / "out", "--live-ignition", big,
                   "--grow-area", "--no-validate")
    assert r.returncode == 0, r.stderr
    configs = []
    for name in ("w0", "w1"):
        live = open_iso(tmp_path / "out" / f"{name}.iso")
        assert live.grown is not None
        cfg = live.ignition_config()
        assert cfg is not None and b"/etc/coreos/installer.d/" in cfg and len(cfg) > len(big.read_bytes())
        configs.append(cfg)
        gpt_check(tmp_path / "out" / f"{name}.iso")
    assert configs[0] != configs[1]


def test_grown_area_holds_stored_xz(fixture_isos: dict[str, Path], tmp_path: Path, big: Path) -> None:
    """The grown area's archive is coreos-installer's cpio in stored xz chunks (no compression time); xz and
    ignkit read it back; a config that fits the 256 KiB area is still embedded as coreos-installer does it."""
    from ignkit.initrd import build_cpio
    from ignkit.xzstored import xz_stored

    src = fixture_isos["embed-areas-2023-07.x86_64"]
    out = tmp_path / "g.iso"
    grow(src, out, big)
    live = open_iso(out)
    used = live.read_ignition_area().rstrip(b"\0")
    assert used == xz_stored(build_cpio({"config.ign": big.read_bytes()}))
    area = tmp_path / "area.xz"
    area.write_bytes(live.read_ignition_area())  # zero fill after the stream: xz's stream padding
    r = subprocess.run(["xz", "-t", str(area)], capture_output=True)
    assert r.returncode == 0, r.stderr
    r = run_ignkit("iso", "ignition", "show", out)
    assert r.returncode == 0 and r.stdout == big.read_bytes()
    # grows only when needed: a small config with --grow-area gives coreos-installer's bytes in place
    small = tmp_path / "small.ign"
    small.write_text('{"ignition": {"version": "3.3.0"}, "passwd": {"users": [{"name": "core"}]}}')
    r1 = run_ignkit("iso", "ignition", "embed", "--grow-area", "-i", small, src, "-o", tmp_path / "a.iso")
    r2 = run_ignkit("iso", "ignition", "embed", "-i", small, src, "-o", tmp_path / "b.iso")
    assert r1.returncode == r2.returncode == 0 and sha(tmp_path / "a.iso") == sha(tmp_path / "b.iso")
    assert (tmp_path / "a.iso").stat().st_size == src.stat().st_size and open_iso(tmp_path / "a.iso").grown is None
    # remove on the grown image: the original bytes
    r = run_ignkit("iso", "ignition", "remove", out, "-o", tmp_path / "r.iso")
    assert r.returncode == 0 and sha(tmp_path / "r.iso") == sha(src), r.stderr
