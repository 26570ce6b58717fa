"""Butane (YAML) -> Ignition translation in pure Python: ``ignkit butane`` and :func:`translate`.

Variants fcos 1.0.0 - 1.8.0-experimental, openshift 4.8.0 - 4.23.0-experimental (MachineConfig
unless ``raw``), flatcar, r4e and fiot. Modules: :mod:`.yamlpos` (YAML with yaml.v3's rules and
positions), :mod:`.schema` (field trees per variant/version), :mod:`.decode`, :mod:`.translate` (the
pipeline), :mod:`.base` (the shared translation), :mod:`.variants` (variant sugar and checks),
:mod:`.dataurl`, :mod:`.report`. Config readers reach it through :mod:`ignkit.configinput`.
"""

from __future__ import annotations

from .report import ButaneError, Entry, TranslateReport
from .translate import is_butane, to_json, translate

__all__ = ["translate", "is_butane", "to_json", "ButaneError", "TranslateReport", "Entry"]
