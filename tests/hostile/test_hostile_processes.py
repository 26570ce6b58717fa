"""csr watch against a misbehaving oc (issue 10 item 10): a non-number timeout is refused, a hanging oc does not
outlive --timeout, and oc printing a hostile document is refused like a file would be."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hostile_cases import HOSTS, assert_refused


def fake_oc(tmp: Path, body: str) -> Path:
    path = tmp / "oc"
    path.write_text("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return path


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "-inf"])
def test_watch_timeout_must_be_a_finite_number(value: str, tmp_path: Path) -> None:
    (tmp_path / "h.yaml").write_text(HOSTS)
    fake_oc(tmp_path, 'echo \'{"items":[]}\'')
    assert_refused(["csr", "watch", "--hosts", "h.yaml", "--oc", "./oc", "--timeout", value], tmp_path,
                   expect="--timeout")


@pytest.mark.parametrize("value", ["nan", "0", "inf"])
def test_watch_interval_must_be_a_positive_number(value: str, tmp_path: Path) -> None:
    (tmp_path / "h.yaml").write_text(HOSTS)
    fake_oc(tmp_path, 'echo \'{"items":[]}\'')
    assert_refused(["csr", "watch", "--hosts", "h.yaml", "--oc", "./oc", "--interval", value], tmp_path,
                   expect="--interval")


def test_watch_hanging_oc_ends_with_the_timeout(tmp_path: Path) -> None:
    (tmp_path / "h.yaml").write_text(HOSTS)
    fake_oc(tmp_path, "exec sleep 60")
    assert_refused(["csr", "watch", "--hosts", "h.yaml", "--oc", "./oc", "--timeout", "1"], tmp_path,
                   expect="did not finish", limit=10)


def test_watch_oc_prints_deep_json(tmp_path: Path) -> None:
    (tmp_path / "h.yaml").write_text(HOSTS)
    (tmp_path / "deep.json").write_text("[" * 50000)
    fake_oc(tmp_path, 'cat "$(dirname "$0")/deep.json"')
    assert_refused(["csr", "watch", "--hosts", "h.yaml", "--oc", "./oc", "--timeout", "1"], tmp_path,
                   expect="nested deeper than")
