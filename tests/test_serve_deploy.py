"""deploy/ignkit-serve.service: a unit systemd accepts, whose command line `ignkit serve` accepts, for a
server that needs no root."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import CI_FIXTURES, REPO, TESTDATA, load_script
from servelib import Served

UNIT = REPO / "deploy" / "ignkit-serve.service"


def _exec_start() -> list[str]:
    text = re.sub(r"\\\n\s*", " ", UNIT.read_text())
    line = next(v for v in text.splitlines() if v.startswith("ExecStart="))
    return shlex.split(line.split("=", 1)[1])


def test_unit_is_hardened_and_its_command_line_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    text = UNIT.read_text()
    for setting in ("DynamicUser=yes", "ProtectSystem=strict", "ReadOnlyPaths=", "NoNewPrivileges=yes",
                    "CapabilityBoundingSet=\n", "PrivateTmp=yes", "ProtectHome=yes"):
        assert setting in text, setting
    argv = _exec_start()
    assert argv[:2] == ["/usr/local/bin/ignkit", "serve"]
    from ignkit.cli import main

    assert main(["serve", "--help"]) == 0
    helptext = capsys.readouterr().out
    for word in argv[2:]:
        if word.startswith("--"):
            assert word in helptext, word


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # The same unit with ExecStart pointing at this interpreter (verify checks the executable exists).
    unit = tmp_path / "ignkit-serve.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/ignkit serve", f"{sys.executable} -m ignkit serve"))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "" and r.stderr.strip() == "", r.stdout + r.stderr


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop it")
def test_serves_as_an_unprivileged_user_from_read_only_files(tmp_path: Path) -> None:
    mkiso = load_script(TESTDATA / "mkiso.py", "ignkit_testdata_mkiso_deploy")
    tmp_path.chmod(0o755)
    iso = tmp_path / "live.iso"
    mkiso.build_iso(iso, "x86_64")
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text("hosts:\n  - hostname: w1\n    mac: 52:54:00:00:00:01\n    install_dev: /dev/vda\n")
    dest = tmp_path / "dest.ign"
    shutil.copy(CI_FIXTURES / "customize" / "dest.ign", dest)
    for p in (iso, hosts, dest):
        p.chmod(0o444)
    for d in Path(tmp_path).parents:
        if not os.access(d, os.X_OK):
            pytest.skip(f"{d} is not searchable")
    prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs")
    probe = subprocess.run([*prefix, sys.executable, "-c", "import aiohttp, click, pycdlib"], capture_output=True,
                           cwd=tmp_path)
    if probe.returncode != 0:
        pytest.skip("this Python's packages are not readable by an unprivileged user here")
    with Served(["--hosts", hosts, "--iso", iso, "--dest-ignition", dest], prefix=prefix) as s:
        r = requests.get(f"{s.url}/hosts/w1.iso", timeout=30)
        assert r.status_code == 200 and len(r.content) == iso.stat().st_size
        out = subprocess.run(["ps", "-o", "user=", "-p", str(s.proc.pid)], capture_output=True, text=True)
        assert out.stdout.strip() in ("nobody", "65534")
