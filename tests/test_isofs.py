"""ignkit.isofs: primary-tree lookups with pycdlib and with the fallback walker, on real images."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ignkit.errors import ImageError
from ignkit.isofs import IsoFS, IsoNotFound, normalize_name, split_path


@pytest.fixture
def isos(fixture_isos: dict[str, Path]) -> dict[str, Path]:
    assert len(fixture_isos) == 11
    return fixture_isos


@pytest.mark.parametrize("use_pycdlib", [True, False])
def test_synthetic_tree(isos: dict[str, Path], use_pycdlib: bool) -> None:
    with IsoFS(isos["synthetic"], use_pycdlib=use_pycdlib) as fs:
        assert fs.backend == ("pycdlib" if use_pycdlib else "walker")
        assert fs.volume_id == "volume-ID-string"
        assert fs.system_id == "system-ID-string"
        assert fs.volume_blocks == 338
        assert fs.read("REALLY/VERY/DEEPLY/NESTED/FILE.TXT") == b"foo\n"
        assert fs.lookup("CONTENT/DIR").is_dir
        assert not fs.lookup("CONTENT/FILE.TXT").is_dir
        # a directory spanning several sectors
        large = fs.listdir("LARGEDIR")
        assert len(large) == 150
        assert {e.name for e in large} == {f"{i}.DAT" for i in range(1, 151)}
        names = {e.name for e in fs.listdir("NAMES")}
        assert {"ABCDEFGH", "ABC", "ABC.DEF", "ABCDE000", "!\"%&'()*.+,-", ":<=>?"} <= names
        # normalisation of ".", "..", leading and doubled slashes
        assert fs.lookup("/REALLY/./VERY/../VERY//DEEPLY/NESTED/FILE.TXT").length == 4
        with pytest.raises(IsoNotFound):
            fs.lookup("CONTENT/MISSING.TXT")
        with pytest.raises(IsoNotFound):
            fs.lookup("MISSING/FILE.TXT")
        with pytest.raises(IsoNotFound):
            fs.lookup("CONTENT/FILE.TXT/OOPS")
        # names are the on-disk uppercase identifiers, compared case-sensitively
        with pytest.raises(IsoNotFound):
            fs.lookup("content/file.txt")


def test_walker_and_pycdlib_agree_on_every_x86_fixture(isos: dict[str, Path]) -> None:
    for name, path in isos.items():
        if "s390x" in name:
            continue
        with IsoFS(path) as a, IsoFS(path, use_pycdlib=False) as b:
            assert a.backend == "pycdlib"
            assert sorted(a.walk(), key=lambda e: e.path) == sorted(b.walk(), key=lambda e: e.path), name


@pytest.mark.parametrize("name", ["embed-areas-2023-03.s390x", "embed-areas-2023-07.s390x"])
def test_s390x_fixtures_fall_back_to_walker(isos: dict[str, Path], name: str) -> None:
    # pycdlib refuses these ("Failed adding duplicate name to parent"): `..` records are named 0x00
    with IsoFS(isos[name]) as fs:
        assert fs.backend == "walker"
        cdboot = fs.lookup("IMAGES/CDBOOT.IMG")
        assert (cdboot.offset, cdboot.length) == (71680, 394240)
        assert fs.read("COREOS/IGNINFO.JSO").startswith(b"{")
        assert {e.name for e in fs.listdir("IMAGES/PXEBOOT")} >= {"KERNEL.IMG", "INITRD.IMG", "ROOTFS.IMG"}


def test_truncated_image_is_incomplete(isos: dict[str, Path], tmp_path: Path) -> None:
    short = tmp_path / "short.iso"
    with open(isos["synthetic"], "rb") as f:
        short.write_bytes(f.read(338 * 2048 - 1))
    with pytest.raises(ImageError, match="ISO image is incomplete"):
        IsoFS(short)


def test_not_an_iso(tmp_path: Path) -> None:
    junk = tmp_path / "junk.iso"
    junk.write_bytes(b"\x00" * 40000)
    with pytest.raises(ImageError, match="not an ISO 9660 image"):
        IsoFS(junk)
    tiny = tmp_path / "tiny.iso"
    tiny.write_bytes(b"hello")
    with pytest.raises(ImageError, match="not an ISO 9660 image"):
        IsoFS(tiny)


def test_corrupt_directory_record_is_an_image_error(isos: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.iso"
    shutil.copyfile(isos["embed-areas-2023-07.s390x"], bad)
    with IsoFS(bad, use_pycdlib=False) as fs:
        images = fs.lookup("IMAGES")
    data = bytearray(bad.read_bytes())
    # the first real record of IMAGES claims a length shorter than a record header
    pos = images.offset
    pos += data[pos]  # "."
    pos += data[pos]  # ".."
    data[pos] = 20
    bad.write_bytes(bytes(data))
    with IsoFS(bad, use_pycdlib=False) as fs, pytest.raises(ImageError):
        fs.lookup("IMAGES/CDBOOT.IMG")


def test_name_helpers() -> None:
    assert normalize_name(b"VMLINUZ.;1") == "VMLINUZ"
    assert normalize_name(b"KARGS.JSO;1") == "KARGS.JSO"
    assert normalize_name(b"ABC\x00junk") == "ABC"
    assert split_path("/a/./b/../c//d") == ["a", "c", "d"]


def test_a_pipe_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    fifo = tmp_path / "iso.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="not a regular file or block device"):
        IsoFS(fifo)
