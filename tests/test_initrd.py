"""ignkit.initrd (the newc writer's exact layout, the reader on coreos-installer's fixtures) and
ignkit.live.initramfs (coreos-installer's xz settings, live-initramfs detection, appended layers)."""

from __future__ import annotations

import gzip
import io
import lzma
import os
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import pytest
import zstandard
from conftest import CI_FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ignkit.errors import ImageError, InputError
from ignkit.initrd import build_cpio, compress_xz, cpio_entry_names, iter_initrd, read_initrd, xz_dict_size
from ignkit.live.initramfs import (
    XZ_PRESET,
    append_layer,
    build_initrd,
    check_live_initramfs,
    is_live_initramfs,
    scan_live_initramfs,
)

INITRD = CI_FIXTURES / "initrd"

needs_tools = pytest.mark.skipif(not (shutil.which("xz") and shutil.which("cpio")), reason="xz and cpio needed")


def outer_xz(name: str) -> bytes:
    return lzma.decompress((INITRD / name).read_bytes())


def parse_newc(data: bytes) -> list[dict[str, object]]:
    """An independent, strict newc parser for layout checks (whole headers, offsets, padding)."""
    entries = []
    off = 0
    names = ["ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor",
             "rdevmajor", "rdevminor", "namesize", "check"]
    while True:
        assert off % 4 == 0
        assert data[off:off + 6] == b"070701"
        fields = {n: int(data[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i, n in enumerate(names)}
        raw_header = data[off:off + 110]
        assert raw_header == raw_header.lower()  # lowercase hex, like the cpio crate
        off += 110
        name = data[off:off + fields["namesize"]]
        assert name.endswith(b"\0") and b"\0" not in name[:-1]
        off += fields["namesize"]
        pad = (4 - off % 4) % 4
        assert data[off:off + pad] == b"\0" * pad
        off += pad
        body = data[off:off + fields["filesize"]]
        off += fields["filesize"]
        pad = (4 - off % 4) % 4
        assert data[off:off + pad] == b"\0" * pad
        off += pad
        entry = dict(fields, name=name[:-1].decode(), data=body)
        entries.append(entry)
        if entry["name"] == "TRAILER!!!":
            assert off == len(data), "nothing may follow the trailer"
            return entries


# ---------------------------------------------------------------------------- fixtures


COMPRESSED_NAMES = ["uncompressed-1", "gzip", "xz", "zstd", "uncompressed-2"]


def test_compressed_fixture_reads_all_five_layers() -> None:
    files = read_initrd(outer_xz("compressed.img.xz"))
    expected = {}
    for n in COMPRESSED_NAMES:
        expected[f"{n}/hello"] = b"HELLO\n"
        expected[f"{n}/world"] = b"WORLD\n"
    assert files == expected


@pytest.mark.parametrize(
    "pattern, count",
    [("gzip/hello", 1), ("gzip/*", 2), ("*/hello", 5), ("*", 10), ("*o", 5), ("*d", 5), ("x?/*", 2), ("nothing", 0)],
)
def test_glob_filter_counts(pattern: str, count: int) -> None:
    files = read_initrd(outer_xz("compressed.img.xz"), pattern)
    assert len(files) == count
    assert all(v in (b"HELLO\n", b"WORLD\n") for v in files.values())


def test_glob_star_matches_slash_and_several_patterns() -> None:
    data = outer_xz("compressed.img.xz")
    assert set(read_initrd(data, "z*o")) == {"zstd/hello"}
    assert set(read_initrd(data, ["gzip/hello", "xz/*"])) == {"gzip/hello", "xz/hello", "xz/world"}


def test_redundant_fixture_last_wins() -> None:
    data = outer_xz("redundant.img.xz")
    assert read_initrd(data) == {"data/file": b"third\n"}
    assert [v for _, v in iter_initrd(data)] == [b"first\n", b"second\n", b"third\n"]


def test_padded_names_fixture() -> None:
    assert read_initrd(outer_xz("padded-names.img.xz")) == {"dir/hello": b"z" * 5000, "dir/world": b"q" * 4500}


@pytest.mark.parametrize(
    "name, member", [("traversal-absolute.img", "/etc/adjtime"), ("traversal-relative.img", "../f")]
)
def test_traversal_fixtures_refused(name: str, member: str) -> None:
    data = (INITRD / name).read_bytes()
    with pytest.raises(ImageError, match=f"^path {member} contains path traversal$"):
        read_initrd(data)
    # A filter that does not keep the member reads fine.
    assert read_initrd(data, "config.ign") == {}


def test_file_object_input_is_streamed() -> None:
    with open(INITRD / "compressed.img.xz", "rb") as raw, lzma.open(raw) as f:
        assert len(read_initrd(f)) == 10  # a non-seekable decompressing stream


# ---------------------------------------------------------------------------- writer layout


SPEC_MEMBERS = ["c/f", "c/a/b/d/f", "d", "c/g", "c/a/c/f", "a/b/c/d/e/f"]
SPEC_ORDER = [
    ("a", True), ("a/b", True), ("a/b/c", True), ("a/b/c/d", True), ("a/b/c/d/e", True), ("a/b/c/d/e/f", False),
    ("c", True), ("c/a", True), ("c/a/b", True), ("c/a/b/d", True), ("c/a/b/d/f", False),
    ("c/a/c", True), ("c/a/c/f", False), ("c/f", False), ("c/g", False), ("d", False),
]


def test_directory_synthesis_order_matches_upstream_example() -> None:
    assert cpio_entry_names(SPEC_MEMBERS) == SPEC_ORDER


def test_cpio_layout_fields() -> None:
    files = {m: m.encode() * (i + 1) for i, m in enumerate(SPEC_MEMBERS)}
    entries = parse_newc(build_cpio(files))
    assert [(e["name"], e["mode"] == 0o040755) for e in entries[:-1]] == SPEC_ORDER
    for ino, e in enumerate(entries[:-1]):
        assert e["ino"] == ino
        assert e["mode"] in (0o040755, 0o100600)
        assert (e["uid"], e["gid"], e["nlink"], e["mtime"], e["check"]) == (0, 0, 1, 0, 0)
        assert (e["devmajor"], e["devminor"], e["rdevmajor"], e["rdevminor"]) == (0, 0, 0, 0)
        assert e["namesize"] == len(str(e["name"]).encode()) + 1
        if e["mode"] == 0o100600:
            assert e["data"] == files[str(e["name"])]
        else:
            assert e["data"] == b""
    trailer = entries[-1]
    assert (trailer["ino"], trailer["mode"], trailer["nlink"], trailer["filesize"]) == (0, 0, 1, 0)


def test_single_member_bytes_exact() -> None:
    # config.ign (10+1 name bytes -> 121 -> 3 bytes pad), data "{}" + 2 pad, then the trailer.
    got = build_cpio({"config.ign": b"{}"})
    header = "070701" + "00000000" + "00008180" + "00000000" * 2 + "00000001" + "00000000" + "00000002" \
        + "00000000" * 4 + "0000000b" + "00000000"
    trailer = "070701" + "00000000" * 4 + "00000001" + "00000000" * 6 + "0000000b" + "00000000"
    expected = (header.encode() + b"config.ign\0" + b"\0" * 3 + b"{}\0\0"
                + trailer.encode() + b"TRAILER!!!\0" + b"\0" * 3)
    assert got == expected
    assert len(got) % 4 == 0


def test_empty_map_is_trailer_only() -> None:
    entries = parse_newc(build_cpio({}))
    assert [e["name"] for e in entries] == ["TRAILER!!!"]
    assert read_initrd(build_initrd({})) == {}


def test_utf8_and_bytewise_sort() -> None:
    files = {"é": b"1", "z": b"2", "a-b": b"3", "a/b": b"4", "A": b"5"}
    names = [n for n, is_dir in cpio_entry_names(files) if not is_dir]
    assert names == sorted(files, key=lambda s: s.encode())
    assert read_initrd(build_initrd(files)) == files


@pytest.mark.parametrize("bad", ["/abs", "a/../b", "..", "a//b", "a/", "", "./a", "a/./b"])
def test_writer_refuses_bad_paths(bad: str) -> None:
    with pytest.raises(InputError):
        build_cpio({bad: b"x"})


def test_writer_refuses_file_that_is_also_a_directory() -> None:
    with pytest.raises(InputError, match="both a file and a directory"):
        build_cpio({"a": b"x", "a/b": b"y"})


# ---------------------------------------------------------------------------- xz container


def test_xz_stream_has_crc32_check_and_single_stream() -> None:
    data = build_initrd({"config.ign": b'{"ignition":{"version":"3.4.0"}}\n'})
    assert data[:6] == b"\xfd7zXZ\x00"
    assert data[6:8] == b"\x00\x01"  # stream flags: CRC32
    assert data[-2:] == b"YZ"  # footer magic: no padding after the stream
    assert data[-4:-2] == b"\x00\x01"
    dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    assert dec.decompress(data) == build_cpio({"config.ign": b'{"ignition":{"version":"3.4.0"}}\n'})
    assert dec.eof and dec.unused_data == b"" and dec.check == lzma.CHECK_CRC32


@pytest.mark.parametrize(
    "size, dict_size",
    [(0, 4096), (1, 4096), (4096, 4096), (4097, 6144), (6144, 6144), (6145, 8192),
     (1 << 20, 1 << 20), ((1 << 20) + 1, 3 << 19), (200 << 20, 64 << 20)],
)
def test_xz_dict_size(size: int, dict_size: int) -> None:
    assert xz_dict_size(size) == dict_size


def _declared_dict_size(xz: bytes) -> int:
    # block header: size byte, flags, [sizes], filter flags: id (varint), props size, props byte
    hdr = xz[12:]
    flags = hdr[1]
    assert flags & 0x03 == 0  # one filter
    pos = 2
    for bit in (0x40, 0x80):
        if flags & bit:
            while hdr[pos] & 0x80:
                pos += 1
            pos += 1
    assert hdr[pos] == 0x21 and hdr[pos + 1] == 1  # LZMA2, one property byte
    bits = hdr[pos + 2]
    return (2 | (bits & 1)) << (bits // 2 + 11)


def test_declared_dictionary_is_small_for_small_inputs() -> None:
    small = build_initrd({"config.ign": b"{}"})
    assert _declared_dict_size(small) == 4096
    cpio = build_cpio({"big": os.urandom(100_000)})
    assert _declared_dict_size(compress_xz(cpio, preset=XZ_PRESET)) == xz_dict_size(len(cpio)) == 128 << 10


def test_compression_is_not_worse_than_plain_preset9() -> None:
    payload = build_cpio({f"f{i}": (b"hello world %d\n" % i) * 50 for i in range(200)})
    ours = compress_xz(payload, preset=XZ_PRESET)
    ref = lzma.compress(payload, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32, preset=9)
    assert len(ours) <= len(ref) + 8


@needs_tools
def test_system_xz_and_cpio_accept_output(tmp_path: Path) -> None:
    files = {
        "config.ign": b'{"ignition":{"version":"3.4.0"}}\n',
        "etc/coreos-firstboot-network/a.nmconnection": b"[c]\n",
        "usr/lib/x": b"\x00\x01binary" * 100,
    }
    img = tmp_path / "w.img"
    img.write_bytes(build_initrd(files))
    subprocess.run(["xz", "-t", str(img)], check=True)
    listing = subprocess.run(["xz", "-lvv", "--robot", str(img)], check=True, capture_output=True, text=True).stdout
    assert "CRC32" in listing
    cpio = subprocess.run(["xz", "-dc", str(img)], check=True, capture_output=True).stdout
    names = subprocess.run(["cpio", "-t", "--quiet"], input=cpio, check=True, capture_output=True).stdout.decode()
    assert names.splitlines() == [n for n, _ in cpio_entry_names(files)]
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(["cpio", "-id", "--quiet"], input=cpio, cwd=out, check=True)
    for name, data in files.items():
        assert (out / name).read_bytes() == data
        assert (out / name).stat().st_mode & 0o777 == 0o600


@needs_tools
def test_reads_gnu_cpio_archives(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "d" / "e").mkdir(parents=True)
    (src / "d" / "e" / "f").write_bytes(b"F" * 1001)
    (src / "g").write_bytes(b"")
    os.symlink("g", src / "link")
    listing = b"d\nd/e\nd/e/f\ng\nlink\n"
    for fmt in ("newc", "crc"):
        archive = subprocess.run(["cpio", "-o", "--quiet", "-H", fmt], input=listing, cwd=src, check=True,
                                 capture_output=True).stdout
        assert archive[:6] == (b"070701" if fmt == "newc" else b"070702")
        assert read_initrd(archive) == {"d/e/f": b"F" * 1001, "g": b""}  # the symlink and dirs are skipped


# ---------------------------------------------------------------------------- reader: layers, errors


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def test_mixed_layers_with_zero_padding_last_wins() -> None:
    a = build_cpio({"x": b"1", "only-a": b"a"})
    b = build_cpio({"x": b"2"})
    c = build_cpio({"x": b"3", "y": b"y"})
    d = build_cpio({"x": b"4"})
    image = (a + b"\0" * 512 + _gzip(b) + b"\0" * 3 + zstandard.ZstdCompressor().compress(c)
             + build_initrd({"z": b"z"}) + b"\0" * 4 + d + b"\0" * 1000)
    assert read_initrd(image) == {"x": b"4", "only-a": b"a", "y": b"y", "z": b"z"}


def test_zstd_multiple_and_skippable_frames() -> None:
    cpio = build_cpio({"a/b": b"B" * 3000, "c": b"C"})
    cctx = zstandard.ZstdCompressor()
    skippable = b"\x5a\x2a\x4d\x18" + (5).to_bytes(4, "little") + b"skip!"
    frames = skippable + cctx.compress(cpio[:1000]) + cctx.compress(cpio[1000:])
    assert read_initrd(frames + build_cpio({"d": b"D"})) == {"a/b": b"B" * 3000, "c": b"C", "d": b"D"}


def test_xz_stream_padding_and_compressed_zero_tail() -> None:
    cpio = build_cpio({"f": b"data"})
    stream = lzma.compress(cpio + b"\0" * 512, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    assert read_initrd(stream + b"\0" * 8 + _gzip(build_cpio({"g": b"G"}))) == {"f": b"data", "g": b"G"}


@pytest.mark.parametrize("wrap", [_gzip, compress_xz, lambda d: zstandard.ZstdCompressor().compress(d)])
def test_trailing_garbage_inside_compressed_archive(wrap) -> None:  # type: ignore[no-untyped-def]
    data = wrap(build_cpio({"f": b"x"}) + b"\0\0junk")
    with pytest.raises(ImageError, match="^found trailing garbage inside compressed archive$"):
        read_initrd(data)


def test_garbage_between_archives() -> None:
    with pytest.raises(ImageError, match="unrecognized data at offset"):
        read_initrd(build_cpio({"f": b"x"}) + b"garbage!")


@pytest.mark.parametrize("cut", [50, 120, 200])
def test_truncated_uncompressed(cut: int) -> None:
    data = build_cpio({"file": b"x" * 100})
    with pytest.raises(ImageError, match="truncated"):
        read_initrd(data[:cut])


def test_truncated_and_corrupt_compressed() -> None:
    data = build_initrd({"file": os.urandom(1000)})
    with pytest.raises(ImageError, match="truncated xz"):
        read_initrd(data[:-30])
    corrupt = bytearray(data)
    corrupt[100] ^= 0xFF
    with pytest.raises(ImageError, match="corrupt xz"):
        read_initrd(bytes(corrupt))
    with pytest.raises(ImageError, match="truncated gzip"):
        read_initrd(_gzip(build_cpio({"f": b"x"}))[:-10])


def test_bad_header_field_and_non_utf8_name() -> None:
    data = bytearray(build_cpio({"f": b"x"}))
    data[20] = ord("g")
    with pytest.raises(ImageError, match="bad header field"):
        read_initrd(bytes(data))
    data = bytearray(build_cpio({"f": b"x"}))
    data[110] = 0xFF
    with pytest.raises(ImageError, match="not UTF-8"):
        read_initrd(bytes(data))


def test_empty_and_all_zero_inputs() -> None:
    assert read_initrd(b"") == {}
    assert read_initrd(b"\0" * 262144) == {}


def test_tee_copies_every_input_byte() -> None:
    image = build_cpio({"a": b"1"}) + _gzip(build_cpio({"b": b"2"})) + b"\0" * 3000
    sink = io.BytesIO()
    assert read_initrd(io.BytesIO(image), "b", tee=sink) == {"b": b"2"}
    assert sink.getvalue() == image


def test_streaming_read_keeps_memory_bounded() -> None:
    # 48 MiB of decompressed data (compresses to a few KiB); a filtered read must not hold it.
    big = build_cpio({"big/zeros": b"\0" * (48 << 20), "small": b"s"})
    image = lzma.compress(big, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32, preset=1) + _gzip(big)
    del big
    tracemalloc.start()
    try:
        files = read_initrd(io.BytesIO(image), "small")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert files == {"small": b"s"}
    assert peak < 8 << 20, f"peak {peak} bytes"


# ---------------------------------------------------------------------------- round trips


path_component = st.text(alphabet="abcAB-_.é0", min_size=1, max_size=4).filter(lambda s: s not in (".", ".."))
paths = st.lists(path_component, min_size=1, max_size=4).map("/".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(paths, st.binary(max_size=64), max_size=12))
def test_round_trip_random_maps(files: dict[str, bytes]) -> None:
    # a path that is a prefix directory of another cannot be a file too
    names = set(files)
    if any(other.startswith(n + "/") for n in names for other in names):
        with pytest.raises(InputError):
            build_cpio(files)
        return
    cpio = build_cpio(files)
    entries = parse_newc(cpio)
    assert sum(1 for e in entries if e["mode"] == 0o100600) == len(files)
    assert read_initrd(cpio) == files
    assert read_initrd(build_initrd(files)) == files


# ---------------------------------------------------------------------------- live initramfs


def make_live_initramfs(features: dict[str, bool] | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """A small stand-in for a CoreOS live initramfs: uncompressed early cpio + gzip main cpio, 4-aligned."""
    import json

    main = {"etc/coreos-live-initramfs": b"fedora-coreos-40.20240101.3.0\n", "usr/bin/init": b"#!/bin/sh\n"}
    if features is not None:
        main["etc/coreos/features.json"] = json.dumps(features).encode()
    main.update(extra or {})
    data = build_cpio({"kernel/x86/microcode/GenuineIntel.bin": b"\x01" * 33}) + _gzip(build_cpio(main))
    return data + b"\0" * ((4 - len(data) % 4) % 4)


def test_scan_live_initramfs(tmp_path: Path) -> None:
    img = tmp_path / "initrd.img"
    img.write_bytes(make_live_initramfs({"installer-config": True, "live-initrd-network": True}))
    info = scan_live_initramfs(img)
    assert info.is_live and not info.is_customized
    assert info.stamp == b"fedora-coreos-40.20240101.3.0\n"
    assert info.features.enabled("installer-config") and info.features.enabled("live-initrd-network")
    assert not info.features.enabled("installer-config-directives")
    check_live_initramfs(info)
    assert is_live_initramfs(img) and is_live_initramfs(img.read_bytes())
    assert not is_live_initramfs(build_initrd({"config.ign": b"{}"}))
    assert not is_live_initramfs(b"not an initrd at all")


def test_check_live_initramfs_messages() -> None:
    with pytest.raises(ImageError, match="^not a CoreOS live initramfs image$"):
        check_live_initramfs(scan_live_initramfs(build_initrd({"config.ign": b"{}"})))
    with pytest.raises(ImageError, match="^input is already customized$"):
        check_live_initramfs(scan_live_initramfs(make_live_initramfs() + build_initrd({"config.ign": b"{}"})))
    keyfile = {"etc/coreos-firstboot-network/a.nmconnection": b"[connection]\n"}
    with pytest.raises(ImageError, match="^input is already customized$"):
        check_live_initramfs(scan_live_initramfs(make_live_initramfs() + build_initrd(keyfile)))
    with pytest.raises(ImageError, match="features.json"):
        scan_live_initramfs(make_live_initramfs(extra={"etc/coreos/features.json": b"[1"}))


def test_append_layer_to_path_and_stream(tmp_path: Path) -> None:
    original = make_live_initramfs({"live-initrd-network": True})
    src = tmp_path / "initrd.img"
    src.write_bytes(original)
    layer = {"config.ign": b'{"ignition":{"version":"3.3.0"}}\n'}
    out = tmp_path / "custom.img"
    info = append_layer(src, layer, out)
    data = out.read_bytes()
    assert info.size == len(original) and info.is_live
    assert data[: len(original)] == original
    assert data[len(original)] == 0xFD and data[len(original) + 1: len(original) + 5] == b"7zXZ"
    assert data[len(original):] == build_initrd(layer)
    files = read_initrd(data)
    assert files["config.ign"] == layer["config.ign"] and "usr/bin/init" in files
    assert src.read_bytes() == original  # input untouched

    stream = io.BytesIO()
    append_layer(src, layer, stream)
    assert stream.getvalue() == data

    with pytest.raises(Exception, match="already exists"):
        append_layer(src, layer, out)
    append_layer(src, {}, out, overwrite=True)
    assert out.read_bytes()[len(original):] == build_initrd({})

    # the customized result is refused as input, and no output appears
    refused = tmp_path / "refused.img"
    with pytest.raises(ImageError, match="already customized"):
        append_layer(_write(tmp_path / "c2.img", data), layer, refused)
    assert not refused.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_append_layer_refuses_non_live_and_sees_features(tmp_path: Path) -> None:
    wrapped = _write(tmp_path / "wrapped.img", build_initrd({"config.ign": b"{}"}))
    stream = io.BytesIO()
    with pytest.raises(ImageError, match="not a CoreOS live initramfs image"):
        append_layer(wrapped, {}, stream)
    assert stream.getvalue() == b""  # nothing written to a stream on error
    append_layer(wrapped, {}, stream, check=False)
    assert stream.getvalue().startswith(wrapped.read_bytes())

    seen = []

    def members(info):  # type: ignore[no-untyped-def]
        seen.append(info.features.to_dict())
        return {"etc/coreos-firstboot-network/a.nmconnection": b"[connection]\n"}

    live = _write(tmp_path / "live.img", make_live_initramfs({"live-initrd-network": True}))
    out = tmp_path / "o.img"
    append_layer(live, members, out)
    assert seen == [{"live-initrd-network": True}]
    assert read_initrd(out.read_bytes(), "etc/coreos-firstboot-network/*") == {
        "etc/coreos-firstboot-network/a.nmconnection": b"[connection]\n"}
