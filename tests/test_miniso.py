"""`ignkit iso extract minimal-iso` on coreos-installer's fixture ISOs: the rebuilt image matches the SHA-256
that coreos/miniso.dat records, and the only bytes changed afterwards are the kargs areas and kargs.json,
written the way coreos-installer writes them."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest
from conftest import run_ignkit

from ignkit.errors import CheckFailed, ImageError, UsageError
from ignkit.isofs import IsoFS
from ignkit.live import open_iso
from ignkit.live.miniso import _unpack, extract_minimal_iso, parse_miniso, read_miniso

# fixtures that carry coreos/miniso.dat and kargs areas (2023-03.s390x has miniso.dat but no kargs.json)
WITH_MINISO = ["embed-areas-2021-12", "embed-areas-2022-02", "embed-areas-2022-09", "embed-areas-2023-03.x86_64",
               "embed-areas-2023-07.x86_64", "embed-areas-2023-07.s390x"]
URL = "https://example.com/rootfs.img"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unpacked(src: Path) -> bytes:
    """The minimal ISO exactly as packed (before the kargs edits)."""
    with IsoFS(src) as fs:
        info = read_miniso(fs)
    out = io.BytesIO()
    with open(src, "rb") as f:
        _unpack(info, f, out)
    return out.getvalue()


def changed(a: bytes, b: bytes) -> list[tuple[int, int]]:
    assert len(a) == len(b)
    runs, i = [], 0
    while i < len(a):
        if a[i] != b[i]:
            j = i
            while j < len(a) and a[j] != b[j]:
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


@pytest.mark.parametrize("name", WITH_MINISO)
def test_minimal_iso_matches_recorded_digest_and_drops_liveiso(fixture_isos: dict[str, Path], tmp_path: Path,
                                                               name: str) -> None:
    src = fixture_isos[name]
    out = tmp_path / "min.iso"
    extract_minimal_iso(src, str(out))
    with IsoFS(src) as fs:
        info = read_miniso(fs)
    raw = unpacked(src)
    assert hashlib.sha256(raw).digest() == info.digest  # what coreos-installer checks
    data = out.read_bytes()
    assert len(data) == len(raw) < src.stat().st_size + 1
    full, minimal = open_iso(src), open_iso(out)
    assert full.current_kargs() == full.default_kargs and "coreos.liveiso=" in full.current_kargs()
    want = " ".join(k for k in full.current_kargs().split() if not k.startswith("coreos.liveiso="))
    assert minimal.current_kargs() == want and minimal.default_kargs == want
    assert minimal.is_pristine()
    # Only the kargs areas and coreos/kargs.json differ from the packed image.
    with IsoFS(out) as fs:
        kj = fs.lookup("COREOS/KARGS.JSO")
        assert not fs.exists("COREOS/MINISO.DAT") and not fs.exists("IMAGES/PXEBOOT/ROOTFS.IMG")
    regions = [(a.offset, a.size) for a in minimal.kargs_areas] + [(kj.offset, kj.length)]
    runs = changed(raw, data)
    assert runs and all(any(o <= s and e <= o + n for o, n in regions) for s, e in runs)
    # stdout gives the same bytes
    r = run_ignkit("iso", "extract", "minimal-iso", src)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data


def test_kargs_json_is_written_like_coreos_installer(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "min.iso"
    extract_minimal_iso(fixture_isos["embed-areas-2023-07.s390x"], str(out))
    with IsoFS(out) as fs:
        text = fs.read("COREOS/KARGS.JSO")
    # serde_json's pretty layout, fields in coreos-installer's struct order, space-padded to the old length
    want = (b'{\n  "default": "mitigations=auto,nosmt ignition.firstboot ignition.platform.id=metal",\n'
            b'  "files": [\n    {\n      "path": "images/cdboot.img",\n      "offset": 66688,\n'
            b'      "pad": "\\u0000",\n      "end": "\\u0000"\n    }\n  ],\n  "size": 896\n}')
    assert text.rstrip(b" ") == want and len(text) > len(want)


def test_cli_file_positional_and_rootfs(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    src = fixture_isos["embed-areas-2023-07.x86_64"]
    r = run_ignkit("iso", "extract", "pxe", "-C", tmp_path / "pxe", src)
    assert r.returncode == 0, r.stderr
    rootfs_want = sha(tmp_path / "pxe" / "embed-areas-2023-07.x86_64-rootfs.img")
    r = run_ignkit("iso", "extract", "minimal-iso", src, "-o", tmp_path / "a.iso", "--output-rootfs",
                   tmp_path / "rootfs.img")
    assert r.returncode == 0 and r.stdout == b"", r.stderr
    assert sha(tmp_path / "rootfs.img") == rootfs_want
    r = run_ignkit("iso", "extract", "minimal-iso", src, tmp_path / "b.iso")  # coreos-installer's spelling
    assert r.returncode == 0, r.stderr
    assert sha(tmp_path / "a.iso") == sha(tmp_path / "b.iso")
    # existing outputs are refused and nothing is written
    before = sorted(p.name for p in tmp_path.iterdir())
    for args in (["-o", tmp_path / "a.iso"], ["-o", tmp_path / "new.iso", "--output-rootfs", tmp_path / "rootfs.img"]):
        r = run_ignkit("iso", "extract", "minimal-iso", src, *args)
        assert r.returncode == 2 and b"already exists" in r.stderr and r.stderr.count(b"\n") == 1, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    r = run_ignkit("iso", "extract", "minimal-iso", src, "-o", tmp_path / "a.iso", tmp_path / "b.iso")
    assert r.returncode == 2 and b"not both" in r.stderr


def test_rootfs_url(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    src = fixture_isos["embed-areas-2023-07.x86_64"]
    plain, withurl = tmp_path / "plain.iso", tmp_path / "url.iso"
    extract_minimal_iso(src, str(plain))
    r = run_ignkit("iso", "extract", "minimal-iso", "--rootfs-url", URL, src, "-o", withurl)
    assert r.returncode == 0, r.stderr
    live = open_iso(withurl)
    assert live.current_kargs() == open_iso(plain).current_kargs() + f" coreos.live.rootfs_url={URL}"
    assert live.default_kargs == open_iso(plain).default_kargs  # reset goes back to the URL-less kargs
    r = run_ignkit("iso", "extract", "minimal-iso", "--rootfs-url", URL, src)
    assert r.stdout == withurl.read_bytes()
    with pytest.raises(UsageError, match="forbidden whitespace"):
        extract_minimal_iso(src, str(tmp_path / "x.iso"), rootfs_url="http://a/ b")
    too_long = "https://example.com/" + "a" * 1100
    r = run_ignkit("iso", "extract", "minimal-iso", "--rootfs-url", too_long, src, "-o", tmp_path / "x.iso",
                   "--output-rootfs", tmp_path / "r.img")
    assert r.returncode == 2 and b"kargs too large for area" in r.stderr and r.stderr.count(b"\n") == 1, r.stderr
    assert not (tmp_path / "x.iso").exists() and not (tmp_path / "r.img").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.iso", "url.iso"]


def test_minimal_iso_is_an_ordinary_live_iso(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    src = fixture_isos["embed-areas-2023-07.x86_64"]
    minimal, withurl = tmp_path / "min.iso", tmp_path / "url.iso"
    extract_minimal_iso(src, str(minimal))
    extract_minimal_iso(src, str(withurl), rootfs_url=URL)
    config = tmp_path / "live.ign"
    config.write_text('{"ignition": {"version": "3.3.0"}}')
    r = run_ignkit("embed", minimal, "-o", tmp_path / "host.iso", "--live-ignition", config,
                   "--dest-device", "/dev/vda", "--live-karg-append", "console=ttyS0")
    assert r.returncode == 0, r.stderr
    host = open_iso(tmp_path / "host.iso")
    cfg = host.ignition_config()
    assert cfg is not None and b"/etc/coreos/installer.d/" in cfg
    assert host.current_kargs() == open_iso(minimal).default_kargs + " console=ttyS0"
    r = run_ignkit("iso", "reset", tmp_path / "host.iso", "-o", tmp_path / "reset.iso")
    assert r.returncode == 0, r.stderr
    assert sha(tmp_path / "reset.iso") == sha(minimal)
    # With --rootfs-url the kargs differ from the default: as with coreos-installer, customizing needs -f,
    # and an Ignition-only customization keeps the URL.
    r = run_ignkit("embed", withurl, "-o", tmp_path / "host2.iso", "--live-ignition", config)
    assert r.returncode == 2 and b"already customized" in r.stderr
    r = run_ignkit("embed", "-f", withurl, "-o", tmp_path / "host2.iso", "--live-ignition", config)
    assert r.returncode == 0, r.stderr
    assert f"coreos.live.rootfs_url={URL}" in open_iso(tmp_path / "host2.iso").current_kargs()


def test_refusals(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.iso"
    for name, message in [("embed-areas-2021-09", "does not support extracting a minimal ISO"),
                          ("embed-areas-2020-09", "No karg embed areas found"),
                          ("embed-areas-2023-03.s390x", "No karg embed areas found"),
                          ("synthetic", "Unrecognized CoreOS ISO image")]:
        r = run_ignkit("iso", "extract", "minimal-iso", fixture_isos[name], "-o", out)
        assert r.returncode == 2, (name, r.stderr)
        assert r.stderr.startswith(b"ignkit: error: ") and message.encode() in r.stderr, (name, r.stderr)
    # customized input: refused, and works again after a reset
    custom = tmp_path / "custom.iso"
    r = run_ignkit("iso", "kargs", "modify", "-a", "foo=bar", fixture_isos["embed-areas-2022-09"], "-o", custom)
    assert r.returncode == 0, r.stderr
    r = run_ignkit("iso", "extract", "minimal-iso", custom, "-o", out)
    assert r.returncode == 2 and b"Cannot operate on ISO with embedded customizations" in r.stderr
    assert run_ignkit("iso", "reset", "--in-place", custom).returncode == 0
    assert run_ignkit("iso", "extract", "minimal-iso", custom, "-o", out).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["custom.iso", "out.iso"]


def test_corrupt_image_fails_the_digest(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.iso"
    corrupt.write_bytes(fixture_isos["embed-areas-2023-07.x86_64"].read_bytes()
                        .replace(b"coreos.liveiso", b"codeos.liveiso"))
    assert open_iso(corrupt).is_pristine()  # every copy changed alike: only the digest can tell
    with pytest.raises(CheckFailed, match="wrong final digest: expected [0-9a-f]{64}, found [0-9a-f]{64}"):
        extract_minimal_iso(corrupt, str(tmp_path / "out.iso"), output_rootfs=str(tmp_path / "rootfs.img"))
    r = run_ignkit("iso", "extract", "minimal-iso", corrupt)
    assert r.returncode == 1 and b"wrong final digest" in r.stderr and r.stdout == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.iso"]


def test_miniso_dat_parser_refuses_garbage(fixture_isos: dict[str, Path]) -> None:
    with IsoFS(fixture_isos["embed-areas-2022-09"]) as fs:
        raw = fs.read("COREOS/MINISO.DAT")
    info = parse_miniso(raw)
    assert info.app_version == "0.15.0" and len(info.digest) == 32 and info.extents
    with pytest.raises(ImageError, match="not a miniso file"):
        parse_miniso(b"X" + raw[1:])
    with pytest.raises(ImageError, match="incompatible miniso file version"):
        parse_miniso(raw[:8] + b"\x02" + raw[9:])
    with pytest.raises(ImageError, match="truncated"):
        parse_miniso(raw[:40])


def test_minimal_iso_reads_cleanly_with_other_tools(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    import subprocess

    out = tmp_path / "min.iso"
    extract_minimal_iso(fixture_isos["embed-areas-2023-07.x86_64"], str(out))
    if shutil.which("xorriso"):
        r = subprocess.run(["xorriso", "-indev", str(out), "-find", "/", "-type", "f"], capture_output=True,
                           text=True)
        assert r.returncode == 0 and "/images/ignition.img" in r.stdout and "rootfs.img" not in r.stdout, r.stderr
