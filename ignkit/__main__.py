"""``python -m ignkit``."""

from .cli import run

run()
