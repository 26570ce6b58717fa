"""Crafted live ISOs (issue 10 items 5, 12, 13, 14, 21 kargs types): mkiso images whose igninfo.json, kargs.json,
directory records or legacy header point where they must not. Every edit command refuses them before writing
anything, whether the output is a new file, stdout or the input itself (--in-place)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
from hostile_cases import (
    CONFIG,
    assert_refused,
    build_iso,
    make_legacy,
    mkiso,
    patch_record,
    record_extent,
    root_extent,
)


def _kargs_json(extra: dict[str, Any]) -> bytes:
    _, kj = mkiso.layout("x86_64")
    kj["files"].append(extra)
    return json.dumps(kj).encode()


def igninfo(value: dict[str, Any]) -> Callable[[Path, Path], None]:
    return lambda tmp, iso: build_iso(tmp / "in.iso", {"/coreos/igninfo.json": json.dumps(value).encode()}) and None


def kargs_entry(entry: dict[str, Any], big_features: bool = False) -> Callable[[Path, Path], None]:
    files = {"/coreos/kargs.json": _kargs_json(entry)}
    if big_features:  # room for a kargs area inside features.json
        files["/coreos/features.json"] = mkiso.pretty_json(mkiso.FEATURES) + b" " * 4096
    return lambda tmp, iso: build_iso(tmp / "in.iso", files) and None


def ignition_img_length(delta: int) -> Callable[[Path, Path], None]:
    def make(tmp: Path, iso: Path) -> None:
        shutil.copyfile(iso, tmp / "in.iso")
        patch_record(tmp / "in.iso", b"IGNITION.IMG;1", length=mkiso.IGNITION_AREA + delta)
    return make


def ignition_img_onto(iso_name: bytes) -> Callable[[Path, Path], None]:
    """images/ignition.img's record moved onto another file's extent."""
    def make(tmp: Path, iso: Path) -> None:
        shutil.copyfile(iso, tmp / "in.iso")
        patch_record(tmp / "in.iso", b"IGNITION.IMG;1", extent=record_extent(tmp / "in.iso", iso_name))
    return make


def legacy_loop(tmp: Path, iso: Path) -> None:
    shutil.copyfile(iso, tmp / "in.iso")
    make_legacy(tmp / "in.iso")
    patch_record(tmp / "in.iso", b"PXEBOOT", extent=root_extent(tmp / "in.iso"))


def loop_only(tmp: Path, iso: Path) -> None:
    shutil.copyfile(iso, tmp / "in.iso")
    patch_record(tmp / "in.iso", b"PXEBOOT", extent=root_extent(tmp / "in.iso"))


IMAGES: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    # item 12: the Ignition area is a file that also holds a kargs area
    "igninfo-on-isolinux-cfg": (igninfo({"file": "isolinux/isolinux.cfg"}), "overlaps the kargs area"),
    # item 12: the Ignition area is inside a file other than its carrier's data
    "igninfo-offset-past-file": (igninfo({"file": "images/ignition.img", "offset": 1, "length": 1 << 18}),
                                 "bad length"),
    # item 14: igninfo.json names itself (8.3 spelling)
    "igninfo-names-itself": (igninfo({"file": "coreos/igninfo.jso"}), "layout file /coreos/igninfo.json"),
    "igninfo-names-kargs-json": (igninfo({"file": "coreos/kargs.jso"}), "layout file /coreos/kargs.json"),
    "igninfo-names-directory": (igninfo({"file": "images/pxeboot"}), "is a directory"),
    # item 12: a kargs.json area inside the Ignition area, or in a layout file
    "kargs-in-ignition-area": (kargs_entry({"path": "images/ignition.img", "offset": 4096}), "overlaps"),
    "kargs-in-features-json": (kargs_entry({"path": "coreos/features.jso", "offset": 0}, True),
                              "layout file /coreos/features.json"),
    "kargs-past-file-end": (kargs_entry({"path": "coreos/features.jso", "offset": 100000}), "runs past"),
    # item 21: JSON types are checked (true is not 1)
    "kargs-offset-true": (kargs_entry({"path": "isolinux/isolinux.cfg", "offset": True}), "bad files entry"),
    "kargs-offset-string": (kargs_entry({"path": "isolinux/isolinux.cfg", "offset": "229"}), "bad files entry"),
    # item 12: a corrupted directory length / extent for images/ignition.img
    "ignition-img-too-long": (ignition_img_length(2048), "overlaps"),
    "ignition-img-on-kargs-json": (ignition_img_onto(b"KARGS.JSO;1"), "corrupt layout"),
    "ignition-img-on-vmlinuz": (ignition_img_onto(b"VMLINUZ.;1"), "overlaps the file"),
    # item 5: a directory record pointing back at the root (legacy coreKarg image: ignkit walks the tree)
    "legacy-pxeboot-loop": (legacy_loop, "loops back"),
    "pxeboot-loop": (loop_only, "loops back"),
}

COMMANDS: dict[str, list[str]] = {
    "embed-copy": ["embed", "in.iso", "--dest-ignition", "c.ign", "-o", "out.iso"],
    "embed-in-place": ["embed", "in.iso", "--dest-ignition", "c.ign", "--in-place"],
    "ignition-embed-stdout": ["iso", "ignition", "embed", "-i", "c.ign", "in.iso", "-o", "-"],
    "reset-in-place": ["iso", "reset", "in.iso", "--in-place"],
    "reset-stdout": ["iso", "reset", "in.iso", "-o", "-"],
    "kargs-modify-copy": ["iso", "kargs", "modify", "-a", "quiet", "in.iso", "-o", "out.iso"],
}


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory, iso_x86: Path) -> dict[str, Path]:
    """Each crafted image, built once (tests copy it)."""
    out = {}
    for name, (make, _) in IMAGES.items():
        d = tmp_path_factory.mktemp(name)
        make(d, iso_x86)
        out[name] = d / "in.iso"
    return out


# Every image meets the two outputs that matter most (the input itself, stdout) and one more command in turn;
# iso inspect (read only) meets each too. The whole matrix would repeat the same check at three times the cost.
_OTHERS = ["embed-copy", "reset-in-place", "reset-stdout", "kargs-modify-copy"]
MATRIX = [(image, command) for i, image in enumerate(sorted(IMAGES))
          for command in ("embed-in-place", "ignition-embed-stdout", _OTHERS[i % len(_OTHERS)])]


@pytest.mark.parametrize(("image", "command"), MATRIX)
def test_crafted_iso_refused(image: str, command: str, crafted: dict[str, Path], tmp_path: Path) -> None:
    shutil.copyfile(crafted[image], tmp_path / "in.iso")
    (tmp_path / "c.ign").write_bytes(CONFIG)
    assert_refused(COMMANDS[command], tmp_path, expect=IMAGES[image][1])


@pytest.mark.parametrize("image", ["igninfo-names-itself", "kargs-in-ignition-area", "legacy-pxeboot-loop"])
def test_crafted_iso_inspect_refused(image: str, crafted: dict[str, Path], tmp_path: Path) -> None:
    shutil.copyfile(crafted[image], tmp_path / "in.iso")
    assert_refused(["iso", "inspect", "in.iso"], tmp_path, expect=IMAGES[image][1])


def test_stdout_gets_nothing_when_a_patch_cannot_be_written(tmp_path: Path, iso_x86: Path) -> None:
    """Item 13 at the library level: overlapping patches are refused before the first byte reaches stdout."""
    import io

    from ignkit.errors import ImageError
    from ignkit.live.image import write_patched

    out = io.BytesIO()
    with pytest.raises(ImageError, match="overlaps"):
        write_patched(str(iso_x86), iso_x86.stat().st_size, [(300000, b"x" * 10), (300005, b"y")], output="-",
                      stdout=out)
    assert out.getvalue() == b""
