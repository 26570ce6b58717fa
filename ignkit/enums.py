"""A base for enums whose members stand for fixed words of a format or a protocol."""

from __future__ import annotations

from enum import Enum

__all__ = ["WordEnum"]


class WordEnum(str, Enum):
    """An enum of words: each member is its word (a ``str``), so it compares equal to it, prints as it
    and serializes to JSON as it, under every supported Python (3.11+ changed ``format()`` of str enums)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)
