"""``ignkit ignition from-secret``: worker.ign out of the worker-user-data-managed Secret."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ignkit.cli import main
from ignkit.errors import InputError
from ignkit.secret import user_data_from_secret

# What the Machine API's managed Secret holds: a pointer config at the Machine Config Server.
WORKER_IGN = json.dumps({
    "ignition": {
        "config": {"merge": [{"source": "https://api-int.ocp4.example.com:22623/config/worker"}]},
        "security": {"tls": {"certificateAuthorities": [
            {"source": "data:text/plain;charset=utf-8;base64,LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="}]}},
        "version": "3.2.0",
    }
}, separators=(",", ":")).encode()


def secret(user_data: bytes = WORKER_IGN) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "worker-user-data-managed", "namespace": "openshift-machine-api",
                     "creationTimestamp": "2025-07-10T08:05:11Z", "resourceVersion": "22087",
                     "uid": "8a6d3e1c-41c2-4f0b-9d57-2c3b3f0e6a11"},
        "type": "Opaque",
        "data": {"disableTemplating": base64.b64encode(b"true").decode(),
                 "userData": base64.b64encode(user_data).decode()},
    }


def test_decode_forms() -> None:
    as_json = json.dumps(secret(), indent=2).encode()
    assert user_data_from_secret(as_json) == WORKER_IGN
    assert user_data_from_secret(yaml.safe_dump(secret()).encode()) == WORKER_IGN
    assert user_data_from_secret(json.dumps({"kind": "List", "items": [secret()]}).encode()) == WORKER_IGN
    # The file `oc extract secret/worker-user-data-managed --keys=userData` writes: the config itself.
    assert user_data_from_secret(WORKER_IGN) == WORKER_IGN
    # oc get secret ... -o jsonpath='{.data.userData}'
    assert user_data_from_secret(base64.b64encode(WORKER_IGN) + b"\n") == WORKER_IGN
    sd = {"kind": "Secret", "stringData": {"userData": WORKER_IGN.decode()}}
    assert user_data_from_secret(json.dumps(sd).encode()) == WORKER_IGN


@pytest.mark.parametrize("doc,msg", [
    (b"", "empty input"),
    (b"hello world", "neither a Secret nor an Ignition config"),
    (json.dumps({"kind": "ConfigMap", "data": {"userData": "e30="}}).encode(), "a ConfigMap, not a Secret"),
    (json.dumps({"kind": "Secret", "data": {"value": "e30="}}).encode(), "has no userData \\(keys: value\\)"),
    (json.dumps({"kind": "Secret", "data": {"userData": "***"}}).encode(), "not valid base64"),
    (json.dumps({"kind": "List", "items": []}).encode(), "a List of 0 objects"),
])
def test_decode_errors(doc: bytes, msg: str) -> None:
    with pytest.raises(InputError, match=msg):
        user_data_from_secret(doc, source="s.json")


def test_cli_prints_config_byte_exact(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    p = tmp_path / "secret.json"
    p.write_text(json.dumps(secret(), indent=2))
    assert main(["ignition", "from-secret", str(p)]) == 0
    out = capsysbinary.readouterr()
    assert out.out == WORKER_IGN and out.err == b""
    dest = tmp_path / "worker.ign"
    assert main(["ignition", "from-secret", str(p), "-o", str(dest)]) == 0
    assert hashlib.sha512(dest.read_bytes()).hexdigest() == hashlib.sha512(WORKER_IGN).hexdigest()
    assert json.loads(p.read_text()) == secret()  # input untouched


def test_cli_stdin_yaml() -> None:
    r = subprocess.run([sys.executable, "-m", "ignkit", "ignition", "from-secret", "-"],
                       input=yaml.safe_dump(secret()).encode(), capture_output=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == WORKER_IGN


def test_cli_invalid_config_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = json.dumps({"ignition": {"version": "3.2.0"},
                      "storage": {"files": [{"path": "relative/path"}]}}).encode()
    p = tmp_path / "secret.json"
    p.write_text(json.dumps(secret(bad)))
    assert main(["ignition", "from-secret", str(p), "-o", str(tmp_path / "worker.ign")]) == 1
    cap = capsys.readouterr()
    assert cap.out == "" and not (tmp_path / "worker.ign").exists()
    assert cap.err == (f"ignkit: error: {p}: userData is not a valid Ignition config: "
                       "error at $.storage.files.0.path, line 1 col 67: path not absolute\n")
    two = json.dumps({"ignition": {"version": "3.2.0"},
                      "storage": {"files": [{"path": "a"}, {"path": "b"}]}}).encode()
    p.write_text(json.dumps(secret(two)))
    assert main(["ignition", "from-secret", str(p)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "(and 1 more; see them with --no-validate | ignkit validate -)" in err
    p.write_text(json.dumps(secret(bad)))
    # --no-validate prints it anyway.
    assert main(["ignition", "from-secret", "--no-validate", str(p)]) == 0
    assert capsys.readouterr().out.encode() == bad


def test_cli_not_a_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "cm.json"
    p.write_text(json.dumps({"kind": "ConfigMap", "data": {}}))
    assert main(["ignition", "from-secret", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ignkit: error: ") and "not a Secret" in err and err.count("\n") == 1
    assert main(["ignition", "from-secret", str(tmp_path / "missing.json")]) == 2


def test_source_may_be_a_url_and_usage_says_so(artifact_server: object, tmp_path: Path) -> None:
    from conftest import run_ignkit

    srv = artifact_server
    srv.files["/secret.json"] = json.dumps(secret()).encode()  # type: ignore[attr-defined]
    r = run_ignkit("ignition", "from-secret", srv.url("/secret.json"))  # type: ignore[attr-defined]
    assert (r.returncode, r.stdout, r.stderr) == (0, WORKER_IGN, b"")
    usage = run_ignkit("ignition", "from-secret", "--help").stdout.decode().splitlines()[0]
    assert usage == "Usage: ignkit ignition from-secret [OPTIONS] FILE|URL|-"
