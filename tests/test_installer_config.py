"""ignkit.live.installer.InstallConfig: coreos-installer's install config file, typed, unknown keys refused."""

from __future__ import annotations

import pytest
import yaml

from ignkit.errors import InputError
from ignkit.live.installer import InstallConfig

FULL = b"""\
image-url: http://example.com/d
ignition-url: http://example.com/g
ignition-hash: sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
architecture: h
platform: i
console: ['ttyS0,115200n8']
append-karg: [k, l]
delete-karg: [m, n]
copy-network: true
network-dir: o
save-partlabel: [p, q]
save-partindex: [r, s]
offline: true
insecure: true
insecure-ignition: true
stream-base-url: http://example.com/t
preserve-on-error: true
fetch-retries: 3
secure-ipl: true
dest-device: u
"""


def test_full_file_parses_into_fields() -> None:
    c = InstallConfig.from_yaml(FULL, "full.yaml")
    assert c.image_url == "http://example.com/d" and c.ignition_url == "http://example.com/g"
    assert c.append_karg == ["k", "l"] and c.delete_karg == ["m", "n"] and c.console == ["ttyS0,115200n8"]
    assert c.copy_network and c.offline and c.insecure and c.insecure_ignition and c.preserve_on_error
    assert c.secure_ipl and c.fetch_retries == 3 and c.dest_device == "u" and c.stream is None
    # written back in coreos-installer's key order, and read back to the same settings
    out = c.to_yaml()
    assert list(yaml.safe_load(out)) == [k for k in InstallConfig.keys() if k in yaml.safe_load(FULL)]
    assert InstallConfig.from_yaml(out, "again") == c


@pytest.mark.parametrize("text, message", [
    (b"dest-devcie: /dev/sda\n", "unknown key 'dest-devcie'"),
    (b"dest_device: /dev/sda\n", "unknown key 'dest_device'"),  # keys are option names, with dashes
    (b"config-file: x\n", "unknown key 'config-file'"),  # not allowed in a config file
    (b"1: x\n", "unknown key 1"),
    (b"append-karg: quiet\n", "append-karg: wrong type str"),
    (b"copy-network: 'yes'\n", "copy-network: wrong type str"),
    (b"dest-device: true\n", "dest-device: wrong type bool"),
    (b"fetch-retries: true\n", "fetch-retries: wrong type bool"),
    (b"- a\n", "expected a mapping"),
    (b"a: [\n", "while parsing a flow node"),
])
def test_refusals_name_the_file_and_key(text: bytes, message: str) -> None:
    with pytest.raises(InputError) as e:
        InstallConfig.from_yaml(text, "inst.yaml")
    assert str(e.value).startswith(f"parsing installer config inst.yaml: {message}")


def test_accepted_value_forms() -> None:
    assert InstallConfig.from_yaml(b"", "empty") == InstallConfig()
    assert InstallConfig.from_yaml(b"fetch-retries: infinite\n", "x").fetch_retries == "infinite"
    assert InstallConfig.from_yaml(b"copy-network: false\n", "x").to_dict() == {}


def test_later_files_update_like_the_installer() -> None:
    merged = InstallConfig.from_yaml(b"append-karg: [a]\ncopy-network: true\ndest-device: /dev/sda\n", "1")
    merged.update(InstallConfig.from_yaml(b"append-karg: [b]\ndest-device: /dev/vda\n", "2"))
    assert merged.to_dict() == {"append-karg": ["a", "b"], "copy-network": True, "dest-device": "/dev/vda"}
