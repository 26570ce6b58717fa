"""The OS feature flags of CoreOS live media (coreos/features.json in the ISO, etc/coreos/features.json in
the live initramfs) as a typed class.

Like coreos-installer's ``OsFeatures``, a flag the file does not mention is off and a flag ignkit does
not know is ignored (newer images add flags), but a known flag with a value of the wrong type is an
error: the file is then not what the image's builder meant to say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from ..errors import ImageError

if TYPE_CHECKING:
    from ..isofs import IsoFS

__all__ = ["FEATURES_JSON", "ConfigDirectives", "OsFeatures", "read_features"]

FEATURES_JSON = "COREOS/FEATURES.JSO"


@dataclass(frozen=True)
class ConfigDirectives:
    """``installer-config-directives``: installer config keys the image's installer understands."""

    console: bool = False


@dataclass(frozen=True)
class OsFeatures:
    """The flags ignkit acts on; ``document`` is the file as read ({} when there is none)."""

    #: The installer reads config files from /etc/coreos/installer.d.
    installer_config: bool = False
    #: ... including the keys listed here.
    installer_config_directives: ConfigDirectives = field(default_factory=ConfigDirectives)
    #: The live initramfs copies NetworkManager keyfiles from /etc/coreos-firstboot-network.
    live_initrd_network: bool = False
    document: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, obj: Any, what: str = "OS features") -> OsFeatures:
        """Read a parsed features.json; ImageError ``parsing WHAT: ...`` when it is not an object or a
        known flag is not true/false."""
        if not isinstance(obj, dict):
            raise ImageError(f"parsing {what}: not a JSON object")
        directives = obj.get("installer-config-directives", {})
        if not isinstance(directives, dict):
            raise ImageError(f"parsing {what}: installer-config-directives: not a JSON object")
        return cls(
            installer_config=_flag(obj, "installer-config", what),
            installer_config_directives=ConfigDirectives(
                console=_flag(directives, "installer-config-directives.console", what)),
            live_initrd_network=_flag(obj, "live-initrd-network", what),
            document=dict(obj),
        )

    @classmethod
    def coerce(cls, features: Union[OsFeatures, Mapping[str, Any]]) -> OsFeatures:
        """``features`` itself, or the flags of a parsed features.json mapping."""
        return features if isinstance(features, OsFeatures) else cls.from_json(dict(features))

    def enabled(self, name: str) -> bool:
        """Whether the flag with features.json's name (``live-initrd-network``,
        ``installer-config-directives.console``) is on; an unknown name is off."""
        value: Any = self
        for part in name.split("."):
            attr = part.replace("-", "_")
            if part != attr.replace("_", "-") or not hasattr(value, attr) or attr == "document":
                return False
            value = getattr(value, attr)
        return value is True

    def to_dict(self) -> dict[str, Any]:
        """The features.json as read."""
        return dict(self.document)


def _flag(obj: Mapping[str, Any], name: str, what: str) -> bool:
    value = obj.get(name.rpartition(".")[2], False)
    if not isinstance(value, bool):
        raise ImageError(f"parsing {what}: {name}: expected true or false, not {value!r}")
    return value


def read_features(fs: IsoFS) -> OsFeatures:
    """The ISO's coreos/features.json (all flags off when it has none); ImageError when it is malformed."""
    from ..isofs import IsoNotFound

    try:
        document = fs.read_json_object(FEATURES_JSON, "coreos/features.json")
    except IsoNotFound:
        return OsFeatures()
    except ImageError as e:
        raise ImageError(f"parsing OS features: {e}") from None
    return OsFeatures.from_json(document)
