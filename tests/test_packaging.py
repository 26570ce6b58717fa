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
