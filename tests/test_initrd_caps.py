"""Member size caps: a parameter of the generic reader (ignkit.initrd), a CoreOS rule in ignkit.live.initramfs."""

from __future__ import annotations

import gzip

import pytest
from test_initrd import make_live_initramfs

from ignkit.errors import ImageError
from ignkit.initrd import build_cpio, iter_initrd, read_initrd
from ignkit.live.initramfs import MAX_MEMBER_SIZE, scan_live_initramfs


def test_reader_cap_is_a_parameter_checked_before_reading_data() -> None:
    archive = gzip.compress(build_cpio({"a-small": b"x" * 10, "b-big": b"y" * 1000}), mtime=0)
    assert read_initrd(archive, max_member_size=1000) == {"a-small": b"x" * 10, "b-big": b"y" * 1000}
    assert read_initrd(archive, "a-*", max_member_size=100) == {"a-small": b"x" * 10}  # b-big is skipped
    with pytest.raises(ImageError, match=r"^initrd member b-big is too large: 1000 > 999 bytes$"):
        read_initrd(archive, max_member_size=999)
    names = []
    with pytest.raises(ImageError):
        for name, _ in iter_initrd(archive, max_member_size=999):
            names.append(name)
    assert names == ["a-small"]  # members before the large one were delivered


def test_live_scan_refuses_an_oversized_member_it_would_read() -> None:
    huge = b"{}" + b" " * MAX_MEMBER_SIZE  # valid JSON, compresses to almost nothing
    with pytest.raises(ImageError, match=r"etc/coreos/features.json is too large"):
        scan_live_initramfs(make_live_initramfs(extra={"etc/coreos/features.json": huge}))
    # members the scan does not read may be any size
    info = scan_live_initramfs(make_live_initramfs({"installer-config": True}, extra={"usr/lib/big": huge}))
    assert info.is_live and info.features.installer_config
