"""NetworkManager keyfiles from the short options and from the nmstate subset."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CI_FIXTURES

from ignkit.errors import InputError
from ignkit.netconf import (
    keyfile_text,
    load_nmstate,
    nmstate_to_keyfiles,
    parse_keyfile,
    static_keyfiles,
)

CUSTOMIZE = CI_FIXTURES / "customize"


@pytest.mark.parametrize("name, prefix", [("installer-test-nmstate-yaml.yaml", "nmstate-yl"),
                                          ("installer-test-nmstate-json.json", "nmstate-js")])
def test_nmstate_fixtures_dhcp(name: str, prefix: str) -> None:
    keyfiles = nmstate_to_keyfiles(load_nmstate(CUSTOMIZE / name))
    # File names are <interface>.nmconnection, as nmstatectl gc names them (the fixtures' collision files).
    assert sorted(keyfiles) == [f"{prefix}-eth1.nmconnection", f"{prefix}-eth2.nmconnection"]
    assert (CUSTOMIZE / f"{prefix}-eth1.nmconnection").exists()
    for n in (1, 2):
        kf = parse_keyfile(keyfiles[f"{prefix}-eth{n}.nmconnection"])
        assert kf["connection"]["id"] == f"{prefix}-eth{n}"
        assert kf["connection"]["interface-name"] == f"{prefix}-eth{n}"
        assert kf["connection"]["type"] == "ethernet"
        assert kf["ipv4"]["method"] == "auto"
        assert kf["ipv6"]["method"] == "disabled"
        assert "address1" not in kf["ipv4"]


def test_static_ipv4_and_ipv6() -> None:
    (name, text), = static_keyfiles(addresses=["192.0.2.10/24", "2001:db8::10/64"], gateway=["192.0.2.1",
                                    "2001:db8::1"], dns=["192.0.2.53", "2001:db8::53"], interface="eno1").items()
    assert name == "eno1.nmconnection"
    kf = parse_keyfile(text)
    assert kf["connection"] == {"id": "eno1", "type": "ethernet", "interface-name": "eno1", "autoconnect": "true",
                                "autoconnect-priority": "1"}
    assert kf["ipv4"]["method"] == "manual"
    assert kf["ipv4"]["address1"] == "192.0.2.10/24,192.0.2.1"
    assert kf["ipv4"]["dns"] == "192.0.2.53;"
    assert kf["ipv6"]["method"] == "manual"
    assert kf["ipv6"]["address1"] == "2001:db8::10/64,2001:db8::1"
    assert kf["ipv6"]["dns"] == "2001:db8::53;"


def test_static_bound_to_mac_or_nothing() -> None:
    (name, text), = static_keyfiles(addresses=["10.0.0.5/8"], mac="52-54-00-AB-CD-EF").items()
    assert name == "ethernet-525400abcdef.nmconnection"
    kf = parse_keyfile(text)
    assert kf["ethernet"]["mac-address"] == "52:54:00:AB:CD:EF"
    assert "interface-name" not in kf["connection"]
    assert kf["ipv6"]["method"] == "disabled"
    (name, _), = static_keyfiles(addresses=["10.0.0.5/8"]).items()
    assert name == "ignkit-static.nmconnection"


@pytest.mark.parametrize("kwargs, fragment", [
    ({"addresses": []}, "need --ip"),
    ({"addresses": ["10.0.0.5"]}, "needs a prefix length"),
    ({"addresses": ["10.0.0.0/24"]}, "network address"),
    ({"addresses": ["300.0.0.1/24"]}, "not an IPv4 or IPv6 address"),
    ({"addresses": ["10.0.0.5/24"], "gateway": ["10.0.1.1"]}, "not in the subnet"),
    ({"addresses": ["10.0.0.5/24"], "gateway": ["10.0.0.1", "10.0.0.2"]}, "more than one IPv4 gateway"),
    ({"addresses": ["10.0.0.5/24"], "dns": ["dns.example"]}, "--dns"),
    ({"addresses": ["10.0.0.5/24"], "interface": "a/b"}, "not a valid interface name"),
    ({"addresses": ["10.0.0.5/24"], "mac": "zz:00:00:00:00:00"}, "not a MAC address"),
])
def test_static_refusals(kwargs: dict, fragment: str) -> None:
    with pytest.raises(InputError, match=None) as e:
        static_keyfiles(**kwargs)
    assert fragment in str(e.value)


def test_routes_and_mac_identifier() -> None:
    state = {
        "interfaces": [{"name": "eth0", "type": "ethernet", "identifier": "mac-address",
                        "mac-address": "52:54:00:00:00:01", "mtu": 9000,
                        "ipv4": {"enabled": True, "address": [{"ip": "192.0.2.2", "prefix-length": 24}]}},
                       {"name": "eth1", "ipv4": {"enabled": True, "dhcp": True, "auto-dns": False},
                        "ipv6": {"enabled": True, "autoconf": True, "auto-gateway": False}},
                       {"name": "eth2", "ipv4": {"enabled": True, "dhcp": True, "auto-routes": False}}],
        "routes": {"config": [
            {"destination": "0.0.0.0/0", "next-hop-address": "192.0.2.1", "next-hop-interface": "eth0"},
            {"destination": "198.51.100.0/24", "next-hop-address": "192.0.2.254", "next-hop-interface": "eth0",
             "metric": 10}]},
        "dns-resolver": {"config": {"server": ["192.0.2.53"]}},
    }
    kfs = nmstate_to_keyfiles(state)
    eth0 = parse_keyfile(kfs["eth0.nmconnection"])
    assert "interface-name" not in eth0["connection"]
    assert eth0["ethernet"] == {"mac-address": "52:54:00:00:00:01".upper(), "mtu": "9000"}
    assert eth0["ipv4"]["address1"] == "192.0.2.2/24,192.0.2.1"
    assert eth0["ipv4"]["route1"] == "198.51.100.0/24,192.0.2.254,10"
    assert eth0["ipv4"]["dns"] == "192.0.2.53;"
    eth1 = parse_keyfile(kfs["eth1.nmconnection"])
    assert eth1["connection"]["interface-name"] == "eth1"
    assert eth1["ipv4"]["method"] == "auto"
    assert eth1["ipv4"]["ignore-auto-dns"] == "true"  # auto-dns: false
    assert eth1["ipv6"]["method"] == "auto" and eth1["ipv6"]["never-default"] == "true"
    eth2 = parse_keyfile(kfs["eth2.nmconnection"])
    assert eth2["ipv4"]["method"] == "auto" and eth2["ipv4"]["ignore-auto-routes"] == "true"
    assert eth2["ipv6"]["method"] == "disabled"
    assert "ignore-auto-dns" not in eth0["ipv4"]


@pytest.mark.parametrize("state, fragment", [
    ({"interfaces": [{"name": "br0", "type": "linux-bridge"}]}, "'linux-bridge' is not supported"),
    ({"interfaces": [{"name": "eth0", "state": "absent"}]}, "'absent' is not supported"),
    ({"interfaces": [{"name": "eth0", "ethtool": {}}]}, "interfaces[0].ethtool is not supported"),
    ({"ovs-db": {}}, "networkConfig.ovs-db is not supported"),
    ({"interfaces": [{"name": "eth0", "ipv4": {"enabled": False, "dhcp": True}}]}, "enabled is false"),
    ({"interfaces": [{"name": "a"}, {"name": "b"}], "routes": {"config": [{"destination": "0.0.0.0/0",
      "next-hop-address": "10.0.0.1"}]}}, "next-hop-interface: required"),
    ({"interfaces": [{"name": "a"}], "routes": {"config": [{"destination": "0.0.0.0/0", "table-id": 100,
      "next-hop-address": "10.0.0.1"}]}}, "table-id is not supported"),
    ({"interfaces": [{"name": "a", "ipv4": {"enabled": True, "address": [{"ip": "2001:db8::1",
      "prefix-length": 64}]}}]}, "is not an IPv4 address"),
    ({"interfaces": [{"name": "a", "ipv4": {"enabled": "maybe"}}]}, "expected true or false"),
])
def test_nmstate_refusals(state: dict, fragment: str) -> None:
    with pytest.raises(InputError) as e:
        nmstate_to_keyfiles(state)
    assert fragment in str(e.value)


def test_keyfile_round_trip_and_bad_input(tmp_path: Path) -> None:
    text = keyfile_text({"connection": {"id": "x", "type": "ethernet"}, "ipv4": {"method": "auto"}})
    assert parse_keyfile(text) == {"connection": {"id": "x", "type": "ethernet"}, "ipv4": {"method": "auto"}}
    with pytest.raises(InputError, match="expected .section. or key=value"):
        parse_keyfile("junk\n")
    p = tmp_path / "bad.yaml"
    p.write_text("interfaces: [\n")
    with pytest.raises(InputError, match="parsing nmstate"):
        load_nmstate(p)
    with pytest.raises(InputError, match="opening nmstate file"):
        load_nmstate(tmp_path / "missing.yaml")
