"""ignkit.gocompat.flate against Go itself: the gzip bytes upstream Butane (built with Go 1.27) writes into data
URLs, for inputs of every shape and size, must come out of ``go_gzip`` byte for byte, and the data URLs
``make_data_url`` builds (percent, base64 or gzip, whichever Butane picks) must be Butane's exactly.

Butane is the only Go program here, so each case goes through it: a document of ``contents.local`` files (any
bytes) translated once; where Butane chose gzip its URL carries Go's gzip member, compared with ours.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import subprocess
import zlib
from pathlib import Path

import pytest
from conftest import BUTANE_ORACLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ignkit.butane.dataurl import _gzip_could_pay, make_data_url
from ignkit.gocompat.flate import go_deflate, go_gzip

oracle = pytest.mark.skipif(not BUTANE_ORACLE.is_file(), reason=f"butane oracle not found at {BUTANE_ORACLE}")

_WORDS = [b"alpha", b"beta", b"gamma", b"delta", b"node", b"worker", b"value", b"option", b"=", b"#", b"\n",
          b"[Service]", b"ExecStart=/usr/bin/", b"kubelet", b" ", b"\xc3\xa9"]


def _text(rnd: random.Random, n: int, words: list[bytes] = _WORDS) -> bytes:
    out = bytearray()
    while len(out) < n:
        out += rnd.choice(words) + b" "
    return bytes(out[:n])


def _butane_contents(tmp: Path, blobs: list[bytes]) -> list[dict[str, str]]:
    """The ``contents`` Butane writes for each blob given as a local file."""
    for i, b in enumerate(blobs):
        (tmp / f"f{i}").write_bytes(b)
    doc = "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n" + "".join(
        f"    - path: /f{i}\n      contents:\n        local: f{i}\n" for i in range(len(blobs)))
    out = subprocess.run([str(BUTANE_ORACLE), "-d", str(tmp)], input=doc.encode(), capture_output=True,
                         check=True, timeout=600).stdout
    return [f["contents"] for f in json.loads(out)["storage"]["files"]]


def _compare(tmp: Path, blobs: list[bytes]) -> tuple[int, int]:
    """Assert our URLs and gzip bytes are Butane's; (cases, of which gzip)."""
    theirs = _butane_contents(tmp, blobs)
    gz = 0
    for b, c in zip(blobs, theirs):
        url, comp = make_data_url(b)
        assert {"source": url, "compression": comp} == c, (len(b), b[:60])
        if c["compression"] == "gzip":
            gz += 1
            assert go_gzip(b) == base64.b64decode(c["source"].split(",", 1)[1]), (len(b), b[:60])
    return len(blobs), gz


@oracle
def test_shapes_and_sizes(tmp_path: Path) -> None:
    """Small and odd inputs, then sizes around the 64 KiB window (the first slide at 64 KiB, then every 32 KiB),
    blocks cut at 32768 tokens (a non-final block leaves its Huffman table for the next one to reuse or not),
    incompressible stretches inside compressible input (stored blocks between Huffman ones), long runs (258-byte
    matches, the 32768 distance) and small alphabets."""
    rnd = random.Random(13)
    blobs = [b"", b"a", b"ab", b"abc" * 7, b"\x00" * 40, bytes(range(256)), b"hello world " * 30]
    blobs += [_text(rnd, n) for n in (30, 64, 100, 257, 1000, 4000)]
    blobs += [bytes(rnd.choice(b"ab") for _ in range(n)) for n in (50, 500, 5000)]
    # 20000 bytes: one block; 200000: five of 32768 tokens, the next ones re-using the previous Huffman table
    # (the float32 size estimate decides), the last one begun before the window slid (no stored fallback)
    blobs += [bytes(rnd.choice(b"abcdefgh \n") for _ in range(n)) for n in (20000, 200000)]
    for n in (65535, 65536, 65537, 98304, 98305, 140000):
        blobs.append(_text(rnd, n))
    mixed = bytearray()
    while len(mixed) < 150000:
        mixed += rnd.randbytes(rnd.randint(100, 70000)) if rnd.random() < 0.3 else _text(rnd, rnd.randint(10, 9000))
    blobs.append(bytes(mixed))
    blobs.append(bytes(200000))
    blobs.append(b"ab" * 70000)
    blobs.append(rnd.randbytes(32768) + rnd.randbytes(200) * 3 + b"tail")  # matches 32768 back
    blobs.append((rnd.randbytes(32768 - 7) + b"marker!") * 3)
    n, gz = _compare(tmp_path, blobs)
    print(f"\ngo_gzip vs butane: {n} inputs, {gz} gzip URLs identical")
    assert gz >= 15


@oracle
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(st.one_of(
    st.binary(max_size=600),
    st.lists(st.sampled_from(_WORDS), max_size=400).map(b" ".join),
    st.tuples(st.binary(min_size=1, max_size=30), st.integers(1, 200)).map(lambda t: t[0] * t[1]),
    st.lists(st.sampled_from([b"a", b"b", b"\x00", b"\xff", b"ab", b"ba"]), max_size=3000).map(b"".join),
    st.lists(st.one_of(st.binary(max_size=40), st.sampled_from(_WORDS)), max_size=300).map(b"".join),
), min_size=1, max_size=24))
def test_generated_against_butane(tmp_path_factory: pytest.TempPathFactory, blobs: list[bytes]) -> None:
    _compare(tmp_path_factory.mktemp("flate"), blobs)


def test_output_inflates_to_input() -> None:
    """Whatever the shape, the stream is valid deflate/gzip for the input (zlib reads it back)."""
    rnd = random.Random(5)
    for n in (0, 1, 3, 4, 5, 100, 3000, 70000):
        for b in (rnd.randbytes(n), _text(rnd, n), bytes(n)):
            assert gzip.decompress(go_gzip(b)) == b
            assert zlib.decompress(go_deflate(b), -15) == b
    # the header Go writes with a zero Header at BestCompression: no name, no time, XFL 2, OS unknown
    assert go_gzip(b"x")[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    assert go_deflate(b"") == b"\x03\x00"


def test_zlib_shortcut_never_skips_a_paying_gzip() -> None:
    """``_gzip_could_pay`` skips Go's compressor when zlib's size shows gzip cannot win; check on inputs near the
    threshold that every skipped one would indeed not have paid."""
    rnd = random.Random(11)
    skipped = 0
    for i in range(600):
        n = rnd.randint(1, 1500)
        kind = i % 6
        if kind == 0:
            b = rnd.randbytes(n)
        elif kind == 1:
            alpha = rnd.randbytes(rnd.randint(2, 80))
            b = bytes(rnd.choice(alpha) for _ in range(n))
        elif kind == 2:
            p = rnd.random()
            b = bytes(rnd.randrange(256) if rnd.random() < p else 65 for _ in range(n))
        elif kind == 3:
            b = _text(rnd, n)
        elif kind == 4:  # random bytes among spaces: zlib saves a little, Go up to 8 % more
            p = rnd.uniform(0.3, 0.8)
            b = bytes(rnd.randrange(256) if rnd.random() < p else 32 for _ in range(rnd.randint(100, 600)))
        else:
            b = b"".join(rnd.randbytes(rnd.randint(1, 30)) if rnd.random() < 0.5 else rnd.choice(_WORDS)
                         for _ in range(n // 8 + 1))
        b64 = ";base64," + base64.b64encode(b).decode()
        best = len(b64)
        if not _gzip_could_pay(b, best):
            skipped += 1
            assert len(";base64,") + len(base64.b64encode(go_gzip(b))) + 4 >= best
    assert skipped >= 50


def test_zlib_above_the_size_limit() -> None:
    """Over GO_GZIP_MAX the pure-Python compressor would take seconds per MiB; zlib writes the member instead
    (same header, same contents)."""
    import ignkit.butane.dataurl as dataurl

    big = _text(random.Random(1), dataurl.GO_GZIP_MAX + 1)
    url, comp = make_data_url(big)
    assert comp == "gzip"
    member = base64.b64decode(url.split(",", 1)[1])
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    assert member[10:-8] == z.compress(big) + z.flush()
    assert member[:10] == go_gzip(b"")[:10]
    assert gzip.decompress(member) == big


def _go_bit_counts(freqs: list[int], max_bits: int) -> list[int]:
    """Reference: Go's huffmanEncoder.bitCounts, the boundary package-merge, step for step."""
    n = len(freqs)
    big = 0x7FFFFFFF
    max_bits = min(max_bits, n - 1)
    last, next_char, next_pair, needed = [0] * 17, [0] * 17, [0] * 17, [0] * 17
    leaf = [[0] * 17 for _ in range(17)]
    for lv in range(1, max_bits + 1):
        last[lv], next_char[lv], next_pair[lv] = freqs[1], freqs[2], freqs[0] + freqs[1]
        leaf[lv][lv] = 2
        if lv == 1:
            next_pair[lv] = big
    needed[max_bits] = 2 * n - 4
    level = max_bits
    while level < 16:
        if next_pair[level] == big and next_char[level] == big:
            needed[level] = 0
            next_pair[level + 1] = big
            level += 1
            continue
        prev_freq = last[level]
        if next_char[level] < next_pair[level]:
            cnt = leaf[level][level] + 1
            last[level] = next_char[level]
            leaf[level][level] = cnt
            next_char[level] = freqs[cnt] if cnt < n else big
        else:
            last[level] = next_pair[level]
            save = leaf[level][level]
            leaf[level] = leaf[level - 1][:]
            leaf[level][level] = save
            needed[level - 1] = 2
        needed[level] -= 1
        if needed[level] == 0:
            if level == max_bits:
                break
            next_pair[level + 1] = prev_freq + last[level]
            level += 1
        else:
            while needed[level - 1] > 0:
                level -= 1
    counts = leaf[max_bits]
    return [0] + [counts[max_bits - b + 1] - counts[max_bits - b] for b in range(1, max_bits + 1)]


def test_code_lengths_as_go_counts_them() -> None:
    """The two fast ways flate.py counts code lengths (two-queue Huffman when the depth limit does not bind,
    full package-merge otherwise) against Go's boundary package-merge, on tie-heavy and skewed frequencies
    for the literal (15 bits) and code-length (7 bits) limits."""
    from ignkit.gocompat.flate import _bit_counts, _huffman_counts, _package_merge

    rnd = random.Random(21)
    quick = limited = 0
    for i in range(2000):
        n = rnd.randint(3, 286 if i % 2 else 19)
        mode = i % 4
        if mode == 0:
            fr = [rnd.choice([1, 1, 2, 2, 3, 4, 5, 8]) for _ in range(n)]
        elif mode == 1:
            fr = [rnd.randint(1, 50) for _ in range(n)]
        elif mode == 2:
            fr = [int(rnd.expovariate(1 / 200)) + 1 for _ in range(n)]
        else:
            fr = [rnd.choice([1, 2, 3, 30000, rnd.randint(1, 65535)]) for _ in range(n)]
        fr.sort()
        max_bits = 7 if n <= 19 and i % 3 else 15
        want = _go_bit_counts(fr, max_bits)
        eff = min(max_bits, n - 1)
        assert _package_merge(fr, eff) == want
        counts = _huffman_counts(fr)
        if not any(counts[eff + 1:]):
            quick += 1
            assert counts[:eff + 1] == want
        else:
            limited += 1
        assert _bit_counts(fr, max_bits) == want
    assert quick > 500 and limited > 50
