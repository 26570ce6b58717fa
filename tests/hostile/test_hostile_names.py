"""Names and values that must match whole (issue 10 items 19 and 20): a trailing newline is not accepted by any
validation pattern, and a name taken from an image is never a path that leaves the target directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hostile_cases import CONFIG, assert_refused, patch_record

PXE = ["pxe", "config", "-a", "x86_64", "--kernel-url", "k", "--initramfs-url", "i", "--rootfs-url", "http://h/r",
       "--ignition-url", "http://h/c.ign", "--install-dev", "/dev/sda"]

VALUES = {
    "hostname-newline": (["embed", "in.iso", "--hostname", "w1\n", "--dest-ignition", "c.ign", "-o", "out.iso"],
                         "not a valid host name"),
    "interface-newline": (["embed", "in.iso", "--interface", "eth0\n", "--ip", "192.0.2.5/24", "--dest-ignition",
                           "c.ign", "-o", "out.iso"], "not a valid interface name"),
    "inventory-hostname-newline": (["embed", "in.iso", "--hosts", "nl.yaml", "--output-dir", "isos",
                                    "--dest-ignition", "c.ign"], "not a valid host name"),
    "pxe-label-newline-grub": (PXE + ["-F", "grub", "--label", "coreos\n", "-o", "out.cfg"], "label"),
    "pxe-label-newline-pxelinux": (PXE + ["-F", "pxelinux", "--label", "coreos\n", "-o", "out.cfg"], "label"),
    "pxe-label-newline-ipxe": (PXE + ["-F", "ipxe", "--label", "coreos\n", "-o", "out.cfg"], "label"),
}


@pytest.mark.parametrize("case", sorted(VALUES))
def test_value_with_trailing_newline(case: str, tmp_path: Path, iso_x86: Path) -> None:
    shutil.copyfile(iso_x86, tmp_path / "in.iso")
    (tmp_path / "c.ign").write_bytes(CONFIG)
    (tmp_path / "nl.yaml").write_text('hosts:\n  - hostname: "worker-0\\n"\n    mac: 52:54:00:00:00:10\n')
    args, expect = VALUES[case]
    assert_refused(args, tmp_path, expect=expect)


def test_extract_pxe_name_with_parent_components(tmp_path: Path, iso_x86: Path) -> None:
    """An ISO 9660 name ``X/../../ZZ;1`` under images/pxeboot, with out/in-x existing: nothing leaves out/."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copyfile(iso_x86, work / "in.iso")
    patch_record(work / "in.iso", b"ROOTFS.IMG;1", name=b"X/../../ZZ;1")
    (work / "out" / "in-x").mkdir(parents=True)
    assert_refused(["iso", "extract", "pxe", "in.iso", "-C", "out"], work, watch=[tmp_path],
                   expect="not a plain file name")



def test_download_location_naming_parent(tmp_path: Path) -> None:
    """Item 20 for download: an artifact whose location ends in ``..`` (after unquoting) is never a file name."""
    import json

    doc = json.loads((Path(__file__).resolve().parents[2] / "testdata" / "stream" / "fcos-stable.json").read_text())
    iso = doc["architectures"]["x86_64"]["artifacts"]["metal"]["formats"]["iso"]["disk"]
    iso["location"] = "http://127.0.0.1:9/builds/%2e%2e"
    (tmp_path / "stream.json").write_text(json.dumps(doc))
    (tmp_path / "out").mkdir()
    assert_refused(["download", "-s", "stream.json", "-a", "x86_64", "-f", "iso", "-C", "out"], tmp_path,
                   expect="file name")


def test_network_unwrap_member_named_dotdot(tmp_path: Path) -> None:
    """A hand-made cpio (the writer refuses such names) with the keyfile member ``etc/coreos-firstboot-network/..``."""
    def entry(name: bytes, data: bytes, mode: int = 0o100644) -> bytes:
        name += b"\0"
        hdr = b"070701" + b"".join(b"%08X" % v for v in (1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name), 0))
        out = hdr + name + bytes(-(110 + len(name)) % 4) + data
        return out + bytes(-len(out) % 4)

    archive = entry(b"etc/coreos-firstboot-network/..", b"[connection]\n") + entry(b"TRAILER!!!", b"", 0)
    (tmp_path / "net.img").write_bytes(archive)
    assert_refused(["pxe", "network", "unwrap", "-C", "out", "net.img"], tmp_path)
