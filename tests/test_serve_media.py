"""ignkit.serve.media and ignkit.serve.ranges: byte views over a real file, and the HTTP range rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ignkit.errors import ImageError
from ignkit.serve.media import ZERO_RUN_MIN, extent_view, file_identity, file_view, patched_view
from ignkit.serve.ranges import Unsatisfiable, none_match, parse_range, range_applies


def apply(base: bytes, patches: list[tuple[int, bytes]]) -> bytes:
    out = bytearray(base)
    for off, data in patches:
        out[off:off + len(data)] = data
    return bytes(out)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("media") / "base.bin"
    p.write_bytes(os.urandom(3 << 20))
    return p


def test_patched_view_reads_like_the_patched_file(base: Path) -> None:
    data = base.read_bytes()
    ident = file_identity(str(base))
    area = b"payload" + bytes(256 << 10)
    patches = [(0, b"HEAD"), (1 << 20, area), (len(data) - 3, b"end")]
    view = patched_view(ident, patches)
    want = apply(data, patches)
    assert view.size == len(data) and view.read() == want
    for a, b in ((0, 1), (3, 10), ((1 << 20) - 5, (1 << 20) + 20), ((1 << 20) + 100, (1 << 20) + 300000),
                 (len(data) - 10, len(data))):
        assert view.read(a, b) == want[a:b]
    # The zero tail of the area is shared, not held per view.
    assert view.memory < 64 and any(p.data is None and p.file_offset is None and p.length >= ZERO_RUN_MIN
                                    for p in view.pieces)
    # Identity: same inputs, same ETag; another patch, another ETag.
    assert patched_view(file_identity(str(base)), patches).etag == view.etag
    assert patched_view(ident, patches[:2]).etag != view.etag
    assert view.etag.startswith('"') and view.etag.endswith('"')


def test_appended_layer_and_extents(base: Path) -> None:
    data = base.read_bytes()
    ident = file_identity(str(base))
    v = file_view(ident, append=b"LAYER")
    assert v.size == len(data) + 5 and v.read(len(data) - 2) == data[-2:] + b"LAYER"
    e = extent_view(ident, [(100, 50), (4096, 10)], append=b"!")
    assert e.read() == data[100:150] + data[4096:4106] + b"!"
    with pytest.raises(ImageError):
        patched_view(ident, [(len(data) - 2, b"toolong")])
    with pytest.raises(ImageError):
        patched_view(ident, [(0, b"abc"), (1, b"x")])
    with pytest.raises(ImageError):
        extent_view(ident, [(len(data) - 1, 10)])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.binary(max_size=12)), max_size=6), st.integers(0, 80),
       st.integers(0, 80))
def test_any_patches_any_range(tmp_path_factory: pytest.TempPathFactory, patches: list[tuple[int, bytes]],
                               a: int, b: int) -> None:
    p = tmp_path_factory.getbasetemp() / "small.bin"
    if not p.exists():
        p.write_bytes(bytes(range(64)))
    data = p.read_bytes()
    clean, pos = [], 0
    for off, d in sorted(patches):
        if off >= pos and off + len(d) <= len(data):
            clean.append((off, d))
            pos = off + len(d)
    view = patched_view(file_identity(str(p)), clean)
    want = apply(data, clean)
    lo, hi = min(a, b, len(want)), min(max(a, b), len(want))
    assert view.read(lo, hi) == want[lo:hi]


@pytest.mark.parametrize("header,size,want", [
    ("bytes=0-0", 10, (0, 1)), ("bytes=0-", 10, (0, 10)), ("bytes=9-", 10, (9, 10)), ("bytes=-1", 10, (9, 10)),
    ("bytes=-10", 10, (0, 10)), ("bytes=-11", 10, (0, 10)), ("bytes=2-100", 10, (2, 10)),
    ("Bytes = 1 - 2", 10, (1, 3)), (None, 10, None), ("", 10, None), ("bytes=", 10, None), ("bytes=-", 10, None),
    ("bytes=3-2", 10, None), ("bytes=a-b", 10, None), ("bytes=1-2,4-5", 10, None), ("lines=1-2", 10, None),
    ("bytes=-1-2", 10, None), ("bytes=" + "1" * 20 + "-", 10, None), ("bytes=+1-2", 10, None),
    ("bytes=1-2 junk", 10, None), ("bytes=1\x00-2", 10, None),
])
def test_parse_range(header: str | None, size: int, want: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == want


@pytest.mark.parametrize("header,size", [("bytes=10-", 10), ("bytes=10-20", 10), ("bytes=-0", 10), ("bytes=0-", 0),
                                         ("bytes=-5", 0), ("bytes=" + "9" * 19 + "-", 10)])
def test_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)


def test_conditionals() -> None:
    tag, lm = '"abc"', "Sun, 06 Dec 2026 11:00:00 GMT"
    assert none_match('"abc"', tag) and none_match('W/"abc"', tag) and none_match("*", tag)
    assert none_match('"x", "abc"', tag) and not none_match('"x"', tag) and not none_match(None, tag)
    assert range_applies(None, tag, lm) and range_applies('"abc"', tag, lm)
    assert not range_applies('W/"abc"', tag, lm) and not range_applies('"x"', tag, lm)
    assert range_applies(lm, tag, lm) and not range_applies("Sun, 06 Dec 2026 11:00:01 GMT", tag, lm)
    assert not range_applies("garbage", tag, lm)
