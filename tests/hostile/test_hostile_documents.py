"""Hostile JSON and YAML documents (issue 10 items 1 and 7): nesting far beyond any real document and YAML
aliases that expand exponentially, fed to every command that reads such a document. Each is refused in a
second, in one line, leaving nothing behind (see conftest.assert_refused)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
from hostile_cases import CONFIG, HOSTS, assert_refused, build_iso, live_initramfs

DEEP_JSON = b"[" * 100000
DEEP_OBJ = b'{"a":' * 30000
DEEP_YAML = b"[" * 20000
DEEP_BLOCK_YAML = b"".join(b"  " * i + b"- \n" for i in range(2000))


def laughs(leaf: str = '"lol"') -> str:
    """A "billion laughs" chain of anchors (9 ** 9 leaves once expanded), indented for a mapping's value."""
    lines = [f"    a: &a [{', '.join([leaf] * 9)}]"]
    for p, q in zip("abcdefgh", "bcdefghi"):
        lines.append(f"    {q}: &{q} [{', '.join(['*' + p] * 9)}]")
    return "\n".join(lines) + "\n"


LAUGH_HOSTS = "x:\n" + laughs() + HOSTS.replace("hostname: worker-0", "hostname: *i")
LAUGH_HOSTS_SSH = "x:\n" + laughs() + "sshKey: *i\n" + HOSTS
LAUGH_HOSTS_ARCH = "x:\n" + laughs() + HOSTS + "    arch: *i\n"
LAUGH_NMSTATE = "x:\n" + laughs() + "interfaces: *i\n"

Builder = Callable[[Path, Path], list[Any]]


def _w(tmp: Path, name: str, data: bytes | str) -> str:
    (tmp / name).write_bytes(data.encode() if isinstance(data, str) else data)
    return name


def _iso(tmp: Path, iso: Path) -> str:
    shutil.copyfile(iso, tmp / "in.iso")
    return "in.iso"


def _stream_show(tmp: Path, iso: Path) -> list[Any]:
    return ["stream", "show", _w(tmp, "s.json", DEEP_JSON)]


def _stream_show_yaml(tmp: Path, iso: Path) -> list[Any]:
    return ["stream", "show", _w(tmp, "s.yaml", DEEP_BLOCK_YAML)]


def _download(tmp: Path, iso: Path) -> list[Any]:
    return ["download", "-s", _w(tmp, "s.json", DEEP_OBJ), "-a", "x86_64", "-C", "."]


def _pxe_config_stream(tmp: Path, iso: Path) -> list[Any]:
    return ["pxe", "config", "-F", "grub", "--stream", _w(tmp, "s.json", DEEP_JSON), "-a", "x86_64", "-o", "out.cfg"]


def _csr_file(tmp: Path, iso: Path) -> list[Any]:
    return ["csr", "review", "--hosts", _w(tmp, "h.yaml", HOSTS), _w(tmp, "csrs.json", DEEP_JSON)]


def _csr_nodes(tmp: Path, iso: Path) -> list[Any]:
    return ["csr", "review", "--hosts", _w(tmp, "h.yaml", HOSTS), "--nodes", _w(tmp, "n.json", DEEP_OBJ),
            _w(tmp, "csrs.json", '{"kind":"List","items":[]}')]


def _csr_hosts_deep(tmp: Path, iso: Path) -> list[Any]:
    return ["csr", "review", "--hosts", _w(tmp, "h.yaml", DEEP_YAML), _w(tmp, "csrs.json", '{"items":[]}')]


def _from_secret(tmp: Path, iso: Path) -> list[Any]:
    return ["ignition", "from-secret", _w(tmp, "secret.json", DEEP_JSON), "-o", "out.ign"]


def _from_secret_yaml(tmp: Path, iso: Path) -> list[Any]:
    return ["ignition", "from-secret", _w(tmp, "secret.yaml", "x:\n" + laughs() + "data: *i\n"), "-o", "out.ign"]


def _iso_embed(tmp: Path, iso: Path) -> list[Any]:
    return ["iso", "ignition", "embed", "-i", _w(tmp, "c.ign", DEEP_OBJ), _iso(tmp, iso), "-o", "out.iso"]


def _embed_dest(tmp: Path, iso: Path) -> list[Any]:
    return ["embed", _iso(tmp, iso), "--dest-ignition", _w(tmp, "c.ign", DEEP_OBJ), "-o", "out.iso"]


def _embed_live(tmp: Path, iso: Path) -> list[Any]:
    return ["embed", _iso(tmp, iso), "--live-ignition", _w(tmp, "c.ign", DEEP_JSON), "-o", "out.iso"]


def _embed_nmstate_json(tmp: Path, iso: Path) -> list[Any]:
    return ["embed", _iso(tmp, iso), "--network-nmstate", _w(tmp, "n.json", DEEP_OBJ), "-o", "out.iso"]


def _embed_nmstate_yaml(tmp: Path, iso: Path) -> list[Any]:
    return ["embed", _iso(tmp, iso), "--network-nmstate", _w(tmp, "n.yaml", DEEP_YAML), "-o", "out.iso"]


def _embed_nmstate_laughs(tmp: Path, iso: Path) -> list[Any]:
    return ["embed", _iso(tmp, iso), "--network-nmstate", _w(tmp, "n.yaml", LAUGH_NMSTATE), "-o", "out.iso"]


def _embed_installer_config(tmp: Path, iso: Path) -> list[Any]:
    return ["embed", _iso(tmp, iso), "--installer-config", _w(tmp, "i.yaml", DEEP_BLOCK_YAML), "-o", "out.iso"]


def _iso_member(name: str, data: bytes) -> Builder:
    def build(tmp: Path, iso: Path) -> list[Any]:
        build_iso(tmp / "in.iso", {name: data})
        return ["embed", "in.iso", "--dest-ignition", _w(tmp, "c.ign", CONFIG), "-o", "out.iso"]
    return build


def _iso_inspect_member(name: str, data: bytes) -> Builder:
    def build(tmp: Path, iso: Path) -> list[Any]:
        build_iso(tmp / "in.iso", {name: data})
        return ["iso", "inspect", "in.iso"]
    return build


def _pxe_features(tmp: Path, iso: Path) -> list[Any]:
    live_initramfs(tmp / "initrd.img", {"etc/coreos/features.json": DEEP_JSON})
    return ["pxe", "customize", "initrd.img", "--dest-ignition", _w(tmp, "c.ign", CONFIG), "-o", "out.img"]


def _laughs(cmd: str, hosts: str) -> Builder:
    def build(tmp: Path, iso: Path) -> list[Any]:
        h = _w(tmp, "hosts.yaml", hosts)
        if cmd == "csr":
            return ["csr", "review", "--hosts", h, _w(tmp, "csrs.json", '{"items":[]}')]
        if cmd == "embed":
            return ["embed", _iso(tmp, iso), "--hosts", h, "--output-dir", "out",
                    "--dest-ignition", _w(tmp, "c.ign", CONFIG)]
        if cmd == "pxe-config":
            return ["pxe", "config", "-F", "ipxe", "--hosts", h, "--output-dir", ".", "-a", "x86_64",
                    "--kernel-url", "k", "--initramfs-url", "i", "--rootfs-url", "http://h/r"]
        live_initramfs(tmp / "initrd.img")
        return ["pxe", "customize", "initrd.img", "--hosts", h, "--output-dir", "out",
                "--dest-ignition", _w(tmp, "c.ign", CONFIG)]
    return build


CASES: dict[str, Builder] = {
    "stream-show-deep-json": _stream_show,
    "stream-show-deep-yaml": _stream_show_yaml,
    "download-deep-stream": _download,
    "pxe-config-deep-stream": _pxe_config_stream,
    "csr-review-deep-csrs": _csr_file,
    "csr-review-deep-nodes": _csr_nodes,
    "csr-review-deep-hosts": _csr_hosts_deep,
    "from-secret-deep": _from_secret,
    "from-secret-laughs": _from_secret_yaml,
    "iso-ignition-embed-deep": _iso_embed,
    "embed-dest-ignition-deep": _embed_dest,
    "embed-live-ignition-deep": _embed_live,
    "embed-nmstate-deep-json": _embed_nmstate_json,
    "embed-nmstate-deep-yaml": _embed_nmstate_yaml,
    "embed-nmstate-laughs": _embed_nmstate_laughs,
    "embed-installer-config-deep": _embed_installer_config,
    "iso-igninfo-deep": _iso_member("/coreos/igninfo.json", DEEP_OBJ),
    "iso-kargs-deep": _iso_member("/coreos/kargs.json", DEEP_JSON),
    "iso-features-deep": _iso_member("/coreos/features.json", DEEP_OBJ),
    "iso-inspect-features-deep": _iso_inspect_member("/coreos/features.json", DEEP_JSON),
    "pxe-features-deep": _pxe_features,
    "csr-review-laughs-hostname": _laughs("csr", LAUGH_HOSTS),
    "csr-review-laughs-sshkey": _laughs("csr", LAUGH_HOSTS_SSH),
    "embed-hosts-laughs-arch": _laughs("embed", LAUGH_HOSTS_ARCH),
    "pxe-config-hosts-laughs": _laughs("pxe-config", LAUGH_HOSTS),
    "pxe-customize-hosts-laughs": _laughs("pxe-customize", LAUGH_HOSTS_SSH),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_document_refused(case: str, tmp_path: Path, iso_x86: Path) -> None:
    args = CASES[case](tmp_path, iso_x86)
    msg = assert_refused(args, tmp_path)
    assert "nested deeper than" in msg or "aliases are expanded" in msg, msg
