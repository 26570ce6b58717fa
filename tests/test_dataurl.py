"""ignkit.ignition.dataurl: data: URLs decoded and resources decompressed the way Ignition does."""

from __future__ import annotations

import base64
import gzip
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ignkit.errors import InputError
from ignkit.ignition.build import data_resource
from ignkit.ignition.dataurl import decode_data_url, decompress, read_data_resource


@pytest.mark.parametrize("url, data", [
    ("data:,", b""),
    ("data:,hello%20world", b"hello world"),
    ("data:,a+b", b"a+b"),  # '+' is not a space in RFC 2396 escapes
    ("data:,%7B%22k%22%3A1%7D", b'{"k":1}'),
    ("data:text/plain;charset=utf-8,abc", b"abc"),
    ("data:;base64,aGVsbG8=", b"hello"),
    ("data:;base64,", b""),
    ("data:application/json;base64,e30=", b"{}"),
    ("data:;a=b;base64,aGk=", b"hi"),
    ('data:text/plain;a="x,y";base64,aGk=', b"hi"),  # a comma inside a quoted value is not the payload's
    ("data:;base64=x,abc", b"abc"),  # a parameter named base64 with a value is not the encoding
    ("data:;base64,AB==", b"\x00"),  # non-zero trailing bits are accepted, as by Go's StdEncoding
])
def test_decodes(url, data):
    assert decode_data_url(url) == data


@pytest.mark.parametrize("url, message", [
    ("data:;base64,aGVsbG8", "illegal base64 data at input byte 4"),  # padding is required
    ("data:;base64,aGVs bG8=", "invalid data character"),  # no whitespace
    ("data:;base64,-_8=", "invalid data character"),  # no URL-safe alphabet
    ("data:,a b", "invalid data character"),
    ("data:,%zz", "rfc2396: invalid char 0x25 in unescape sequence"),
    ("data:,%4", "rfc2396: unexpected end of unescape sequence"),
    ("data:text/plain", "incomplete media type"),
    ("data:", "missing comma before data"),
    ("data:;foo,x", "expected base64, got foo"),
    ("http://example.com/x", "missing data prefix"),
    ("DATA:,x", "missing data prefix"),
])
def test_refuses_what_ignition_refuses(url, message):
    with pytest.raises(InputError) as e:
        decode_data_url(url, "files[0].contents")
    assert str(e.value) == f"files[0].contents: invalid data URL: {message}"


@pytest.mark.parametrize("url", [
    "data:;base64,aGVsbG8", "data:,a b", "data:,%zz", "data:text/plain", "data:;foo,x", 'data:;a="x,y";base64,aGk',
    "data:x-y/z;q=%4,abc",
])
def test_validate_and_decode_share_one_parser(url):
    """``ignkit validate``'s message for a data: source is the decoder's, word for word."""
    import json

    from ignkit import validate

    config = {"ignition": {"version": "3.4.0"}, "storage": {"files": [{"path": "/a", "contents": {"source": url}}]}}
    [entry] = validate(json.dumps(config).encode()).entries
    with pytest.raises(InputError) as e:
        decode_data_url(url, "src")
    assert str(e.value) == f"src: invalid data URL: {entry.message}"


def test_not_a_string():
    with pytest.raises(InputError, match="^x: not a data URL$"):
        decode_data_url(None, "x")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["", "text/plain", "application/octet-stream;x=1"]))
def test_round_trip_base64_and_percent(data, media):
    assert decode_data_url(f"data:{media};base64,{base64.b64encode(data).decode()}") == data
    assert decode_data_url(f"data:{media},{urllib.parse.quote(data, safe='')}") == data


GZ = gzip.compress(b"hello ", mtime=0)
GZ2 = gzip.compress(b"world", mtime=0)


def test_decompress_none_and_gzip():
    assert decompress(b"raw", None) == b"raw" and decompress(b"raw", "") == b"raw"
    assert decompress(GZ, "gzip") == b"hello "
    assert decompress(GZ + GZ2, "gzip") == b"hello world"  # concatenated members, like Go's reader


@pytest.mark.parametrize("data, message", [
    (b"", "cannot gunzip: no data"),
    (b"not gzip at all", "cannot gunzip: "),
    (GZ[:-5], "cannot gunzip: unexpected end of data"),
    (GZ + b"junk", "cannot gunzip: "),
    (GZ + b"\0\0\0\0", "cannot gunzip: "),  # Go's reader wants another member header, not padding
    (GZ[:-8] + b"\0\0\0\0" + GZ[-4:], "cannot gunzip: "),  # CRC mismatch
])
def test_decompress_errors(data, message):
    with pytest.raises(InputError) as e:
        decompress(data, "gzip", "ca[1]")
    assert str(e.value).startswith(f"ca[1]: {message}")


def test_unsupported_compression():
    with pytest.raises(InputError, match=r"^r: unsupported compression 'xz'"):
        decompress(b"x", "xz", "r")


def test_max_size_bounds_the_decompressed_size():
    bomb = gzip.compress(b"\0" * 1_000_000)
    assert len(decompress(bomb, "gzip", max_size=1_000_000)) == 1_000_000
    with pytest.raises(InputError, match="larger than 999999 bytes once decompressed"):
        decompress(bomb, "gzip", max_size=999_999)
    with pytest.raises(InputError, match="larger than 10 bytes"):
        decompress(GZ + GZ2, "gzip", max_size=10)


def test_reads_what_the_builders_write():
    payload = bytes(range(256)) * 4
    assert read_data_resource(data_resource(payload)) == payload
    assert read_data_resource({"source": "data:;base64," + base64.b64encode(payload).decode()}) == payload


def test_read_data_resource_names_the_resource():
    with pytest.raises(InputError, match=r"^storage\.files\[2\]: invalid data URL: missing data prefix$"):
        read_data_resource({"source": "https://example.com/f"}, "storage.files[2]")
    bad = {"source": "data:;base64," + base64.b64encode(b"plain").decode(), "compression": "gzip"}
    with pytest.raises(InputError, match="^f: cannot gunzip"):
        read_data_resource(bad, "f")
