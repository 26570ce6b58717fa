"""The boot suite's shared machinery: tool checks, the Debian-parts ISO builds, ignkit runs, a boot pool.

Every boot is a named *case* (see ``cases.py``). When the first boot test asks for the ``lab`` fixture, the
lab submits every case that the selected tests name (``@pytest.mark.boot_case("...")``) to a pool of two
workers, so qemu boots run two at a time (2 cores) while the tests read their results in order. Artifacts
(the ISO builds, the customized images) are made once, by whichever worker needs them first.

Skips: when qemu/xorriso and friends are missing the suite is skipped, except under CI (``CI=true``), where
it fails so that CI cannot pass without booting anything.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bootlab import Lab, missing_tools  # noqa: E402

LABS: list[Lab] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "boot_case(*names): boot cases (tests/boot/cases.py) this test reads")


@pytest.fixture(scope="session")
def boot_tools() -> None:
    missing = missing_tools()
    if missing:
        msg = f"boot suite needs {', '.join(missing)} (see APT_PACKAGES in .ci/run)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest, boot_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Any:
    the_lab = Lab(tmp_path_factory.mktemp("bootlab"))
    LABS.append(the_lab)
    # Start every boot the selected tests will read, in test order, so two run at a time.
    for item in request.session.items:
        for mark in item.iter_markers("boot_case"):
            for name in mark.args:
                the_lab.submit(name)
    yield the_lab
    the_lab.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per boot: wall-clock seconds of the qemu process (two boots run at a time)."""
    rows = []
    for the_lab in LABS:
        for name, fut in the_lab._cases.items():
            if fut.done() and not fut.cancelled():
                exc = fut.exception()
                rows.append(f"{name}: " + (f"{fut.result().seconds:.1f} s" if exc is None
                                           else f"{type(exc).__name__}"))
    if rows:
        terminalreporter.write_sep("-", "qemu boots (TCG, two at a time)")
        for row in rows:
            terminalreporter.write_line(row)
