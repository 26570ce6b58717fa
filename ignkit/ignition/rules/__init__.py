"""Ignition's semantic rules, one validator per Go type, grouped by section of the config.

A validator is ``fn(obj, path, ctx)``: ``obj`` is the decoded struct (a dict with the spec's field
names; absent and null members are missing), ``path`` the tuple path of that struct, and ``ctx``
collects findings (:meth:`Ctx.error`, :meth:`Ctx.warn`) and knows the spec version. The walker in
:mod:`ignkit.ignition.validate` calls a struct's validator first, then walks its fields in Go field
order, like Ignition's ``vcontext`` walker.
"""

from __future__ import annotations

from .context import VALIDATORS, Ctx, Path, Validator, register

__all__ = ["Ctx", "Path", "VALIDATORS", "Validator", "register"]

# Importing the section modules fills VALIDATORS.
from . import ignition, luks, storage, systemd  # noqa: E402, F401
