"""The Ignition embed area of a CoreOS live ISO: where it is (igninfo.json or images/ignition.img),
what it holds (an xz newc cpio, or zeros), and the bytes that fill it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..docread import loads_json
from ..errors import ImageError, InputError
from .initramfs import NETWORK_DIR, build_initrd

if TYPE_CHECKING:
    from ..isofs import IsoFS

IGNINFO_JSON = "COREOS/IGNINFO.JSO"
DEFAULT_AREA_FILE = "images/ignition.img"
UNRECOGNIZED = "Unrecognized CoreOS ISO image."


@dataclass(frozen=True)
class IgnitionArea:
    """The Ignition embed area: ``offset`` is absolute in the ISO, ``file``/``file_offset`` say where."""

    file: str
    file_offset: int
    offset: int
    length: int
    source: str

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "file_offset": self.file_offset, "offset": self.offset,
                "length": self.length, "source": self.source}


def locate_ignition_area(fs: IsoFS) -> IgnitionArea:
    """Find the area from coreos/igninfo.json, else the whole of images/ignition.img.

    Raises ImageError "Unrecognized CoreOS ISO image." (with the reason) when neither works.
    """
    from ..isofs import IsoNotFound

    source = "igninfo.json"
    try:
        info = fs.read_json_object(IGNINFO_JSON, "coreos/igninfo.json")
    except IsoNotFound:
        info = {"file": DEFAULT_AREA_FILE}
        source = "default"
    except ImageError as e:
        raise ImageError(f"{UNRECOGNIZED} ({e})") from None
    if not isinstance(info.get("file"), str):
        raise ImageError(f"{UNRECOGNIZED} (coreos/igninfo.json has no \"file\")")
    path = str(info["file"])
    try:
        carrier = fs.lookup(path.upper())
    except IsoNotFound:
        raise ImageError(f"{UNRECOGNIZED} ({path} is not in the ISO)") from None
    if carrier.is_dir:
        raise ImageError(f"{UNRECOGNIZED} ({path} is a directory)")
    offset = info.get("offset", 0)
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0 or offset > carrier.length:
        raise ImageError(f"{UNRECOGNIZED} (coreos/igninfo.json: bad offset {offset!r})")
    length = info.get("length", carrier.length - offset)
    if not isinstance(length, int) or isinstance(length, bool) or length <= 0 or offset + length > carrier.length:
        raise ImageError(f"{UNRECOGNIZED} (coreos/igninfo.json: bad length {length!r}; {path} has "
                         f"{carrier.length - offset} bytes from offset {offset})")
    area = IgnitionArea(path, offset, carrier.offset + offset, length, source)
    if area.offset + area.length > fs.size:
        raise ImageError(f"ISO image is incomplete: the Ignition area ends at byte {area.offset + area.length}, "
                         f"the file has {fs.size}")
    return area


def used_bytes(data: bytes) -> int:
    """Length of ``data`` without its trailing zero bytes (0 for an empty area)."""
    return len(data.rstrip(b"\x00"))


def decode_area(data: bytes) -> dict[str, bytes]:
    """The regular files stored in an area's bytes ({} for an all-zero area).

    Raises ImageError when the area holds something that is not an initrd archive.
    """
    if not data.strip(b"\x00"):
        return {}
    from ..initrd import read_initrd
    from .initramfs import MAX_MEMBER_SIZE

    try:
        return dict(read_initrd(data, max_member_size=MAX_MEMBER_SIZE))
    except ImageError as e:
        raise ImageError(f"{UNRECOGNIZED} (the Ignition embed area does not hold an initrd archive: {e})") \
            from None


def encode_members(members: Mapping[str, bytes], *, limit: int = 0) -> bytes:
    """The compressed archive for ``members`` (b"" when there are none: the area is then zeroed).

    With ``limit`` > 0, an archive that cannot fit that many bytes is refused (TooLarge) as soon as
    compression passes it, instead of after compressing everything.
    """
    if not members:
        return b""
    from ..initrd import CompressedTooLarge

    try:
        return build_initrd(dict(members), limit=limit)
    except CompressedTooLarge as e:
        if e.complete:
            raise too_large(e.size, limit) from None
        # coreos-installer's words first (scripts grep "too large"), then why the size is a lower bound
        raise TooLarge(f"Compressed initramfs is too large: {e.size} > {limit} (compression stopped: {e}; "
                       f"the embed area holds {limit})") from None


class TooLarge(ImageError):
    """The compressed archive does not fit the area (coreos-installer's "Compressed initramfs is too large")."""


def too_large(size: int, length: int) -> ImageError:
    """The refusal of a compressed config of ``size`` bytes for an area of ``length``: coreos-installer's words
    first (scripts grep "too large"), then ours."""
    return TooLarge(f"Compressed initramfs is too large: {size} > {length} (the compressed config is {size} bytes; "
                    f"the embed area holds {length})")


def fill_area(payload: bytes, length: int) -> bytes:
    """``payload`` zero-filled to the area ``length``; ImageError when it does not fit."""
    if len(payload) > length:
        raise too_large(len(payload), length)
    return payload + bytes(length - len(payload))


def check_config(config: bytes, source: str = "config") -> None:
    """Refuse (InputError) a config that is not a JSON object: it would only fail at boot.

    The bytes are embedded verbatim, as coreos-installer does; this only catches the wrong file.
    """
    try:
        parsed = loads_json(config.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise InputError(f"parsing Ignition config {source}: not JSON ({e})") from None
    if not isinstance(parsed, dict):
        raise InputError(f"parsing Ignition config {source}: not a JSON object")


def network_members(members: Mapping[str, bytes]) -> dict[str, bytes]:
    """The NetworkManager keyfiles among the area's members, by basename."""
    out = {}
    for path, data in members.items():
        name = path[len(NETWORK_DIR):]
        if path.startswith(NETWORK_DIR) and name and "/" not in name:
            out[name] = data
    return out
