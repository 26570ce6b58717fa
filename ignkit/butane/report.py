"""Butane reports: entries with kind, JSON-style path into the Butane document, line/column, message.

``str(entry)`` is the line Butane prints with ``--raw-errors``:
``warning at $.storage.files.0.foo, line 8 col 7: unused key foo``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ..errors import InvalidConfig

__all__ = ["Entry", "TranslateReport", "ButaneError", "YPath", "path_str"]

YPath = tuple[Union[str, int], ...]


def path_str(path: YPath) -> str:
    return "$" + "".join("." + str(p) for p in path)


@dataclass
class Entry:
    kind: str
    path: Optional[YPath]
    line: Optional[int]
    column: Optional[int]
    message: str

    def __str__(self) -> str:
        if self.path is None:
            if self.line is not None:
                return f"{self.kind} at line {self.line} col {self.column}: {self.message}"
            return f"{self.kind}: {self.message}"
        at = f" at {path_str(self.path)}"
        if self.line is not None:
            at += f", line {self.line} col {self.column}"
        return f"{self.kind}{at}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": None if self.path is None else path_str(self.path),
                "line": self.line, "column": self.column, "message": self.message, "text": str(self)}


@dataclass
class TranslateReport:
    """What a translation found: warnings and errors in document order, plus the Butane variant/version."""

    entries: list[Entry] = field(default_factory=list)
    variant: Optional[str] = None
    version: Optional[str] = None
    ignition_version: Optional[str] = None

    @property
    def errors(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "error"]

    @property
    def warnings(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        return [str(e) for e in self.entries]

    def as_dict(self) -> dict[str, Any]:
        return {"variant": self.variant, "version": self.version, "ok": self.ok,
                "entries": [e.as_dict() for e in self.entries]}


class ButaneError(InvalidConfig):
    """A Butane config that cannot be translated (exit 1). ``report`` holds the findings, ``reason``
    Butane's one-line summary (``config generated was invalid``, ``yaml: ...``)."""

    def __init__(self, reason: str, report: Optional[TranslateReport] = None) -> None:
        strict = reason.startswith("Config produced warnings")
        super().__init__(reason if strict else f"Error translating config: {reason}", report)
        self.reason = reason
