"""Butane -> Ignition: the pipeline of upstream Butane's ``TranslateBytes`` in pure Python.

1. YAML (yaml.v3 rules, :mod:`.yamlpos`); ``variant``/``version`` pick a :class:`~.schema.Spec`;
2. decode into the spec's Butane field tree (:mod:`.decode`): type errors are fatal, unknown keys warn;
3. source checks (:mod:`.base`: resources with one source, modes written in decimal, mount units, trees;
   :mod:`.variants`: ``boot_device``/``grub``/``openshift``);
4. translation (:mod:`.base`, :mod:`.variants`): snake_case -> camelCase, ``inline``/``local`` -> data
   URLs (:mod:`.dataurl`), ``contents_local``, ``ssh_authorized_keys_local``, ``storage.trees``, mount
   units and the variant sugar merged in as Ignition merges a parent config;
5. the result is validated with ignkit's Ignition validator; its findings are mapped back to the
   Butane document's paths and positions.

``ignition.config.merge``/``replace`` references given as ``local``/``inline`` that are themselves
Butane documents are translated recursively (upstream Butane embeds them untranslated and then
refuses them); Ignition JSON children are validated as Butane validates them.
"""

from __future__ import annotations

import re
from typing import Any, Optional, Union

from .base import O_KEY, Ctx, check_source, go_shape, is_butane, to_json
from .decode import Decoder
from .report import ButaneError, Entry, TranslateReport
from .schema import butane_tree, lookup
from .variants import check_variant, finish, machine_config
from .yamlpos import YamlError, parse

__all__ = ["translate", "translate_bytes", "is_butane", "to_json", "go_shape", "O_KEY"]


def translate_bytes(data: Union[bytes, str], files_dir: Optional[str] = None, strict: bool = False,
                    raw: bool = False, _depth: int = 0) -> tuple[dict[str, Any], TranslateReport]:
    """Translate one Butane document; returns (Ignition config or MachineConfig, report).

    Raises :class:`~.report.ButaneError` (exit status 1) when Butane would refuse the document, or
    when ``strict`` and there are warnings.
    """
    report = TranslateReport()
    try:
        root = parse(data)
    except YamlError as e:
        raise ButaneError(f"Error unmarshaling yaml: {e}", report) from None
    # commonFields: variant and version first, as Butane reads them
    variant = version = ""
    if root is not None:
        if root.kind != "map":
            raise ButaneError(f"Error unmarshaling yaml: yaml: unmarshal errors:\n  line {root.line}: cannot "
                              f"unmarshal {root.tag} into config.commonFields", report)
        d0 = Decoder()
        if d0.dups(root):
            raise ButaneError("Error unmarshaling yaml: yaml: unmarshal errors:\n  " + "\n  ".join(d0.errors),
                              report)
        for key in ("variant", "version"):
            n = root.get(key)
            if n is None:
                continue
            if n.kind != "scalar":
                raise ButaneError(f"Error unmarshaling yaml: yaml: unmarshal errors:\n  line {n.line}: cannot "
                                  f"unmarshal {n.tag} into string", report)
            val = "" if n.tag == "!!null" else (n.value if n.tag == "!!binary" else n.text)
            if key == "variant":
                variant = val
            else:
                version = val
    if not variant:
        raise ButaneError("error parsing variant; must be specified", report)
    if not re.match(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$", version):
        raise ButaneError("error parsing version; must be a valid semver", report)
    report.variant, report.version = variant, version
    spec = lookup(variant, version.lstrip("v"))
    if spec is None or version.startswith("v"):
        raise ButaneError(f"No translator exists for variant {variant} with version {version}", report)
    report.ignition_version = spec.ignition
    assert root is not None
    tree = butane_tree(spec)
    dec = Decoder()
    dec.pos[()] = (root.line, root.column)
    value = dec.struct(root, tree, ()) or {}
    if dec.errors:
        raise ButaneError("yaml: unmarshal errors:\n  " + "\n  ".join(dec.errors), report)
    ctx = Ctx(spec, files_dir, dec, _depth)
    ctx.raw = raw
    ctx.translate_child = translate_bytes
    ctx.check_variant = check_variant
    for path, line, col, key in dec.unused:
        ctx.entries.append(Entry("warning", path, line, col, f"unused key {key}"))
    check_source(ctx, tree, value, ())
    report.entries = ctx.entries
    if ctx.fatal:
        raise ButaneError("source config is invalid", report)
    cfg = finish(ctx, tree, value)
    report.entries = ctx.entries
    if ctx.fatal:
        raise ButaneError("source config is invalid" if cfg is None else "config generated was invalid", report)
    assert cfg is not None
    out = cfg
    if spec.openshift and not raw:
        out = machine_config(ctx, value, cfg)
    if strict and report.warnings:
        raise ButaneError("Config produced warnings and --strict was specified", report)
    return out, report


def translate(text: Union[str, bytes], files_dir: Optional[str] = None, strict: bool = False,
              raw: bool = False) -> tuple[dict[str, Any], TranslateReport]:
    """Translate Butane ``text`` to Ignition: ``(config, report)``.

    ``files_dir`` allows ``local`` references below that directory. The config is a dict in Go's field
    order (serialize it with :func:`to_json`); an ``openshift`` config is wrapped in a MachineConfig
    unless ``raw``. Raises :class:`~ignkit.butane.report.ButaneError` (an
    :class:`~ignkit.errors.InvalidConfig`, exit status 1) with the report when Butane would refuse the
    document, or when ``strict`` and there are warnings.
    """
    return translate_bytes(text, files_dir=files_dir, strict=strict, raw=raw)
