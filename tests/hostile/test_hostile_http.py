"""A misbehaving HTTP server on 127.0.0.1 (issue 10 items 9 and 21): a body trickling one byte at a time and a
server that never answers both end at the overall fetch deadline (IGNKIT_FETCH_DEADLINE, set short here), and
no message echoes the password of a URL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hostile_cases import CONFIG, HostileServer, assert_refused

DEADLINE = {"IGNKIT_FETCH_DEADLINE": "2"}


def _merge_ref(tmp: Path, url: str) -> str:
    (tmp / "parent.ign").write_text(json.dumps(
        {"ignition": {"version": "3.4.0", "config": {"merge": [{"source": url}]}}}))
    return "parent.ign"


CASES = {
    "hash-trickle": lambda tmp, srv: ["hash", srv.url("/trickle")],
    "hash-silent": lambda tmp, srv: ["hash", srv.url("/silent")],
    "merge-url-trickle": lambda tmp, srv: ["merge", srv.url("/trickle"), "-o", "out.ign"],
    "merge-resolve-trickle": lambda tmp, srv: ["merge", "--resolve", _merge_ref(tmp, srv.url("/trickle")),
                                               "-o", "out.ign"],
    "merge-resolve-silent": lambda tmp, srv: ["merge", "--resolve", _merge_ref(tmp, srv.url("/silent")),
                                              "-o", "out.ign"],
    "stream-show-silent": lambda tmp, srv: ["stream", "show", srv.url("/silent")],
    "from-secret-trickle": lambda tmp, srv: ["ignition", "from-secret", srv.url("/trickle"), "-o", "out.ign"],
    "embed-dest-ignition-url-trickle": lambda tmp, srv: [
        "embed", "in.iso", "--dest-ignition-url", srv.url("/trickle"), "-o", "out.iso"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fetch_deadline(case: str, tmp_path: Path, hostile_server: HostileServer, iso_x86: Path) -> None:
    shutil.copyfile(iso_x86, tmp_path / "in.iso")
    (tmp_path / "c.ign").write_bytes(CONFIG)
    args = CASES[case](tmp_path, hostile_server)
    msg = assert_refused(args, tmp_path, env=DEADLINE, limit=10)
    assert "did not finish within 2 s" in msg or "timed out" in msg or "too many retries" in msg, msg


@pytest.mark.parametrize("path", ["/missing", "/trickle"])
def test_password_never_echoed(path: str, tmp_path: Path, hostile_server: HostileServer) -> None:
    url = hostile_server.url(path, userinfo="admin:s3cret-pw@")
    msg = assert_refused(["hash", url], tmp_path, env=DEADLINE, limit=10)
    assert "s3cret-pw" not in msg and "admin:***@" in msg, msg
    msg = assert_refused(["merge", url], tmp_path, env=DEADLINE, limit=10)
    assert "s3cret-pw" not in msg, msg


@pytest.mark.parametrize("value", ["0", "-3", "nan", "soon"])
def test_deadline_setting_checked(value: str, tmp_path: Path, hostile_server: HostileServer) -> None:
    assert_refused(["hash", hostile_server.url("/config/1")], tmp_path, env={"IGNKIT_FETCH_DEADLINE": value},
                   expect="IGNKIT_FETCH_DEADLINE")
