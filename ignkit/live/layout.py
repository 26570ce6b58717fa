"""The sanity of a live ISO's layout, checked once at open, before any edit is computed or written.

igninfo.json and kargs.json are data inside the image: a damaged or crafted image can make them point
anywhere. Writing an area that overlaps another area, another file, a layout file or the end of the
image would produce an image whose embedded config no longer decodes (or that ignkit cannot open any
more), so every such layout is refused here, whole, before the first byte is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ImageError

if TYPE_CHECKING:
    from ..isofs import IsoEntry, IsoFS
    from .embed import IgnitionArea
    from .kargs import KargArea

#: The files that describe the layout: no area may lie in them.
LAYOUT_FILES = {"COREOS/IGNINFO.JSO": "coreos/igninfo.json", "COREOS/KARGS.JSO": "coreos/kargs.json",
                "COREOS/FEATURES.JSO": "coreos/features.json"}


@dataclass(frozen=True)
class _Area:
    what: str
    carrier: str | None  # ISO path of the file holding it (None: given by absolute offset)
    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + self.length


def _overlaps(a_start: int, a_len: int, b_start: int, b_len: int) -> bool:
    return a_start < b_start + b_len and b_start < a_start + a_len


def _areas(ignition: IgnitionArea, kargs: Sequence[KargArea], legacy: bool) -> list[_Area]:
    out = [_Area(f"the Ignition area ({ignition.file}+{ignition.file_offset}, {ignition.length} bytes)",
                 ignition.file, ignition.offset, ignition.length)]
    for a in kargs:
        out.append(_Area(f"the kargs area {a.file}+{a.file_offset} ({a.size} bytes)",
                         None if legacy else a.file, a.offset, a.size))
    return out


def check_layout(fs: IsoFS, ignition: IgnitionArea, kargs: Sequence[KargArea] = (), legacy: bool = False) -> None:
    """Refuse (ImageError) a layout whose areas lie outside the image or their carrier file, overlap each
    other, overlap any other file, or lie in a layout file (igninfo.json, kargs.json, features.json).

    ``kargs`` are the kernel-argument areas; ``legacy`` when the coreKarg header gave them by absolute offset.
    """
    from ..isofs import IsoNotFound

    areas = _areas(ignition, kargs, legacy)
    for area in areas:
        if area.offset < 0 or area.end > fs.size:
            raise ImageError(f"ISO image is incomplete: {area.what} ends at byte {area.end}, the file has {fs.size}")
    for i, a in enumerate(areas):
        for b in areas[i + 1:]:
            if _overlaps(a.offset, a.length, b.offset, b.length):
                raise ImageError(f"corrupt layout: {a.what} overlaps {b.what}")
    carriers: dict[str, IsoEntry] = {}
    for area in areas:
        if area.carrier is None:
            continue
        try:
            entry = fs.lookup(area.carrier.upper())
        except IsoNotFound:
            raise ImageError(f"corrupt layout: {area.what}: {area.carrier} is not in the ISO") from None
        if entry.is_dir:
            raise ImageError(f"corrupt layout: {area.what}: {area.carrier} is a directory")
        if not any(start <= area.offset and area.end <= start + length for start, length in entry.ranges):
            raise ImageError(f"corrupt layout: {area.what} lies outside {area.carrier}")
        carriers[area.carrier] = entry
    for path, name in LAYOUT_FILES.items():
        try:
            entry = fs.lookup(path)
        except IsoNotFound:
            continue
        for area in areas:
            if any(_overlaps(area.offset, area.length, s, n) for s, n in entry.ranges if n):
                raise ImageError(f"corrupt layout: {area.what} lies in the layout file /{name}")
    files: Sequence[IsoEntry] = [e for e in fs.walk() if not e.is_dir and e.length > 0]
    for area in areas:
        own = carriers.get(area.carrier) if area.carrier is not None else None
        for entry in files:
            if own is not None and entry.path == own.path:
                continue  # the carrier itself
            if own is None and any(s <= area.offset and area.end <= s + n for s, n in entry.ranges):
                continue  # an area given by absolute offset lies wholly in one file: that is its carrier
            if any(_overlaps(area.offset, area.length, s, n) for s, n in entry.ranges if n):
                raise ImageError(f"corrupt layout: {area.what} overlaps the file /{entry.path.lower()}")
