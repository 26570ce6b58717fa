"""Ignition config JSON Schemas, one file per spec version (installed as ``ignkit.schemas``)."""
