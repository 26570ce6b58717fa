"""The customize option table: it drives the click options, the options type and messages; the value checks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import pytest
from conftest import CI_FIXTURES
from conftest import run_ignkit as run
from test_pxe_customize import make_initramfs

from ignkit.cli.embed import embed, pxe_customize
from ignkit.errors import IgnkitError, InputError, UsageError
from ignkit.live.console import parse_console
from ignkit.live.customize import compose
from ignkit.live.installer import InstallConfig
from ignkit.live.kargs import KargsError, check_karg
from ignkit.live.options import (
    LIBRARY_FIELDS,
    OPTIONS,
    CustomizeOptions,
    check_hosts_base,
    check_values,
    flag,
    options_for,
    short_network_keyfiles,
)
from ignkit.netconf import parse_keyfile, static_keyfiles

C = CI_FIXTURES / "customize"
FULL_FEATURES = {"installer-config": True, "live-initrd-network": True,
                 "installer-config-directives": {"console": True}}


def _click_options(cmd: click.Command) -> dict[str, click.Option]:
    return {p.name: p for p in cmd.params if isinstance(p, click.Option) and p.name}


# ---------------------------------------------------------------------------------------------------
# One table


@pytest.mark.parametrize("cmd, image", [(embed, "iso"), (pxe_customize, "pxe")])
def test_every_row_is_a_click_option(cmd: click.Command, image: str) -> None:
    params = _click_options(cmd)
    for o in OPTIONS:
        if image not in o.images:
            assert o.field not in params, o.flag
            continue
        p = params[o.field]
        assert tuple(p.opts) == o.flags and p.multiple == o.multiple and p.is_flag == o.is_flag, o.flag
        assert p.help == o.help and (o.is_flag or p.metavar == o.metavar), o.flag
    # iso customize is the same command as embed.
    assert image != "iso" or [r.flag for r in options_for("iso")] == [o.flag for o in OPTIONS]
    assert image != "pxe" or "--live-karg-append" not in {f for p in params.values() for f in p.opts}


def test_every_row_is_a_field_and_every_field_a_row() -> None:
    fields = {f.name for f in dataclasses.fields(CustomizeOptions)}
    rows = {o.field for o in OPTIONS}
    assert rows <= fields
    assert fields - rows == set(LIBRARY_FIELDS)
    blank = CustomizeOptions()
    for o in OPTIONS:
        assert getattr(blank, o.field) == o.default(), o.flag
        assert flag(o.field) == o.flag and o.flag.startswith("--")


def test_help_comes_from_the_table() -> None:
    r = run("pxe", "customize", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.decode().split())
    for o in options_for("pxe"):
        assert o.flag in text and " ".join(o.help.split()) in text, o.flag


# Messages name the flag: every checked value, and every file option that cannot be read.
_BAD_VALUES = {
    "dest_ignition_url": "ftp://h/x.ign", "dest_ignition_hash": "md5-00", "dest_device": "sda",
    "dest_console": "com1", "dest_karg_append": "a\nb", "dest_karg_delete": "a\tb", "hostname": "bad_host",
    "ip": "192.0.2.1", "gateway": "x", "dns": "192.0.2.x", "interface": "a/b", "mac": "52:54",
    "live_karg_append": "a\x1bb", "live_karg_delete": "\x01", "live_karg_replace": "k=v",
}


@pytest.mark.parametrize("row", [o for o in OPTIONS if o.check is not None], ids=lambda o: o.flag)
def test_refused_values_name_the_flag(row) -> None:  # type: ignore[no-untyped-def]
    value = _BAD_VALUES[row.field]
    opts = CustomizeOptions(**{row.field: [value] if row.multiple else value})
    with pytest.raises(IgnkitError) as e:
        check_values(opts)
    assert e.value.message.startswith(row.flag), e.value.message
    assert "\n" not in e.value.message
    with pytest.raises(IgnkitError):  # compose checks the same values for library callers
        compose(opts, FULL_FEATURES)


@pytest.mark.parametrize("row", [o for o in OPTIONS if o.metavar == "FILE"], ids=lambda o: o.flag)
def test_unreadable_files_name_the_flag(row, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as e:
        compose(CustomizeOptions(**{row.field: [tmp_path / "missing"]}), FULL_FEATURES)
    assert row.flag in e.value.message


def test_features_messages_name_the_flag() -> None:
    # The installer-config message names the first --dest-* option given (from the table's "dest" rows).
    with pytest.raises(IgnkitError, match="^--dest-karg-delete: This OS image does not support"):
        compose(CustomizeOptions(dest_karg_delete=["quiet"]), {})
    with pytest.raises(IgnkitError, match="^--ip/--mac: This OS image does not support customizing network"):
        compose(CustomizeOptions(ip=["192.0.2.2/24"], mac="52:54:00:00:00:01"), {})


def test_per_host_rows_refused_with_hosts(tmp_path: Path) -> None:
    from ignkit.inventory import parse_inventory
    from ignkit.live.hosts import plan_pxe_hosts

    # The library refuses them too (each host would get the same address).
    hosts = parse_inventory({"hosts": [{"hostname": "a"}]})
    with pytest.raises(UsageError, match="^--ip is per host: put it in the inventory"):
        plan_pxe_hosts(make_initramfs(tmp_path / "live.img"), CustomizeOptions(ip=["192.0.2.1/24"]), hosts, tmp_path)

    for o in OPTIONS:
        opts = CustomizeOptions(**{o.field: ["x"] if o.multiple else (not o.invert if o.is_flag else "x")})
        if o.per_host:
            with pytest.raises(UsageError, match=f"^{o.flag} is per host: put it in h.yaml"):
                check_hosts_base(opts, "h.yaml")
        else:
            check_hosts_base(opts, "h.yaml")


# ---------------------------------------------------------------------------------------------------
# Short network options in the library


def test_short_network_options_in_the_library() -> None:
    opts = CustomizeOptions(ip=["192.0.2.11/24", "2001:db8::11/64"], gateway=["192.0.2.1"], dns=["192.0.2.53"],
                            mac="52:54:00:AA:BB:01")
    want = static_keyfiles(addresses=["192.0.2.11/24", "2001:db8::11/64"], gateway=["192.0.2.1"],
                           dns=["192.0.2.53"], mac="52:54:00:AA:BB:01")
    assert short_network_keyfiles(opts) == want
    result = compose(opts, FULL_FEATURES)
    (name, text), = want.items()
    assert result.keyfiles == {name: text.encode()}
    assert result.members["etc/coreos-firstboot-network/" + name] == text.encode()
    kf = parse_keyfile(text)
    assert kf["ethernet"]["mac-address"].lower() == "52:54:00:aa:bb:01" and kf["ipv4"]["method"] == "manual"
    assert short_network_keyfiles(CustomizeOptions()) == {}
    with pytest.raises(InputError, match="need --ip"):
        compose(CustomizeOptions(gateway=["192.0.2.1"]), FULL_FEATURES)
    with pytest.raises(UsageError, match="config already specifies keyfile"):
        compose(CustomizeOptions(ip=["192.0.2.11/24"], keyfiles={"ignkit-static.nmconnection": "x"}), FULL_FEATURES)


# ---------------------------------------------------------------------------------------------------
# Consoles as coreos-installer checks them (its src/cmdline/console.rs tests)


@pytest.mark.parametrize("spec, karg, grub", [
    ("tty0", "console=tty0", None),
    ("hvc0", "console=hvc0", None),
    ("ttysclp0", "console=ttysclp0", None),
    ("ttyS1", "console=ttyS1,9600n8", "serial --unit=1 --speed=9600 --word=8 --parity=no"),
    ("ttyAMA1", "console=ttyAMA1,9600n8", "serial --unit=1 --speed=9600 --word=8 --parity=no"),
    ("ttyS1,1234567e5", "console=ttyS1,1234567e5", "serial --unit=1 --speed=1234567 --word=5 --parity=even"),
    ("ttyS2,5o", "console=ttyS2,5o8", "serial --unit=2 --speed=5 --word=8 --parity=odd"),
    ("ttyS3,17", "console=ttyS3,17n8", "serial --unit=3 --speed=17 --word=8 --parity=no"),
    ("ttyS255,4294967295", "console=ttyS255,4294967295n8",
     "serial --unit=255 --speed=4294967295 --word=8 --parity=no"),
])
def test_valid_consoles(spec: str, karg: str, grub: str | None) -> None:
    c = parse_console(spec)
    assert c.karg == karg and c.grub_command == grub


INVALID_CONSOLES = [
    "foo", "/dev/tty0", "/dev/ttyS0", "console=tty0", "console=ttyS0", "ztty0", "zttyS0", "tty0z", "ttyS0z",
    "tty1", "hvc1", "ttysclp1", "ttyS0,", "ttyS0,z", "ttyS0,115200p8", "ttyS0,115200n4", "ttyS0,115200n8r",
    "ttyB0", "ttyS9999999999999999999", "ttyS0,999999999999999999999",
    # and the edges of its port (u8) and speed (u32) ranges, and a trailing newline
    "ttyS256", "ttyS0,4294967296", "ttyS0\n", "ttyS0 ", " tty0",
]


@pytest.mark.parametrize("spec", INVALID_CONSOLES)
def test_invalid_consoles(spec: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_console(spec, "--dest-console")
    assert e.value.message.startswith(f"--dest-console {spec!r}: ")


def test_console_messages() -> None:
    with pytest.raises(UsageError, match=r"couldn't parse port: number too large to fit in target type \(at most 255"):
        parse_console("ttyS256")
    with pytest.raises(UsageError, match="couldn't parse speed: number too large"):
        parse_console("ttyS0,999999999999999999999")
    with pytest.raises(UsageError, match="spec should not start with 'console='"):
        parse_console("console=ttyS0")


@pytest.mark.parametrize("spec", ["ttyS9999999999999999999", "ttyS0,999999999999999999999", "ttyS256"])
def test_consoles_refused_by_the_cli(fixture_isos: dict[str, Path], tmp_path: Path, spec: str) -> None:
    iso = fixture_isos["embed-areas-2023-07.x86_64"]
    out = tmp_path / "out.iso"
    r = run("embed", iso, "-o", out, "--dest-console", spec)
    lines = r.stderr.decode().splitlines()
    assert r.returncode == 2 and lines == [lines[0]] and lines[0].startswith(f"ignkit: error: --dest-console {spec!r}")
    assert not out.exists()
    hosts = tmp_path / "h.yaml"
    hosts.write_text(f"hosts:\n  - hostname: a\n    console: '{spec}'\n")
    r2 = run("embed", iso, "--hosts", hosts, "--output-dir", tmp_path / "o")
    lines = r2.stderr.decode().splitlines()
    assert r2.returncode == 2 and lines == [f"ignkit: error: {hosts}: hosts[0].console {spec!r}: " + lines[0].split(
        f"{spec!r}: ", 1)[1]]
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------------------------------
# One karg check; device and URL checks (issue 10 items 17, 18), through the CLI


# NUL cannot be in a command-line argument: the library check refuses it, the CLI cases leave it out.
CONTROL_KARGS = ["a\nb", "a\rb", "a\tb", "a\x1bb", "a\x01b", "a\x7fb", "quiet\n"]


@pytest.mark.parametrize("karg", [*CONTROL_KARGS, "a\x00b"])
def test_karg_check(karg: str) -> None:
    with pytest.raises(KargsError) as e:
        check_karg(karg, "--dest-karg-append")
    assert e.value.message.startswith(f"--dest-karg-append {karg!r}: kernel arguments must not contain")
    assert check_karg("console=ttyS0,115200n8") == "console=ttyS0,115200n8"


def _refused(r, out: Path) -> str:  # type: ignore[no-untyped-def]
    lines = r.stderr.decode().splitlines()
    assert r.returncode == 2, lines
    assert len(lines) == 1 and lines[0].startswith("ignkit: error: "), lines
    assert not out.exists() and list(out.parent.iterdir()) == []
    return lines[0]


@pytest.mark.parametrize("option", ["--dest-karg-append", "--dest-karg-delete", "--live-karg-append",
                                    "--live-karg-delete"])
@pytest.mark.parametrize("karg", CONTROL_KARGS)
def test_embed_refuses_control_kargs(fixture_isos: dict[str, Path], tmp_path: Path, option: str, karg: str) -> None:
    out = tmp_path / "o" / "out.iso"
    out.parent.mkdir()
    line = _refused(run("embed", fixture_isos["embed-areas-2023-07.x86_64"], "-o", out, option, karg), out)
    assert line.startswith(f"ignkit: error: {option} ")


@pytest.mark.parametrize("option", ["--dest-karg-append", "--dest-karg-delete"])
def test_pxe_customize_refuses_control_kargs(tmp_path: Path, option: str) -> None:
    src = make_initramfs(tmp_path / "live.img")
    out = tmp_path / "o" / "out.img"
    out.parent.mkdir()
    for karg in CONTROL_KARGS:
        line = _refused(run("pxe", "customize", src, "-o", out, option, karg), out)
        assert line.startswith(f"ignkit: error: {option} ")


@pytest.mark.parametrize("text, fragment", [
    ('append-karg: ["a\\nb"]', "append-karg 'a\\nb': kernel arguments must not contain a newline"),
    ('delete-karg: ["a\\u0000b"]', "delete-karg 'a\\x00b': kernel arguments must not contain the control"),
    ('append-karg: ["a\\tb"]', "control character '\\t'"),
    ("console: [ttyS256]", "couldn't parse port"),
    ('dest-device: "/dev/sda\\nx"', "dest-device '/dev/sda\\nx': must not contain whitespace or control"),
    ('dest-device: "/dev/sda x"', "must not contain whitespace"),
    ('ignition-url: "http://h/a\\nb"', "expected an http(s) URL"),
])
def test_installer_config_contents(fixture_isos: dict[str, Path], tmp_path: Path, text: str, fragment: str) -> None:
    cfg = tmp_path / "inst.yaml"
    cfg.write_text(text + "\n")
    with pytest.raises(InputError, match="^parsing installer config") as e:
        InstallConfig.from_yaml(cfg.read_bytes(), str(cfg))
    assert fragment in e.value.message
    out = tmp_path / "o" / "out.iso"
    out.parent.mkdir()
    line = _refused(run("embed", fixture_isos["embed-areas-2023-07.x86_64"], "-o", out, "--installer-config", cfg),
                    out)
    assert fragment in line


@pytest.mark.parametrize("karg", ["a\nb", "a\x1bb", "a\x01b"])
def test_kargs_modify_refuses_control_kargs(fixture_isos: dict[str, Path], tmp_path: Path, karg: str) -> None:
    out = tmp_path / "o" / "out.iso"
    out.parent.mkdir()
    for flag_ in ("-a", "-d"):
        line = _refused(run("iso", "kargs", "modify", fixture_isos["embed-areas-2023-07.x86_64"], "-o", out,
                            flag_, karg), out)
        assert "kernel arguments must not contain" in line


@pytest.mark.parametrize("dev", ["/dev/sda\nx", "/dev/sda x", "/dev/sda\tx", "/dev/", "/dev", "sda", "/dev/sda\n",
                                 "/dev/sd\x1ba"])
def test_dest_device_refused(fixture_isos: dict[str, Path], tmp_path: Path, dev: str) -> None:
    out = tmp_path / "o" / "out.iso"
    out.parent.mkdir()
    line = _refused(run("embed", fixture_isos["embed-areas-2023-07.x86_64"], "-o", out, "--dest-device", dev), out)
    assert line.startswith(f"ignkit: error: --dest-device {dev!r}: must be a full device path")
    # The inventory's install_dev is checked by the same function.
    from ignkit.inventory import parse_inventory

    with pytest.raises(InputError, match="must be a full device path"):
        parse_inventory({"hosts": [{"hostname": "a", "install_dev": dev}]}, source="h.yaml")


@pytest.mark.parametrize("url", ["http://h/a\nb", "http://h/a b", "http://h/a\x01", "http://h/a\n", "ftp://h/x",
                                 "http://", "http:///x", "https://h:99999/x", "http://h:abc/x", "http://[::1/k",
                                 "h/x.ign"])
def test_dest_ignition_url_refused(fixture_isos: dict[str, Path], tmp_path: Path, url: str) -> None:
    out = tmp_path / "o" / "out.iso"
    out.parent.mkdir()
    line = _refused(run("embed", fixture_isos["embed-areas-2023-07.x86_64"], "-o", out, "--dest-ignition-url", url,
                        "--insecure-ignition"), out)
    assert line.startswith(f"ignkit: error: --dest-ignition-url {url!r}: expected an http(s) URL")


def test_pxe_customize_refuses_device_and_url(tmp_path: Path) -> None:
    src = make_initramfs(tmp_path / "live.img")
    out = tmp_path / "o" / "out.img"
    out.parent.mkdir()
    assert "--dest-device" in _refused(run("pxe", "customize", src, "-o", out, "--dest-device", "/dev/sda x"), out)
    assert "--dest-ignition-url" in _refused(run("pxe", "customize", src, "-o", out, "--dest-ignition-url",
                                                 "http://h/a\nb", "--insecure-ignition"), out)
    assert "--dest-console" in _refused(run("pxe", "customize", src, "-o", out, "--dest-console", "ttyS256"), out)
