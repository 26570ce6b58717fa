"""ignkit.live.features.OsFeatures: coreos/features.json as typed flags."""

from __future__ import annotations

import json

import pytest
from test_initrd import make_live_initramfs

from ignkit.errors import ImageError
from ignkit.live.customize import CustomizeOptions, compose
from ignkit.live.features import ConfigDirectives, OsFeatures
from ignkit.live.initramfs import scan_live_initramfs

# what current Fedora CoreOS images ship, plus a flag ignkit does not know
DOC = {"installer-config": True, "installer-config-directives": {"console": True}, "live-initrd-network": True,
       "some-future-flag": {"x": 1}}


def test_flags_and_names() -> None:
    f = OsFeatures.from_json(DOC)
    assert f == OsFeatures(True, ConfigDirectives(console=True), True)
    assert f.enabled("installer-config") and f.enabled("installer-config-directives.console")
    assert f.enabled("live-initrd-network")
    assert not f.enabled("installer-config-directives")  # an object, not a flag
    assert not f.enabled("some-future-flag") and not f.enabled("installer_config") and not f.enabled("document")
    assert f.to_dict() == DOC  # the document as read, unknown flags included
    empty = OsFeatures.from_json({})
    assert empty == OsFeatures() and not empty.enabled("installer-config")
    assert OsFeatures.coerce(f) is f and OsFeatures.coerce({"installer-config": True}).installer_config


@pytest.mark.parametrize("doc, message", [
    ([1], "parsing OS features: not a JSON object"),
    ({"installer-config": "yes"}, "parsing OS features: installer-config: expected true or false, not 'yes'"),
    ({"installer-config-directives": True}, "parsing OS features: installer-config-directives: not a JSON object"),
    ({"installer-config-directives": {"console": 1}},
     "parsing OS features: installer-config-directives.console: expected true or false, not 1"),
])
def test_malformed_known_flags_are_refused(doc: object, message: str) -> None:
    with pytest.raises(ImageError) as e:
        OsFeatures.from_json(doc)
    assert str(e.value) == message


def test_initramfs_features_are_typed_and_named_by_member() -> None:
    info = scan_live_initramfs(make_live_initramfs({"live-initrd-network": True}))
    assert info.features == OsFeatures(live_initrd_network=True)
    bad = make_live_initramfs(extra={"etc/coreos/features.json": json.dumps({"live-initrd-network": 1}).encode()})
    with pytest.raises(ImageError, match=r"^parsing etc/coreos/features.json in initramfs: live-initrd-network: "):
        scan_live_initramfs(bad)


def test_compose_gates_on_typed_flags() -> None:
    opts = CustomizeOptions(dest_device="/dev/sda")
    assert compose(opts, OsFeatures(installer_config=True)).installer_config is not None
    with pytest.raises(ImageError, match="does not support customizing installer configuration"):
        compose(opts, OsFeatures())
