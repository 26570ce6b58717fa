"""Boot the Debian-parts live ISO in qemu (TCG) before and after ignkit customizes it, and read what the kernel
received: the exact kernel arguments (word by word), /config.ign and the firstboot network keyfiles."""

from __future__ import annotations

import base64
import gzip
import json
import urllib.parse

import bootlib
import cases
import pytest
import yaml
from bootlab import ignkit
from bootlib import BootMismatch, BootTimeout, check_boot, check_config, check_kargs

pytestmark = pytest.mark.boot

KEYFILES = {k.name: k.read_bytes() for k in cases.KEYFILES}


# ---------------------------------------------------------------- pristine: default kargs, no config


MODES = ["bios-cd", "bios-disk", "uefi-cd", "aa64-cd"]


def with_case(prefix: str) -> list:
    return [pytest.param(mode, marks=pytest.mark.boot_case(f"{prefix}-{mode}"), id=mode) for mode in MODES]


@pytest.mark.parametrize("mode", with_case("pristine"))
def test_pristine_boot(lab, mode):
    report = lab.result(f"pristine-{mode}")
    m = lab.build(cases.arch_of(mode))
    check_boot(report, kargs=m["default_kargs"], config=None, keyfiles={})
    assert not any("unpacking failed" in line for line in report.dmesg), report.dmesg


# ---------------------------------------------------------------- customized with `ignkit iso ...`


@pytest.mark.parametrize("mode", with_case("custom"))
def test_customized_boot(lab, mode):
    report = lab.result(f"custom-{mode}")
    m = lab.build(cases.arch_of(mode))
    check_boot(report, kargs=cases.custom_kargs(m["volume_id"]), config=cases.LIVE_IGN.read_bytes(),
               keyfiles=KEYFILES)
    # The files of the second initrd land in / beside the live initramfs's own.
    assert {"config.ign", "init", "bin", "etc"} <= set(report.rootfs)


def test_customized_iso_reads_back_and_resets_to_pristine(lab, tmp_path):
    for arch in ("x86_64", "aarch64"):
        pristine = lab.build(arch)["path"]
        custom = cases.customized_iso(lab, arch)
        assert custom.read_bytes() != pristine.read_bytes()
        shown = ignkit("iso", "ignition", "show", str(custom)).stdout
        assert shown == cases.LIVE_IGN.read_bytes()
        current = ignkit("iso", "kargs", "show", str(custom)).stdout.decode().strip()
        assert current == cases.custom_kargs(lab.build(arch)["volume_id"])
        reset = tmp_path / f"reset-{arch}.iso"
        ignkit("iso", "reset", "-o", str(reset), str(custom))
        assert reset.read_bytes() == pristine.read_bytes()


@pytest.mark.parametrize("mode", [pytest.param(m, marks=pytest.mark.boot_case(f"fullkargs-{m}"), id=m)
                                  for m in ("bios-cd", "uefi-cd")])
def test_kargs_filling_the_whole_area(lab, mode, tmp_path):
    # With the area full, the '\n' ignkit writes after the kargs is the last byte before the "#...#" line:
    # neither isolinux nor GRUB may pass any '#' to the kernel.
    m = lab.build("x86_64")
    fill = cases.fill_karg(m)
    assert len(m["default_kargs"] + " " + fill) == m["kargs_size"] - 1
    report = lab.result(f"fullkargs-{mode}")
    check_boot(report, kargs=m["default_kargs"] + " " + fill, config=None)
    # One byte more does not fit: refused, and no output is left behind.
    out = tmp_path / "toolong.iso"
    with pytest.raises(AssertionError, match="exited"):
        ignkit("iso", "kargs", "modify", "-a", fill + "x", "-o", str(out), str(m["path"]))
    assert not out.exists()


# ---------------------------------------------------------------- `ignkit embed` and `ignkit pxe customize`


def decode_source(resource: dict) -> bytes:
    """The bytes of an Ignition resource with a data: URL (base64 or percent-encoded, gzip or not)."""
    source = resource["source"]
    assert source.startswith("data:"), source
    meta, _, payload = source[5:].partition(",")
    data = base64.b64decode(payload) if meta.endswith(";base64") else urllib.parse.unquote_to_bytes(payload)
    if resource.get("compression") == "gzip":
        data = gzip.decompress(data)
    return data


def check_install_config(config: bytes, dest_device: str = "/dev/vda", hostname: str | None = None) -> dict:
    """A live config that installs the destination config (dest.ign) to ``dest_device``, as coreos-installer's
    iso/pxe customize would compose it. Returns the live config's files by path."""
    live = json.loads(config)
    assert live["ignition"]["version"].startswith("3.")
    files = {f["path"]: f for f in live.get("storage", {}).get("files", [])}
    assert "/etc/coreos/dest.ign" in files, sorted(files)
    dest = json.loads(decode_source(files["/etc/coreos/dest.ign"]["contents"]))
    want = json.loads(cases.DEST_IGN.read_bytes())
    if hostname is None:
        assert dest == want
    else:  # the host's name is merged into the destination config too
        assert dest["passwd"] == want["passwd"]
    installer = [p for p in files if p.startswith("/etc/coreos/installer.d/")]
    assert installer, sorted(files)
    merged: dict = {}
    for p in sorted(installer):
        merged.update(yaml.safe_load(decode_source(files[p]["contents"])) or {})
    assert merged.get("dest-device") == dest_device
    assert merged.get("ignition-file") == "/etc/coreos/dest.ign"
    return files


@pytest.mark.boot_case("embed-uefi-disk")
def test_ignkit_embed_boot(lab):
    report = lab.result("embed-uefi-disk")
    iso = cases.embedded_iso(lab)
    m = lab.build("x86_64")
    # What the kernel unpacked is what is in the ISO's Ignition area (read here without ignkit).
    members = bootlib.read_newc(bootlib.iso_extract(iso, "/images/ignition.img"))
    check_boot(report, kargs=m["default_kargs"].split() + cases.EMBED_KARGS, config=members["config.ign"],
               keyfiles={cases.KEYFILES[0].name: cases.KEYFILES[0].read_bytes()})
    check_install_config(report.config or b"")


@pytest.mark.boot_case("pxe-kernel")
def test_pxe_customize_direct_kernel_boot(lab):
    report = lab.result("pxe-kernel")
    src = (lab.build("x86_64")["dir"] / "initrd.img").read_bytes()
    out = cases.pxe_initrd(lab).read_bytes()
    assert out[:len(src)] == src  # the live initramfs, unchanged, plus one appended layer
    layer = bootlib.read_newc(out[len(src):])
    check_boot(report, kargs=cases.PXE_APPEND, config=layer["config.ign"],
               keyfiles={cases.KEYFILES[0].name: cases.KEYFILES[0].read_bytes()})
    check_install_config(report.config or b"")


@pytest.mark.parametrize("host", [pytest.param(h, marks=pytest.mark.boot_case(f"host-{h}"), id=h)
                                  for h in cases.HOSTS])
def test_ignkit_embed_hosts_boot(lab, host):
    mode, dest_device, address, mac = cases.HOSTS[host]
    report = lab.result(f"host-{host}")
    iso = cases.hosts_isos(lab) / f"{host}.iso"
    members = bootlib.read_newc(bootlib.iso_extract(iso, "/images/ignition.img"))
    net = {k.split("/")[-1]: v for k, v in members.items() if k.startswith("etc/coreos-firstboot-network/")}
    check_boot(report, kargs=lab.build("x86_64")["default_kargs"], config=members["config.ign"], keyfiles=net)
    files = check_install_config(report.config or b"", dest_device, hostname=host)
    assert decode_source(files["/etc/hostname"]["contents"]).decode().strip() == host
    # This host's own static address and MAC, and no other host's.
    [keyfile] = report.keyfiles.values()
    text = keyfile.decode().lower()
    assert f"address1={address}" in text.replace(" ", "") and mac in text
    for other, (_, _, other_address, other_mac) in cases.HOSTS.items():
        if other != host:
            assert other_address not in text and other_mac not in text


# ---------------------------------------------------------------- the checks catch what they must


@pytest.mark.boot_case("broken-bios-cd")
def test_wrong_kargs_and_missing_config_fail(lab):
    report = lab.result("broken-bios-cd")
    m = lab.build("x86_64")
    # The kernel refuses the CRC64 xz archive (not fatal: it boots without /config.ign) ...
    assert report.config is None
    assert any("unpacking failed" in line.lower() for line in report.dmesg), report.dmesg
    with pytest.raises(BootMismatch, match="no /config.ign"):
        check_config(report, cases.LIVE_IGN.read_bytes())
    # ... and isolinux passes the '#' padding of a kargs area without its newline to the kernel.
    assert any(w.startswith("####") for w in report.words), report.words
    with pytest.raises(BootMismatch, match="kernel arguments differ"):
        check_kargs(report, m["default_kargs"])


@pytest.mark.boot_case("pristine-bios-cd")
def test_check_is_word_exact(lab):
    report = lab.result("pristine-bios-cd")
    default = lab.build("x86_64")["default_kargs"]
    check_kargs(report, default)
    for wrong in (default + " extra", default.replace("ignition.firstboot ", ""),
                  " ".join(reversed(default.split())), default.replace("metal", "metal#")):
        with pytest.raises(BootMismatch):
            check_kargs(report, wrong)
    with pytest.raises(BootMismatch):
        check_config(report, b"{}")


@pytest.mark.boot_case("hang")
def test_hanging_boot_fails_at_timeout(lab):
    with pytest.raises(BootTimeout, match="no poweroff within 6 s"):
        lab.result("hang")


@pytest.mark.boot_case("pristine-bios-cd")
def test_report_parser_rejects_incomplete_or_garbled_logs(lab):
    text = lab.result("pristine-bios-cd").log
    assert bootlib.parse_report(text, "bios-cd").cmdline
    with pytest.raises(bootlib.BootError, match="no complete report"):
        bootlib.parse_report(text.split("IGNKIT-BOOT: end")[0], "bios-cd")
    garbled = text.replace("IGNKIT-BOOT: cmdline-b64 ", "IGNKIT-BOOT: cmdline-b64 QUFB")
    with pytest.raises(bootlib.BootError, match="garbled"):
        bootlib.parse_report(garbled, "bios-cd")
