"""Ignition configs: version handling, validation (schemas + semantic rules), merge, resolve, translation."""
