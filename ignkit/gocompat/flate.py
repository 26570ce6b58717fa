"""Go's ``compress/gzip`` at ``BestCompression``, byte for byte (the Go release upstream Butane is built with).

Butane writes gzip data URLs with ``gzip.NewWriterLevel(w, gzip.BestCompression)``, one ``Write`` and
``Close``; the Ignition JSON therefore contains the exact bytes Go's compressor makes, and whether gzip
is chosen at all depends on their length. zlib at level 9 makes different (valid) bytes, so this
module reimplements the Go (1.27) ``compress/flate`` level-9 compressor: lazy matching over 4-byte hash
chains (at most 1024 candidates, matches scored by an estimated bit gain against a per-window literal
Huffman code), the "better match at the end of the previous match" check, literal-run skipping,
blocks of at most 32768 tokens and the block writer's choice between stored, fixed and dynamic
Huffman blocks (re-using the previous table when that is estimated to be cheaper).

The search is done in stream coordinates over the whole input (the 64 KiB window's slides only bound
the match distance and decide when the literal code is re-estimated and whether a block can still be
stored): the hash chains Go walks hold every earlier position with the same 17-bit hash of its next 4
bytes, so a candidate that can replace the best match so far is exactly an earlier occurrence of a
long enough prefix; those are found with ``bytes.rfind`` instead of walking the chain, and the chain's
1024-entry limit is applied through the count of positions sharing the hash (a string of per-position
hash slots for short inputs, sorted position lists for long ones).

Pure Python: about 1 MB/s on kilobyte-sized text, 0.25-0.4 MB/s on long text, 0.5-2 MB/s on random or
highly repetitive input. Checked against upstream Butane's own output in tests/test_gocompat_flate.py.
"""

from __future__ import annotations

import struct
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter
from itertools import accumulate, groupby
from operator import mul
from typing import Optional

__all__ = ["go_gzip", "go_deflate", "gzip_member"]

_WINDOW = 1 << 15
_MIN_MATCH = 4
_MAX_MATCH = 258
_MAX_BLOCK_TOKENS = 1 << 15
_CHAIN = 1024  # level 9: good 32, lazy 258, nice 258, chain 1024
_LAZY = 258
_NICE = 258
_TABLE_PENALTY = 8  # logNewTablePenalty for levels 7-9
_MAX_PREDEFINED = 250
_PRIME4 = 2654435761
_MATCH = 1 << 30
_EOB = 256
_GROUPS_FROM = 16384  # input length from which hash positions are grouped

_LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0, 0, 0, 0]
_LEN_BASE = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112,
             128, 160, 192, 224, 255, 0, 0, 0]
_OFF_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
              13, 13, 14, 14]
_OFF_BASE = [0x0, 0x1, 0x2, 0x3, 0x4, 0x6, 0x8, 0xc, 0x10, 0x18, 0x20, 0x30, 0x40, 0x60, 0x80, 0xc0,
             0x100, 0x180, 0x200, 0x300, 0x400, 0x600, 0x800, 0xc00, 0x1000, 0x1800, 0x2000, 0x3000,
             0x4000, 0x6000, 0x8000, 0xc000]
_CODEGEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]


def _code_table(bases: list[int], codes: int) -> list[int]:
    """For each value 0..255, the last code (0..codes-1) whose base is not above it."""
    out = []
    for v in range(256):
        code = 0
        for c in range(codes):
            if bases[c] <= v:
                code = c
        out.append(code)
    return out


_LEN_CODE = _code_table(_LEN_BASE, 29)       # length code for xlength = length - 3
_OFF_CODE_SMALL = _code_table(_OFF_BASE, 30)  # offset code for offsets below 256


def _offset_code(off: int) -> int:
    """Go's ``offsetCode``: the table lookup with its 8-bit index (32768 >> 7 wraps to 0)."""
    if off < 256:
        return _OFF_CODE_SMALL[off]
    return _OFF_CODE_SMALL[(off >> 7) & 255] + 14


# Match-gain penalty per distance (findMatch scores the distance itself, not distance - 1).
_OFF_PENALTY = [0] + [_OFF_EXTRA[_offset_code(d)] + 3 for d in range(1, _WINDOW + 1)]
_FAR_PENALTY = _OFF_PENALTY[_WINDOW]  # the 32768 quirk: lower than for 8193..32767
_LEN_PENALTY = [0] * 3 + [_LEN_EXTRA[_LEN_CODE[(n - 3) & 255]] for n in range(3, _MAX_MATCH + 1)]


_REV8 = [int(format(i, "08b")[::-1], 2) for i in range(256)]


def _reverse(code: int, nbits: int) -> int:
    """The low ``nbits`` bits of ``code`` in reverse order (``nbits`` <= 16)."""
    return ((_REV8[code & 0xFF] << 8) | _REV8[(code >> 8) & 0xFF]) >> (16 - nbits)


# ---------------------------------------------------------------------------------------------
# Huffman code construction (huffman_code.go)


def _huffman_counts(freqs: list[int]) -> list[int]:
    """Symbols per code length of the Huffman tree built with two queues (leaves ascending, then the
    merged nodes in creation order; on equal frequencies the merged node is taken first). When its
    depth is within the limit this is what the package-merge below yields (checked on tens of
    thousands of random and tie-heavy frequency sets), at a fraction of the cost."""
    n = len(freqs)
    merged: list[int] = []
    parent = [0] * (2 * n - 1)
    li = mi = 0
    for node in range(n, 2 * n - 1):
        total = 0
        for _ in (0, 1):
            if li < n and (mi >= len(merged) or freqs[li] < merged[mi]):
                total += freqs[li]
                parent[li] = node
                li += 1
            else:
                total += merged[mi]
                parent[n + mi] = node
                mi += 1
        merged.append(total)
    depth = [0] * (2 * n - 1)
    for v in range(2 * n - 3, -1, -1):
        depth[v] = depth[parent[v]] + 1
    counts = [0] * 17
    for v in range(n):
        d = depth[v]
        if d > 16:
            d = 16
        counts[d] += 1
    return counts


def _bit_counts(freqs: list[int], max_bits: int) -> list[int]:
    """Number of symbols per code length for ``freqs`` (ascending, at least 3 of them).

    Go computes this with the boundary package-merge algorithm; the full package-merge below makes
    the same choices (a leaf is taken before a package only when its frequency is strictly lower),
    level by level: each level's list is the leaves merged with the pairs of the level below. Items
    are ints ``2 * frequency + is_leaf`` so that packages sort before leaves of equal frequency.
    """
    n = len(freqs)
    if max_bits > n - 1:
        max_bits = n - 1
    quick = _huffman_counts(freqs)
    if not any(quick[max_bits + 1:]):
        return quick[:max_bits + 1]
    return _package_merge(freqs, max_bits)


def _package_merge(freqs: list[int], max_bits: int) -> list[int]:
    """``_bit_counts`` by the full package-merge (``max_bits`` at most ``len(freqs) - 1``)."""
    n = len(freqs)
    keep = 2 * n - 2
    leaves = [2 * f + 1 for f in freqs]
    cur = leaves[:keep]
    levels = [cur]
    for _ in range(1, max_bits):
        half = [x >> 1 for x in cur]
        nxt = sorted([(a + b) << 1 for a, b in zip(half[0::2], half[1::2])] + leaves)[:keep]
        if nxt == cur:
            levels.extend([cur] * (max_bits - len(levels)))
            break
        cur = nxt
        levels.append(cur)
    take = keep
    counts = []
    for lv in range(max_bits - 1, -1, -1):
        items = levels[lv][:take]
        nleaves = sum([x & 1 for x in items])
        counts.append(nleaves)
        take = 2 * (len(items) - nleaves)
    counts.append(0)
    return [0] + [counts[k] - counts[k + 1] for k in range(max_bits)]


class _Huff:
    """A Huffman code: ``lens[sym]`` (0 = absent) and bit-reversed ``codes[sym]``."""

    __slots__ = ("lens", "codes")

    def __init__(self, size: int) -> None:
        self.lens = [0] * size
        self.codes = [0] * size

    def generate(self, freq: list[int], max_bits: int) -> None:
        size = len(self.lens)
        lens = self.lens = [0] * size
        codes = self.codes = [0] * size
        nodes = [(f, i) for i, f in enumerate(freq) if f]
        if len(nodes) <= 2:
            for k, (_, sym) in enumerate(nodes):
                lens[sym] = 1
                codes[sym] = k
            return
        nodes.sort()
        bit_count = _bit_counts([f for f, _ in nodes], max_bits)
        code = 0
        end = len(nodes)
        rev8 = _REV8
        for nb, cnt in enumerate(bit_count):
            code <<= 1
            if nb == 0 or cnt == 0:
                continue
            shift = 16 - nb
            for sym in sorted([s for _, s in nodes[end - cnt:end]]):
                codes[sym] = ((rev8[code & 0xFF] << 8) | rev8[code >> 8]) >> shift
                lens[sym] = nb
                code += 1
            end -= cnt

    def bit_length(self, freq: list[int]) -> int:
        return sum(map(mul, freq, self.lens))


def _fixed_literal() -> _Huff:
    h = _Huff(286)
    for ch in range(286):
        if ch < 144:
            bits, size = ch + 48, 8
        elif ch < 256:
            bits, size = ch + 400 - 144, 9
        elif ch < 280:
            bits, size = ch - 256, 7
        else:
            bits, size = ch + 192 - 280, 8
        h.codes[ch] = _reverse(bits, size)
        h.lens[ch] = size
    return h


def _fixed_offset() -> _Huff:
    h = _Huff(30)
    for ch in range(30):
        h.codes[ch] = _reverse(ch, 5)
        h.lens[ch] = 5
    return h


_FIXED_LIT = _fixed_literal()
_FIXED_OFF = _fixed_offset()


# ---------------------------------------------------------------------------------------------
# float32 arithmetic for tokens.EstimatedBits


_F32 = struct.Struct("<f")
_U32 = struct.Struct("<I")


def _f32(x: float) -> float:
    return float(_F32.unpack(_F32.pack(x))[0])


_C1 = _f32(-0.34484843)
_C2 = _f32(2.02466578)
_C3 = _f32(0.67487759)


def _fast_log2(val: float) -> float:
    ux = _U32.unpack(_F32.pack(val))[0]
    if ux >= 1 << 31:
        ux -= 1 << 32
    log2 = float(((ux >> 23) & 255) - 128)
    ux &= -0x7F800001
    ux += 127 << 23
    uval = float(_F32.unpack(_U32.pack(ux & 0xFFFFFFFF))[0])
    t = _f32(_C1 * uval)
    t = _f32(t + _C2)
    t = _f32(t * uval)
    t = _f32(t - _C3)
    return _f32(log2 + t)


def _at_least_one(v: float) -> float:
    return min(15.0, max(1.0, v))


def _estimated_bits(ntok: int, lit_hist: list[int], extra_hist: list[int], off_hist: list[int]) -> int:
    shannon = 0.0
    bits = 0
    nmatches = 0
    if ntok > 0:
        inv = _f32(1.0 / _f32(float(ntok)))
        for v in lit_hist:
            if v:
                n = float(v)
                shannon = _f32(shannon + _f32(_at_least_one(-_fast_log2(_f32(n * inv))) * n))
        shannon = _f32(shannon + 15.0)
        for i in range(29):
            v = extra_hist[i + 1]
            if v:
                n = float(v)
                shannon = _f32(shannon + _f32(_at_least_one(-_fast_log2(_f32(n * inv))) * n))
                bits += _LEN_EXTRA[i] * v
                nmatches += v
    if nmatches > 0:
        inv = _f32(1.0 / _f32(float(nmatches)))
        for i in range(30):
            v = off_hist[i]
            if v:
                n = float(v)
                shannon = _f32(shannon + _f32(_at_least_one(-_fast_log2(_f32(n * inv))) * n))
                bits += _OFF_EXTRA[i] * v
    return int(shannon) + bits


# ---------------------------------------------------------------------------------------------
# Block writer (huffman_bit_writer.go)


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.bits = 0
        self.nbits = 0
        self.lit = _Huff(286)
        self.off = _Huff(30)
        self.cg = _Huff(19)
        self.last_header = 0
        self.last_huffman = False
        self.lit_freq = [0] * 289
        self.off_freq = [0] * 32
        self.cg_freq = [0] * 19
        self.codegen: list[int] = []

    # -- raw bits
    def write_bits(self, value: int, nb: int) -> None:
        self.bits |= value << self.nbits
        self.nbits += nb
        if self.nbits >= 48:
            self.out += (self.bits & 0xFFFFFFFFFFFF).to_bytes(6, "little")
            self.bits >>= 48
            self.nbits -= 48

    def write_code(self, h: _Huff, sym: int) -> None:
        self.write_bits(h.codes[sym], h.lens[sym])

    def flush(self) -> None:
        if self.last_header > 0:
            self.write_code(self.lit, _EOB)
            self.last_header = 0
        nbytes = (self.nbits + 7) >> 3
        if nbytes:
            self.out += self.bits.to_bytes(nbytes, "little")
        self.bits = 0
        self.nbits = 0

    def write_bytes(self, data: bytes) -> None:
        if self.nbits & 7:
            raise AssertionError("writeBytes with unfinished bits")
        if self.nbits:
            self.out += self.bits.to_bytes(self.nbits >> 3, "little")
            self.bits = 0
            self.nbits = 0
        self.out += data

    # -- headers
    def write_stored_header(self, length: int, eof: bool) -> None:
        if self.last_header > 0:
            self.write_code(self.lit, _EOB)
            self.last_header = 0
        if length == 0 and eof:
            self.write_fixed_header(eof)
            self.write_bits(0, 7)
            self.flush()
            return
        self.write_bits(1 if eof else 0, 3)
        self.flush()
        self.write_bits(length, 16)
        self.write_bits(~length & 0xFFFF, 16)

    def write_fixed_header(self, eof: bool) -> None:
        if self.last_header > 0:
            self.write_code(self.lit, _EOB)
            self.last_header = 0
        self.write_bits(3 if eof else 2, 3)

    def generate_codegen(self, num_lit: int, num_off: int, lit: _Huff, off: _Huff) -> None:
        freq = [0] * 19
        sizes = lit.lens[:num_lit] + off.lens[:num_off]
        out: list[int] = []
        for size, run in groupby(sizes):
            count = len(list(run))
            if size != 0:
                out.append(size)
                freq[size] += 1
                count -= 1
                while count >= 3:
                    n = min(6, count)
                    out.append(16)
                    out.append(n - 3)
                    freq[16] += 1
                    count -= n
            else:
                while count >= 11:
                    n = min(138, count)
                    out.append(18)
                    out.append(n - 11)
                    freq[18] += 1
                    count -= n
                if count >= 3:
                    out.append(17)
                    out.append(count - 3)
                    freq[17] += 1
                    count = 0
            if count:
                out.extend([size] * count)
                freq[size] += count
        self.codegen = out
        self.cg_freq = freq

    def header_size(self) -> tuple[int, int]:
        freq = self.cg_freq
        num = 19
        while num > 4 and freq[_CODEGEN_ORDER[num - 1]] == 0:
            num -= 1
        return (3 + 5 + 5 + 4 + 3 * num + self.cg.bit_length(freq)
                + freq[16] * 2 + freq[17] * 3 + freq[18] * 7), num

    def write_dynamic_header(self, num_lit: int, num_off: int, num_cg: int, eof: bool) -> None:
        self.write_bits(5 if eof else 4, 3)
        self.write_bits(num_lit - 257, 5)
        self.write_bits(num_off - 1, 5)
        self.write_bits(num_cg - 4, 4)
        cg = self.cg
        codes = cg.codes
        lens = cg.lens
        for i in range(num_cg):
            self.write_bits(lens[_CODEGEN_ORDER[i]], 3)
        seq = self.codegen
        out = self.out
        bits = self.bits
        nbits = self.nbits
        i = 0
        n = len(seq)
        while i < n:
            sym = seq[i]
            i += 1
            bits |= codes[sym] << nbits
            nbits += lens[sym]
            if sym >= 16:
                extra = 2 if sym == 16 else 3 if sym == 17 else 7
                bits |= seq[i] << nbits
                nbits += extra
                i += 1
            if nbits >= 48:
                out += (bits & 0xFFFFFFFFFFFF).to_bytes(6, "little")
                bits >>= 48
                nbits -= 48
        self.bits = bits
        self.nbits = nbits

    # -- sizes
    def extra_bit_size(self) -> int:
        lf = self.lit_freq
        of = self.off_freq
        total = 0
        for i in range(29):
            total += lf[257 + i] * _LEN_EXTRA[i]
        for i in range(30):
            total += of[i] * _OFF_EXTRA[i]
        return total

    def fixed_size(self, extra: int) -> int:
        return 3 + _FIXED_LIT.bit_length(self.lit_freq[:286]) + _FIXED_OFF.bit_length(self.off_freq[:30]) + extra

    def can_reuse(self, lit_hist: list[int], extra_hist: list[int], off_hist: list[int]) -> bool:
        ol = self.off.lens
        for i in range(30):
            if off_hist[i] and not ol[i]:
                return False
        ll = self.lit.lens
        for i in range(30):
            if extra_hist[i] and not ll[256 + i]:
                return False
        for i in range(256):
            if lit_hist[i] and not ll[i]:
                return False
        return True

    def index_tokens(self, ntok: int, lit_hist: list[int], extra_hist: list[int],
                     off_hist: list[int]) -> tuple[int, int]:
        lf = lit_hist + extra_hist + [0]
        self.lit_freq = lf
        of = off_hist[:]
        self.off_freq = of
        if ntok == 0:
            return 0, 0
        num_lit = 289
        while lf[num_lit - 1] == 0:
            num_lit -= 1
        num_off = 32
        while num_off > 0 and of[num_off - 1] == 0:
            num_off -= 1
        if num_off == 0:
            of[0] = 1
            num_off = 1
        return num_lit, num_off

    # -- blocks
    def write_block_dynamic(self, toks: list[int], eof: bool, data: Optional[memoryview], sync: bool) -> None:
        lit_hist = [0] * 256
        extra_hist = [0] * 32
        off_hist = [0] * 32
        for t in toks:
            if t < 256:
                lit_hist[t] += 1
            else:
                extra_hist[_LEN_CODE[(t >> 22) & 255] + 1] += 1
                off_hist[(t >> 16) & 31] += 1
        sync = sync or eof
        if sync:
            toks.append(_EOB)
            extra_hist[0] += 1
        else:
            extra_hist[0] = 1
        ntok = len(toks)
        if (self.last_huffman or eof) and self.last_header > 0:
            self.write_code(self.lit, _EOB)
            self.last_header = 0
            self.last_huffman = False
        if self.last_header > 0 and not self.can_reuse(lit_hist, extra_hist, off_hist):
            self.write_code(self.lit, _EOB)
            self.last_header = 0
        num_lit, num_off = self.index_tokens(ntok, lit_hist, extra_hist, off_hist)
        extra = 0
        storable = data is not None and len(data) <= 65535
        ssize = (len(data) + 5) * 8 if storable and data is not None else 0
        if storable or self.last_header > 0:
            extra = self.extra_bit_size()
        size = 0
        if self.last_header > 0:
            new_size = self.last_header + _estimated_bits(ntok, lit_hist, extra_hist, off_hist)
            new_size += self.lit.lens[_EOB] + (new_size >> _TABLE_PENALTY)
            reuse_size = self.lit.bit_length(self.lit_freq[:286]) + self.off.bit_length(self.off_freq[:30]) + extra
            if new_size < reuse_size:
                self.write_code(self.lit, _EOB)
                size = new_size
                self.last_header = 0
            else:
                size = reuse_size
            if ntok < _MAX_PREDEFINED:
                pre = self.fixed_size(extra) + 7
                if pre < size:
                    if storable and ssize <= size:
                        self._stored(data, eof)
                        return
                    self._fixed_block(toks, eof, sync)
                    return
            if storable and ssize <= size:
                self._stored(data, eof)
                return
        if self.last_header == 0:
            self.lit_freq[_EOB] = 1
            self.lit.generate(self.lit_freq[:286], 15)
            self.off.generate(self.off_freq[:30], 15)
            self.generate_codegen(num_lit, num_off, self.lit, self.off)
            self.cg.generate(self.cg_freq, 7)
            hsize, num_cg = self.header_size()
            size = (hsize + self.lit.bit_length(self.lit_freq[:286])
                    + self.off.bit_length(self.off_freq[:30]) + extra)
            if ntok < _MAX_PREDEFINED:
                pre = self.fixed_size(extra)
                if pre <= size:
                    if storable and ssize <= pre:
                        self._stored(data, eof)
                        return
                    self._fixed_block(toks, eof, sync)
                    return
            if storable and ssize <= size:
                self._stored(data, eof)
                return
            self.write_dynamic_header(num_lit, num_off, num_cg, eof)
            if not sync:
                self.last_header = hsize
            self.last_huffman = False
        if sync:
            self.last_header = 0
        self.write_tokens(toks, self.lit, self.off)

    def _fixed_block(self, toks: list[int], eof: bool, sync: bool) -> None:
        self.write_fixed_header(eof)
        if not sync:
            toks.append(_EOB)
        self.write_tokens(toks, _FIXED_LIT, _FIXED_OFF)

    def _stored(self, data: Optional[memoryview], eof: bool) -> None:
        assert data is not None
        self.write_stored_header(len(data), eof)
        self.write_bytes(bytes(data))

    def write_tokens(self, toks: list[int], lit: _Huff, off: _Huff) -> None:
        lcodes = lit.codes
        llens = lit.lens
        ocodes = off.codes
        olens = off.lens
        out = self.out
        bits = self.bits
        nbits = self.nbits
        for t in toks:
            if t < 256 or t == _EOB:
                bits |= lcodes[t] << nbits
                nbits += llens[t]
            else:
                xl = (t >> 22) & 255
                lc = _LEN_CODE[xl]
                sym = 257 + lc
                bits |= lcodes[sym] << nbits
                nbits += llens[sym]
                eb = _LEN_EXTRA[lc]
                if eb:
                    bits |= (xl - _LEN_BASE[lc]) << nbits
                    nbits += eb
                oc = (t >> 16) & 31
                bits |= ocodes[oc] << nbits
                nbits += olens[oc]
                eb = _OFF_EXTRA[oc]
                if eb:
                    bits |= ((t & 0xFFFF) - _OFF_BASE[oc]) << nbits
                    nbits += eb
            if nbits >= 48:
                out += (bits & 0xFFFFFFFFFFFF).to_bytes(6, "little")
                bits >>= 48
                nbits -= 48
        self.bits = bits
        self.nbits = nbits


# ---------------------------------------------------------------------------------------------
# Match finder and lazy matcher (deflate.go, deflateLazy/findMatch)


def _hash_slots(data: bytes) -> bytes:
    """Go's 17-bit hash of the little-endian 4 bytes at every position that has 4 bytes, one 4-byte slot
    per position: three 7-bit digits and a 0xFF marker, so that ``bytes.rfind``/``count`` of a slot can
    only match at slot boundaries (0xFF never occurs in a digit).

    Computed on big integers with one lane per position (the products need no more than 64 bits, the
    hashes no more than 32), so that no per-byte Python code runs."""
    n4 = len(data) - 3
    if n4 <= 0:
        return b""
    lanes = bytearray(8 * n4)
    for k in range(4):
        lanes[k::8] = data[k:k + n4]
    prod = (int.from_bytes(lanes, "little") * _PRIME4).to_bytes(8 * n4 + 8, "little")
    low = bytearray(4 * n4)
    for k in range(4):
        low[k::4] = prod[k:8 * n4:8]
    h = (int.from_bytes(low, "little") >> 15) & int.from_bytes(b"\xff\xff\x01\x00" * n4, "little")
    slots = ((h & int.from_bytes(b"\x7f\x00\x00\x00" * n4, "little"))
             | ((h << 1) & int.from_bytes(b"\x00\x7f\x00\x00" * n4, "little"))
             | ((h << 2) & int.from_bytes(b"\x00\x00\x07\x00" * n4, "little"))
             | int.from_bytes(b"\x00\x00\x00\xff" * n4, "little"))
    return slots.to_bytes(4 * n4, "little")


def _match_len(data: bytes, a: int, b: int, known: int, limit: int) -> int:
    """Length of the common prefix of data[a:] and data[b:], at least ``known``, at most ``limit``."""
    if data[a:a + limit] == data[b:b + limit]:
        return limit
    x = int.from_bytes(data[a + known:a + limit], "little") ^ int.from_bytes(data[b + known:b + limit], "little")
    return known + (((x & -x).bit_length() - 1) >> 3)


def _huff_lens_table(window: bytes) -> bytes:
    hist = [0] * 256
    for b, c in _count_bytes(window).items():
        hist[b] = c
    h = _Huff(256)
    h.generate(hist, 15)
    return bytes(h.lens)


def _count_bytes(b: bytes) -> dict[int, int]:
    if len(b) > 4096:
        return dict(Counter(b))
    return {v: b.count(v) for v in set(b)}


def go_deflate(data: bytes) -> bytes:
    """Raw DEFLATE stream as Go's ``flate.NewWriter(w, 9)`` writes it for one ``Write`` of ``data``."""
    data = bytes(data)
    total = len(data)
    mv = memoryview(data)
    bw = _BitWriter()
    hb = _hash_slots(data)
    # Long inputs: the positions of each hash in order, so that the chain's start, its 1024-entry limit
    # and hashHead lookups are bisections instead of scans of the slot string.
    groups: Optional[dict[bytes, list[int]]] = None
    if total > _GROUPS_FROM:
        groups = {}
        for p, sl in enumerate(map(hb.__getitem__, map(slice, range(0, len(hb), 4), range(4, len(hb) + 4, 4)))):
            g = groups.get(sl)
            if g is None:
                groups[sl] = [p]
            else:
                g.append(p)

    toks: list[int] = []
    # persistent compressor state, stream coordinates
    index = 0
    length = _MIN_MATCH - 1
    offset = 0
    ii = 0
    byte_available = False
    block_start: Optional[int] = 0
    base = 0

    def write_block(at: int) -> None:
        nonlocal block_start
        if at > 0:
            window = mv[block_start:at] if block_start is not None and block_start <= at else None
            block_start = at
            bw.write_block_dynamic(toks, False, window, sync_flag)
        toks.clear()

    # hot-loop locals
    append = toks.append
    rfind = data.rfind
    from_bytes = int.from_bytes
    off_pen = _OFF_PENALTY
    len_pen = _LEN_PENALTY
    far_pen = _FAR_PENALTY
    max_tokens = _MAX_BLOCK_TOKENS

    # call schedule: non-final calls while input remains beyond a full window
    calls: list[tuple[int, bool]] = []
    wend = min(total, 2 * _WINDOW)
    while total > wend:
        calls.append((wend, False))
        wend = min(total, wend + _WINDOW)
    calls.append((total, True))

    sync_flag = False
    for call_no, (wend, sync_flag) in enumerate(calls):
        if call_no > 0:
            base += _WINDOW  # the window slid by 32 KiB before this call's bytes were added
            if block_start is not None and block_start < base:
                block_start = None
        if wend - index < _MIN_MATCH + _MAX_MATCH and not sync_flag:
            continue
        # literal code lengths estimated from the next (up to) 32768 bytes
        prefix: list[int] = [0]
        pbase = index
        if wend != index:
            table = _huff_lens_table(data[index:min(wend, index + _MAX_BLOCK_TOKENS)])
            prefix = list(accumulate(data[index:wend].translate(table), initial=0))
        max_insert = wend - 3
        while True:
            lookahead = wend - index
            if lookahead < 262:  # minMatchLength + maxMatchLength
                if not sync_flag:
                    break
                if lookahead == 0:
                    if byte_available:
                        append(data[index - 1])
                        byte_available = False
                    if toks:
                        write_block(index)
                    break
            prev_length = length
            prev_offset = offset
            length = 3
            offset = 0
            min_index = index - 32768
            if min_index < base:
                min_index = base
            if index < max_insert and lookahead > prev_length and prev_length < 258:  # lazy
                lo = min_index
                if groups is None:
                    # a chain holding only other 4-byte strings (hash collisions) finds nothing, so
                    # the first search below stands in for Go's chain-head check
                    found = True
                else:
                    g = groups[hb[4 * index:4 * index + 4]]
                    r = bisect_left(g, index)
                    found = r > 0 and g[r - 1] >= min_index
                    if r > _CHAIN and g[r - _CHAIN] > lo:
                        lo = g[r - _CHAIN]
                if found and prev_length >= 4:
                    # The match found at the previous position stands unless this one finds a longer
                    # one, and what findMatch returns otherwise is not used: skip it when no earlier
                    # occurrence of prev_length + 1 bytes from here exists.
                    need = prev_length + 1
                    found = (need <= lookahead and need <= 258
                             and rfind(data[index:index + need], lo, index - 1 + need) >= 0)
                if found:
                    # findMatch: the chain holds every earlier position with this hash, newest first,
                    # of which Go looks at _CHAIN. A candidate replaces the best so far when it is
                    # longer and its estimated gain (literal bits saved less distance and length extra
                    # bits and 3) is higher, so only occurrences of a long enough prefix can matter.
                    mml = lookahead if lookahead < 258 else 258
                    nice = mml  # nice is 258 too
                    pos = index
                    best = 3
                    gain = 4
                    hi = pos - 1  # highest candidate start still to look at
                    p0 = prefix[pos - pbase]
                    far = pos - lo >= 32768
                    while hi >= lo:
                        pen = off_pen[pos - hi]
                        if far and pen > far_pen:
                            pen = far_pen
                        need = best + 1
                        limit = gain + pen + p0
                        while need <= mml and prefix[pos + need - pbase] - len_pen[need] <= limit:
                            need += 1
                        if need > mml:
                            break
                        j = rfind(data[pos:pos + need], lo, hi + need)
                        if j < 0:
                            break
                        if groups is None and pos - j > _CHAIN and \
                                hb.count(hb[4 * pos:4 * pos + 4], 4 * j, 4 * pos) > _CHAIN:
                            break
                        ca = data[j + need:j + mml]
                        cb = data[pos + need:pos + mml]
                        if ca == cb:
                            n = mml
                        else:
                            x = from_bytes(ca, "little") ^ from_bytes(cb, "little")
                            n = need + (((x & -x).bit_length() - 1) >> 3)
                        ng = prefix[pos + n - pbase] - p0 - off_pen[pos - j] - len_pen[n]
                        if ng > gain:
                            best = n
                            gain = ng
                            length = n
                            offset = pos - j
                            if n >= nice:
                                break
                        hi = j - 1
            if prev_length >= 4 and length <= prev_length:
                # the previous position's match stands; look for a longer one ending where it ends
                if prev_length < _MAX_MATCH - 2:
                    prev_index = index - 1
                    if prev_index + prev_length < max_insert:
                        end = prev_index + (lookahead if lookahead < _MAX_MATCH + 2 else _MAX_MATCH + 2)
                        q4 = 4 * (prev_index + prev_length)
                        # hashHead of the 4 bytes there: the newest position so far with their hash
                        if groups is None:
                            k = hb.rfind(hb[q4:q4 + 4], 4 * (min_index + 3 + prev_length), 4 * index + 4) >> 2
                        else:
                            g = groups[hb[q4:q4 + 4]]
                            k = g[bisect_right(g, index) - 1] if g[0] <= index else -1
                            if k < min_index + 3 + prev_length:
                                k = -1
                        if k >= 0:
                            ch2 = k - prev_length
                            if prev_index - ch2 != prev_offset:
                                a0 = prev_index + 2
                                limit = end - a0
                                # only a length above prev_length matters
                                if limit > prev_length and \
                                        data[a0:a0 + prev_length + 1] == data[ch2 + 2:ch2 + 3 + prev_length]:
                                    ml = _match_len(data, ch2 + 2, a0, prev_length + 1, limit)
                                else:
                                    ml = 0
                                if ml > prev_length:
                                    prev_length = ml
                                    prev_offset = prev_index - ch2
                                    for i in (1, 0):
                                        if prev_length >= _MAX_MATCH or data[prev_index + i] != data[ch2 + i]:
                                            for jj in range(i + 1):
                                                append(data[prev_index + jj])
                                                if len(toks) == max_tokens:
                                                    write_block(index)
                                                index += 1
                                            break
                                        prev_length += 1
                xoff = prev_offset - 1
                oc = _offset_code(xoff)
                append(_MATCH | (prev_length - 3) << 22 | oc << 16 | xoff)
                index += prev_length - 1
                byte_available = False
                length = 3
                if len(toks) == max_tokens:
                    write_block(index)
                ii = 0
            else:
                if length >= 4:
                    ii = 0
                if byte_available:
                    ii = (ii + 1) & 0xFFFF
                    append(data[index - 1])
                    if len(toks) == max_tokens:
                        write_block(index)
                    index += 1
                    skip = ii - _CHAIN
                    if skip > 0:
                        skip = 1 + (skip >> 6)
                        for _ in range(skip):
                            if index >= wend - 1:
                                break
                            append(data[index - 1])
                            if len(toks) == max_tokens:
                                write_block(index)
                            index += 1
                        append(data[index - 1])
                        byte_available = False
                        if len(toks) == max_tokens:
                            write_block(index)
                else:
                    index += 1
                    byte_available = True
    # close: an empty final block
    bw.write_stored_header(0, True)
    return bytes(bw.out)


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def gzip_member(deflated: bytes, data: bytes) -> bytes:
    """A gzip member around a raw deflate stream of ``data``, with the header Go writes for a zero Header at
    ``BestCompression`` (no name, no time, XFL 2, OS unknown)."""
    return _GZIP_HEADER + deflated + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)


def go_gzip(data: bytes) -> bytes:
    """``data`` compressed as Go's ``gzip.NewWriterLevel(w, gzip.BestCompression)`` does (zero Header)."""
    return gzip_member(go_deflate(data), data)
