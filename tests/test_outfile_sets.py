"""Sets of output files written all or nothing (outfile.write_files_atomic) and the commands that use it."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_ignkit as run

from ignkit.errors import IgnkitError, InputError, UsageError
from ignkit.netconf import keyfiles_listing, write_keyfiles
from ignkit.outfile import TERMINAL_REFUSAL, binary_stdout, write_files_atomic


def _all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def test_set_written_whole(tmp_path: Path) -> None:
    seen: list[int] = []
    out = write_files_atomic([(tmp_path / "a", b"A"), (tmp_path / "sub" / "b", lambda tmp: Path(tmp).write_bytes(b"B"))],
                             mode=0o640, progress=seen.append)
    assert out == [str(tmp_path / "a"), str(tmp_path / "sub" / "b")] and seen == [0, 1]
    assert (tmp_path / "a").read_bytes() == b"A" and (tmp_path / "sub" / "b").read_bytes() == b"B"
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o640
    assert _all_files(tmp_path) == ["a", "sub/b"]  # no temporary file left


def test_failure_in_the_middle_leaves_no_file(tmp_path: Path) -> None:
    def boom(tmp: str) -> None:
        Path(tmp).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    files = [(tmp_path / "1", b"one"), (tmp_path / "2", b"two"), (tmp_path / "3", boom), (tmp_path / "4", b"four")]
    with pytest.raises(OSError, match="No space left"):
        write_files_atomic(files)
    assert _all_files(tmp_path) == []
    # Interrupted (Ctrl-C) in the middle: the same.
    def interrupt(tmp: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_files_atomic([(tmp_path / "1", b"one"), (tmp_path / "2", interrupt)])
    assert _all_files(tmp_path) == []


def test_rename_phase_failure_unlinks_published(tmp_path: Path) -> None:
    # Without overwrite, targets are linked one by one; one that appears meanwhile undoes the others.
    def sneak(tmp: str) -> None:
        Path(tmp).write_bytes(b"2")
        (tmp_path / "3").write_bytes(b"someone else's")

    with pytest.raises(UsageError, match="3: File exists"):
        write_files_atomic([(tmp_path / "1", b"1"), (tmp_path / "2", sneak), (tmp_path / "3", b"3")])
    assert _all_files(tmp_path) == ["3"] and (tmp_path / "3").read_bytes() == b"someone else's"


def test_refusals_come_first(tmp_path: Path) -> None:
    (tmp_path / "b").write_bytes(b"old")
    (tmp_path / "d").mkdir()
    for files, exc, msg in [
        ([(tmp_path / "a", b"A"), (tmp_path / "b", b"B")], UsageError, "b: File exists"),
        ([(tmp_path / "a", b"A"), (tmp_path / "d", b"D")], UsageError, "d: is a directory"),
        ([(tmp_path / "a", b"A"), (tmp_path / "." / "a", b"A")], UsageError, "given twice"),
        ([(tmp_path / "a", b"A"), (tmp_path / "b" / "c", b"C")], IgnkitError, "cannot create directory"),
    ]:
        with pytest.raises(exc, match=msg):
            write_files_atomic(files)
        assert _all_files(tmp_path) == ["b"], files
    write_files_atomic([(tmp_path / "a", b"A"), (tmp_path / "b", b"B")], overwrite=True)
    assert (tmp_path / "b").read_bytes() == b"B" and _all_files(tmp_path) == ["a", "b"]


def _limited(limit: int) -> None:
    """In the child: a real file size limit (writes past it fail with EFBIG), as a full disk would."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _run_limited(limit: int, *args: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "ignkit", *map(str, args)], capture_output=True, timeout=120,
                          stdin=subprocess.DEVNULL, preexec_fn=lambda: _limited(limit))


def test_extract_pxe_all_or_nothing(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    # Its files are initrd.img (12 bytes), kernel.img (128 KiB), rootfs.img, vmlinuz: the second one fails.
    src = fixture_isos["embed-areas-2023-07.s390x"]
    r = _run_limited(4096, "iso", "extract", "pxe", "-C", tmp_path / "pxe", src)
    lines = r.stderr.decode().splitlines()
    assert r.returncode == 2 and len(lines) == 1, lines
    assert lines[0] == f"ignkit: error: {tmp_path / 'pxe' / 'embed-areas-2023-07.s390x-kernel.img'}: cannot write: " \
                       "File too large"
    assert _all_files(tmp_path) == []
    r = run("iso", "extract", "pxe", "-C", tmp_path / "pxe", src)
    assert r.returncode == 0 and len(_all_files(tmp_path)) == 4


def test_pxe_config_hosts_all_or_nothing(tmp_path: Path) -> None:
    hosts = tmp_path / "h.yaml"
    hosts.write_text(json.dumps({"hosts": [
        {"hostname": "a", "mac": "52:54:00:00:00:01"},
        {"hostname": "b", "mac": "52:54:00:00:00:02", "kargs": ["k=" + "x" * 1000]}]}))

    def args(out: Path) -> list[object]:
        return ["pxe", "config", "-F", "pxelinux", "--kernel-url", "k", "--initramfs-url", "i", "--rootfs-url",
                "http://h/r", "--ignition-url", "http://h/{hostname}.ign", "--install-dev", "/dev/sda",
                "--hosts", hosts, "--output-dir", out]

    r = run(*args(tmp_path / "ok"))
    assert r.returncode == 0, r.stderr
    sizes = sorted(os.path.getsize(tmp_path / "ok" / f) for f in _all_files(tmp_path / "ok"))
    assert len(sizes) == 2 and sizes[1] - sizes[0] > 900
    r = _run_limited(sizes[0] + 100, *args(tmp_path / "out"))  # the first host's file fits, the second's does not
    lines = r.stderr.decode().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "cannot write: File too large" in lines[0], lines
    assert not (tmp_path / "out").exists() or _all_files(tmp_path / "out") == []


def test_keyfiles_written_once_for_both_commands(tmp_path: Path) -> None:
    files = {"b.nmconnection": b"[connection]\nid=b\n", "a.nmconnection": b"[connection]\nid=a\n"}
    assert keyfiles_listing(files) == (b"########## a.nmconnection ##########\n[connection]\nid=a\n\n"
                                       b"########## b.nmconnection ##########\n[connection]\nid=b\n")
    out = write_keyfiles(files, tmp_path / "kf")
    assert out == [str(tmp_path / "kf" / "a.nmconnection"), str(tmp_path / "kf" / "b.nmconnection")]
    assert all(os.stat(p).st_mode & 0o777 == 0o600 for p in out)
    (tmp_path / "kf" / "a.nmconnection").unlink()
    with pytest.raises(UsageError, match="b.nmconnection: File exists"):
        write_keyfiles(files, tmp_path / "kf")
    assert _all_files(tmp_path / "kf") == ["b.nmconnection"]  # nothing of the refused set was written
    for bad in ("../x", "", "..", "a/b"):
        with pytest.raises(InputError, match="not a plain file name"):
            write_keyfiles({bad: b"x"}, tmp_path / "kf2")
    assert not (tmp_path / "kf2").exists()


def test_binary_stdout_message_parameter() -> None:
    import pty

    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "wb", closefd=False) as tty:
            with pytest.raises(UsageError) as e:
                binary_stdout(tty)
            assert e.value.message.startswith(TERMINAL_REFUSAL + " (")
            with pytest.raises(UsageError) as e:
                binary_stdout(tty, message=TERMINAL_REFUSAL)
            assert e.value.message == TERMINAL_REFUSAL
    finally:
        os.close(master)
        os.close(slave)
