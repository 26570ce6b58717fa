"""The boot suite skips when its tools are missing on a developer's machine, and fails instead under CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_without_tools(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = str(tmp_path)  # no qemu, no xorriso, no apt
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/boot/test_bootiso.py::test_aarch64_boot_records"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_missing_tools_skip_locally(tmp_path):
    proc = run_without_tools(tmp_path, None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout


def test_missing_tools_fail_under_ci(tmp_path):
    proc = run_without_tools(tmp_path, "true")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "boot suite needs xorriso" in proc.stdout
    assert "1 error" in proc.stdout
