"""The names ``ignkit`` re-exports resolve to real, documented callables and classes."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ignkit


@pytest.mark.parametrize("name", ignkit.__all__)
def test_export_resolves_and_is_documented(name: str) -> None:
    obj = getattr(ignkit, name)
    assert callable(obj)
    assert (obj.__doc__ or "").strip(), f"ignkit.{name} has no docstring"


def test_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError):
        ignkit.no_such_name  # noqa: B018


def test_import_is_cheap() -> None:
    # `import ignkit` must not pull in the heavy modules (pycdlib, requests, jsonschema, cryptography).
    heavy = "('pycdlib', 'requests', 'jsonschema', 'cryptography', 'click')"
    code = f"import sys, ignkit; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_validate_digest_merge_through_the_package() -> None:
    report = ignkit.validate(b'{"ignition": {"version": "3.4.0"}}')
    assert report.ok
    assert ignkit.digest_bytes(b"") == (
        "sha512-cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
    )
    merged = ignkit.merge({"ignition": {"version": "3.4.0"}, "storage": {"files": [{"path": "/a", "mode": 420}]}},
                          {"storage": {"files": [{"path": "/a", "mode": 384}]}})
    assert merged["storage"]["files"] == [{"path": "/a", "mode": 384}]


def test_digest_function_survives_importing_its_module() -> None:
    import ignkit.digests  # noqa: F401

    assert callable(ignkit.digest)
    assert ignkit.digest_bytes(b"abc", "sha256").startswith("sha256-ba7816bf")
