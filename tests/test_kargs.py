"""ignkit.live.kargs: coreos-installer's karg editing semantics, area formatting and refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ignkit.errors import ImageError
from ignkit.live.kargs import KargArea, KargsError, modify_kargs

BASE = "mitigations=auto,nosmt coreos.liveiso=x ignition.firstboot ignition.platform.id=metal"


def test_delete_is_whole_word() -> None:
    assert modify_kargs("foo bar foobar", delete=["foo"]) == "bar foobar"
    assert modify_kargs("foo bar foobar", delete=["oba"]) == "foo bar foobar"
    assert modify_kargs("a b a c a", delete=["a"]) == "b c"
    # a missing karg is a no-op; a multi-word item deletes a sequence
    assert modify_kargs("a b c", delete=["zzz"]) == "a b c"
    assert modify_kargs("a b c", delete=["a b"]) == "c"
    assert modify_kargs("a c b", delete=["a b"]) == "a c b"


def test_order_delete_append_replace() -> None:
    # flags given in any order apply as: delete, then append, then replace
    out = modify_kargs("console=tty0 quiet", append=["console=ttyS0", "foo=1"], delete=["console=ttyS0", "quiet"],
                       replace=["foo=1=2"])
    assert out == "console=tty0 console=ttyS0 foo=2"
    # duplicates are allowed when appending
    assert modify_kargs("a", append=["b", "b"]) == "a b b"
    assert modify_kargs("a", append_if_missing=["a", "c"]) == "a c"


def test_replace() -> None:
    assert modify_kargs(BASE, replace=["mitigations=auto,nosmt=off"]) == BASE.replace("auto,nosmt", "off")
    assert modify_kargs("x=1 y=1 x=1", replace=["x=1=2"]) == "x=2 y=1 x=2"
    assert modify_kargs("x=1", replace=["x=3=2"]) == "x=1"
    for bad in ["x=1", "x", "x=1=2=3", "=1=2", "x==2"]:
        with pytest.raises(KargsError, match="KEY=OLD=NEW"):
            modify_kargs("x=1", replace=[bad])


def test_whitespace_is_trimmed() -> None:
    assert modify_kargs("  a  ", append=["  b "]) == "a b"


def area(size: int = 64, pad: str = "#", end: str = "\n") -> KargArea:
    return KargArea("f", 0, 0, size, pad, end)


def test_format_and_parse_round_trip() -> None:
    a = area()
    data = a.format("foo bar")
    assert data == b"foo bar\n" + b"#" * (64 - 8)
    assert len(data) == 64
    assert a.parse(data) == "foo bar"
    n = area(pad="\0", end="\0")
    assert n.format("x") == b"x" + b"\0" * 63
    assert n.parse(n.format("x y")) == "x y"


def test_size_limit_is_size_minus_one() -> None:
    a = area(size=16)
    assert len(a.format("x" * 15)) == 16
    with pytest.raises(KargsError, match=r"kargs too large for area: 17 vs 16"):
        a.format("x" * 16)
    # the limit counts UTF-8 bytes, not characters
    with pytest.raises(KargsError, match="too large"):
        a.format("é" * 8)


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\tb", "a\x00b", "a\x1bb", "a#b"])
def test_forbidden_characters(bad: str) -> None:
    with pytest.raises(KargsError):
        area().format(bad)


def test_pad_character_of_the_area_is_what_is_refused() -> None:
    # '#' is fine in a NUL-padded (s390x) area; NUL never is
    assert area(pad="\0", end="\0").parse(area(pad="\0", end="\0").format("a#b")) == "a#b"


def test_invalid_utf8_area() -> None:
    with pytest.raises(ImageError, match="invalid UTF-8"):
        area().parse(b"\xff\xfe" + b"#" * 62)


# -- properties --

KARG = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters="#"),
               min_size=1, max_size=12)


@given(st.lists(KARG, max_size=30))
def test_format_parse_round_trip_property(words: list[str]) -> None:
    a = area(size=512)
    kargs = " ".join(words)
    data = a.format(kargs)
    assert len(data) == 512
    assert a.parse(data) == kargs


@given(st.lists(KARG, max_size=10), st.lists(KARG, max_size=5))
def test_append_then_delete_gives_back(base: list[str], extra: list[str]) -> None:
    fresh = [e for e in extra if e not in base and "=" not in e]
    kargs = " ".join(base)
    appended = modify_kargs(kargs, append=fresh)
    assert appended.split() == base + fresh
    assert modify_kargs(appended, delete=fresh) == kargs
