"""The OS feature flags of a CoreOS live ISO (coreos/features.json)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import ImageError

if TYPE_CHECKING:
    from ..isofs import IsoFS

FEATURES_JSON = "COREOS/FEATURES.JSO"


def read_features(fs: IsoFS) -> dict[str, Any]:
    """The parsed coreos/features.json ({} when the ISO has none); ImageError if it is not a JSON object."""
    from ..isofs import IsoNotFound

    try:
        raw = fs.read(FEATURES_JSON)
    except IsoNotFound:
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ImageError(f"parsing OS features: coreos/features.json is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ImageError("parsing OS features: coreos/features.json is not a JSON object")
    return data


def has_feature(features: dict[str, Any], name: str) -> bool:
    """Whether a boolean feature (e.g. ``live-initrd-network``) is on; ``a.b`` looks into objects."""
    value: Any = features
    for part in name.split("."):
        if not isinstance(value, dict):
            return False
        value = value.get(part)
    return value is True
