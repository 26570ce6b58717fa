"""Whether a config is Butane (a YAML mapping with a top-level ``variant``) or Ignition JSON: asked by every
config reader, so it stays cheap for JSON and parses YAML only when the text mentions ``variant``."""

from __future__ import annotations

import json
import re
from typing import Union

__all__ = ["is_butane"]


def is_butane(data: Union[bytes, str]) -> bool:
    """True when ``data`` looks like a Butane document: a YAML mapping with a top-level ``variant``."""
    if isinstance(data, bytes):
        if b"variant" not in data:
            return False
        head = data.lstrip()[:1]
        if head in (b"{", b"["):
            # JSON is YAML too; an Ignition config never has a top-level variant
            try:
                obj = json.loads(data)
            except ValueError:
                return False
            return isinstance(obj, dict) and "variant" in obj
        text = data.decode("utf-8", errors="replace")
    else:
        text = data
    if not re.search(r"(?m)^[\"']?variant[\"']?\s*:", text) and "variant" not in text:
        return False
    from .butane.yamlpos import YamlError, parse  # only for a text that mentions variant

    try:
        root = parse(text)
    except YamlError:
        return bool(re.search(r"(?m)^variant\s*:", text))
    return root is not None and root.kind == "map" and root.get("variant") is not None
