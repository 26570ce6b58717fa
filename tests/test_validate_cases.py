"""Agreement with upstream Ignition on the shared validation corpus (validate-cases.jsonl)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import IGN_FIXTURES, UPSTREAM_IGNITION_VALIDATE, needs_shared

from ignkit.ignition.validate import validate

CASES_FILE = IGN_FIXTURES / "validate-cases.jsonl"


def load_cases() -> list[dict[str, Any]]:
    if not CASES_FILE.is_file():
        pytest.skip(f"{CASES_FILE} not found")
    return [json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip()]


def case_bytes(case: dict[str, Any]) -> bytes:
    cfg = case["config"]
    text = cfg if isinstance(cfg, str) else json.dumps(cfg)
    return text.encode("utf-8", errors="surrogatepass")


def outcome(case: dict[str, Any]) -> tuple[bool, str | None, list[str]]:
    r = validate(case_bytes(case))
    errors = [str(e) for e in r.errors]
    return r.ok, (errors[0] if errors else None), sorted(str(w) for w in r.warnings)


def expected(case: dict[str, Any]) -> tuple[bool, str | None, list[str]]:
    err = case["error"]
    first = err.split("; error at ")[0] if err else None
    return case["valid"], first, sorted(case["warnings"] or [])


def all_error_lines_agree(case: dict[str, Any]) -> bool:
    """Stricter than the brief asks: every error line, in order (the corpus joins them with "; ")."""
    r = validate(case_bytes(case))
    return ("; ".join(str(e) for e in r.errors) or None) == case["error"]


def compare_all() -> tuple[int, int, int, list[str]]:
    cases = load_cases()
    verdicts = messages = 0
    misses = []
    for n, case in enumerate(cases):
        got = outcome(case)
        want = expected(case)
        if got[0] == want[0]:
            verdicts += 1
        if got[1:] == want[1:] and got[0] == want[0]:
            messages += 1
        else:
            misses.append(f"#{n} {case['spec']} {case['origin']}\n   want {want}\n   got  {got}")
    return len(cases), verdicts, messages, misses


def test_agreement_with_upstream_corpus() -> None:
    total, verdicts, messages, misses = compare_all()
    full = sum(all_error_lines_agree(c) for c in load_cases())
    print(f"\nvalidate-cases.jsonl: {total} cases; verdicts {verdicts}/{total} ({100 * verdicts / total:.1f}%), "
          f"messages {messages}/{total} ({100 * messages / total:.1f}%); all error lines {full}/{total}")
    for m in misses[:40]:
        print(m)
    assert verdicts / total >= 0.99
    assert messages / total >= 0.95
    assert full / total >= 0.95


@pytest.mark.oracle
@needs_shared(UPSTREAM_IGNITION_VALIDATE)
def test_corpus_lines_identical_to_upstream_ignition_validate(tmp_path: Path) -> None:
    """The upstream build (every spec version) prints exactly ignkit's lines, with its verdict, for every case."""
    differ = []
    for n, case in enumerate(load_cases()):
        data = case_bytes(case)
        path = tmp_path / f"{n}.ign"
        path.write_bytes(data)
        p = subprocess.run([str(UPSTREAM_IGNITION_VALIDATE), str(path)], capture_output=True, timeout=60)
        report = validate(data)
        theirs = (p.returncode == 0, sorted((p.stdout + p.stderr).decode(errors="surrogateescape").splitlines()))
        if (report.ok, sorted(report.lines())) != theirs:
            differ.append((n, case["origin"], theirs, report.lines()))
    assert not differ, differ[:5]


if __name__ == "__main__":
    total, verdicts, messages, misses = compare_all()
    for m in misses:
        print(m)
    print(f"{total} cases; verdicts {verdicts}; messages {messages}")
