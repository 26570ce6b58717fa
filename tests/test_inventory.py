"""load_inventory: ignkit's short host fields and nodes-config.yaml (oc adm node-image create)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ignkit.errors import InputError
from ignkit.inventory import Address, Interface, load_inventory, parse_inventory
from ignkit.netconf import parse_keyfile

NODES_CONFIG = """\
cpuArchitecture: arm64
sshKey: ssh-ed25519 AAAAC3Nza test@example
hosts:
  - hostname: extra-worker-1
    role: worker
    rootDeviceHints:
      deviceName: /dev/sda
    interfaces:
      - name: eth0
        macAddress: 00:16:3E:00:00:01
    networkConfig:
      interfaces:
        - name: eth0
          type: ethernet
          state: up
          mac-address: 00:16:3e:00:00:01
          ipv4:
            enabled: true
            dhcp: false
            address:
              - ip: 192.168.122.2
                prefix-length: 23
          ipv6:
            enabled: true
            address:
              - ip: "2001:db8::2"
                prefix-length: 64
      dns-resolver:
        config:
          server: [192.168.122.1, "2001:db8::53"]
          search: [example.com]
      routes:
        config:
          - destination: 0.0.0.0/0
            next-hop-address: 192.168.122.1
            next-hop-interface: eth0
            table-id: 254
          - destination: "::/0"
            next-hop-address: "2001:db8::1"
            next-hop-interface: eth0
          - destination: 10.10.0.0/16
            next-hop-address: 192.168.122.254
            next-hop-interface: eth0
            metric: 50
  - hostname: extra-worker-2
    interfaces:
      - name: eno1
        macAddress: 00:16:3e:00:00:02
"""


def write(tmp_path: Path, text: str, name: str = "hosts.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_nodes_config(tmp_path: Path) -> None:
    hosts = load_inventory(write(tmp_path, NODES_CONFIG))
    assert [h.hostname for h in hosts] == ["extra-worker-1", "extra-worker-2"]
    h1, h2 = hosts
    assert h1.arch == h2.arch == "aarch64"
    assert h1.role == "worker"
    assert h1.ssh_authorized_keys == ["ssh-ed25519 AAAAC3Nza test@example"]
    assert h1.install_dev == "/dev/sda"
    assert h1.interfaces == [Interface(name="eth0", mac="00:16:3e:00:00:01")]
    assert h1.macs == ["00:16:3e:00:00:01"]
    assert h1.addresses == [Address("192.168.122.2", 23), Address("2001:db8::2", 64)]
    assert h1.ips == ["192.168.122.2", "2001:db8::2"]
    assert h1.gateway == "192.168.122.1"
    assert h1.gateway6 == "2001:db8::1"
    assert h1.dns == ["192.168.122.1", "2001:db8::53"]
    assert list(h1.keyfiles) == ["eth0.nmconnection"]
    kf = parse_keyfile(h1.keyfiles["eth0.nmconnection"])
    assert kf["connection"]["id"] == "eth0"
    assert kf["connection"]["type"] == "ethernet"
    # Bound by MAC: names may differ between live and installed system.
    assert "interface-name" not in kf["connection"]
    assert kf["ethernet"]["mac-address"].lower() == "00:16:3e:00:00:01"
    assert kf["ipv4"]["method"] == "manual"
    assert kf["ipv4"]["address1"] == "192.168.122.2/23,192.168.122.1"
    assert kf["ipv4"]["dns"] == "192.168.122.1;"
    assert kf["ipv4"]["dns-search"] == "example.com;"
    assert kf["ipv4"]["route1"] == "10.10.0.0/16,192.168.122.254,50"
    assert kf["ipv6"]["method"] == "manual"
    assert kf["ipv6"]["address1"] == "2001:db8::2/64,2001:db8::1"
    assert kf["ipv6"]["dns"] == "2001:db8::53;"
    # DHCP host: interfaces only, no keyfile.
    assert h2.interfaces == [Interface(name="eno1", mac="00:16:3e:00:00:02")]
    assert h2.keyfiles == {} and h2.addresses == [] and h2.install_dev is None


def test_short_fields_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "kf").mkdir()
    (tmp_path / "kf" / "bond0.nmconnection").write_text("[connection]\nid=bond0\ntype=bond\n")
    text = """\
defaults:
  install_dev: /dev/nvme0n1
  console: [tty0, "ttyS0,115200n8"]
  dns: [192.0.2.53]
hosts:
  - hostname: w1.example.com
    mac: 52-54-00-AA-BB-01
    ip: 192.0.2.11/24
    gateway: 192.0.2.1
    kargs: "nosmt  mitigations=off"
  - hostname: w2
    interface: enp1s0
    ip: [2001:db8::12/64]
    gateway: 2001:db8::1
    dns: 2001:db8::53
    install_dev: /dev/vda
    keyfiles: [kf/bond0.nmconnection]
    arch: x86_64
"""
    h1, h2 = load_inventory(write(tmp_path, text))
    assert h1.short_name == "w1"
    assert h1.macs == ["52:54:00:aa:bb:01"]
    assert h1.install_dev == "/dev/nvme0n1"
    assert h1.console == ["tty0", "ttyS0,115200n8"]
    assert h1.kargs == ["nosmt", "mitigations=off"]
    assert h1.addresses == [Address("192.0.2.11", 24)] and h1.gateway == "192.0.2.1"
    assert h1.dns == ["192.0.2.53"]
    (name, text1), = h1.keyfiles.items()
    assert name == "ethernet-525400aabb01.nmconnection"
    kf = parse_keyfile(text1)
    assert kf["ethernet"]["mac-address"] == "52:54:00:AA:BB:01"
    assert kf["ipv4"] == {"method": "manual", "address1": "192.0.2.11/24,192.0.2.1", "dns": "192.0.2.53;",
                          "may-fail": "false"}
    assert kf["ipv6"]["method"] == "disabled"

    assert h2.install_dev == "/dev/vda" and h2.arch == "x86_64"
    assert h2.gateway is None and h2.gateway6 == "2001:db8::1" and h2.dns == ["2001:db8::53"]
    assert set(h2.keyfiles) == {"bond0.nmconnection", "enp1s0.nmconnection"}
    assert h2.keyfiles["bond0.nmconnection"].startswith("[connection]\nid=bond0")
    kf2 = parse_keyfile(h2.keyfiles["enp1s0.nmconnection"])
    assert kf2["connection"]["interface-name"] == "enp1s0"
    assert kf2["ipv4"]["method"] == "disabled"
    assert kf2["ipv6"]["address1"] == "2001:db8::12/64,2001:db8::1"
    assert kf2["ipv6"]["dns"] == "2001:db8::53;"


def test_bare_list_is_accepted() -> None:
    hosts = parse_inventory([{"hostname": "a"}, {"hostname": "b", "mac": "52:54:00:00:00:0b"}])
    assert [h.hostname for h in hosts] == ["a", "b"]


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"hosts": [{"hostname": "a", "rootDeviceHints": {"model": "X"}}]}, "rootDeviceHints.model is not supported"),
        ({"hosts": [{"hostname": "a", "networkConfig": {"interfaces": [{"name": "bond0", "type": "bond"}]}}]},
         "interfaces[0].type: 'bond' is not supported"),
        ({"hosts": [{"hostname": "a", "networkConfig": {"interfaces": [{"name": "e", "link-aggregation": {}}]}}]},
         "networkConfig.interfaces[0].link-aggregation is not supported"),
        ({"hosts": [{"hostname": "a", "networkConfig": {"route-rules": {}}}]}, "networkConfig.route-rules is not"),
        ({"hosts": [{"hostname": "a", "networkConfig": {"interfaces": [
            {"name": "e", "ipv4": {"enabled": True, "dhcp": True, "dhcp-client-id": "mac"}}]}}]},
         "ipv4.dhcp-client-id is not supported"),
        ({"hosts": [{"hostname": "a", "instal_dev": "/dev/sda"}]},
         "unknown key 'instal_dev' (did you mean 'install_dev'?)"),
        ({"hosts": [{"hostname": "a", "install_dev": "sda"}]}, "must be a full device path"),
        ({"hosts": [{"hostname": "a", "ip": "192.0.2.1"}]}, "h.yaml: hosts[0].ip: '192.0.2.1' needs a prefix length"),
        ({"hosts": [{"hostname": "a"}, {"hostname": "b", "ip": "192.0.2.300/24"}]},
         "h.yaml: hosts[1].ip: '192.0.2.300/24' is not an IPv4 or IPv6 address"),
        ({"hosts": [{"hostname": "a", "ip": "192.0.2.10/24", "gateway": "198.51.100.1"}]},
         "h.yaml: hosts[0].gateway: 198.51.100.1 is not in the subnet of any ip address"),
        ({"hosts": [{"hostname": "a", "ip": "192.0.2.10/24", "dns": "192.0.2.x"}]}, "h.yaml: hosts[0].dns: "),
        ({"hosts": [{"hostname": "a", "mac": "52:54:00:00:00"}]}, "is not a MAC address"),
        ({"hosts": [{"hostname": "a"}, {"hostname": "A"}]}, "appears twice"),
        ({"hosts": [{"hostname": "a", "mac": "52:54:00:00:00:01"}, {"hostname": "b", "mac": "52:54:00:00:00:01"}]},
         "MAC 52:54:00:00:00:01 is given for both a and b"),
        ({"hosts": [{"hostname": "bad_name"}]}, "not a valid host name"),
        ({"hosts": [{"role": "worker"}]}, "hostname: required"),
        ({"hosts": [{"hostname": 1234}]}, "hosts[0].hostname: expected a host name, got 1234 (quote it in YAML)"),
        ({"hosts": []}, "'hosts' must be a non-empty list"),
        ({"hosts": [{"hostname": "a", "dns": "192.0.2.53"}]}, "gateway and dns need ip"),
        ({"hosts": [{"hostname": "a", "arch": "mips"}]}, "'mips' is not one of"),
        ({"hostz": []}, "unknown key 'hostz'"),
    ],
)
def test_refusals(data: object, fragment: str) -> None:
    with pytest.raises(InputError) as e:
        parse_inventory(data, source="h.yaml")
    assert fragment in str(e.value)
    assert "\n" not in str(e.value)


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid YAML .line 3"):
        load_inventory(write(tmp_path, "hosts:\n  - hostname: [a\n"))
    with pytest.raises(InputError, match="No such file"):
        load_inventory(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="keyfiles.*No such file"):
        load_inventory(write(tmp_path, "hosts:\n  - hostname: a\n    keyfiles: [x.nmconnection]\n"))


def test_unquoted_decimal_macs_stay_text(tmp_path: Path) -> None:
    """YAML 1.1 reads 52:54:00:00:00:10 as the base-60 integer 41135040010; the loader must not."""
    import yaml

    assert yaml.safe_load("m: 52:54:00:00:00:10")["m"] == 41135040010  # what plain PyYAML does
    hosts = load_inventory(write(tmp_path, (
        "hosts:\n"
        "  - hostname: a\n    mac: 52:54:00:00:00:10\n    ip: 192.0.2.10/24\n"
        "  - hostname: b\n    interfaces:\n      - name: eno1\n        macAddress: 10:20:30:40:50:59\n"
        "    networkConfig:\n      interfaces:\n        - name: eno1\n          mac-address: 10:20:30:40:50:59\n"
        "          ipv4: {enabled: true, dhcp: true}\n"
        "  - hostname: c\n    mac: 52:54:00:00:00:11\n    kargs: 1:30\n")))
    assert [h.macs for h in hosts] == [["52:54:00:00:00:10"], ["10:20:30:40:50:59"], ["52:54:00:00:00:11"]]
    assert parse_keyfile(hosts[0].keyfiles["ethernet-525400000010.nmconnection"])["ethernet"]["mac-address"] \
        == "52:54:00:00:00:10".upper()
    assert parse_keyfile(hosts[1].keyfiles["eno1.nmconnection"])["ethernet"]["mac-address"] == "10:20:30:40:50:59"
    assert hosts[2].kargs == ["1:30"]
    # Other scalars keep their YAML 1.1 types.
    from ignkit.yamlfile import load_yaml

    assert load_yaml("a: 0x1f\nb: 010\nc: 12\nd: true\ne: 1.5\nf: 1:2:3") == \
        {"a": 31, "b": 8, "c": 12, "d": True, "e": 1.5, "f": "1:2:3"}


def test_json_or_yaml_documents() -> None:
    """The one "JSON, else YAML" reader (Secrets, stream metadata): no base-60 integers, None for neither."""
    from ignkit.secret import user_data_from_secret
    from ignkit.yamlfile import load_json_or_yaml

    assert load_json_or_yaml(b'{"a": [1, "1:30"]}') == {"a": [1, "1:30"]}
    assert load_json_or_yaml(b"a: 1:30\nb: 0x10\n") == {"a": "1:30", "b": 16}
    assert load_json_or_yaml(b"a: [b\n") is None
    # A Secret given as YAML whose stringData value looks sexagesimal is returned as that text.
    doc = b"kind: Secret\nstringData:\n  userData: 1:30\n"
    assert user_data_from_secret(doc) == b"1:30"


def test_arch_aliases(tmp_path: Path) -> None:
    hosts = parse_inventory({"hosts": [{"hostname": "a", "arch": "AMD64"}, {"hostname": "b", "arch": "arm64"},
                                       {"hostname": "c", "arch": "ppc64el"}]}, source="h.yaml")
    assert [h.arch for h in hosts] == ["x86_64", "aarch64", "ppc64le"]


def test_nmstate_file_with_unquoted_mac(tmp_path: Path) -> None:
    from ignkit.netconf import load_nmstate, nmstate_to_keyfiles

    p = write(tmp_path, "interfaces:\n  - name: eth0\n    mac-address: 52:54:00:12:34:56\n"
              "    ipv4: {enabled: true, dhcp: true}\n", "net.yaml")
    kf = nmstate_to_keyfiles(load_nmstate(p))["eth0.nmconnection"]
    assert parse_keyfile(kf)["ethernet"]["mac-address"] == "52:54:00:12:34:56"
