"""The upstream fixtures live in the repository (testdata/upstream/) and stay identical to the reference copies."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import CI_FIXTURES, IGN_FIXTURES, SHARED, UPSTREAM, needs_shared


def _tree(base: Path) -> dict[str, str]:
    return {str(p.relative_to(base)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(base.rglob("*")) if p.is_file()}


def test_fixtures_are_in_the_repository() -> None:
    notice = (UPSTREAM / "NOTICE").read_text()
    # origin, upstream commit and license are named
    for needle in ("github.com/coreos/coreos-installer", "bee4500186302e3773afe969ecabb441f2d77279",
                   "github.com/coreos/ignition", "Apache License 2.0"):
        assert needle in notice
    assert len(list((CI_FIXTURES / "iso").glob("*.iso.xz"))) == 11
    assert (IGN_FIXTURES / "validate-cases.jsonl").stat().st_size > 100_000
    assert (IGN_FIXTURES / "merge-cases.jsonl").is_file()
    # nothing in the tests reaches outside the repository for fixtures
    assert SHARED not in CI_FIXTURES.parents and SHARED not in IGN_FIXTURES.parents


@pytest.mark.parametrize("name", ["coreos-installer", "ignition"])
@needs_shared(SHARED / "fixtures")
def test_fixtures_identical_to_shared(name: str) -> None:
    assert _tree(UPSTREAM / name) == _tree(SHARED / "fixtures" / name)
