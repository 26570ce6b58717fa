"""``ignkit merge`` end to end: a real process reading real files, stdin and a local HTTP server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ignkit", "merge", *args], input=stdin, capture_output=True,
                          timeout=60, cwd=cwd)


def write(path: Path, config: dict) -> str:
    path.write_text(json.dumps(config))
    return str(path)


@pytest.fixture
def configs(tmp_path: Path):
    p = write(tmp_path / "parent.ign", {"ignition": {"version": "3.3.0"},
                                        "storage": {"files": [{"path": "/etc/a", "mode": 420}]}})
    c = write(tmp_path / "child.ign", {"ignition": {"version": "3.4.0"},
                                       "storage": {"directories": [{"path": "/etc/a"}]},
                                       "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["k"]}]}})
    return p, c


EXPECTED = {"ignition": {"version": "3.4.0"}, "storage": {"directories": [{"path": "/etc/a"}]},
            "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["k"]}]}}


def test_merge_to_stdout_pretty(configs):
    r = run(*configs)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == EXPECTED
    assert r.stdout.startswith(b'{\n  "ignition": {\n    "version": "3.4.0"')  # pretty by default
    assert r.stdout.endswith(b"}\n")


def test_compact_and_output_file(configs, tmp_path):
    out = tmp_path / "out.ign"
    r = run(*configs, "--compact", "-o", str(out))
    assert r.returncode == 0 and r.stdout == b""
    text = out.read_bytes()
    assert text.count(b"\n") == 1 and json.loads(text) == EXPECTED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child.ign", "out.ign", "parent.ign"]  # no temp left


def test_stdin_once(configs):
    parent, child = configs
    r = run(parent, "-", stdin=Path(child).read_bytes())
    assert r.returncode == 0 and json.loads(r.stdout) == EXPECTED
    r = run("-", "-", stdin=b"{}")
    assert r.returncode == 2 and b"only once" in r.stderr


def test_spec_option(configs):
    r = run(*configs, "--spec", "3.6.0", "--compact")
    assert json.loads(r.stdout)["ignition"]["version"] == "3.6.0"
    r = run(*configs, "--spec", "3.3.0")
    assert r.returncode == 2 and r.stderr.startswith(b"ignkit: error: ") and b"down to 3.3.0" in r.stderr
    assert r.stdout == b""


def test_output_must_not_be_an_input(configs):
    parent, child = configs
    before = Path(parent).read_bytes()
    r = run(parent, child, "-o", parent)
    assert r.returncode == 2 and b"is also an input" in r.stderr
    assert Path(parent).read_bytes() == before


def test_bad_inputs_give_one_line(tmp_path, configs):
    parent, _ = configs
    (tmp_path / "bad.ign").write_text("{not json")
    out = tmp_path / "never.ign"
    for args in ([parent, str(tmp_path / "bad.ign")], [parent, str(tmp_path / "missing.ign")]):
        r = run(*args, "-o", str(out))
        assert r.returncode in (1, 2)
        assert r.stderr.startswith(b"ignkit: error: ") and r.stderr.count(b"\n") == 1, r.stderr
        assert b"Traceback" not in r.stderr
    assert not out.exists()


def test_resolve_local_and_http(tmp_path, httpserver):
    httpserver.expect_request("/remote.ign").respond_with_data(json.dumps(
        {"ignition": {"version": "3.2.0"}, "storage": {"files": [{"path": "/remote"}]}}))
    (tmp_path / "inc").mkdir()
    write(tmp_path / "inc" / "local.ign", {"ignition": {"version": "3.0.0"},
                                           "storage": {"files": [{"path": "/local"}]}})
    parent = write(tmp_path / "p.ign", {
        "ignition": {"version": "3.1.0", "config": {"merge": [{"source": "inc/local.ign"},
                                                             {"source": httpserver.url_for("/remote.ign")}]}},
        "storage": {"files": [{"path": "/p"}]}})
    r = run("p.ign", "--resolve", "--compact", cwd=tmp_path)  # relative to the parent file, not the cwd
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"ignition": {"version": "3.2.0"},
                                    "storage": {"files": [{"path": "/p"}, {"path": "/local"}, {"path": "/remote"}]}}
    # without --resolve the references stay for Ignition, which cannot read local files
    r = run(parent, "--compact")
    assert r.returncode == 1 and b"local files must be resolved" in r.stderr, r.stderr


def test_http_parent(httpserver, configs):
    _, child = configs
    httpserver.expect_request("/p.ign").respond_with_data(json.dumps(
        {"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "/etc/a"}]}}))
    r = run(httpserver.url_for("/p.ign"), child, "--compact")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == EXPECTED


def test_warnings_go_to_stderr(tmp_path, configs):
    parent, _ = configs
    typo = write(tmp_path / "typo.ign", {"ignition": {"version": "3.3.0"}, "storage": {"filez": []}})
    r = run(parent, typo, "--compact")
    assert r.returncode == 0
    assert r.stderr.decode().startswith(f"ignkit: {typo}: warning at $.storage.filez")
    assert "filez" not in json.loads(r.stdout)["storage"]


def test_help_says_pretty():
    r = subprocess.run([sys.executable, "-m", "ignkit", "merge", "--help"], capture_output=True, timeout=60)
    assert r.returncode == 0 and b"pretty" in r.stdout and b"--resolve" in r.stdout
