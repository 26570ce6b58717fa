"""`--debug` anywhere on the line, and IGNKIT_DEBUG=1: a traceback before the same error line, same exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CI_FIXTURES

INVALID = b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"rel"}]}}'


def run(args: list[str], env_debug: bool = False, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env.pop("IGNKIT_DEBUG", None)
    if env_debug:
        env["IGNKIT_DEBUG"] = "1"
    return subprocess.run([sys.executable, "-m", "ignkit", *args], input=stdin, capture_output=True, env=env,
                          timeout=120)


def cases(tmp: Path) -> list[tuple[list[str], int, bool]]:
    """(arguments, exit status, whether --debug adds a traceback: not for usage errors, and not where validate
    reports per file itself)"""
    bad = tmp / "bad.ign"
    bad.write_bytes(INVALID)
    iso = tmp / "not-an-iso.iso"
    iso.write_bytes(b"\0" * 4096)
    return [
        (["validate", str(tmp / "missing.ign")], 2, False),  # unreadable input
        (["validate", str(bad)], 1, False),  # checked and found wrong
        (["hash", str(tmp / "missing")], 2, True),
        (["hash", "--check", "sha512-" + "0" * 128, str(CI_FIXTURES / "customize" / "dest.ign")], 1, True),
        (["validate", "--no-such-option", str(bad)], 2, False),  # click usage error
        (["iso", "inspect", str(iso)], 2, True),  # not an ISO
        (["no-such-command"], 2, False),
    ]


@pytest.mark.parametrize("where", ["after", "before", "env"])
def test_debug_keeps_exit_status_and_error_line(tmp_path: Path, where: str) -> None:
    for args, code, top in cases(tmp_path):
        plain = run(args)
        assert plain.returncode == code, (args, plain.stderr)
        assert b"Traceback" not in plain.stderr
        if where == "after":
            dbg = run(args + ["--debug"])
        elif where == "before":
            dbg = run(["--debug"] + args)
        else:
            dbg = run(args, env_debug=True)
        assert dbg.returncode == code, (args, where, dbg.stderr.decode())
        lines = dbg.stderr.decode().splitlines()
        if top:
            assert plain.stderr.decode().startswith("ignkit: error: ") and len(plain.stderr.splitlines()) == 1
            assert lines[0] == "Traceback (most recent call last):", (args, where, lines[:3])
            assert lines[-1] == plain.stderr.decode().splitlines()[0], (args, where)
        else:
            assert (dbg.stdout, dbg.stderr) == (plain.stdout, plain.stderr)


def test_debug_in_the_middle_and_success_unchanged(tmp_path: Path) -> None:
    good = CI_FIXTURES / "customize" / "dest.ign"
    plain = run(["hash", str(good)])
    mid = run(["hash", "--debug", str(good)])
    assert plain.returncode == mid.returncode == 0
    assert plain.stdout == mid.stdout and mid.stderr == b""


def test_debug_after_double_dash_is_an_argument(tmp_path: Path) -> None:
    # After "--" the word is a file name like any other: ignkit looks for a file called --debug.
    r = run(["hash", "--", "--debug"])
    assert r.returncode == 2
    err = r.stderr.decode().splitlines()
    assert len(err) == 1 and err[0].startswith("ignkit: error: ") and "--debug" in err[0], err
