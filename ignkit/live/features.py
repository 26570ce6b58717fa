"""The OS feature flags of a CoreOS live ISO (coreos/features.json)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ImageError

if TYPE_CHECKING:
    from ..isofs import IsoFS

FEATURES_JSON = "COREOS/FEATURES.JSO"


def read_features(fs: IsoFS) -> dict[str, Any]:
    """The parsed coreos/features.json ({} when the ISO has none); ImageError if it is not a JSON object."""
    from ..isofs import IsoNotFound

    try:
        return fs.read_json_object(FEATURES_JSON, "coreos/features.json")
    except IsoNotFound:
        return {}
    except ImageError as e:
        raise ImageError(f"parsing OS features: {e}") from None


def has_feature(features: dict[str, Any], name: str) -> bool:
    """Whether a boolean feature (e.g. ``live-initrd-network``) is on; ``a.b`` looks into objects."""
    value: Any = features
    for part in name.split("."):
        if not isinstance(value, dict):
            return False
        value = value.get(part)
    return value is True
