"""The live ISO engine on coreos-installer's own fixture ISOs (every layout 2020-09 .. 2023-07, x86_64 and s390x).

Offsets are those coreos-installer finds; embed/remove and modify/reset give back the original bytes
(sha256); the three output modes give identical images; errors are one line and leave nothing behind.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CI_FIXTURES, run_ignkit

from ignkit.cli import main
from ignkit.errors import CheckFailed, ImageError, InputError, UsageError
from ignkit.live import open_iso, write_iso
from ignkit.live.kargs import KargsError

CONFIG = b'{"ignition":{"version":"3.4.0"},"passwd":{"users":[{"name":"core"}]}}\n'

# fixture -> (ignition area offset, length, kargs region offsets, kargs size, arch)
LAYOUT = {
    "embed-areas-2020-09": (92160, 262144, None, None, "x86_64"),
    "embed-areas-2021-01": (96256, 262144, [94026, 365415], 1131, "x86_64"),
    "embed-areas-2021-09": (102400, 262144, [98126, 371658], 1139, "x86_64"),
    "embed-areas-2021-12": (161792, 262144, [139086, 431050], 1139, "x86_64"),
    "embed-areas-2022-02": (159744, 262144, [137038, 429002], 1139, "x86_64"),
    "embed-areas-2022-09": (159744, 262144, [137038, 429002], 1139, "x86_64"),
    "embed-areas-2023-03.x86_64": (157696, 262144, [427853, 431050], 1139, "x86_64"),
    "embed-areas-2023-03.s390x": (203776, 262144, None, None, "s390x"),
    "embed-areas-2023-07.x86_64": (139264, 262144, [137037, 408522], 1139, "x86_64"),
    "embed-areas-2023-07.s390x": (203776, 262144, [138368], 896, "s390x"),
}
WITH_KARGS = [k for k, v in LAYOUT.items() if v[2]]
WITH_NETWORK = ["embed-areas-2021-12", "embed-areas-2022-02", "embed-areas-2022-09", "embed-areas-2023-03.x86_64",
                "embed-areas-2023-03.s390x", "embed-areas-2023-07.x86_64", "embed-areas-2023-07.s390x"]


@pytest.fixture
def pristine(fixture_isos: dict[str, Path]) -> dict[str, Path]:
    return fixture_isos


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


class Result:
    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def ignkit(*args: object, input: bytes | None = None) -> Result:
    """Run the CLI in this process (real files; stdin/stdout/stderr are in-memory streams)."""
    out, errs = io.BytesIO(), io.BytesIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    streams = (io.TextIOWrapper(io.BytesIO(input or b"")), io.TextIOWrapper(out, write_through=True),
               io.TextIOWrapper(errs, write_through=True))
    sys.stdin, sys.stdout, sys.stderr = streams
    try:
        rc = main([str(a) for a in args])
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        for stream in streams:
            stream.flush()
            stream.detach()
    return Result(rc, out.getvalue(), errs.getvalue())


def ignkit_proc(*args: object, input: bytes | None = b"") -> Result:
    """Run the CLI as a real process (stdin and stdout are pipes)."""
    r = run_ignkit(*args, stdin=input)
    return Result(r.returncode, r.stdout, r.stderr)


def err(proc: Result) -> str:
    return proc.stderr.decode()


def changed_ranges(a: bytes, b: bytes) -> list[tuple[int, int]]:
    """(start, end) of every run of differing bytes."""
    assert len(a) == len(b)
    out: list[tuple[int, int]] = []
    i = 0
    n = len(a)
    while i < n:
        if a[i] != b[i]:
            j = i
            while j < n and a[j] != b[j]:
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def inside(ranges: list[tuple[int, int]], regions: list[tuple[int, int]]) -> bool:
    return all(any(rs <= s and e <= rs + rl for rs, rl in regions) for s, e in ranges)


# -- locating --

@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_offsets_match_coreos_installer(pristine: dict[str, Path], name: str) -> None:
    offset, length, kargs_offsets, size, arch = LAYOUT[name]
    iso = open_iso(pristine[name])
    assert (iso.ignition_area.offset, iso.ignition_area.length) == (offset, length)
    assert iso.arch == arch
    assert iso.parser == ("walker" if "s390x" in name else "pycdlib")
    assert iso.is_pristine()
    assert iso.members() == {}
    if kargs_offsets is None:
        assert iso.kargs is None and iso.kargs_areas == []
    else:
        assert [a.offset for a in iso.kargs_areas] == kargs_offsets
        assert iso.kargs is not None and iso.kargs.size == size
        assert iso.current_kargs() == iso.default_kargs
        assert f"coreos.liveiso={iso.volume_id}" in iso.current_kargs().split()
    info = json.loads(ignkit("iso", "inspect", "--json", pristine[name]).stdout)
    assert (info["arch"], info["ignition"]["offset"], info["state"]) == (arch, offset, "pristine")
    assert info["kargs"] is None if kargs_offsets is None else [f["offset"] for f in info["kargs"]["files"]] == \
        kargs_offsets
    text = ignkit("iso", "inspect", pristine[name]).stdout.decode()
    assert f"architecture:  {arch} (" in text and f"ISO offset {offset}, {length} bytes, 0 used" in text


def test_default_kargs_and_sources(pristine: dict[str, Path]) -> None:
    old = open_iso(pristine["embed-areas-2021-01"])
    assert old.kargs is not None and old.kargs.source == "coreKarg"
    assert old.default_kargs == ("random.trust_cpu=on coreos.liveiso=rhcos-47.84.202112162337-0 "
                                 "ignition.firstboot ignition.platform.id=metal")
    s390 = open_iso(pristine["embed-areas-2023-07.s390x"])
    assert s390.kargs is not None and s390.kargs.source == "kargs.json"
    assert (s390.kargs_areas[0].pad, s390.kargs_areas[0].end) == ("\0", "\0")
    assert s390.ignition_area.file == "images/cdboot.img" and s390.ignition_area.file_offset == 132096
    assert s390.has_feature("live-initrd-network")
    assert s390.has_feature("installer-config-directives.console")
    assert open_iso(pristine["embed-areas-2021-09"]).features.to_dict() == {}


def test_legacy_header_and_kargs_json_each_suffice(pristine: dict[str, Path], tmp_path: Path) -> None:
    # as upstream's unit test: kargs.json alone, coreKarg alone, then neither
    src = pristine["embed-areas-2021-09"]
    expected = [98126, 371658]
    data = bytearray(src.read_bytes())
    assert data[32672:32680] == b"coreKarg"
    no_header = bytearray(data)
    no_header[32672] = 0
    p = tmp_path / "a.iso"
    p.write_bytes(no_header)
    assert [a.offset for a in open_iso(p).kargs_areas] == expected
    assert data[63725:63730] == b"KARGS"
    no_json = bytearray(data)
    no_json[63725] = ord("Z")
    p.write_bytes(no_json)
    iso = open_iso(p)
    assert iso.kargs is not None and iso.kargs.source == "coreKarg"
    assert [a.offset for a in iso.kargs_areas] == expected
    assert iso.kargs.size == 1139
    neither = bytearray(no_json)
    neither[32672] = 0
    p.write_bytes(neither)
    assert open_iso(p).kargs is None
    # the Ignition area's carrier renamed: not a CoreOS ISO any more
    renamed = bytearray(data)
    assert renamed[65903:65911] == b"IGNITION"
    renamed[65903] = ord("Z")
    p.write_bytes(renamed)
    with pytest.raises(ImageError, match="Unrecognized CoreOS ISO image"):
        open_iso(p)


# -- Ignition: embed / show / remove, three output modes --

@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_embed_show_remove_round_trip(pristine: dict[str, Path], tmp_path: Path, name: str) -> None:
    src = pristine[name]
    cfg = tmp_path / "config.ign"
    cfg.write_bytes(CONFIG)
    # -o OUT
    out = tmp_path / "out.iso"
    r = ignkit("iso", "ignition", "embed", "-i", cfg, "-o", out, src)
    assert r.returncode == 0, err(r)
    # -o - (a real pipe), config from stdin
    r2 = ignkit_proc("iso", "ignition", "embed", "-o", "-", src, input=CONFIG)
    assert r2.returncode == 0, err(r2)
    # --in-place on a copy
    inplace = copy(src, tmp_path / "inplace.iso")
    r3 = ignkit("iso", "ignition", "embed", "-i", cfg, "--in-place", inplace)
    assert r3.returncode == 0, err(r3)
    assert sha(out) == hashlib.sha256(r2.stdout).hexdigest() == sha(inplace) != sha(src)
    # only the Ignition area changed
    area = open_iso(src).ignition_area
    assert inside(changed_ranges(src.read_bytes(), out.read_bytes()), [(area.offset, area.length)])
    show = ignkit("iso", "ignition", "show", out)
    assert show.returncode == 0 and show.stdout == CONFIG
    # remove, in the three modes, gives back the pristine image
    back = tmp_path / "back.iso"
    assert ignkit("iso", "ignition", "remove", "-o", back, out).returncode == 0
    r4 = ignkit("iso", "ignition", "remove", "-o", "-", out)
    assert ignkit("iso", "ignition", "remove", "--in-place", inplace).returncode == 0
    assert sha(back) == hashlib.sha256(r4.stdout).hexdigest() == sha(inplace) == sha(src)
    r5 = ignkit("iso", "ignition", "show", back)
    assert r5.returncode == 1 and "No embedded Ignition config." in err(r5)


def test_payload_format_is_what_kernels_and_coreos_installer_read(pristine: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    iso = open_iso(pristine["embed-areas-2023-07.x86_64"])
    iso.embed_ignition(CONFIG)
    out = tmp_path / "out.iso"
    write_iso(iso, output=str(out))
    area = out.read_bytes()[iso.ignition_area.offset:iso.ignition_area.offset + iso.ignition_area.length]
    assert area[:6] == b"\xfd7zXZ\x00"
    assert area[6:8] == b"\x00\x01", "xz stream must use the CRC32 check (the kernel rejects CRC64)"
    used = len(area.rstrip(b"\0"))
    assert 0 < used < 1024 and area[used:] == bytes(len(area) - used)
    if shutil.which("xz") and shutil.which("cpio"):
        # the manual path: dd the area | xzcat | cpio -i
        xz = subprocess.run(["xz", "-dc", "--single-stream"], input=area, capture_output=True, check=True)
        dest = tmp_path / "x"
        dest.mkdir()
        subprocess.run(["cpio", "-id", "--quiet"], input=xz.stdout, cwd=dest, check=True, capture_output=True)
        assert (dest / "config.ign").read_bytes() == CONFIG


def test_already_embedded_needs_force(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = pristine["embed-areas-2022-09"]
    embedded = tmp_path / "e.iso"
    assert ignkit("iso", "ignition", "embed", "-o", embedded, src, input=CONFIG).returncode == 0
    before = sha(embedded)
    for mode in (["-o", tmp_path / "new.iso"], ["-o", "-"], ["--in-place"]):
        r = ignkit("iso", "ignition", "embed", *mode, embedded, input=b"{}")
        assert r.returncode == 2
        assert "already has an embedded Ignition config; use -f to force" in err(r)
        assert err(r).count("\n") == 1 and "Traceback" not in err(r)
        assert r.stdout == b""
    assert sha(embedded) == before and not (tmp_path / "new.iso").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.iso"]
    r = ignkit("iso", "ignition", "embed", "-f", "--in-place", embedded, input=b"{}")
    assert r.returncode == 0, err(r)
    assert ignkit("iso", "ignition", "show", embedded).stdout == b"{}"


def test_config_too_large(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = copy(pristine["embed-areas-2023-07.x86_64"], tmp_path / "in.iso")
    before = sha(src)
    big = tmp_path / "big.ign"
    # a JSON config that does not compress: 300 KiB of random base64 in a file's data URL
    data = base64.b64encode(os.urandom(300 * 1024)).decode()
    big.write_text(json.dumps({"ignition": {"version": "3.4.0"}, "storage": {"files": [
        {"path": "/big", "contents": {"source": f"data:;base64,{data}"}}]}}))
    for mode in (["-o", tmp_path / "out.iso"], ["--in-place"]):
        r = ignkit("iso", "ignition", "embed", "-i", big, *mode, src)
        assert r.returncode == 2
        assert re.search(r"^ignkit: error: Compressed initramfs is too large: (\d+) > 262144 \(the compressed "
                         r"config is \1 bytes; the embed area holds 262144\)", err(r)), err(r)
    assert sha(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.ign", "in.iso"]
    iso = open_iso(src)
    with pytest.raises(ImageError, match=r"^Compressed initramfs is too large: 262145 > 262144 \(the compressed "
                                         r"config is 262145 bytes; the embed area holds 262144\)"):
        iso.set_ignition_payload(b"x" * 262145)
    iso.set_ignition_payload(b"x" * 262144)  # exactly full is fine


def test_not_coreos_truncated_and_missing(pristine: dict[str, Path], tmp_path: Path) -> None:
    r = ignkit("iso", "ignition", "embed", "-o", tmp_path / "o.iso", pristine["synthetic"], input=CONFIG)
    assert r.returncode == 2 and "Unrecognized CoreOS ISO image" in err(r)
    r = ignkit("iso", "extract", "pxe", "-C", tmp_path, pristine["synthetic"])
    assert r.returncode == 2 and "Unrecognized CoreOS ISO image" in err(r)
    short = tmp_path / "short.iso"
    short.write_bytes(pristine["embed-areas-2022-02"].read_bytes()[:300000])
    r = ignkit("iso", "ignition", "embed", "--in-place", short, input=CONFIG)
    assert r.returncode == 2 and "ISO image is incomplete" in err(r)
    r = ignkit("iso", "inspect", tmp_path / "nope.iso")
    assert r.returncode == 2 and "no such file" in err(r)
    text = tmp_path / "text.iso"
    text.write_bytes(b"hello\n")
    r = ignkit("iso", "inspect", text)
    assert r.returncode == 2 and "not an ISO 9660 image" in err(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["short.iso", "text.iso"]


def test_garbage_in_area(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = pristine["embed-areas-2023-07.x86_64"]
    iso = open_iso(src)
    bad = bytearray(src.read_bytes())
    bad[iso.ignition_area.offset:iso.ignition_area.offset + 16] = b"garbage garbage!"
    p = tmp_path / "bad.iso"
    p.write_bytes(bad)
    r = ignkit("iso", "ignition", "show", p)
    assert r.returncode == 2 and "Unrecognized CoreOS ISO image" in err(r)
    info = json.loads(ignkit("iso", "inspect", "--json", p).stdout)
    assert info["ignition"]["members"] is None and info["state"] == "customized"
    # reset does not need to read the area: it gives the pristine image back
    assert ignkit("iso", "reset", "--in-place", p).returncode == 0
    assert sha(p) == sha(src)


def test_traversal_members_are_refused(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = pristine["embed-areas-2023-07.x86_64"]
    iso = open_iso(src)
    evil = (CI_FIXTURES / "initrd" / "traversal-relative.img").read_bytes()
    iso.set_ignition_payload(evil)
    p = tmp_path / "evil.iso"
    write_iso(iso, output=str(p))
    r = ignkit("iso", "ignition", "show", p)
    assert r.returncode == 2 and "Traceback" not in err(r)


# -- output modes --

def test_output_mode_is_required_and_exclusive(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = copy(pristine["embed-areas-2023-07.x86_64"], tmp_path / "in.iso")
    before = sha(src)
    r = ignkit("iso", "ignition", "embed", src, input=CONFIG)
    assert r.returncode == 2 and "-o OUT" in err(r) and "--in-place" in err(r)
    r = ignkit("iso", "kargs", "reset", "-o", tmp_path / "x.iso", "--in-place", src)
    assert r.returncode == 2 and "not both" in err(r)
    out = tmp_path / "out.iso"
    out.write_bytes(b"keep me")
    r = ignkit("iso", "ignition", "embed", "-o", out, src, input=CONFIG)
    assert r.returncode == 2 and "already exists" in err(r)
    assert out.read_bytes() == b"keep me"
    r = ignkit("iso", "ignition", "embed", "-o", out, "--overwrite", src, input=CONFIG)
    assert r.returncode == 0
    assert ignkit("iso", "ignition", "show", out).stdout == CONFIG
    assert sha(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.iso", "out.iso"]


def test_stdout_terminal_is_refused(pristine: dict[str, Path]) -> None:
    master, slave = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "ignkit", "iso", "reset", "-o", "-",
                            str(pristine["embed-areas-2023-07.x86_64"])], stdout=slave, stderr=subprocess.PIPE,
                           timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    assert r.returncode == 2 and b"Refusing to write binary data to terminal" in r.stderr


def test_config_from_a_terminal_is_refused(pristine: dict[str, Path], tmp_path: Path) -> None:
    master, slave = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "ignkit", "iso", "ignition", "embed", "-o", str(tmp_path / "o.iso"),
                            str(pristine["embed-areas-2023-07.x86_64"])], stdin=slave, capture_output=True,
                           timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    assert r.returncode == 2 and b"use -i CONFIG" in r.stderr
    assert not (tmp_path / "o.iso").exists()


def test_many_outputs_from_one_open(pristine: dict[str, Path], tmp_path: Path) -> None:
    base = open_iso(pristine["embed-areas-2023-07.s390x"])
    for i in range(3):
        host = base.copy()
        host.embed_ignition(b'{"host": %d}' % i)
        host.modify_kargs(append=[f"ip=10.0.0.{i}::10.0.0.254:255.255.255.0:node{i}::none"])
        write_iso(host, output=str(tmp_path / f"node{i}.iso"))
    assert base.patches == [] and base.is_pristine()
    for i in range(3):
        iso = open_iso(tmp_path / f"node{i}.iso")
        assert iso.ignition_config() == b'{"host": %d}' % i
        assert iso.current_kargs().endswith(f"node{i}::none")


# -- kernel arguments --

@pytest.mark.parametrize("name", WITH_KARGS)
def test_kargs_modify_reset(pristine: dict[str, Path], tmp_path: Path, name: str) -> None:
    src = pristine[name]
    iso = open_iso(src)
    default = iso.default_kargs
    assert default
    size = iso.kargs_areas[0].size
    out = tmp_path / "k.iso"
    r = ignkit("iso", "kargs", "modify", "-a", "foobar=oldval", "-a", "dodo", "-o", out, src)
    assert r.returncode == 0, err(r)
    assert ignkit("iso", "kargs", "show", out).stdout.decode() == f"{default} foobar=oldval dodo\n"
    assert ignkit("iso", "kargs", "show", "--default", out).stdout.decode() == f"{default}\n"
    data = out.read_bytes()
    regions = [(a.offset, a.size) for a in iso.kargs_areas]
    assert inside(changed_ranges(src.read_bytes(), data), regions)
    for a in iso.kargs_areas:
        text = f"{default} foobar=oldval dodo".encode()
        expected = text + a.end.encode() + a.pad.encode() * (size - len(text) - 1)
        assert data[a.offset:a.offset + size] == expected
    # replace, then delete restores the original bytes
    r = ignkit("iso", "kargs", "modify", "-r", "foobar=oldval=newval", "--in-place", out)
    assert r.returncode == 0, err(r)
    assert ignkit("iso", "kargs", "show", out).stdout.decode() == f"{default} foobar=newval dodo\n"
    r = ignkit("iso", "kargs", "modify", "-d", "foobar=newval", "-d", "dodo", "-o", "-", out)
    assert hashlib.sha256(r.stdout).hexdigest() == sha(src)
    # reset, three modes
    reset_out = tmp_path / "reset.iso"
    assert ignkit("iso", "kargs", "reset", "-o", reset_out, out).returncode == 0
    r = ignkit("iso", "kargs", "reset", "-o", "-", out)
    assert ignkit("iso", "kargs", "reset", "--in-place", out).returncode == 0
    assert sha(reset_out) == hashlib.sha256(r.stdout).hexdigest() == sha(out) == sha(src)


@pytest.mark.parametrize("name", ["embed-areas-2023-07.x86_64", "embed-areas-2023-07.s390x", "embed-areas-2021-01"])
def test_kargs_size_limit(pristine: dict[str, Path], name: str) -> None:
    iso = open_iso(pristine[name])
    default = iso.default_kargs
    assert default
    size = iso.kargs_areas[0].size
    fits = "x" * (size - len(default) - 2)
    iso.modify_kargs(append=[fits])
    assert len(iso.current_kargs()) == size - 1
    with pytest.raises(KargsError, match="kargs too large for area"):
        iso.modify_kargs(append=["y"])
    with pytest.raises(KargsError, match="newline"):
        iso.set_kargs("a\nb")


def test_kargs_errors_from_the_cli(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = pristine["embed-areas-2023-07.x86_64"]
    for args, message in [
        (["-a", "x" * 2000], "kargs too large for area"),
        (["-a", "a#b"], "pad character"),
        (["-a", "tab\there"], "control character"),
        (["-r", "foo=bar"], "KEY=OLD=NEW"),
    ]:
        r = ignkit("iso", "kargs", "modify", *args, "-o", tmp_path / "o.iso", src)
        assert r.returncode == 2 and message in err(r), (args, err(r))
        assert not (tmp_path / "o.iso").exists()
    for name in ("embed-areas-2020-09", "embed-areas-2023-03.s390x"):
        for cmd in (["show"], ["reset", "-o", tmp_path / "o.iso"], ["modify", "-a", "x", "--in-place"]):
            r = ignkit("iso", "kargs", *cmd, pristine[name])
            assert r.returncode == 2 and "No karg embed areas found" in err(r)


def test_mismatched_areas(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = pristine["embed-areas-2023-07.x86_64"]
    iso = open_iso(src)
    data = bytearray(src.read_bytes())
    second = iso.kargs_areas[1].offset
    data[second:second + 3] = b"xyz"
    p = tmp_path / "m.iso"
    p.write_bytes(data)
    with pytest.raises(ImageError, match="kargs don't match at all offsets"):
        open_iso(p)


# -- network keyfiles --

@pytest.mark.parametrize("name", WITH_NETWORK)
def test_network_embed_extract_remove(pristine: dict[str, Path], tmp_path: Path, name: str) -> None:
    src = pristine[name]
    kdir = tmp_path / "keys"
    kdir.mkdir()
    (kdir / "b.nmconnection").write_bytes(b"[connection]\nid=b\n")
    (kdir / "a.nmconnection").write_bytes(b"[connection]\nid=a\n")
    out = tmp_path / "n.iso"
    keys = ["-k", kdir / "b.nmconnection", "-k", kdir / "a.nmconnection"]
    r = ignkit("iso", "network", "embed", *keys, "-o", out, src)
    assert r.returncode == 0, err(r)
    streamed = ignkit("iso", "network", "embed", *keys, "-o", "-", src).stdout
    inplace = copy(src, tmp_path / "inplace.iso")
    assert ignkit("iso", "network", "embed", *keys, "--in-place", inplace).returncode == 0
    assert hashlib.sha256(streamed).hexdigest() == sha(inplace) == sha(out) != sha(src)
    r = ignkit("iso", "network", "extract", out)
    assert r.stdout == (b"########## a.nmconnection ##########\n[connection]\nid=a\n\n"
                        b"########## b.nmconnection ##########\n[connection]\nid=b\n")
    ext = tmp_path / "ext"
    r = ignkit("iso", "network", "extract", "-C", ext, out)
    assert r.returncode == 0
    assert (ext / "a.nmconnection").read_bytes() == b"[connection]\nid=a\n"
    r = ignkit("iso", "network", "embed", "-k", kdir / "a.nmconnection", "--in-place", out)
    assert r.returncode == 2 and "already has embedded network settings; use -f to force" in err(r)
    # Ignition config and keyfiles are independent
    assert ignkit("iso", "ignition", "embed", "--in-place", out, input=CONFIG).returncode == 0
    assert ignkit("iso", "network", "remove", "--in-place", out).returncode == 0
    assert ignkit("iso", "ignition", "show", out).stdout == CONFIG
    r = ignkit("iso", "network", "extract", out)
    assert r.returncode == 1 and "No embedded network settings." in err(r)
    assert ignkit("iso", "ignition", "remove", "--in-place", out).returncode == 0
    assert sha(out) == sha(src)


def test_network_unsupported_and_duplicates(pristine: dict[str, Path], tmp_path: Path) -> None:
    k = tmp_path / "a.nmconnection"
    k.write_bytes(b"[connection]\n")
    r = ignkit("iso", "network", "embed", "-k", k, "-o", tmp_path / "o.iso", pristine["embed-areas-2021-09"])
    assert r.returncode == 2 and "does not support customizing network settings" in err(r)
    (tmp_path / "d").mkdir()
    k2 = tmp_path / "d" / "a.nmconnection"
    k2.write_bytes(b"x")
    r = ignkit("iso", "network", "embed", "-k", k, "-k", k2, "-o", tmp_path / "o.iso",
               pristine["embed-areas-2023-07.x86_64"])
    assert r.returncode == 2 and "multiple input files named 'a.nmconnection'" in err(r)
    assert not (tmp_path / "o.iso").exists()


# -- reset, inspect, arch, extract --

def test_reset_restores_everything(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = pristine["embed-areas-2023-07.x86_64"]
    iso = open_iso(src)
    iso.embed_ignition(CONFIG)
    iso.embed_network({"x.nmconnection": b"[connection]\n"})
    iso.modify_kargs(append=["console=ttyS0"], delete=["mitigations=auto,nosmt"])
    p = tmp_path / "c.iso"
    write_iso(iso, output=str(p))
    assert not open_iso(p).is_pristine()
    info = json.loads(ignkit("iso", "inspect", "--json", p).stdout)
    assert info["state"] == "customized"
    assert info["ignition"]["members"] == ["config.ign", "etc/coreos-firstboot-network/x.nmconnection"]
    assert info["kargs"]["current"].endswith("console=ttyS0")
    assert ignkit("iso", "reset", "--in-place", p).returncode == 0
    assert sha(p) == sha(src)


def test_inspect(pristine: dict[str, Path]) -> None:
    r = ignkit("iso", "inspect", "--json", pristine["embed-areas-2023-07.s390x"])
    info = json.loads(r.stdout)
    assert info["arch"] == "s390x"
    assert info["volume_id"] == "fedora-coreos-38.20230718.dev.0"
    assert info["ignition"]["offset"] == 203776 and info["ignition"]["used"] == 0
    assert info["ignition"]["file"] == "images/cdboot.img"
    assert info["kargs"]["size"] == 896 and info["kargs"]["files"][0]["pad"] == "\0"
    assert info["features"]["live-initrd-network"] is True
    assert info["state"] == "pristine"
    assert info["eltorito_platforms"] == ["BIOS"]
    text = ignkit("iso", "inspect", pristine["embed-areas-2020-09"]).stdout.decode()
    assert "x86_64" in text and "none (kernel arguments cannot be edited)" in text and "pristine" in text
    assert "El Torito:     BIOS, UEFI" in text


@pytest.mark.parametrize("name", ["embed-areas-2020-09", "embed-areas-2023-07.x86_64", "embed-areas-2023-07.s390x",
                                  "customized"])
def test_inspect_text_and_json_use_one_vocabulary(pristine: dict[str, Path], tmp_path: Path, name: str) -> None:
    if name == "customized":
        iso = tmp_path / "c.iso"
        assert ignkit("iso", "ignition", "embed", "-i", CI_FIXTURES / "customize" / "dest.ign", "-o", iso,
                      pristine["embed-areas-2023-07.x86_64"]).returncode == 0
    else:
        iso = pristine[name]
    info = json.loads(ignkit("iso", "inspect", "--json", iso).stdout)
    text = dict(line.split(":", 1) for line in ignkit("iso", "inspect", iso).stdout.decode().splitlines()
                if not line.startswith(" "))
    text = {k: v.strip() for k, v in text.items()}
    assert text["state"] == info["state"] == ("customized" if name == "customized" else "pristine")
    assert text["El Torito"] == (", ".join(info["eltorito_platforms"]) or "none")
    assert set(info["eltorito_platforms"]) <= {"BIOS", "UEFI"} and info["eltorito_platforms"]
    assert text["architecture"].split()[0] == info["arch"]
    assert text["volume id"] == info["volume_id"]
    assert text["ignition area"].split()[0] == info["ignition"]["file"]
    if info["pxe_files"]:
        assert text["pxe files"] == ", ".join(info["pxe_files"])
        assert all(n == n.lower() for n in info["pxe_files"]) and "initrd.img" in info["pxe_files"]
    # the same words are the ones --help documents
    helptext = ignkit("iso", "inspect", "--help").stdout.decode()
    for word in ("pristine", "customized", "unknown", "BIOS", "UEFI", "eltorito_platforms", "pxe_files"):
        assert word in helptext


def test_arch_assertion(pristine: dict[str, Path], tmp_path: Path) -> None:
    x86 = pristine["embed-areas-2023-07.x86_64"]
    assert open_iso(x86, arch="x86_64").arch == "x86_64"
    assert open_iso(x86, arch="amd64").arch == "x86_64"
    with pytest.raises(CheckFailed, match="is an ISO for x86_64, not aarch64"):
        open_iso(x86, arch="arm64")
    with pytest.raises(UsageError, match="unknown architecture"):
        open_iso(x86, arch="mips")
    r = ignkit("iso", "ignition", "embed", "--arch", "aarch64", "-o", tmp_path / "o.iso", x86, input=CONFIG)
    assert r.returncode == 1 and "not aarch64" in err(r)
    assert not (tmp_path / "o.iso").exists()
    r = ignkit("iso", "kargs", "show", "--arch", "s390x", pristine["embed-areas-2023-07.s390x"])
    assert r.returncode == 0


def test_extract_pxe(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = pristine["embed-areas-2023-07.s390x"]
    r = ignkit("iso", "extract", "pxe", "-C", tmp_path / "pxe", src)
    assert r.returncode == 0, err(r)
    stem = "embed-areas-2023-07.s390x"
    names = sorted(p.name for p in (tmp_path / "pxe").iterdir())
    assert names == [f"{stem}-{n}" for n in ("initrd.img", "kernel.img", "rootfs.img", "vmlinuz")]
    from ignkit.isofs import IsoFS

    with IsoFS(src) as fs:
        assert (tmp_path / "pxe" / f"{stem}-kernel.img").read_bytes() == fs.read("IMAGES/PXEBOOT/KERNEL.IMG")
    r = ignkit("iso", "extract", "pxe", "-C", tmp_path / "pxe", src)
    assert r.returncode == 2 and "already exists" in err(r)


@pytest.mark.skipif(not shutil.which("cpio"), reason="GNU cpio not installed")
@pytest.mark.parametrize("compress", [None, ["gzip", "-9n"], ["xz", "--check=crc32"], ["zstd", "-q"]])
def test_reads_archives_other_tools_wrote(pristine: dict[str, Path], tmp_path: Path,
                                         compress: list[str] | None) -> None:
    # an area written by another tool (GNU cpio + gzip/xz/zstd, as older coreos-installers or a shell
    # pipeline would): show/extract read it, and a later embed keeps its other members
    if compress and not shutil.which(compress[0]):
        pytest.skip(f"{compress[0]} not installed")
    root = tmp_path / "root"
    (root / "etc" / "coreos-firstboot-network").mkdir(parents=True)
    (root / "config.ign").write_bytes(CONFIG)
    (root / "etc" / "coreos-firstboot-network" / "eth0.nmconnection").write_bytes(b"[connection]\n")
    names = b"config.ign\netc\netc/coreos-firstboot-network\netc/coreos-firstboot-network/eth0.nmconnection\n"
    archive = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], input=names, cwd=root, capture_output=True,
                             check=True).stdout
    if compress:
        archive = subprocess.run(compress, input=archive, capture_output=True, check=True).stdout
    iso = open_iso(pristine["embed-areas-2023-07.x86_64"])
    iso.set_ignition_payload(archive)
    out = tmp_path / "other.iso"
    write_iso(iso, output=str(out))
    assert ignkit("iso", "ignition", "show", out).stdout == CONFIG
    assert b"eth0.nmconnection" in ignkit("iso", "network", "extract", out).stdout
    assert ignkit("iso", "ignition", "embed", "-f", "--in-place", out, input=b"{}").returncode == 0
    again = open_iso(out)
    assert again.ignition_config() == b"{}"
    assert again.network_keyfiles() == {"eth0.nmconnection": b"[connection]\n"}


# -- bad inputs: one line, non-zero, input untouched, nothing left behind --

MODIFYING = [
    ["ignition", "embed", "-i", "CONFIG"],
    ["ignition", "remove"],
    ["network", "embed", "-k", "KEYFILE"],
    ["network", "remove"],
    ["kargs", "modify", "-a", "console=ttyS0"],
    ["kargs", "reset"],
    ["reset"],
]


def _bad_isos(pristine: dict[str, Path], tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, a fragment of the expected message)"""
    good = pristine["embed-areas-2023-07.x86_64"].read_bytes()
    text = tmp_path / "text.iso"
    text.write_bytes(b"hello\n" * 10000)
    truncated = tmp_path / "truncated.iso"
    truncated.write_bytes(good[:len(good) // 2])
    directory = tmp_path / "adir"
    directory.mkdir()
    # a directory record pointing past the end of the image
    corrupt = tmp_path / "corrupt.iso"
    data = bytearray(good)
    root_extent = int.from_bytes(data[16 * 2048 + 156 + 2:16 * 2048 + 156 + 6], "little")
    data[16 * 2048 + 156 + 2:16 * 2048 + 156 + 6] = (root_extent + 10 ** 6).to_bytes(4, "little")
    data[16 * 2048 + 156 + 6:16 * 2048 + 156 + 10] = (root_extent + 10 ** 6).to_bytes(4, "big")
    corrupt.write_bytes(data)
    return {
        "not an ISO": (text, "not an ISO 9660 image"),
        "truncated": (truncated, "ISO image is incomplete"),
        "a directory": (directory, "is a directory"),
        "missing": (tmp_path / "missing.iso", "no such file"),
        "corrupt": (corrupt, "corrupt.iso"),
        "not CoreOS": (pristine["synthetic"], "Unrecognized CoreOS ISO image"),
    }


def _fill(cmd: list[str], tmp_path: Path) -> list[object]:
    inputs = tmp_path / "inputs"
    if not inputs.exists():
        inputs.mkdir()
        (inputs / "c.ign").write_bytes(CONFIG)
        (inputs / "eth0.nmconnection").write_bytes(b"[connection]\n")
    names = {"CONFIG": inputs / "c.ign", "KEYFILE": inputs / "eth0.nmconnection", "DIR": inputs / "pxe"}
    return [names.get(a, a) for a in cmd]


@pytest.mark.parametrize("cmd", MODIFYING, ids=lambda c: " ".join(c[:2]))
def test_bad_isos_fail_cleanly_for_every_command(pristine: dict[str, Path], tmp_path: Path, cmd: list[str]) -> None:
    work = tmp_path / "work"
    work.mkdir()
    bad = _bad_isos(pristine, work)
    args = _fill(cmd, tmp_path)
    for label, (path, message) in bad.items():
        before = sha(path) if path.is_file() else None
        for mode in (["-o", work / "out.iso"], ["-o", "-"], ["--in-place"]):
            r = ignkit("iso", *args, *mode, path)
            e = err(r)
            assert r.returncode == 2, (label, mode, e)
            assert e.startswith("ignkit: error: ") and e.count("\n") == 1 and message in e, (label, mode, e)
            assert r.stdout == b""
            assert (sha(path) if path.is_file() else None) == before
        assert sorted(p.name for p in work.iterdir()) == ["adir", "corrupt.iso", "text.iso", "truncated.iso"], label
        assert not any((work / "adir").iterdir())


@pytest.mark.parametrize("cmd", MODIFYING + [["inspect"], ["ignition", "show"], ["network", "extract"],
                                             ["kargs", "show"], ["extract", "pxe", "-C", "DIR"]],
                         ids=lambda c: " ".join(c[:2]))
def test_arch_mismatch_is_refused_by_every_command(pristine: dict[str, Path], tmp_path: Path,
                                                   cmd: list[str]) -> None:
    src = copy(pristine["embed-areas-2023-07.s390x"], tmp_path / "s390x.iso")
    before = sha(src)
    modifying = cmd in MODIFYING
    args = _fill(cmd, tmp_path)
    for mode in ([["-o", tmp_path / "out.iso"], ["--in-place"]] if modifying else [[]]):
        r = ignkit("iso", *args, "--arch", "aarch64", *mode, src)
        assert r.returncode == 1 and err(r) == f"ignkit: error: {src} is an ISO for s390x, not aarch64 " \
                                                 "(found /images/cdboot.img)\n", err(r)
        assert r.stdout == b""
    assert sha(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs", "s390x.iso"]
    assert sorted(p.name for p in (tmp_path / "inputs").iterdir()) == ["c.ign", "eth0.nmconnection"]
    r = ignkit("iso", *args, "--arch", "s390x", *(["-o", tmp_path / "out.iso"] if modifying else []), src)
    assert r.returncode in (0, 1), err(r)  # the right arch passes (show/extract on a pristine ISO find nothing)


def test_config_that_is_not_json_is_refused(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = copy(pristine["embed-areas-2023-07.x86_64"], tmp_path / "in.iso")
    before = sha(src)
    bad = tmp_path / "bad.ign"
    for content, message in [(b"not json\n", "not JSON"), (b"[1, 2]", "not a JSON object"),
                             (b"\xff\xfe{}", "not JSON"), (b"", "not JSON")]:
        bad.write_bytes(content)
        for mode in (["-o", tmp_path / "out.iso"], ["-o", "-"], ["--in-place"]):
            r = ignkit("iso", "ignition", "embed", "-i", bad, *mode, src)
            assert r.returncode == 2 and r.stdout == b""
            assert err(r) == f"ignkit: error: parsing Ignition config {bad}: {message}" + err(r).split(message, 1)[1]
            assert err(r).count("\n") == 1
        r = ignkit("iso", "ignition", "embed", "--in-place", src, input=content)
        assert r.returncode == 2 and "parsing Ignition config from stdin" in err(r)
    r = ignkit("iso", "ignition", "embed", "-i", tmp_path, "--in-place", src)
    assert r.returncode == 2 and "Is a directory" in err(r) and err(r).count("\n") == 1
    r = ignkit("iso", "ignition", "embed", "-i", tmp_path / "nope.ign", "--in-place", src)
    assert r.returncode == 2 and "nope.ign: No such file or directory" in err(r)
    assert sha(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ign", "in.iso"]
    with pytest.raises(InputError, match="parsing Ignition config config: not a JSON object"):
        open_iso(src).embed_ignition(b'"string"')


def test_output_onto_a_directory_or_missing_directory(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = pristine["embed-areas-2023-07.x86_64"]
    (tmp_path / "d").mkdir()
    r = ignkit("iso", "reset", "-o", tmp_path / "d", src)
    assert r.returncode == 2 and "is a directory" in err(r)
    r = ignkit("iso", "reset", "-o", tmp_path / "nodir" / "x.iso", src)
    assert r.returncode == 2 and "does not exist" in err(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"] and not any((tmp_path / "d").iterdir())


def test_extract_refuses_before_writing_anything(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = pristine["embed-areas-2023-07.x86_64"]
    out = tmp_path / "pxe"
    out.mkdir()
    # the last file in order exists: nothing else may be written
    (out / "embed-areas-2023-07.x86_64-vmlinuz").write_bytes(b"mine")
    r = ignkit("iso", "extract", "pxe", "-C", out, src)
    assert r.returncode == 2 and "vmlinuz: File exists" in err(r)
    assert sorted(p.name for p in out.iterdir()) == ["embed-areas-2023-07.x86_64-vmlinuz"]
    r = ignkit("iso", "extract", "pxe", "--overwrite", "-o", out, src)
    assert r.returncode == 0, err(r)
    assert len(r.stdout.splitlines()) == 3
    assert (out / "embed-areas-2023-07.x86_64-vmlinuz").read_bytes() != b"mine"
    # the same for keyfiles
    iso = open_iso(src)
    iso.embed_network({"a.nmconnection": b"a", "b.nmconnection": b"b"})
    net = tmp_path / "net.iso"
    write_iso(iso, output=str(net))
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "b.nmconnection").write_bytes(b"mine")
    r = ignkit("iso", "network", "extract", "-C", keys, net)
    assert r.returncode == 2 and "b.nmconnection: File exists" in err(r)
    assert sorted(p.name for p in keys.iterdir()) == ["b.nmconnection"]


@pytest.mark.parametrize("fixture, message", [("traversal-relative.img", "path ../f contains path traversal"),
                                              ("traversal-absolute.img", "path /etc/adjtime contains path traversal")])
def test_traversal_members_name_the_path(pristine: dict[str, Path], tmp_path: Path, fixture: str,
                                         message: str) -> None:
    iso = open_iso(pristine["embed-areas-2023-07.s390x"])
    iso.set_ignition_payload((CI_FIXTURES / "initrd" / fixture).read_bytes())
    p = tmp_path / "evil.iso"
    write_iso(iso, output=str(p))
    for cmd in (["ignition", "show"], ["network", "extract"], ["ignition", "embed", "-f", "--in-place"]):
        r = ignkit("iso", *cmd, p, input=CONFIG)
        assert r.returncode == 2 and message in err(r) and err(r).count("\n") == 1, err(r)


def test_deprecated_spellings(pristine: dict[str, Path], tmp_path: Path) -> None:
    # coreos-installer's hidden `iso embed|show|remove`: a note on stderr, then the same as `iso ignition ...`
    src = pristine["embed-areas-2022-09"]
    cfg = tmp_path / "c.ign"
    cfg.write_bytes(CONFIG)
    out = tmp_path / "e.iso"
    r = ignkit("iso", "embed", "-c", cfg, "-o", out, src)
    assert r.returncode == 0
    assert err(r) == "`iso embed` is deprecated; use `iso ignition embed`.  Continuing.\n"
    r = ignkit("iso", "show", out)
    assert r.stdout == CONFIG and "`iso show` is deprecated" in err(r)
    r = ignkit("iso", "remove", "-o", "-", out)
    assert hashlib.sha256(r.stdout).hexdigest() == sha(src) and "`iso remove` is deprecated" in err(r)
    listed = [line.split()[0] for line in ignkit("iso", "--help").stdout.decode().split("Commands:")[1].splitlines()
              if line.startswith("  ") and not line.startswith("   ")]   # not the wrapped help lines
    assert listed == ["customize", "extract", "ignition", "inspect", "kargs", "network", "reset"]


def test_legacy_coreKarg_header(pristine: dict[str, Path], tmp_path: Path) -> None:
    src = pristine["embed-areas-2021-01"]
    iso = open_iso(src)
    assert iso.kargs is not None and iso.kargs.source == "coreKarg"
    # the areas are named after the files that hold them
    assert [(a.file, a.file_offset) for a in iso.kargs_areas] == [("isolinux/isolinux.cfg", 1866),
                                                                    ("efi/redhat/grub.cfg", 871)]
    assert iso.kargs.default_copy is not None and iso.kargs.default_copy.offset == 90112
    data = bytearray(src.read_bytes())
    assert data[32672:32680] == b"coreKarg" and int.from_bytes(data[32680:32688], "little") == 1131
    p = tmp_path / "k.iso"
    big = bytearray(data)
    big[32680:32688] = (4096).to_bytes(8, "little")
    p.write_bytes(big)
    with pytest.raises(ImageError, match=r"karg embed area length larger than 2048 \(found 4096\)"):
        open_iso(p)
    # the pre-2021 spelling "corekarg" was never recognized
    lower = bytearray(data)
    lower[32672:32680] = b"corekarg"
    p.write_bytes(lower)
    assert open_iso(p).kargs is None
    r = ignkit("iso", "kargs", "show", p)
    assert r.returncode == 2
    assert err(r) == "ignkit: error: No karg embed areas found; old or corrupted CoreOS ISO image.\n"


def test_area_with_concatenated_archives_and_padding(pristine: dict[str, Path], tmp_path: Path) -> None:
    # as the kernel reads initrds: gzip + zero padding + xz; later members win
    import gzip

    from ignkit.initrd import build_cpio
    from ignkit.live.initramfs import build_initrd

    first = gzip.compress(build_cpio({"config.ign": b'{"old": 1}', "etc/coreos-firstboot-network/a": b"a"}))
    second = build_initrd({"config.ign": CONFIG})
    iso = open_iso(pristine["embed-areas-2023-07.s390x"])
    iso.set_ignition_payload(first + bytes(1000) + second)
    p = tmp_path / "cat.iso"
    write_iso(iso, output=str(p))
    again = open_iso(p)
    assert again.ignition_config() == CONFIG
    assert again.network_keyfiles() == {"a": b"a"}
    info = json.loads(ignkit("iso", "inspect", "--json", p).stdout)
    assert info["ignition"]["used"] == len(first) + 1000 + len(second) and info["state"] == "customized"
    # trailing garbage after a compressed archive is refused
    iso.set_ignition_payload(build_initrd({"config.ign": CONFIG}) + b"junk")
    write_iso(iso, output=str(tmp_path / "junk.iso"))
    r = ignkit("iso", "ignition", "show", tmp_path / "junk.iso")
    assert r.returncode == 2 and "Unrecognized CoreOS ISO image" in err(r)
