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

