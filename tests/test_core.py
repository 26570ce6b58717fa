"""The CLI contract every command shares, and atomic output files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_ignkit as run

from ignkit.cli import main
from ignkit.errors import CheckFailed, InputError, UsageError
from ignkit.outfile import atomic_output, write_bytes_atomic


def test_help_lists_every_command() -> None:
    r = run("--help")
    assert r.returncode == 0
    out = r.stdout.decode()
    for name in ("validate", "hash", "merge", "iso", "embed", "pxe", "stream", "download", "csr", "ignition"):
        assert f"  {name} " in out


def test_unknown_command_is_one_line_exit_2() -> None:
    r = run("no-such-command")
    assert r.returncode == 2
    assert r.stderr.decode().splitlines() == ["ignkit: error: No such command 'no-such-command'."]
    assert b"Traceback" not in r.stderr


def test_unknown_option_is_one_line_exit_2() -> None:
    r = run("--no-such-option")
    assert r.returncode == 2
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ignkit: error: No such option")


@pytest.mark.parametrize(
    "exc, code",
    [(UsageError("bad combination"), 2), (InputError("x.ign: not found"), 2), (CheckFailed("mismatch"), 1)],
)
def test_library_errors_map_to_exit_status(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                           exc: Exception, code: int) -> None:
    import click

    from ignkit import cli as climod

    @click.command()
    def boom() -> None:
        raise exc

    monkeypatch.setattr(climod.LazyGroup, "get_command", lambda self, ctx, name: boom)
    assert main(["boom"]) == code
    err = capsys.readouterr().err
    assert err == f"ignkit: error: {exc}\n"


def test_debug_shows_traceback_and_keeps_exit_status(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import click

    from ignkit import cli as climod

    @click.command()
    def boom() -> None:
        raise InputError("broken")

    monkeypatch.setattr(climod.LazyGroup, "get_command", lambda self, ctx, name: boom)
    for argv in (["--debug", "boom"], ["boom", "--debug"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("Traceback") and 'raise InputError("broken")' in err
        assert err.splitlines()[-1] == "ignkit: error: broken"


def test_atomic_output_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    write_bytes_atomic(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_atomic_output_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as f:
            f.write(b"partial")
            raise RuntimeError("fail midway")
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_refuses_existing_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"keep")
    with pytest.raises(UsageError, match="already exists"):
        write_bytes_atomic(target, b"x", overwrite=False)
    assert target.read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_atomic_output_mode(tmp_path: Path) -> None:
    target = tmp_path / "key.nmconnection"
    write_bytes_atomic(target, b"[connection]\n", mode=0o600)
    assert (os.stat(target).st_mode & 0o777) == 0o600


def test_help_and_version_exit_0() -> None:
    import ignkit

    r = run("--version")
    # ignkit.__version__ is the one source (pyproject reads it): no package metadata read at start-up
    assert r.returncode == 0 and r.stdout == f"ignkit, version {ignkit.__version__}\n".encode()
    r = run("validate", "--help")
    assert r.returncode == 0 and b"Usage: ignkit validate" in r.stdout



def test_atomic_output_refuses_missing_directory_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"missing/out\.bin: directory .*missing does not exist"):
        write_bytes_atomic(tmp_path / "missing" / "out.bin", b"x")
    with pytest.raises(UsageError, match="is a directory"):
        write_bytes_atomic(tmp_path, b"x")


def test_atomic_output_uncreatable_file_names_the_target() -> None:
    from ignkit.errors import IgnkitError

    # /proc refuses new files even for root: the error names the target, not a temporary file.
    with pytest.raises(IgnkitError, match=r"^/proc/out\.bin: cannot create: "):
        write_bytes_atomic("/proc/out.bin", b"x")


def test_atomic_output_device_full_is_one_clear_error(tmp_path: Path) -> None:
    from ignkit.errors import IgnkitError

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    # Writing through to a full device: emulate by writing into /dev/full's errno from inside the body.
    with pytest.raises(IgnkitError, match=r"out\.bin: cannot write: No space left on device"):
        with atomic_output(tmp_path / "out.bin") as f:
            with open("/dev/full", "wb") as full:
                full.write(b"x" * 10)
                full.flush()
            f.write(b"never")
    assert list(tmp_path.iterdir()) == []
