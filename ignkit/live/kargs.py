"""The kernel-argument embed areas of a CoreOS live ISO: locate (kargs.json or the legacy coreKarg
header), parse, format, and edit kernel arguments with coreos-installer's semantics."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ImageError, UsageError

if TYPE_CHECKING:
    from ..isofs import IsoFS

KARGS_JSON = "COREOS/KARGS.JSO"
MAX_AREA = 2048
# coreKarg header: 72 bytes just before the 24-byte coreiso+ slot at the end of the system area.
LEGACY_HEADER_OFFSET = 32768 - 24 - 72
LEGACY_MAGIC = b"coreKarg"

NO_KARGS = "No karg embed areas found; old or corrupted CoreOS ISO image."
_REPLACE_RE = re.compile(r"\A([^=]+)=([^=]+)=([^=]+)\Z")


class KargsError(UsageError):
    """Kernel arguments that cannot be written (too long, forbidden characters, bad -r syntax)."""


@dataclass(frozen=True)
class KargArea:
    """One kernel-argument area: ``offset`` is absolute in the ISO; ``file``/``file_offset`` say where."""

    file: str
    file_offset: int
    offset: int
    size: int
    pad: str = "#"
    end: str = "\n"

    def parse(self, data: bytes) -> str:
        """The kernel arguments stored in this area's bytes."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ImageError(f"invalid UTF-8 in karg area at offset {self.offset}") from None
        return text.rstrip(self.pad).rstrip(self.end).strip()

    def format(self, kargs: str) -> bytes:
        """The area's bytes for ``kargs``: kargs, terminator, then pad up to the size."""
        kargs = kargs.strip()
        check_kargs(kargs, self)
        raw = kargs.encode("utf-8") + self.end.encode("utf-8")
        pad = self.pad.encode("utf-8")
        return raw + pad * ((self.size - len(raw)) // len(pad))


@dataclass
class KargAreas:
    """All kernel-argument areas of an ISO plus the default kargs; ``source`` is where they were found."""

    areas: list[KargArea]
    default: str
    current: str
    size: int
    source: str
    default_copy: KargArea | None = field(default=None)

    def format(self, kargs: str) -> list[tuple[int, bytes]]:
        """Byte patches writing ``kargs`` into every area (same text; each area's own pad/end)."""
        return [(a.offset, a.format(kargs)) for a in self.areas]

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "size": self.size,
            "default": self.default,
            "current": self.current,
            "files": [
                {"file": a.file, "file_offset": a.file_offset, "offset": a.offset, "pad": a.pad, "end": a.end}
                for a in self.areas
            ],
        }


def _control_problem(text: str) -> str | None:
    """What is wrong with ``text`` as kernel arguments (a newline, a control character), or None."""
    for ch in text:
        if ch == "\n" or ch == "\r":
            return "kernel arguments must not contain a newline"
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return f"kernel arguments must not contain the control character {ch!r}"
    return None


def check_karg(karg: str, where: str = "kernel argument") -> str:
    """The one check of a kernel argument given by a user (any option, inventory or installer config).

    Refuses newlines, carriage returns, tabs, ESC, NUL and every other control character: a kernel
    command line is one line of printable text. Returns ``karg``; raises KargsError naming ``where``.
    """
    if not isinstance(karg, str):
        raise KargsError(f"{where}: expected a string, got {karg!r}")
    problem = _control_problem(karg)
    if problem:
        raise KargsError(f"{where} {karg!r}: {problem}")
    return karg


def check_kargs(kargs: str, area: KargArea) -> None:
    """Refuse kernel arguments that do not fit ``area`` or contain characters it cannot hold."""
    problem = _control_problem(kargs)
    if problem:
        raise KargsError(problem)
    if area.pad in kargs:
        raise KargsError(f"kernel arguments must not contain the area's pad character {area.pad!r}")
    length = len(kargs.encode("utf-8"))
    if length + 1 > area.size:
        raise KargsError(
            f"kargs too large for area: {length + 1} vs {area.size} "
            f"(kernel arguments are {length} bytes; the area holds at most {area.size - 1})"
        )


def modify_kargs(
    kargs: str,
    append: Sequence[str] = (),
    delete: Sequence[str] = (),
    replace: Sequence[str] = (),
    append_if_missing: Sequence[str] = (),
) -> str:
    """Edit a kernel command line like coreos-installer: delete, then append, then replace.

    ``delete`` removes every whole-word occurrence (a missing karg is a no-op; ``"a b"`` deletes the
    sequence); ``append`` adds at the end (duplicates allowed); ``append_if_missing`` only if absent;
    ``replace`` items are ``KEY=OLD=NEW`` and change every ``KEY=OLD`` into ``KEY=NEW``.
    """
    for item in (*append, *delete, *replace, *append_if_missing):
        check_karg(item)
    line = f" {kargs.strip()} "
    for d in delete:
        d = d.strip()
        if d:
            line = line.replace(f" {d} ", " ")
    for a in append:
        a = a.strip()
        if a:
            line += f"{a} "
    for a in append_if_missing:
        a = a.strip()
        if a and f" {a} " not in line:
            line += f"{a} "
    for r in replace:
        m = _REPLACE_RE.fullmatch(r.strip())
        if not m:
            raise KargsError(f"Wrong input, format should be: KEY=OLD=NEW (got {r!r})")
        key, old, new = m.groups()
        line = line.replace(f" {key}={old} ", f" {key}={new} ")
    return line.strip()


def _one_char(value: object, name: str, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or len(value.encode("utf-8")) != 1:
        raise ImageError(f"kargs.json: {name} must be a one-byte character, got {value!r}")
    return value


def locate_kargs(fs: IsoFS, check: Callable[[Sequence[KargArea], bool], None] | None = None) -> KargAreas | None:
    """Find the kernel-argument areas from coreos/kargs.json, else the legacy coreKarg header.

    Returns None when the ISO has neither (kernel arguments not editable). Raises ImageError when the
    areas exist but are inconsistent. ``check(areas, legacy)`` vets the areas' placement before they are read.
    """
    from ..isofs import IsoNotFound

    try:
        info = fs.read_json_object(KARGS_JSON, "coreos/kargs.json")
    except IsoNotFound:
        return _locate_legacy(fs, check)
    size = info.get("size")
    default = info.get("default")
    files = info.get("files")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ImageError("coreos/kargs.json: size must be a positive integer")
    if size > MAX_AREA:
        raise ImageError(f"karg embed area size larger than {MAX_AREA} (found {size})")
    if not isinstance(default, str):
        raise ImageError("coreos/kargs.json: default must be a string")
    if len(default.encode("utf-8")) > size:
        raise ImageError(f"default kargs size {len(default.encode('utf-8'))} larger than embed areas ({size})")
    if not isinstance(files, list):
        raise ImageError("coreos/kargs.json: files must be a list")
    areas = []
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) \
                or not isinstance(item.get("offset"), int) or isinstance(item["offset"], bool) \
                or item["offset"] < 0:
            raise ImageError(f"coreos/kargs.json: bad files entry {item!r}")
        path = item["path"]
        try:
            carrier = fs.lookup(path.upper())
        except IsoNotFound:
            raise ImageError(f"coreos/kargs.json names {path}, which is not in the ISO") from None
        if item["offset"] + size > carrier.length:
            raise ImageError(f"coreos/kargs.json: the area at {path}+{item['offset']} ({size} bytes) runs past "
                             f"the end of that file ({carrier.length} bytes)")
        area = KargArea(path, item["offset"], carrier.offset + item["offset"], size,
                        _one_char(item.get("pad"), "pad", "#"), _one_char(item.get("end"), "end", "\n"))
        areas.append(area)
    if not areas:
        raise ImageError("No karg embed areas found; corrupted CoreOS ISO image.")
    areas.sort(key=lambda a: a.offset)
    if check is not None:
        check(areas, False)
    current = _parse_all(fs, areas)
    return KargAreas(areas, default.strip(), current, size, "kargs.json")


def _locate_legacy(fs: IsoFS, check: Callable[[Sequence[KargArea], bool], None] | None = None) -> KargAreas | None:
    if fs.size < 32768:
        return None
    header = fs.read_at(LEGACY_HEADER_OFFSET, 72)
    if header[:8] != LEGACY_MAGIC:
        return None
    size, default_offset, *offsets = struct.unpack_from("<8Q", header, 8)
    if size > MAX_AREA:
        raise ImageError(f"karg embed area length larger than {MAX_AREA} (found {size})")
    if size == 0:
        return None
    offsets = list(offsets)
    if 0 in offsets:
        offsets = offsets[: offsets.index(0)]
    default_copy = _legacy_area(fs, default_offset, size)
    default = default_copy.parse(fs.read_at(default_offset, size))
    areas = [_legacy_area(fs, off, size) for off in sorted(offsets)]
    if not areas:
        raise ImageError("No karg embed areas found; corrupted CoreOS ISO image.")
    if check is not None:
        check(areas, True)
    current = _parse_all(fs, areas)
    return KargAreas(areas, default, current, size, "coreKarg", default_copy)


def _legacy_area(fs: IsoFS, offset: int, size: int) -> KargArea:
    """An area the coreKarg header gives by absolute offset, named after the ISO file that holds it."""
    entry = fs.file_at(offset)
    if entry is None:
        return KargArea("(coreKarg header)", offset, offset, size)
    return KargArea(entry.path.lower(), offset - entry.offset, offset, size)


def _short(text: str, limit: int = 100) -> str:
    """``repr(text)``, cut to about ``limit`` characters (a damaged area can hold anything)."""
    r = repr(text)
    return r if len(r) <= limit else r[:limit] + "..."


def _parse_all(fs: IsoFS, areas: Iterable[KargArea]) -> str:
    first: str | None = None
    for area in areas:
        value = area.parse(fs.read_at(area.offset, area.size))
        if first is None:
            first = value
        elif value != first:
            raise ImageError(
                f"kargs don't match at all offsets! (expected {_short(first)}, but offset {area.offset} has: "
                f"{_short(value)})"
            )
    return first or ""
