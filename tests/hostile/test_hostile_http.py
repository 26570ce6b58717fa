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


def _levels(tmp: Path, depth: int = 8, spellings: int = 10) -> None:
    """l0.ign merges l1.ign under ``spellings`` spellings of its path, l1 merges l2 likewise, ..."""
    for i in range(depth + 1):
        names = [f"l{i + 1}.ign", f"./l{i + 1}.ign", f"sub/../l{i + 1}.ign", f"{tmp}/l{i + 1}.ign",
                 f"file://{tmp}/l{i + 1}.ign", f".//l{i + 1}.ign", f"sub/./../l{i + 1}.ign", f"{tmp}/./l{i + 1}.ign",
                 f"{tmp}/sub/../l{i + 1}.ign", f"./sub/../l{i + 1}.ign"][:spellings]
        cfg: dict = {"ignition": {"version": "3.4.0"},
                     "storage": {"files": [{"path": f"/f{i}", "contents": {"source": "data:,x"}}]}}
        if i < depth:
            cfg["ignition"]["config"] = {"merge": [{"source": n} for n in names]}
        (tmp / f"l{i}.ign").write_text(json.dumps(cfg))


def test_merge_resolve_local_spellings_read_once(tmp_path: Path) -> None:
    """Item 8: 8 levels x 10 spellings of the same file: each file read and rendered once, in well under a second
    of work (it used to be 10**8 renderings)."""
    import subprocess
    import sys
    import time

    from hostile_cases import REPO

    (tmp_path / "sub").mkdir()
    _levels(tmp_path)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "ignkit", "merge", "--resolve", "l0.ign"], cwd=tmp_path,
                          capture_output=True, timeout=30, env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - start < 8
    files = json.loads(proc.stdout)["storage"]["files"]
    assert sorted(f["path"] for f in files) == [f"/f{i}" for i in range(9)]


def test_merge_resolve_url_query_strings_capped(tmp_path: Path, hostile_server: HostileServer) -> None:
    """Item 8 over HTTP: distinct query strings cannot be merged away, so the number of configs read is capped."""
    msg = assert_refused(["merge", "--resolve", hostile_server.url("/config/0"), "-o", "out.ign"], tmp_path,
                         limit=15)
    assert "referenced configs" in msg, msg
    assert len(hostile_server.hits) <= 101
