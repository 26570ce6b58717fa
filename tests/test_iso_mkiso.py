"""ISOs built by testdata/mkiso.py for every architecture: layout, determinism, and the engine on them."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, TESTDATA, load_script

from ignkit.arch import ARCHES
from ignkit.errors import CheckFailed
from ignkit.isofs import IsoFS
from ignkit.live import open_iso, write_iso

MARKER = b"# COREOS_KARG_EMBED_AREA\n"


mkiso = load_script(TESTDATA / "mkiso.py", "ignkit_testdata_mkiso")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("mkiso")
    result = {}
    for arch in ARCHES:
        path = out / f"mini-{arch}.iso"
        mkiso.build_iso(path, arch)
        path.chmod(0o444)
        result[arch] = path
    return result


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("arch", ["x86_64", "s390x"])
def test_builds_are_deterministic(built: dict[str, Path], tmp_path: Path, arch: str) -> None:
    again = tmp_path / "again.iso"
    mkiso.build_iso(again, arch)
    assert sha(again) == sha(built[arch])


@pytest.mark.parametrize("arch", ARCHES)
def test_layout(built: dict[str, Path], arch: str) -> None:
    iso = open_iso(built[arch])
    assert iso.arch == arch
    assert iso.volume_id == mkiso.volume_id(arch)
    assert iso.parser == ("walker" if arch == "s390x" else "pycdlib")
    assert iso.is_pristine()
    assert iso.default_kargs == mkiso.default_kargs(arch)
    assert iso.has_feature("live-initrd-network") and iso.has_feature("installer-config-directives.console")
    assert iso.ignition_area.length == 256 * 1024
    expected_files = {
        "x86_64": ["isolinux/isolinux.cfg", "EFI/fedora/grub.cfg"],
        "aarch64": ["EFI/fedora/grub.cfg"],
        "ppc64le": ["boot/grub/grub.cfg"],
        "s390x": ["images/cdboot.img"],
    }[arch]
    assert sorted(a.file for a in iso.kargs_areas) == sorted(expected_files)
    data = built[arch].read_bytes()
    for a in iso.kargs_areas:
        region = data[a.offset:a.offset + a.size]
        assert region.startswith(mkiso.default_kargs(arch).encode() + a.end.encode())
        if arch == "s390x":
            assert a.file_offset == 0x10480 and a.pad == "\0"
        else:
            # the area is followed by the marker line, as cosa lays it out
            assert data[a.offset + a.size:a.offset + a.size + len(MARKER)] == MARKER
            assert region.endswith(b"#" * 100)
    if arch == "s390x":
        assert (iso.ignition_area.file, iso.ignition_area.file_offset) == ("images/cdboot.img", 132096)
    else:
        assert iso.ignition_area.file == "images/ignition.img"


def test_eltorito_catalogs(built: dict[str, Path]) -> None:
    with IsoFS(built["x86_64"]) as fs:
        assert fs.eltorito_platforms == [0, 0xEF]
    with IsoFS(built["aarch64"]) as fs:
        assert fs.eltorito_platforms == [0xEF]
    with IsoFS(built["s390x"]) as fs:
        assert fs.eltorito_platforms == [0]
    with IsoFS(built["ppc64le"]) as fs:
        assert fs.eltorito_platforms == []


@pytest.mark.skipif(not shutil.which("xorriso"), reason="xorriso not installed")
@pytest.mark.parametrize("arch", ARCHES)
def test_xorriso_reads_the_same_offsets(built: dict[str, Path], arch: str) -> None:
    carrier = "/images/cdboot.img" if arch == "s390x" else "/images/ignition.img"
    r = subprocess.run(["xorriso", "-indev", str(built[arch]), "-find", carrier, "-exec", "report_lba", "--"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    line = next(ln for ln in r.stdout.splitlines() if carrier in ln)
    lba = int(line.split(",")[1])
    iso = open_iso(built[arch])
    assert lba * 2048 + iso.ignition_area.file_offset == iso.ignition_area.offset


@pytest.mark.parametrize("arch", ARCHES)
def test_customize_and_reset(built: dict[str, Path], tmp_path: Path, arch: str) -> None:
    iso = open_iso(built[arch], arch=arch)
    iso.embed_ignition(b'{"ignition":{"version":"3.4.0"}}')
    iso.embed_network({"eth0.nmconnection": b"[connection]\nid=eth0\n"})
    kargs = iso.modify_kargs(append=["console=ttyS0,115200n8"], delete=["ignition.firstboot"])
    out = tmp_path / "c.iso"
    write_iso(iso, output=str(out))
    got = open_iso(out)
    assert got.current_kargs() == kargs == f"coreos.liveiso={mkiso.volume_id(arch)} ignition.platform.id=metal " \
                                          "console=ttyS0,115200n8"
    assert got.ignition_config() == b'{"ignition":{"version":"3.4.0"}}'
    assert got.network_keyfiles() == {"eth0.nmconnection": b"[connection]\nid=eth0\n"}
    with IsoFS(out) as fs:
        for a in got.kargs_areas:
            content = fs.read(a.file.upper())
            if arch == "s390x":
                assert content[a.file_offset:a.file_offset + len(kargs) + 1] == kargs.encode() + b"\0"
            else:
                # the kernel sees the new kargs line; the '#' padding stays on its own comment line
                line = content[a.file_offset:].split(b"\n", 1)
                assert line[0] == kargs.encode()
                assert line[1].startswith(b"#") and line[1].split(b"\n", 1)[0].endswith(b"# COREOS_KARG_EMBED_AREA")
    got.reset()
    back = tmp_path / "back.iso"
    write_iso(got, output=str(back))
    assert sha(back) == sha(built[arch])


def test_wrong_architecture_is_refused(built: dict[str, Path], tmp_path: Path) -> None:
    # the easy mistake: an aarch64 node's config into the x86_64 ISO
    with pytest.raises(CheckFailed, match="is an ISO for x86_64, not aarch64"):
        open_iso(built["x86_64"], arch="aarch64")
    for arch in ARCHES:
        assert open_iso(built[arch], arch=arch).arch == arch


def test_large_rootfs_build(tmp_path: Path) -> None:
    path = tmp_path / "big.iso"
    mkiso.build_iso(path, "x86_64", rootfs_size=8 * 1024 * 1024)
    iso = open_iso(path)
    assert iso.size > 8 * 1024 * 1024
    assert {e.name: e.length for e in iso.pxe_files}["ROOTFS.IMG"] == 8 * 1024 * 1024


def _console_session(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of every ``$ `` line in the console blocks of a README."""
    steps: list[tuple[str, list[str]]] = []
    in_block = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_block = line == "```console"
        elif in_block and line.startswith("$ "):
            steps.append((line[2:], []))
        elif in_block and steps:
            steps[-1][1].append(line)
    return steps


def _scratch_tree(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A scratch copy of testdata/{mkiso.py,demo/} to run README commands in, and an environment whose
    ``ignkit`` and ``python3`` are this interpreter with this checkout."""
    tree = tmp_path / "tree"
    shutil.copytree(TESTDATA / "demo", tree / "testdata" / "demo", ignore=shutil.ignore_patterns("*.iso"))
    shutil.copy(TESTDATA / "mkiso.py", tree / "testdata")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, args in (("ignkit", "-m ignkit "), ("python3", "")):
        (bindir / name).write_text(f'#!/bin/sh\nexec {sys.executable} {args}"$@"\n')
        (bindir / name).chmod(0o755)
    return tree, dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", PYTHONPATH=str(REPO))


def test_demo_readme_session(tmp_path: Path) -> None:
    # testdata/demo/README.md, replayed command by command in a scratch tree; outputs compared
    # (a "..." line stands for the rest of the output)
    steps = _console_session((TESTDATA / "demo" / "README.md").read_text())
    assert len(steps) >= 6 and steps[0][0] == "python3 testdata/mkiso.py --demo"
    tree, env = _scratch_tree(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    for command, expected in steps:
        r = subprocess.run(["bash", "-c", command.replace("/tmp/", f"{out}/")],
                           cwd=tree, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, (command, r.stderr)
        lines = r.stdout.replace(f"{out}/", "/tmp/").splitlines()
        if expected and expected[-1] == "...":
            assert lines[:len(expected) - 1] == expected[:-1], command
        else:
            assert lines == expected, command
    assert open_iso(out / "demo-embedded.iso").ignition_config() == (tree / "testdata/demo/config.ign").read_bytes()


# -- broken variants: each a clear ImageError, never a traceback --

def _variant(tmp_path: Path, arch: str, overrides: dict[str, bytes | None]) -> Path:
    path = tmp_path / f"variant-{arch}.iso"
    mkiso.build_iso(path, arch, overrides=overrides)
    return path


def kargs_json(arch: str, **changes: object) -> bytes:
    info = dict(mkiso.layout(arch)[1])
    info.update(changes)
    return mkiso.pretty_json(info)


@pytest.mark.parametrize("changes, message", [
    ({"size": 4096}, "karg embed area size larger than 2048 (found 4096)"),
    ({"default": "x" * 1200}, "default kargs size 1200 larger than embed areas (1139)"),
    ({"files": []}, "No karg embed areas found; corrupted CoreOS ISO image."),
    ({"files": [{"path": "EFI/fedora/nope.cfg", "offset": 10}]}, "EFI/fedora/nope.cfg, which is not in the ISO"),
    ({"files": [{"path": "EFI/fedora/grub.cfg", "offset": 176, "pad": "é"}]}, "one-byte character"),
    ({"size": "big"}, "size must be a positive integer"),
    ({"files": [{"path": "EFI/fedora/grub.cfg", "offset": 10 ** 7}]}, "runs past the end of that file"),
    ({"files": [{"path": "EFI/fedora/grub.cfg", "offset": 300}]},
     "the area at EFI/fedora/grub.cfg+300 (1139 bytes) runs past the end of that file (1398 bytes)"),
])
def test_bad_kargs_json(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    from ignkit.errors import ImageError

    path = _variant(tmp_path, "aarch64", {"/coreos/kargs.json": kargs_json("aarch64", **changes)})
    with pytest.raises(ImageError) as e:
        open_iso(path)
    assert message in str(e.value)
    assert str(e.value).count(str(path)) == 1


def test_bad_json_files(tmp_path: Path) -> None:
    from ignkit.errors import ImageError

    cases = [
        ({"/coreos/kargs.json": b"{not json"}, "coreos/kargs.json is not valid JSON"),
        ({"/coreos/igninfo.json": b"[]"}, "Unrecognized CoreOS ISO image."),
        ({"/coreos/igninfo.json": mkiso.pretty_json({"file": "images/missing.img"})}, "images/missing.img is not in"),
        ({"/coreos/igninfo.json": mkiso.pretty_json({"file": "images/ignition.img", "offset": -1})}, "bad offset"),
        ({"/coreos/igninfo.json": mkiso.pretty_json({"file": "images/ignition.img", "offset": 1, "length": 262144})},
         "bad length 262144; images/ignition.img has 262143 bytes from offset 1"),
        ({"/coreos/igninfo.json": None, "/images/ignition.img": None}, "Unrecognized CoreOS ISO image."),
        ({"/coreos/features.json": b"nope"}, "parsing OS features"),
    ]
    for i, (overrides, message) in enumerate(cases):
        path = tmp_path / f"v{i}.iso"
        mkiso.build_iso(path, "x86_64", overrides=overrides)
        with pytest.raises(ImageError) as e:
            open_iso(path)
        assert message in str(e.value), (overrides, str(e.value))


def test_without_igninfo_the_whole_ignition_img_is_the_area(tmp_path: Path) -> None:
    path = tmp_path / "old.iso"
    mkiso.build_iso(path, "ppc64le", overrides={"/coreos/igninfo.json": None, "/coreos/features.json": None})
    iso = open_iso(path)
    assert iso.ignition_area.source == "default" and iso.ignition_area.length == 256 * 1024
    assert iso.features.to_dict() == {} and not iso.has_feature("installer-config")
    from ignkit.errors import ImageError

    with pytest.raises(ImageError, match="does not support customizing network settings"):
        iso.embed_network({"a.nmconnection": b"x"})
    iso.embed_ignition(b"{}")
    assert iso.ignition_config() == b"{}"


@pytest.mark.parametrize("arch", ["x86_64", "aarch64", "ppc64le"])
def test_arch_from_a_gzip_compressed_kernel(tmp_path: Path, arch: str) -> None:
    import gzip

    kernel = gzip.compress(mkiso.kernel_stub(arch) + bytes(100000), mtime=0)
    path = _variant(tmp_path, arch, {"/images/pxeboot/vmlinuz": kernel, "/EFI/BOOT/BOOTX64.EFI": None,
                                     "/EFI/BOOT/BOOTAA64.EFI": None, "/ppc/bootinfo.txt": None})
    iso = open_iso(path)
    assert (iso.arch, iso.arch_evidence) == (arch, "kernel header of /images/pxeboot/vmlinuz")


def test_arch_fallbacks_without_a_readable_kernel(tmp_path: Path) -> None:
    # no kernel header: the EFI loader in the tree, then an EFI-only boot catalog, decide
    path = _variant(tmp_path, "aarch64", {"/images/pxeboot/vmlinuz": b"junk"})
    assert open_iso(path).arch_evidence == "/efi/boot/bootaa64.efi"
    path = _variant(tmp_path, "aarch64", {"/images/pxeboot/vmlinuz": b"junk", "/EFI/BOOT/BOOTAA64.EFI": None})
    iso = open_iso(path)
    assert iso.arch == "aarch64" and "El Torito" in iso.arch_evidence
    path = _variant(tmp_path, "ppc64le", {"/images/pxeboot/vmlinuz": b"junk"})
    assert open_iso(path).arch_evidence == "/ppc"
    path = _variant(tmp_path, "ppc64le", {"/images/pxeboot/vmlinuz": b"junk", "/ppc/bootinfo.txt": None})
    iso = open_iso(path)
    assert iso.arch == "unknown"
    with pytest.raises(CheckFailed, match="cannot tell the ISO's architecture"):
        iso.check_arch("ppc64le")


def _multi_extent_iso(path: Path, first: bytes, second: bytes) -> None:
    """An x86_64 image whose rootfs.img is kept in two extents (ISO 9660 multi-extent, as files of 4 GiB
    and more are): built with a second file ROOTFS.IMH right after ROOTFS.IMG, then the first record
    flagged "continues" and the second renamed ROOTFS.IMG."""
    mkiso.build_iso(path, "x86_64", overrides={"/images/pxeboot/rootfs.img": first,
                                               "/images/pxeboot/rootfs.imh": second})
    with IsoFS(path, use_pycdlib=False) as fs:
        pxe = fs.lookup("IMAGES/PXEBOOT")
    data = bytearray(path.read_bytes())
    pos = pxe.offset
    while data[pos]:
        name = bytes(data[pos + 33:pos + 33 + data[pos + 32]])
        if name == b"ROOTFS.IMG;1":
            data[pos + 25] |= 0x80
        elif name == b"ROOTFS.IMH;1":
            data[pos + 33 + 9] = ord("G")
        pos += data[pos]
    path.write_bytes(bytes(data))


def test_files_in_several_extents(tmp_path: Path) -> None:
    first, second = bytes(range(256)) * 16, b"second extent\n" * 77  # all but the last extent: whole sectors
    path = tmp_path / "multi.iso"
    _multi_extent_iso(path, first, second)
    for use_pycdlib in (True, False):
        with IsoFS(path, use_pycdlib=use_pycdlib) as fs:
            assert fs.backend == ("pycdlib" if use_pycdlib else "walker")
            entry = fs.lookup("IMAGES/PXEBOOT/ROOTFS.IMG")
            assert entry.length == len(first) + len(second) and len(entry.ranges) == 2
            assert entry.ranges[0] == (entry.offset, len(first))
            assert [e.name for e in fs.listdir("IMAGES/PXEBOOT")] == ["INITRD.IMG", "ROOTFS.IMG", "VMLINUZ"]
            assert fs.read("IMAGES/PXEBOOT/ROOTFS.IMG") == first + second
            assert fs.read("IMAGES/PXEBOOT/ROOTFS.IMG", limit=len(first) + 5) == first + second[:5]
    from ignkit.cli import main

    out = tmp_path / "pxe"
    assert main(["iso", "extract", "pxe", "-C", str(out), str(path)]) == 0
    assert (out / "multi-rootfs.img").read_bytes() == first + second
    assert (out / "multi-vmlinuz").read_bytes() == mkiso.kernel_stub("x86_64")


def test_readme_first_command(tmp_path: Path) -> None:
    # the top-level README's first command (after it creates .venv and installs into it, which
    # test_readme.py runs as written): a real embed on the demo ISO, then `iso inspect` of the result
    first = next(line.strip() for line in (REPO / "README.md").read_text().splitlines() if line.startswith("    "))
    install = "python3 -m venv .venv && .venv/bin/python -m pip install -q . && "
    assert first.startswith(install) and "testdata/mkiso.py --demo" in first and "ignkit iso inspect" in first
    command = first[len(install):].replace(".venv/bin/", "").replace("/tmp/", f"{tmp_path}/out/")
    tree, env = _scratch_tree(tmp_path)
    (tmp_path / "out").mkdir()
    r = subprocess.run(["bash", "-c", command], cwd=tree, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "architecture:  x86_64" in r.stdout and "state:         customized" in r.stdout
    outputs = list((tmp_path / "out").iterdir())
    assert len(outputs) == 1
    assert not open_iso(outputs[0]).is_pristine()
