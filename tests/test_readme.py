"""The README's examples work as written."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from ignkit.cli import main
from ignkit.inventory import load_inventory

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_inventory_example_loads(tmp_path: Path) -> None:
    block = re.search(r"```yaml\n(.*?)```", README, re.S)
    assert block, "README has no yaml example"
    path = tmp_path / "hosts.yaml"
    path.write_text(block.group(1))
    (host,) = load_inventory(path)
    assert host.hostname == "worker-0.example.com"
    assert host.macs == ["52:54:00:00:00:10"]
    assert [(a.ip, a.prefix) for a in host.addresses] == [("192.0.2.10", 24)]
    assert host.gateway == "192.0.2.1" and host.dns == ["192.0.2.53"]
    assert host.install_dev == "/dev/sda" and host.console == ["ttyS0,115200n8"]


def _flow_commands() -> list[list[str]]:
    section = README.split("## Typical day-2 flow", 1)[1].split("##", 1)[0]
    code = "\n".join(line for line in section.splitlines() if line.startswith("    "))
    text = re.sub(r"\\\n\s*", " ", code)
    commands = []
    for line in text.splitlines():
        for part in line.split("|"):
            words = shlex.split(part.split(">")[0])
            if words[:1] == ["ignkit"]:
                commands.append(words[1:])
    return commands


@pytest.mark.parametrize("argv", _flow_commands(), ids=lambda a: " ".join(a[:2]))
def test_day2_flow_options_exist(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # Every option the README shows is one the command knows: --help after the subcommand path.
    path = [w for w in argv if not w.startswith("-")][:2]
    assert main([*path[:1], *([path[1]] if path[0] in ("ignition", "csr") else []), "--help"]) == 0
    helptext = capsys.readouterr().out
    for word in argv:
        if word.startswith("--"):
            assert word.split("=")[0] in helptext, f"{word} is not an option of {' '.join(path)}"


# --- The install lines and the library example, run as written -------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
SKIP_COPY = {".git", ".venv", "build", "dist", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
             "__pycache__", "out"}


def _indented_line(after: str) -> str:
    """The first indented (code) line after the paragraph starting with ``after``."""
    rest = README.split(after, 1)[1]
    return next(line.strip() for line in rest.splitlines() if line.startswith("    ") and line.strip())


FIRST = _indented_line("Install into a virtualenv")
TEST = _indented_line("inside an already active virtualenv.")


def _clone(tmp: Path) -> Path:
    """The repository's files as a fresh checkout has them (no virtualenv, no build outputs)."""
    def ignore(directory: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in SKIP_COPY or n.endswith(".egg-info")}
        if Path(directory) == REPO / "testdata":
            skip.add("build")
        if Path(directory) == REPO / "testdata" / "demo":
            skip.add("demo.iso")
        return skip

    dest = tmp / "ignkit"
    shutil.copytree(REPO, dest, ignore=ignore, symlinks=True)
    return dest


def _externally_managed_python() -> Optional[Path]:
    """Debian's /usr/bin/python3 when it carries PEP 668's marker (pip install outside a venv refused)."""
    python = Path("/usr/bin/python3")
    if not python.exists():
        return None
    r = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                       capture_output=True, text=True)
    marker = Path(r.stdout.strip()) / "EXTERNALLY-MANAGED"
    return python if r.returncode == 0 and marker.exists() else None


def _env(path_dirs: list[Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONWARNINGS", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("IGNKIT_")}
    env["PATH"] = os.pathsep.join([*map(str, path_dirs), "/usr/local/bin", "/usr/bin", "/bin"])
    return env


def _run_line(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)


def _first_line_here(tmp: Path) -> str:
    # as written, except that the ISO goes to this test's directory rather than a shared /tmp/worker-0.iso
    assert FIRST.count("/tmp/worker-0.iso") == 2
    return FIRST.replace("/tmp/worker-0.iso", str(tmp / "worker-0.iso"))


def _check_first_line_output(r: subprocess.CompletedProcess[str]) -> None:
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(r"^state: +customized", r.stdout, re.M), r.stdout


@pytest.mark.install
def test_first_and_test_commands_on_an_externally_managed_python(tmp_path: Path) -> None:
    """README's first command and test command, verbatim, with Debian 12's system python3 first on PATH."""
    python = _externally_managed_python()
    if python is None:
        pytest.skip("no externally managed (PEP 668) /usr/bin/python3 on this machine")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(python)
    env = _env([bindir])
    clone = _clone(tmp_path)
    refused = _run_line("python3 -m pip install --dry-run .", clone, env)
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr  # the case at hand
    # the test command, with pytest narrowed to one quick module (the whole suite is what CI runs)
    assert TEST.endswith(" -m pytest -q")
    r = _run_line(TEST + " tests/test_readme.py -k inventory", clone, env)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-3000:])
    assert "1 passed" in r.stdout
    _check_first_line_output(_run_line(_first_line_here(tmp_path), clone, env))
    assert (clone / "testdata" / "demo" / "demo.iso").is_file()


@pytest.mark.install
def test_first_command_inside_an_active_virtualenv(tmp_path: Path) -> None:
    active = tmp_path / "active"
    subprocess.run([sys.executable, "-m", "venv", str(active)], check=True, capture_output=True)
    env = _env([active / "bin"])
    env["VIRTUAL_ENV"] = str(active)
    clone = _clone(tmp_path)
    _check_first_line_output(_run_line(_first_line_here(tmp_path), clone, env))


def test_library_example_runs_as_written(tmp_path: Path, fixture_isos: dict[str, Path]) -> None:
    block = re.search(r"## As a library\n\n```python\n(.*?)```", README, re.S)
    assert block, "README has no library example"
    (tmp_path / "worker.ign").write_bytes((REPO / "testdata" / "demo" / "worker.ign").read_bytes())
    shutil.copyfile(fixture_isos["embed-areas-2023-07.x86_64"], tmp_path / "rhcos-live.x86_64.iso")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-c", block.group(1)], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^sha512-[0-9a-f]{128}$", r.stdout, re.M)
    assert "x86_64" in r.stdout
