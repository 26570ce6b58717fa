"""What every rule module shares: the validation context, the validator type and the registry the
section modules fill (:data:`VALIDATORS`, by Go type name)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from ..report import Path

__all__ = ["Ctx", "Path", "VALIDATORS", "Validator", "register"]


class Ctx:
    """Validation context: the spec version and the findings so far."""

    __slots__ = ("spec", "v", "findings", "root")

    def __init__(self, spec: str, v: tuple[int, int], root: dict[str, Any]) -> None:
        self.spec = spec
        self.v = v
        self.root = root
        # (kind, path, message, at_key)
        self.findings: list[tuple[str, Path, str, bool]] = []

    def error(self, path: Path, message: Optional[str]) -> None:
        if message:
            self.findings.append(("error", path, message, False))

    def warn(self, path: Path, message: Optional[str]) -> None:
        if message:
            self.findings.append(("warning", path, message, False))


Validator = Callable[[dict, Path, Ctx], None]  # type: ignore[type-arg]
VALIDATORS: dict[str, Validator] = {}


def register(*names: str) -> Callable[[Validator], Validator]:
    def deco(fn: Validator) -> Validator:
        for n in names:
            VALIDATORS[n] = fn
        return fn
    return deco
