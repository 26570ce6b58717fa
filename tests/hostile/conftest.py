"""Fixtures of the hostile-input suite (the helpers live in hostile_cases.py)."""

from hostile_cases import hostile_server, iso_x86  # noqa: F401 - fixtures shared by the suite's modules
