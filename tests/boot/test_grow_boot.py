"""A config whose compressed archive (over 2 MiB) is far larger than the 256 KiB Ignition area, embedded with
``--grow-area``, boots from every medium and arrives byte for byte; the grown image's partition tables and
ISO 9660 structures read cleanly with other tools; reset gives back the original image."""

from __future__ import annotations

import subprocess

import bootlib
import cases
import pytest
from bootlab import ignkit
from bootlib import check_boot

from ignkit.initrd import build_cpio
from ignkit.xzstored import xz_stored

pytestmark = pytest.mark.boot


@pytest.mark.parametrize("mode", [pytest.param(m, marks=pytest.mark.boot_case(f"grown-{m}"), id=m)
                                  for m in cases.GROWN_MODES])
def test_grown_area_boots(lab, mode):
    report = lab.result(f"grown-{mode}")
    m = lab.build(cases.arch_of(mode))
    grown = cases.grown_iso(lab, cases.arch_of(mode))
    # the area really is grown: its archive is over 2 MiB, the image larger than the original; it is the
    # grown area's stored xz (ignkit/xzstored.py), which the kernel must unpack for the config to arrive
    area = bootlib.iso_extract(grown, "/images/ignition.img")
    assert len(area.rstrip(b"\0")) > 2 * 1024 * 1024
    config = cases.big_config(lab).read_bytes()
    assert area.rstrip(b"\0") == xz_stored(build_cpio({"config.ign": config}))
    assert grown.stat().st_size > m["path"].stat().st_size
    check_boot(report, kargs=m["default_kargs"], config=config, keyfiles={})
    assert not any("unpacking failed" in line or "junk" in line for line in report.dmesg), report.dmesg


def test_grown_image_tables_and_reset(lab, tmp_path):
    for arch in ("x86_64", "aarch64"):
        pristine = lab.build(arch)["path"]
        grown = cases.grown_iso(lab, arch)
        r = subprocess.run(["xorriso", "-abort_on", "NEVER", "-indev", str(grown), "-find", "/", "-type", "f"],
                           capture_output=True, text=True)
        assert r.returncode == 0 and "'/images/ignition.img'" in r.stdout, r.stderr
        assert not any(w in r.stderr for w in ("FAILURE", "SORRY", "WARNING", "MISHAP")), r.stderr
        r = subprocess.run(["isoinfo", "-d", "-i", str(grown)], capture_output=True, text=True)
        assert r.returncode == 0 and not r.stderr, r.stderr
        if arch == "x86_64":
            # The same findings as on the pristine image (isohybrid's MBR partitions overlap by design),
            # nothing about CRCs, the backup header or sizes.
            def verify(path):
                out = subprocess.run(["sgdisk", "-v", str(path)], capture_output=True, text=True).stdout
                return [line for line in out.splitlines() if line.strip()]
            assert verify(grown) == verify(pristine)
            fd = subprocess.run(["fdisk", "-l", str(grown)], capture_output=True, text=True)
            assert fd.returncode == 0 and not fd.stderr, fd.stderr
            sectors = grown.stat().st_size // 512
            assert f"{sectors} sectors" in fd.stdout and f" 0 {sectors - 1} {sectors} " in " ".join(fd.stdout.split())
        reset = tmp_path / f"reset-{arch}.iso"
        ignkit("iso", "reset", "-o", str(reset), str(grown))
        assert reset.read_bytes() == pristine.read_bytes()
