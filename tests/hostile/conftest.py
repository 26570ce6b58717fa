"""Fixtures of the hostile-input suite (the helpers live in hostile_cases.py)."""

from hostile_cases import iso_x86  # noqa: F401 - a session fixture shared by the suite's modules
