"""``ignkit merge`` end to end: a real process reading real files, stdin and a local HTTP server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_ignkit


def run(*args: str, stdin: bytes | None = b"", cwd: Path | None = None) -> subprocess.CompletedProcess:
    return run_ignkit("merge", *args, stdin=stdin, cwd=cwd)


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


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/c.ign"


def ref(source: str, **extra) -> dict:
    return {"ignition": {"version": "3.3.0", "config": {"merge": [dict(source=source, **extra)]}}}


BAD = {  # name: (files to write, arguments, exit status, what the message says)
    "missing file": ({}, ["missing.ign"], 2, "missing.ign: no such file"),
    "directory": ({}, ["adir"], 2, "adir: is a directory"),
    "not JSON": ({"bad.ign": "{not json"}, ["bad.ign"], 1,
                 "bad.ign: error at line 1 col 3: invalid character 'n' looking for beginning of object key string"),
    "empty": ({"empty.ign": ""}, ["empty.ign"], 1, "empty.ign: couldn't parse config: not a config (empty)"),
    "invalid config": ({"rel.ign": {"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "rel"}]}}},
                       ["rel.ign"], 1, "rel.ign: error at $.storage.files.0.path, line 1 col 67: path not absolute"),
    "unsupported version": ({"v.ign": {"ignition": {"version": "3.9.0"}}}, ["v.ign"], 1,
                            "v.ign: couldn't parse config: unsupported config version"),
    "unreachable URL": ({}, ["@closed"], 2, "cannot connect"),
    "unreachable reference": ({"r.ign": "@closed-ref"}, ["r.ign", "--resolve"], 2,
                              "r.ign -> merge[0] (http://127.0.0.1:"),
    "hash mismatch": ({"h.ign": ref("data:,%7B%22ignition%22%3A%7B%22version%22%3A%223.3.0%22%7D%7D",
                                    verification={"hash": "sha512-" + "0" * 128})},
                      ["h.ign", "--resolve"], 1, "-> merge[0] (data:,%7B%22ignition"),
    "missing local reference": ({"l.ign": ref("nowhere.ign")}, ["l.ign", "--resolve"], 2,
                                "l.ign -> merge[0] (nowhere.ign): cannot read "),
    "invalid referenced config": ({"i.ign": ref("rel.ign"), "rel.ign": {"ignition": {"version": "3.3.0"},
                                                                         "storage": {"files": [{"path": "rel"}]}}},
                                  ["i.ign", "--resolve"], 1, "i.ign -> merge[0] (rel.ign): error at $.storage.files.0"),
    "invalid result": ({"link.ign": {"ignition": {"version": "3.3.0"},
                                     "storage": {"links": [{"path": "/a", "target": "/b"}]}},
                        "under.ign": {"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "/a/x"}]}}},
                       ["link.ign", "under.ign"], 1, "merging configs resulted in an invalid config: error at "
                                                     "$.storage.files.0: file path includes link in config"),
    "down-translation": ({"new.ign": {"ignition": {"version": "3.4.0"}}}, ["new.ign", "--spec", "3.3.0"], 2,
                         "new.ign: cannot translate a 3.4.0 config down to 3.3.0"),
    "output onto an input": ({"in.ign": {"ignition": {"version": "3.3.0"}}}, ["in.ign", "-o", "in.ign"], 2,
                             "in.ign: is also an input"),
    "output is a directory": ({"in.ign": {"ignition": {"version": "3.3.0"}}}, ["in.ign", "-o", "adir"], 2,
                              "adir: is a directory"),
    "output directory missing": ({"in.ign": {"ignition": {"version": "3.3.0"}}}, ["in.ign", "-o", "no/x.ign"], 2,
                                 "no/x.ign: no directory no to write it in"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_is_one_line_with_its_exit_status(case, tmp_path):
    files, args, status, message = BAD[case]
    (tmp_path / "adir").mkdir()
    closed = closed_port_url()
    for name, content in files.items():
        if content == "@closed-ref":
            content = ref(closed)
        (tmp_path / name).write_text(content if isinstance(content, str) else json.dumps(content))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    args = [closed if a == "@closed" else a for a in args]
    if "-o" not in args:
        args += ["-o", "out.ign"]
    r = run(*args, cwd=tmp_path)
    err = r.stderr.decode()
    assert (r.returncode, r.stdout) == (status, b""), err
    assert err.startswith("ignkit: error: ") and err.count("\n") == 1 and err.endswith("\n"), err
    assert message in err
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # inputs untouched, no output, no temporary file left
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == ["adir"]
    assert not any((tmp_path / "adir").iterdir())


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
