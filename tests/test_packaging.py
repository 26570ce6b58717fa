"""The wheel ships every subpackage and the schemas (pyproject lists packages explicitly)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _listed_packages() -> set[str]:
    text = (REPO / "pyproject.toml").read_text()
    m = re.search(r"^packages = \[(.*?)\]", text, re.M | re.S)
    assert m, "pyproject.toml has no explicit packages list"
    return set(re.findall(r'"([^"]+)"', m.group(1)))


def test_every_subpackage_is_listed() -> None:
    found = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "ignkit").rglob("__init__.py")
    }
    assert found | {"ignkit.schemas"} == _listed_packages()


def test_schemas_ship_as_package_data() -> None:
    import importlib.resources as resources

    names = {p.name for p in resources.files("ignkit.schemas").iterdir()}
    for version in ("3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0", "3.7.0-experimental"):
        assert f"ignition-{version}.json" in names


def test_wheel_carries_the_license_and_no_test_data(tmp_path: Path) -> None:
    import subprocess
    import sys
    import zipfile

    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)],
                       capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    (wheel,) = tmp_path.glob("ignkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    licenses = [n for n in names if n.endswith("/LICENSE") and ".dist-info/" in n]
    assert licenses, names
    text = zipfile.ZipFile(wheel).read(licenses[0]).decode()
    assert text == (REPO / "LICENSE").read_text() and "Apache License\n                           Version 2.0" in text
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert any(n.startswith("ignkit/schemas/ignition-3.4.0.json") for n in names)
    assert not any(n.startswith(("testdata/", "tests/")) for n in names)  # fixtures stay in the repository


def test_lower_bounds_are_the_ones_ci_tests() -> None:
    text = (REPO / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)\]", text, re.M | re.S)
    assert block
    declared = dict(re.findall(r'"([A-Za-z0-9_.-]+)>=([0-9][^",]*)"', block.group(1)))
    assert len(declared) == len(re.findall(r'^\s*"', block.group(1), re.M))  # every dependency has a lower bound
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (REPO / ".ci" / "lower-bounds.txt").read_text(), re.M))
    assert pins == declared
