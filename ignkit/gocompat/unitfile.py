"""go-systemd's unit-file deserializer (``unit.Deserialize``): only its failure modes and the sections seen."""

from __future__ import annotations

from typing import Optional

from .strconv import go_quote

__all__ = ["LINE_MAX", "UnitParseError", "parse_unit"]

LINE_MAX = 2048


class UnitParseError(Exception):
    pass


class _BufReader:
    """Go's ``bufio.Reader`` (4096-byte buffer) over a ``strings.Reader``: just enough state to know
    how many bytes are buffered at any moment, which go-systemd's line-length check depends on."""

    SIZE = 4096

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.n = len(data)
        self.r = 0  # read position (absolute)
        self.w = 0  # end of buffered data (absolute)
        self.eof = False  # the underlying reader reported EOF (pending error)
        self.last = 0

    def fill(self) -> None:
        if self.w >= self.n:
            self.eof = True
            return
        self.w = min(self.r + self.SIZE, self.n)

    def buffered(self) -> int:
        return self.w - self.r

    def _full_rune(self) -> bool:
        avail = self.w - self.r
        if avail == 0:
            return False
        c = self.data[self.r]
        need = 1 if c < 0x80 else 2 if c >= 0xC0 and c < 0xE0 else 3 if c >= 0xE0 and c < 0xF0 else \
            4 if c >= 0xF0 and c < 0xF8 else 1
        return avail >= need

    def read_rune(self) -> Optional[str]:
        """The next rune, or None at EOF."""
        while self.w - self.r < 4 and not self._full_rune() and not self.eof and self.w - self.r < self.SIZE:
            self.fill()
        if self.r == self.w:
            self.eof = False  # readErr() clears the pending error
            return None
        chunk = self.data[self.r:min(self.r + 4, self.w)]
        c = chunk[0]
        width = 1
        if c >= 0x80:
            for k in (2, 3, 4):
                if k > len(chunk):
                    break
                try:
                    chunk[:k].decode("utf-8")
                except UnicodeDecodeError:
                    continue
                width = k  # a valid sequence; otherwise Go reads one byte as U+FFFD
                break
        text = chunk[:width].decode("utf-8", errors="replace")
        self.r += width
        self.last = width
        return text

    def unread_rune(self) -> None:
        self.r -= self.last

    def read_bytes(self, delim: int) -> tuple[bytes, bool]:
        """Go's ``ReadBytes``: the data up to and including ``delim``; True when EOF came first."""
        start = self.r
        while True:
            i = self.data.find(bytes([delim]), self.r, self.w)
            if i >= 0:
                self.r = i + 1
                return self.data[start:self.r], False
            if self.eof:
                self.r = self.w
                self.eof = False
                return self.data[start:self.r], True
            if self.w - self.r >= self.SIZE:
                self.r = self.w  # ErrBufferFull: ReadBytes keeps the chunk and reads on
                continue
            self.fill()


def parse_unit(text: str) -> list[tuple[str, str, str]]:
    """Return ``(section, name, value)`` options; raise :class:`UnitParseError` like go-systemd."""
    buf = _BufReader(text.encode("utf-8", errors="surrogatepass"))
    data = buf.data
    opts: list[tuple[str, str, str]] = []

    def to_eol() -> tuple[bytes, bool]:
        line, eof = buf.read_bytes(0x0A)
        if line.endswith(b"\n"):
            line = line[:-1]
        return line, eof

    step = "next_section"
    after_ignore = "next_section"
    section = ""
    name = ""
    while True:
        # go-systemd refuses 2048 buffered bytes without a line break (systemd would truncate them)
        if buf.buffered() >= LINE_MAX:
            window = data[buf.r:buf.r + LINE_MAX]
            if b"\n" not in window and b"\r" not in window:
                raise UnitParseError("line too long (max 2048 bytes)")
        if step == "next_section" or step == "next_section_or_option":
            r = buf.read_rune()
            if r is None:
                return opts
            if step == "next_section_or_option" and r.isspace():
                continue
            if r == "[":
                step = "section_name"
            elif r in "#;":
                after_ignore, step = step, "ignore"
            elif step == "next_section_or_option":
                buf.unread_rune()
                step = "option_name"
        elif step == "section_name":
            raw, eof = buf.read_bytes(0x5D)
            if eof:
                raise UnitParseError("unable to find end of section")
            section = raw[:-1].decode("utf-8", errors="replace")
            step = "section_suffix"
        elif step == "section_suffix":
            garbage, _ = to_eol()
            garbage = garbage.strip(b" \t\n\r\v\f")
            if garbage:
                # go-systemd names a section field it never sets: the name is always empty
                raise UnitParseError(f"found garbage after section name : {go_quote(garbage)}")
            step = "next_section_or_option"
        elif step == "ignore":
            while True:
                line, _ = to_eol()
                if not line.rstrip(b" ").endswith(b"\\"):
                    break
            step = after_ignore
        elif step == "option_name":
            start = buf.r
            while True:
                r = buf.read_rune()
                if r is None:
                    raise UnitParseError("EOF")
                if r in "\n\r":
                    raise UnitParseError("unexpected newline encountered while parsing option name")
                if r == "=":
                    break
            name = data[start:buf.r - 1].decode("utf-8", errors="replace").strip()
            value = bytearray()
            step = "option_value"
        elif step == "option_value":
            line, eof = to_eol()
            if line.strip():
                value += line
                if line.endswith(b"\\"):
                    continue  # the value goes on in the next line (a new lexer step)
            opts.append((section, name, value.decode("utf-8", errors="replace").strip()))
            step = "next_section_or_option"
