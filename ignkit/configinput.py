"""A config a user gives: Ignition JSON as it is, or a Butane document translated first (the translator,
ignkit.butane, is loaded only for a Butane document)."""

from __future__ import annotations

import sys
from typing import Callable, Optional

from .configkind import is_butane
from .errors import InvalidConfig

__all__ = ["as_ignition", "notice"]



def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def notice(what: str, variant: Optional[str], version: Optional[str], ignition: Optional[str]) -> str:
    return f"ignkit: note: {what}: Butane config (variant {variant} {version}) translated to Ignition {ignition}"


def as_ignition(data: bytes, what: str, files_dir: Optional[str] = None,
                notify: Optional[Callable[[str], None]] = _stderr) -> bytes:
    """``data`` as Ignition JSON bytes: unchanged unless it is a Butane document, which is translated.

    ``files_dir`` is where its ``local`` references may point (None: none allowed). Warnings of the
    translation are passed to ``notify`` after the notice, prefixed with ``what``.
    """
    if not is_butane(data):
        return data
    from .butane.report import ButaneError
    from .butane.translate import to_json, translate_bytes

    try:
        cfg, report = translate_bytes(data, files_dir=files_dir, raw=True)
    except ButaneError as e:
        rep = e.report
        lines = [str(x) for x in rep.errors] if rep is not None and rep.errors else []  # type: ignore[attr-defined]
        detail = "; ".join(lines) if lines else e.reason.replace("\n", " ")
        variant = f" (variant {rep.variant} {rep.version})" if rep is not None and rep.variant else ""  # type: ignore[attr-defined]
        raise InvalidConfig(f"{what}: Butane config{variant} cannot be translated: {detail}", rep) from None
    if notify is not None:
        notify(notice(what, report.variant, report.version, report.ignition_version))
        for w in report.warnings:
            notify(f"ignkit: {what}: {w}")
    return (to_json(cfg, report.ignition_version) + "\n").encode("utf-8")
