"""CoreOS architecture names: the four RPM names and the aliases (Go's, Debian's) people type for them."""

from __future__ import annotations

from .errors import UsageError

#: The architectures CoreOS ships live media for, by their RPM names (the keys of stream metadata).
ARCHES = ("x86_64", "aarch64", "ppc64le", "s390x")
_ALIASES = {"amd64": "x86_64", "x86-64": "x86_64", "arm64": "aarch64", "ppc64el": "ppc64le", "s390": "s390x"}


def arch_name(arch: str) -> str:
    """The RPM name of ``arch`` (``arm64`` → ``aarch64``, ``AMD64`` → ``x86_64``); other names lowercased.

    Lenient: an architecture ignkit does not know (a stream may list more) comes back as it is, lowercased.
    """
    a = arch.strip().lower()
    return _ALIASES.get(a, a)


def normalize_arch(arch: str) -> str:
    """Like :func:`arch_name`, but one of :data:`ARCHES` or :class:`UsageError`."""
    a = arch_name(arch)
    if a not in ARCHES:
        raise UsageError(f"unknown architecture {arch!r} (expected one of {', '.join(ARCHES)})")
    return a
