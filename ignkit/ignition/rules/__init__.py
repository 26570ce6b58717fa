"""Ignition's semantic rules, one validator per Go type, grouped by section of the config.

A validator is ``fn(obj, path, ctx)``: ``obj`` is the decoded struct (a dict with the spec's field
names; absent and null members are missing), ``path`` the tuple path of that struct, and ``ctx``
collects findings (:meth:`Ctx.error`, :meth:`Ctx.warn`) and knows the spec version. The walker in
:mod:`ignkit.ignition.validate` calls a struct's validator first, then walks its fields in Go field
order, like Ignition's ``vcontext`` walker.
"""

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


# Importing the section modules fills VALIDATORS.
from . import ignition, luks, storage, systemd  # noqa: E402, F401
