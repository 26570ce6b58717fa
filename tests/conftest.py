"""Shared test helpers: where the shared fixtures live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# ../shared beside the checkout (CI clones main with shared/ beside it); IGNKIT_SHARED overrides.
SHARED = Path(os.environ.get("IGNKIT_SHARED", REPO.parent / "shared"))
CI_FIXTURES = SHARED / "fixtures" / "coreos-installer"
IGN_FIXTURES = SHARED / "fixtures" / "ignition"
TESTDATA = REPO / "testdata"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared fixtures not found at {SHARED} (set IGNKIT_SHARED)")
    return SHARED
