"""Butane accepted wherever ignkit reads an Ignition config: translate first, say so in one line.

:func:`as_ignition` is the hook the config readers call (``validate``, ``merge``, ``embed``
``--dest-ignition``/``--live-ignition``, ``iso ignition embed -i``, ``pxe customize``): bytes that are
not Butane (no top-level ``variant``) come back unchanged; a Butane document comes back as the Ignition
JSON it translates to (openshift configs as raw Ignition, never a MachineConfig), and a one-line notice
naming the variant goes to ``notify`` (stderr by default). A document Butane refuses raises
:class:`~ignkit.errors.InvalidConfig` whose one line carries the Butane file's paths and positions.
"""

from __future__ import annotations

import sys
from typing import Callable, Optional

from ..errors import InvalidConfig
from .report import ButaneError
from .translate import is_butane, to_json, translate_bytes

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
