"""ignkit.arch: one place for architecture names, shared by the live ISO, stream and boot-config code."""

from __future__ import annotations

import pytest

from ignkit import arch, pxeconfig, stream
from ignkit.errors import UsageError
from ignkit.live import image


@pytest.mark.parametrize("given, want", [("x86_64", "x86_64"), ("AMD64", "x86_64"), ("x86-64", "x86_64"),
                                         ("arm64", "aarch64"), (" aarch64 ", "aarch64"), ("ppc64el", "ppc64le"),
                                         ("s390", "s390x"), ("s390x", "s390x")])
def test_aliases(given: str, want: str) -> None:
    assert arch.normalize_arch(given) == want
    assert arch.arch_name(given) == want


def test_strict_and_lenient() -> None:
    with pytest.raises(UsageError, match="unknown architecture 'riscv64'"):
        arch.normalize_arch("riscv64")
    # Stream metadata may list architectures ignkit has no live-media support for: keep their names.
    assert arch.arch_name("RISCV64") == "riscv64"


def test_one_implementation() -> None:
    assert image.normalize_arch is arch.normalize_arch
    assert image.ARCHES is arch.ARCHES
    assert not hasattr(stream, "normalize_arch") and not hasattr(pxeconfig, "ARCHITECTURES")
