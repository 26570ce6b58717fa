"""Validation reports in upstream ``ignition-validate``'s shape: entries with kind, path, position, message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

__all__ = ["Entry", "Report", "Path", "PathElem", "path_string"]

#: One step of a report path: a member name or an array index.
PathElem = Union[str, int]
#: A report path, e.g. ``("storage", "files", 0, "path")``.
Path = tuple[PathElem, ...]


def path_string(path: Optional[Path]) -> Optional[str]:
    """``("storage", "files", 0, "path")`` -> ``$.storage.files.0.path``."""
    if path is None:
        return None
    return "$" + "".join("." + str(p) for p in path)


@dataclass
class Entry:
    """One finding.

    ``kind`` is ``"error"`` or ``"warning"``; ``path`` the JSON path (``$.storage.files.0.path``)
    or None for document-level errors; ``line``/``column`` are 1-based (byte column) or None when
    unknown (dict input) and 0/0 where Ignition prints ``line 0 col 0``. ``parse_error`` marks the
    errors ignition-validate prints as ``couldn't parse config: <message>`` (empty input, version
    problems).
    """

    kind: str
    path: Optional[str]
    line: Optional[int]
    column: Optional[int]
    message: str
    parse_error: bool = False

    def __str__(self) -> str:
        if self.parse_error:
            return f"couldn't parse config: {self.message}"
        at = ""
        if self.path is not None:
            at = f" at {self.path}"
            if self.line is not None:
                at += f", line {self.line} col {self.column}"
        elif self.line is not None:
            at = f" at line {self.line} col {self.column}"
        return f"{self.kind}{at}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "line": self.line, "column": self.column,
                "message": self.message, "text": str(self)}


@dataclass
class Report:
    """The outcome of validating one config.

    ``version`` is the detected spec string (None when it could not be determined); ``config``
    the decoded config (canonical field names, Go semantics) when decoding succeeded.
    """

    entries: list[Entry] = field(default_factory=list)
    version: Optional[str] = None
    config: Optional[dict[str, Any]] = field(default=None, repr=False, compare=False)

    @property
    def errors(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "error"]

    @property
    def warnings(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "warning"]

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not any(e.kind == "error" for e in self.entries)

    def lines(self) -> list[str]:
        """Every entry as ignition-validate prints it, in report order."""
        return [str(e) for e in self.entries]

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "ok": self.ok, "entries": [e.as_dict() for e in self.entries]}
