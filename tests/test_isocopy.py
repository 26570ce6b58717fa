"""The kernel-side copy behind every new output ISO (ignkit/isocopy.py) and ``writing_iso``, which starts
that copy before the edits are made: same bytes as the other output modes, nothing left behind on an error."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from ignkit.errors import InputError, UsageError
from ignkit.live import open_iso, write_iso
from ignkit.live.image import writing_iso
from ignkit.isocopy import BackgroundCopy, Cancelled, copy_file, copy_range, reflink


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_copy_file_is_exact_and_kernel_side(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    src = fixture_isos["embed-areas-2023-07.x86_64"]
    dst = tmp_path / "copy.iso"
    with open(src, "rb") as s, open(dst, "wb") as d:
        how = copy_file(s.fileno(), d.fileno(), src.stat().st_size)
    assert how in ("reflink", "copy_file_range", "sendfile")  # never through Python buffers on Linux
    assert sha(dst) == sha(src)
    # a range at offsets (what iso extract pxe does)
    with open(src, "rb") as s, open(tmp_path / "part", "wb") as d:
        d.write(b"head")
        copy_range(s.fileno(), d.fileno(), 10000, 40000, 4)
    assert (tmp_path / "part").read_bytes() == b"head" + src.read_bytes()[40000:50000]


def test_reflink_refusal_is_not_an_error(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    src = fixture_isos["embed-areas-2023-07.x86_64"]
    with open(src, "rb") as s, open(tmp_path / "r.iso", "wb") as d:
        cloned = reflink(s.fileno(), d.fileno())
    if cloned:  # a file system with reflinks (btrfs, XFS): the clone has the bytes
        assert sha(tmp_path / "r.iso") == sha(src)
    else:
        assert (tmp_path / "r.iso").stat().st_size == 0


def test_background_copy_cancel(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    src = fixture_isos["embed-areas-2023-07.x86_64"]
    stop = threading.Event()
    stop.set()
    with open(src, "rb") as s, open(tmp_path / "c.iso", "wb") as d:
        with pytest.raises(Cancelled):
            copy_range(s.fileno(), d.fileno(), src.stat().st_size, stop=stop)
        job = BackgroundCopy(s.fileno(), d.fileno(), src.stat().st_size)
        job.cancel()  # whether it finished or not, the thread is gone
        assert not any(t.name == "ignkit-copy" for t in threading.enumerate())


@pytest.mark.parametrize("grow", [False, True])
def test_writing_iso_matches_write_iso(fixture_isos: dict[str, Path], tmp_path: Path, grow: bool) -> None:
    src = fixture_isos["embed-areas-2022-09"]
    config = b'{"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "/x", "contents": ' \
             b'{"source": "data:;base64,' + __import__("base64").b64encode(os.urandom(600_000 if grow else 100)) + \
             b'"}}]}}'
    live = open_iso(src)
    live.allow_grow = grow
    with writing_iso(live, output=str(tmp_path / "a.iso")) as write:
        live.embed_ignition(config)  # the copy runs meanwhile
        write()
    other = open_iso(src)
    other.allow_grow = grow
    other.embed_ignition(config)
    write_iso(other, output=str(tmp_path / "b.iso"))
    assert sha(tmp_path / "a.iso") == sha(tmp_path / "b.iso")
    assert (open_iso(tmp_path / "a.iso").grown is not None) == grow
    assert open_iso(tmp_path / "a.iso").ignition_config() == config


def test_writing_iso_leaves_nothing_on_error(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    src = fixture_isos["embed-areas-2022-09"]
    out = tmp_path / "out" / "x.iso"
    out.parent.mkdir()
    live = open_iso(src)
    with pytest.raises(InputError):
        with writing_iso(live, output=str(out)) as write:
            live.embed_ignition(b"{}" + b"x" * 10)  # not JSON: refused while the copy runs
            write()
    # a body that never writes: no output either
    with writing_iso(live, output=str(out)):
        pass
    assert os.listdir(out.parent) == []
    # an existing output without overwrite: refused before anything starts
    out.write_bytes(b"keep")
    with pytest.raises(UsageError, match="File exists"):
        with writing_iso(live, output=str(out)):
            raise AssertionError("the body must not run")
    assert out.read_bytes() == b"keep" and os.listdir(out.parent) == ["x.iso"]
    with pytest.raises(UsageError, match="is also an input"):
        with writing_iso(live, output=str(src), overwrite=True):
            raise AssertionError("the body must not run")


def test_cli_copy_started_before_open_leaves_nothing(tmp_path: Path) -> None:
    """The CLI starts copying before it opens the ISO: a file that is no ISO, a refused config, still give one
    error line and no output (nor a temporary file)."""
    from conftest import run_ignkit

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    notiso = tmp_path / "not.iso"
    notiso.write_bytes(b"\0" * 100_000)
    config = tmp_path / "c.ign"
    config.write_text('{"ignition": {"version": "3.3.0"}}')
    r = run_ignkit("iso", "ignition", "embed", "-i", config, notiso, "-o", out_dir / "x.iso")
    assert r.returncode != 0 and r.stderr.startswith(b"ignkit: error: ") and r.stderr.count(b"\n") == 1, r.stderr
    r = run_ignkit("iso", "ignition", "embed", "-i", config, tmp_path / "missing.iso", "-o", out_dir / "x.iso")
    assert r.returncode == 2 and b"no such file" in r.stderr, r.stderr
    assert os.listdir(out_dir) == []
