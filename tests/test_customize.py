"""The composition behind `ignkit embed` / `pxe customize`, applied to real CoreOS fixture ISOs and read back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import CI_FIXTURES

from ignkit.errors import ImageError, InputError, UsageError
from ignkit.ignition import build
from ignkit.inventory import parse_inventory
from ignkit.live.customize import (
    CustomizeOptions,
    compose,
    customize_iso,
    describe,
    parse_console,
    read_customization,
)
from ignkit.live.hosts import host_options
from ignkit.live.image import open_iso, write_iso
from ignkit.netconf import parse_keyfile

C = CI_FIXTURES / "customize"
FULL_FEATURES = {"installer-config": True, "live-initrd-network": True,
                 "installer-config-directives": {"console": True}}


@pytest.fixture
def isos(fixture_isos: dict[str, Path]) -> dict[str, Path]:
    """The embed-area fixture ISOs by era (``2020-09`` .. ``2023-07.x86_64``), read-only."""
    return {name[len("embed-areas-"):]: p for name, p in fixture_isos.items() if name.startswith("embed-areas-")}


@pytest.fixture()
def hooks(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name in ("pre-install-1", "pre-install-2", "post-install-1", "post-install-2"):
        p = tmp_path / name
        marker = name.replace("-install-", "inst-")
        p.write_text(f"#!/bin/bash\necho @{marker}@\n")
        out[name] = p
    return out


def customize_and_read(iso_path: Path, tmp_path: Path, options: CustomizeOptions, **kw: bool):  # type: ignore
    iso = open_iso(iso_path)
    result = customize_iso(iso, options, **kw)
    out = tmp_path / "out.iso"
    write_iso(iso, output=str(out))
    back = open_iso(out)
    return result, back, read_customization(back.members())


def test_upstream_option_set(isos: dict[str, Path], hooks: dict[str, Path], tmp_path: Path) -> None:
    """The option set of coreos-installer's customize test, read back field by field."""
    opts = CustomizeOptions(
        dest_ignition=[C / "dest.ign", C / "dest-2.ign"],
        dest_device="/dev/vda",
        dest_console=["ttyS0,115200n8"],
        dest_karg_append=["dest-karg", "ignition.platform.id=qemu", "systemd.log_color=0", "rd.neednet=1"],
        dest_karg_delete=["ignition.platform.id=metal"],
        network_keyfile=[C / "installer-test.nmconnection"],
        network_nmstate=[C / "installer-test-nmstate-json.json", C / "installer-test-nmstate-yaml.yaml"],
        ignition_ca=[C / "cert.pem"],
        pre_install=[hooks["pre-install-1"], hooks["pre-install-2"]],
        post_install=[hooks["post-install-1"], hooks["post-install-2"]],
        installer_config=[C / "install-1.conf", C / "install-2.conf"],
        live_ignition=[C / "live.ign", C / "live-2.ign"],
        live_karg_append=["live-karg"],
        live_karg_delete=["mitigations=auto,nosmt"],
        live_karg_replace=["ignition.platform.id=metal=qemu"],
    )
    result, back, parts = customize_and_read(isos["2022-09"], tmp_path, opts)
    assert result.messages == ["Boot media will automatically install to /dev/vda without confirmation."]
    members = back.members()
    assert sorted(members) == ["config.ign"] + [f"etc/coreos-firstboot-network/{n}" for n in (
        "installer-test.nmconnection", "nmstate-js-eth1.nmconnection", "nmstate-js-eth2.nmconnection",
        "nmstate-yl-eth1.nmconnection", "nmstate-yl-eth2.nmconnection")]
    assert parts.keyfiles["installer-test.nmconnection"] == (C / "installer-test.nmconnection").read_bytes()
    assert parse_keyfile(parts.keyfiles["nmstate-yl-eth2.nmconnection"])["connection"]["interface-name"] \
        == "nmstate-yl-eth2"

    # Live config: generated parts, then the two live configs merged statically.
    live = parts.live_config
    assert live is not None and live["ignition"]["version"] == "3.3.0"
    assert "merge" not in live["ignition"].get("config", {})
    assert list(parts.files) == [
        "/usr/local/bin/pre-install-pre-install-1", "/usr/local/bin/pre-install-pre-install-2",
        "/usr/local/bin/post-install-post-install-1", "/usr/local/bin/post-install-post-install-2",
        "/etc/coreos/installer.d/0000-install-1.conf", "/etc/coreos/installer.d/0001-install-2.conf",
        "/etc/coreos/dest.ign", "/etc/coreos/installer.d/0002-customize.yaml"]
    assert parts.files["/usr/local/bin/pre-install-pre-install-1"] == (0o700, hooks["pre-install-1"].read_bytes())
    assert parts.files["/etc/coreos/dest.ign"][0] == 0o600
    assert parts.files["/etc/coreos/installer.d/0000-install-1.conf"] == (0o600, (C / "install-1.conf").read_bytes())
    assert list(parts.units) == [
        "pre-install-pre-install-1.service", "pre-install-pre-install-2.service",
        "post-install-post-install-1.service", "post-install-post-install-2.service",
        "live-ignition-applied.service", "terminate-multi-user.service", "live-2-ignition-applied.service"]
    pre = parts.units["pre-install-pre-install-1.service"]
    assert pre["enabled"] is True
    assert "ExecStart=/usr/local/bin/pre-install-pre-install-1\n" in pre["contents"]
    assert "Before=coreos-installer.service\n" in pre["contents"]
    assert pre["contents"].endswith("RequiredBy=coreos-installer.service")
    post = parts.units["post-install-post-install-2.service"]
    assert "After=coreos-installer.service\nBefore=coreos-installer.target\n" in post["contents"]
    assert post["contents"].endswith("RequiredBy=coreos-installer.target")
    live_units = build.units_of(json.loads((C / "live.ign").read_text()))
    assert parts.units["live-ignition-applied.service"]["contents"] == \
        live_units["live-ignition-applied.service"]["contents"]
    cas = live["ignition"]["security"]["tls"]["certificateAuthorities"]
    assert [build.read_resource(c) for c in cas] == [(C / "cert.pem").read_bytes()]

    # Installer config: the user files, then the generated one.
    assert list(parts.installer_files) == ["0000-install-1.conf", "0001-install-2.conf", "0002-customize.yaml"]
    assert parts.installer_files["0002-customize.yaml"].decode() == (
        "ignition-file: /etc/coreos/dest.ign\n"
        "console:\n- ttyS0,115200n8\n"
        "append-karg:\n- dest-karg\n- ignition.platform.id=qemu\n- systemd.log_color=0\n- rd.neednet=1\n"
        "delete-karg:\n- ignition.platform.id=metal\n"
        "copy-network: true\n"
        "dest-device: /dev/vda\n")
    assert parts.installer_config.append_karg[:2] == ["install-config-karg-1", "install-config-karg-2"]

    # Destination config: dest.ign and dest-2.ign merged statically, with the CA.
    dest = parts.dest_config
    assert dest is not None and dest["ignition"]["version"] == "3.3.0"
    assert "merge" not in dest["ignition"].get("config", {})
    dest2 = [u["name"] for u in json.loads((C / "dest-2.ign").read_text())["systemd"]["units"]]
    assert list(build.units_of(dest)) == ["dest-ignition-applied.service", *dest2]
    assert [build.read_resource(c) for c in dest["ignition"]["security"]["tls"]["certificateAuthorities"]] \
        == [(C / "cert.pem").read_bytes()]

    # Live kargs: edited from the defaults.
    assert back.current_kargs() == ("coreos.liveiso=fedora-coreos-36.20220909.dev.0 ignition.firstboot "
                                    "ignition.platform.id=qemu live-karg")
    assert back.default_kargs == open_iso(isos["2022-09"]).default_kargs


def test_single_dest_config_is_kept_and_hostname_reaches_both(isos: dict[str, Path], tmp_path: Path) -> None:
    from ignkit.netconf import static_keyfiles

    opts = CustomizeOptions(dest_ignition=[C / "dest.ign"], hostname="w1.example.com",
                            keyfiles=dict(static_keyfiles(addresses=["192.0.2.11/24"], gateway=["192.0.2.1"],
                                                          dns=["192.0.2.53"], mac="52:54:00:aa:bb:01")))
    result, back, parts = customize_and_read(isos["2023-07.x86_64"], tmp_path, opts)
    assert result.messages == ["Boot media will automatically run installer."]
    assert parts.files["/etc/hostname"] == (0o644, b"w1.example.com\n")
    dest = parts.dest_config
    assert dest is not None
    assert build.files_of(dest)["/etc/hostname"] == (0o644, b"w1.example.com\n")
    original = json.loads((C / "dest.ign").read_text())
    assert build.units_of(dest) == build.units_of(original)
    assert parts.installer_config.to_dict() == {"ignition-file": "/etc/coreos/dest.ign", "copy-network": True}
    kf = parse_keyfile(parts.keyfiles["ethernet-525400aabb01.nmconnection"])
    assert kf["ipv4"]["address1"] == "192.0.2.11/24,192.0.2.1"
    # Kargs untouched without live-karg options.
    assert back.current_kargs() == back.default_kargs


def test_network_only_makes_no_live_config(isos: dict[str, Path], tmp_path: Path) -> None:
    opts = CustomizeOptions(network_keyfile=[C / "installer-test.nmconnection"])
    result, back, parts = customize_and_read(isos["2021-12"], tmp_path, opts)
    assert sorted(back.members()) == ["etc/coreos-firstboot-network/installer-test.nmconnection"]
    assert parts.live_config is None and not result.installs and result.messages == []


def test_dest_url_with_hash_and_wrapper(isos: dict[str, Path], tmp_path: Path) -> None:
    digest = "sha512-" + "ab" * 64
    plain = compose(CustomizeOptions(dest_ignition_url="https://h.example/worker.ign", dest_ignition_hash=digest,
                                     dest_device="/dev/sda"), FULL_FEATURES)
    assert plain.dest_config is None
    assert plain.installer_config.to_dict() == {"ignition-url": "https://h.example/worker.ign", "ignition-hash": digest,
                                      "dest-device": "/dev/sda"}
    # With a host name (or a CA) the URL is referenced from a small dest config instead.
    wrapped = compose(CustomizeOptions(dest_ignition_url="https://h.example/worker.ign", dest_ignition_hash=digest,
                                       hostname="w2", ignition_ca=[C / "cert.pem"]), FULL_FEATURES)
    assert wrapped.installer_config.to_dict() == {"ignition-file": "/etc/coreos/dest.ign"}
    dest = wrapped.dest_config
    assert dest is not None
    assert dest["ignition"]["config"]["merge"] == [{"source": "https://h.example/worker.ign",
                                                   "verification": {"hash": digest}}]
    assert build.files_of(dest)["/etc/hostname"][1] == b"w2\n"
    assert len(dest["ignition"]["security"]["tls"]["certificateAuthorities"]) == 1
    insecure = compose(CustomizeOptions(dest_ignition_url="http://h.example/w.ign", insecure_ignition=True),
                       FULL_FEATURES)
    assert insecure.installer_config.to_dict() == {"ignition-url": "http://h.example/w.ign", "insecure-ignition": True}
    with pytest.raises(UsageError, match="needs --dest-ignition-hash"):
        compose(CustomizeOptions(dest_ignition_url="http://h.example/w.ign"), FULL_FEATURES)
    with pytest.raises(UsageError, match="not both"):
        compose(CustomizeOptions(dest_ignition_url="http://h/w.ign", dest_ignition_hash=digest,
                                 dest_ignition=[C / "dest.ign"]), FULL_FEATURES)


@pytest.mark.parametrize("era, options, fragment", [
    ("2020-09", CustomizeOptions(network_keyfile=[C / "installer-test.nmconnection"]),
     "--network-keyfile: This OS image does not support customizing network settings."),
    ("2020-09", CustomizeOptions(keyfiles={"a.nmconnection": "x"}),
     "This OS image does not support customizing network settings."),
    ("2020-09", CustomizeOptions(dest_device="/dev/sda"),
     "--dest-device: This OS image does not support customizing installer configuration."),
    ("2020-09", CustomizeOptions(installer_config=[C / "install-1.conf"]),
     "--installer-config: This OS image does not support customizing installer configuration."),
    ("2020-09", CustomizeOptions(live_karg_append=["x"]),
     "This OS image does not support customizing live kernel arguments."),
    ("2021-12", CustomizeOptions(dest_console=["ttyS0"]),
     "--dest-console: This OS image does not support customizing the destination console."),
])
def test_features_gate_options(isos: dict[str, Path], era: str, options: CustomizeOptions, fragment: str) -> None:
    iso = open_iso(isos[era])
    with pytest.raises(ImageError) as e:
        customize_iso(iso, options)
    assert fragment in str(e.value)


def test_live_config_alone_works_on_old_iso(isos: dict[str, Path], tmp_path: Path) -> None:
    _, back, parts = customize_and_read(isos["2020-09"], tmp_path, CustomizeOptions(live_ignition=[C / "live.ign"]))
    assert parts.live_config is not None
    assert list(parts.units) == ["live-ignition-applied.service", "terminate-multi-user.service"]


def test_already_customized_and_force(isos: dict[str, Path], tmp_path: Path) -> None:
    _, back, _ = customize_and_read(isos["2022-09"], tmp_path, CustomizeOptions(live_karg_append=["a"]))
    with pytest.raises(ImageError, match="already customized; use -f to force"):
        customize_iso(back, CustomizeOptions())
    again = open_iso(tmp_path / "out.iso")
    customize_iso(again, CustomizeOptions(live_ignition=[C / "live-2.ign"]), force=True)
    # --force without live-karg options leaves the earlier kargs alone; the area is replaced.
    assert again.current_kargs().endswith(" a")
    assert sorted(again.members()) == ["config.ign"]


@pytest.mark.parametrize("options, exc, fragment", [
    (CustomizeOptions(network_keyfile=[C / "installer-test.nmconnection"] * 2), UsageError,
     "config already specifies keyfile installer-test.nmconnection"),
    (CustomizeOptions(network_keyfile=[C / "nmstate-yl-eth1.nmconnection"],
                      network_nmstate=[C / "installer-test-nmstate-yaml.yaml"]), UsageError,
     "config already specifies keyfile etc/coreos-firstboot-network/nmstate-yl-eth1.nmconnection"),
    (CustomizeOptions(pre_install=[C / "cert.pem", C / "cert.pem"]), UsageError,
     "config already specifies path /usr/local/bin/pre-install-cert.pem"),
    (CustomizeOptions(installer_config=[C / "dest.bu"]), InputError, "parsing installer config"),
    # neither JSON nor Butane (a Butane file such as dest.bu is translated: tests/test_butane_integration.py)
    (CustomizeOptions(dest_ignition=[C / "install-1.conf"]), InputError, "parsing Ignition config"),
    (CustomizeOptions(ignition_ca=[C / "install-1.conf"]), InputError, "not a PEM certificate"),
    (CustomizeOptions(dest_console=["console=ttyS0"]), UsageError, "should not start with 'console='"),
    (CustomizeOptions(dest_device="sda"), UsageError, "full path"),
    (CustomizeOptions(hostname="bad_host"), InputError, "not a valid host name"),
    (CustomizeOptions(live_ignition=[C / "missing.ign"]), InputError, "No such file"),
])
def test_bad_inputs(options: CustomizeOptions, exc: type, fragment: str) -> None:
    with pytest.raises(exc) as e:
        compose(options, FULL_FEATURES)
    assert fragment in str(e.value)


def test_config_with_unsupported_version_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "old.ign"
    p.write_text('{"ignition": {"version": "2.2.0"}}')
    with pytest.raises(InputError, match="parsing Ignition config .*unsupported config version"):
        compose(CustomizeOptions(dest_ignition=[p]), FULL_FEATURES)


def test_dest_configs_of_different_versions_merge_at_newest(tmp_path: Path) -> None:
    a = tmp_path / "a.ign"
    a.write_text(json.dumps({"ignition": {"version": "3.1.0"},
                             "storage": {"files": [{"path": "/etc/a", "mode": 420}]}}))
    b = tmp_path / "b.ign"
    b.write_text(json.dumps({"ignition": {"version": "3.4.0"},
                             "storage": {"files": [{"path": "/etc/a", "mode": 384}, {"path": "/etc/b"}]}}))
    r = compose(CustomizeOptions(dest_ignition=[a, b]), FULL_FEATURES)
    assert r.dest_config is not None
    assert r.dest_config["ignition"]["version"] == "3.4.0"
    assert r.dest_config["storage"]["files"] == [{"path": "/etc/a", "mode": 384}, {"path": "/etc/b"}]


def test_console_specs() -> None:
    assert parse_console("ttyS0") == "ttyS0,9600n8"
    assert parse_console("ttyS1,115200") == "ttyS1,115200n8"
    assert parse_console("ttyAMA0,115200e7") == "ttyAMA0,115200e7"
    assert parse_console("hvc0") == "hvc0"
    for bad in ("ttyS", "ttyUSB0", "ttyS0,115200x", "/dev/ttyS0"):
        with pytest.raises(UsageError):
            parse_console(bad)


def test_console_karg_note() -> None:
    r = compose(CustomizeOptions(dest_karg_append=["console=ttyS0,115200n8"]), FULL_FEATURES)
    assert any("--dest-console ttyS0,115200n8" in m for m in r.messages)


def test_too_big_for_the_area(isos: dict[str, Path], tmp_path: Path) -> None:
    big = tmp_path / "big.sh"
    big.write_bytes(os.urandom(300 * 1024))
    iso = open_iso(isos["2022-09"])
    with pytest.raises(ImageError, match="the embed area holds 262144"):
        customize_iso(iso, CustomizeOptions(pre_install=[big]))


def test_host_options_from_inventory(isos: dict[str, Path], tmp_path: Path) -> None:
    host, = parse_inventory({"hosts": [{"hostname": "w3.example.com", "mac": "52:54:00:00:00:03",
                                        "ip": "192.0.2.13/24", "gateway": "192.0.2.1", "install_dev": "/dev/sdb",
                                        "console": "ttyS0,115200n8", "kargs": "nosmt"}]})
    base = CustomizeOptions(dest_ignition=[C / "dest.ign"], dest_karg_append=["quiet"])
    opts = host_options(base, host)
    assert base.dest_karg_append == ["quiet"] and base.hostname is None  # base untouched
    _, back, parts = customize_and_read(isos["2022-09"], tmp_path, opts)
    assert parts.installer_config.to_dict() == {"ignition-file": "/etc/coreos/dest.ign", "console": ["ttyS0,115200n8"],
                                      "append-karg": ["quiet", "nosmt"], "copy-network": True,
                                      "dest-device": "/dev/sdb"}
    assert list(parts.keyfiles) == ["ethernet-525400000003.nmconnection"]
    assert parts.dest_config is not None
    assert build.files_of(parts.dest_config)["/etc/hostname"][1] == b"w3.example.com\n"


def test_describe_lists_everything(isos: dict[str, Path]) -> None:
    iso = open_iso(isos["2022-09"])
    r = customize_iso(iso, CustomizeOptions(dest_ignition=[C / "dest.ign"], dest_device="/dev/sda",
                                            network_keyfile=[C / "installer-test.nmconnection"],
                                            live_karg_append=["x"]))
    text = describe(r, area_size=iso.ignition_area.length, kargs=iso.current_kargs())
    assert "  config.ign (" in text
    assert "/etc/coreos/dest.ign (mode 0600" in text
    assert "  dest-device: /dev/sda" in text
    assert "network keyfiles: installer-test.nmconnection" in text
    assert "live kargs: " in text and text.count(" x") >= 1
    assert "of 262144 (" in text


def test_invalid_user_config_is_refused_with_its_position(tmp_path: Path) -> None:
    from ignkit.errors import InvalidConfig

    bad = tmp_path / "bad.ign"
    bad.write_text('{"ignition": {"version": "3.3.0"},\n "storage": {"files": [{"path": "etc/x"}]}}\n')
    with pytest.raises(InvalidConfig) as e:
        compose(CustomizeOptions(dest_ignition=[bad]), FULL_FEATURES)
    assert str(e.value).startswith(f"{bad} does not validate: ")
    assert "path not absolute" in str(e.value) and "line 2" in str(e.value)
    with pytest.raises(InvalidConfig):
        compose(CustomizeOptions(live_ignition=[bad]), FULL_FEATURES)
    r = compose(CustomizeOptions(dest_ignition=[bad], validate=False), FULL_FEATURES)
    assert r.dest_config is not None and r.dest_config["storage"]["files"] == [{"path": "etc/x"}]


def test_old_dest_config_is_lifted_when_ignkit_adds_to_it(tmp_path: Path) -> None:
    old = tmp_path / "old.ign"
    old.write_text('{"ignition": {"version": "3.0.0"}, "storage": {"files": [{"path": "/etc/motd", "mode": 420}]}}')
    r = compose(CustomizeOptions(dest_ignition=[old], hostname="h1", ignition_ca=[C / "cert.pem"]), FULL_FEATURES)
    assert r.dest_config is not None
    assert r.dest_config["ignition"]["version"] == "3.3.0"
    assert sorted(build.files_of(r.dest_config)) == ["/etc/hostname"]  # /etc/motd has no contents
    assert [f["path"] for f in r.dest_config["storage"]["files"]] == ["/etc/motd", "/etc/hostname"]
    # Alone, it is kept at its own version.
    alone = compose(CustomizeOptions(dest_ignition=[old]), FULL_FEATURES)
    assert alone.dest_config is not None and alone.dest_config["ignition"]["version"] == "3.0.0"


def test_installer_config_that_names_the_dest_config_is_left_alone(tmp_path: Path) -> None:
    inst = tmp_path / "url.yaml"
    inst.write_text("ignition-url: https://h.example/w.ign\nignition-hash: sha512-" + "0" * 128 + "\n")
    r = compose(CustomizeOptions(installer_config=[inst], hostname="h2", dest_device="/dev/sda"), FULL_FEATURES)
    assert r.dest_config is None
    assert r.installer_config.to_dict() == {"dest-device": "/dev/sda"}
    assert r.warnings == [f"--hostname/--ignition-ca apply to the live system only: {inst} supplies the "
                          "destination config"]
    assert r.live_config is not None and build.files_of(r.live_config)["/etc/hostname"][1] == b"h2\n"


def test_nodes_config_ssh_key_reaches_the_installed_system() -> None:
    host, = parse_inventory({"sshKey": "ssh-ed25519 AAAAnode n@x", "hosts": [{"hostname": "n1"}]})
    base = CustomizeOptions(dest_ignition=[C / "dest.ign"], ssh_authorized_keys=["ssh-rsa AAAAbase b@x"])
    r = compose(host_options(base, host), FULL_FEATURES)
    assert r.dest_config is not None
    assert r.dest_config["passwd"]["users"] == [{"name": "core", "sshAuthorizedKeys": [
        "ssh-rsa AAAAbase b@x", "ssh-ed25519 AAAAnode n@x"]}]
    assert "dest-ignition-applied.service" in build.units_of(r.dest_config)


def test_same_path_in_generated_and_user_config_is_replaced_whole(tmp_path: Path, hooks: dict[str, Path]) -> None:
    """No field-wise merge of ignkit's entry with a user's: it would pair the generated gzip flag with
    plain user data, or a user's verification hash with ignkit's contents."""
    hn = tmp_path / "hn.ign"
    hn.write_text(json.dumps({"ignition": {"version": "3.3.0"}, "storage": {"files": [
        {"path": "/etc/hostname", "mode": 384,
         "contents": {"source": "data:,other", "verification": {"hash": "sha512-" + "0" * 128}}}]}}))
    # Live: the user's live config is merged over the generated one, so its entry wins whole.
    r = compose(CustomizeOptions(live_ignition=[hn], hostname="h1"), FULL_FEATURES)
    assert r.live_config is not None
    assert r.live_config["storage"]["files"] == json.loads(hn.read_text())["storage"]["files"]
    assert build.files_of(r.live_config)["/etc/hostname"] == (0o600, b"other")
    # Destination: the host name is merged over the user's configs, so ignkit's entry wins whole.
    r = compose(CustomizeOptions(dest_ignition=[C / "dest.ign", hn], hostname="h1"), FULL_FEATURES)
    assert r.dest_config is not None
    [entry] = [f for f in r.dest_config["storage"]["files"] if f["path"] == "/etc/hostname"]
    assert "verification" not in entry["contents"] and entry["mode"] == 0o644
    assert build.files_of(r.dest_config)["/etc/hostname"] == (0o644, b"h1\n")
    assert "dest-ignition-applied.service" in build.units_of(r.dest_config)
    # A user unit named like a generated hook replaces it whole too.
    unit = tmp_path / "unit.ign"
    unit.write_text(json.dumps({"ignition": {"version": "3.3.0"}, "systemd": {"units": [
        {"name": "pre-install-pre-install-1.service", "enabled": False}]}}))
    r = compose(CustomizeOptions(live_ignition=[unit], pre_install=[hooks["pre-install-1"]]), FULL_FEATURES)
    assert r.live_config is not None
    assert r.live_config["systemd"]["units"] == [{"name": "pre-install-pre-install-1.service", "enabled": False}]
    assert "/usr/local/bin/pre-install-pre-install-1" in build.files_of(r.live_config)
