#!/usr/bin/env python3
"""Write the stream-metadata fixtures of this directory (run again after changing this script).

- ``fcos-stable.json``: Fedora CoreOS-shaped stream (x86_64, aarch64), every artifact with a signature.
- ``rhcos-4.19.json``: RHCOS-shaped stream (x86_64, aarch64, ppc64le, s390x), no signatures.
- ``configmap-stream.json``: ``oc get configmap/coreos-bootimages -o json`` with the legacy ``data.stream``.
- ``configmap-streams.json``: the same ConfigMap with ``data.streams`` (rhel-9 and rhel-10).

Artifacts are tiny stand-ins whose bytes are :func:`artifact_content` of their file name, except the
metal disk images, which are coreos-installer's signed ``verify/1M.xz`` (FCOS) and ``verify/1M.gz``
(RHCOS): 1 MiB of zeros compressed, so ``uncompressed-sha256`` and the FCOS signature are real.
Tests serve these bytes from a local HTTP server after replacing the host part of the locations.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERIFY = HERE.parent / "upstream" / "coreos-installer" / "verify"

FCOS_BASE = "https://builds.coreos.fedoraproject.org/prod/streams/stable/builds/"
RHCOS_BASE = "https://rhcos.mirror.openshift.com/art/storage/prod/streams/"
ZEROS_SHA256 = hashlib.sha256(bytes(1024 * 1024)).hexdigest()


def artifact_content(filename: str) -> bytes:
    """The bytes served for a stand-in artifact called ``filename``."""
    return (f"ignkit test artifact {filename}\n" * 40).encode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entry(url: str, data: bytes, *, signed: bool, uncompressed: str | None = None) -> dict[str, str]:
    e = {"location": url}
    if signed:
        e["signature"] = url + ".sig"
    e["sha256"] = _sha(data)
    if uncompressed:
        e["uncompressed-sha256"] = uncompressed
    return e


def _stub(base: str, name: str, *, signed: bool) -> dict[str, str]:
    return _entry(base + name, artifact_content(name), signed=signed)


def _live(base: str, pre: str, arch: str, *, signed: bool) -> dict[str, dict[str, dict[str, str]]]:
    """The live ISO and PXE formats of one architecture."""
    return {
        "iso": {"disk": _stub(base, f"{pre}-live-iso.{arch}.iso", signed=signed)},
        "pxe": {kind: _stub(base, f"{pre}-live-{kind}.{arch}{suffix}", signed=signed)
                for kind, suffix in (("kernel", ""), ("initramfs", ".img"), ("rootfs", ".img"))},
    }


def fcos() -> dict:
    rel = "42.20251012.3.0"
    archs = {}
    for arch in ("x86_64", "aarch64"):
        base = f"{FCOS_BASE}{rel}/{arch}/"
        pre = f"fedora-coreos-{rel}"
        disk = (VERIFY / "1M.xz").read_bytes()
        archs[arch] = {
            "artifacts": {
                "metal": {
                    "release": rel,
                    "formats": {
                        **_live(base, pre, arch, signed=True),
                        "raw.xz": {"disk": _entry(base + f"{pre}-metal.{arch}.raw.xz", disk, signed=True,
                                                  uncompressed=ZEROS_SHA256)},
                    },
                },
                "qemu": {
                    "release": rel,
                    "formats": {"qcow2.xz": {"disk": _stub(base, f"{pre}-qemu.{arch}.qcow2.xz", signed=True)}},
                },
            },
            "images": {
                "aws": {"regions": {"us-east-1": {"release": rel, "image": f"ami-0{arch[:3]}5e1f2d3c4b5a6978"}}},
                "gcp": {"release": rel, "project": "fedora-coreos-cloud", "family": f"fedora-coreos-stable-{arch}",
                        "name": f"fedora-coreos-42-20251012-3-0-gcp-{arch.replace('_', '-')}"},
            },
        }
    return {
        "stream": "stable",
        "metadata": {"last-modified": "2025-10-27T16:45:12Z", "generator": "fedora-coreos-stream-generator v0.4.0"},
        "architectures": archs,
    }


def rhcos(stream_dir: str, rel: str, name: str, archs: tuple[str, ...]) -> dict:
    out = {}
    for arch in archs:
        base = f"{RHCOS_BASE}{stream_dir}/builds/{rel}/{arch}/"
        pre = f"rhcos-{rel}"
        disk = (VERIFY / "1M.gz").read_bytes()
        formats = {
            **_live(base, pre, arch, signed=False),
            "raw.gz": {"disk": _entry(base + f"{pre}-metal.{arch}.raw.gz", disk, signed=False,
                                      uncompressed=ZEROS_SHA256)},
            "4k.raw.gz": {"disk": _entry(base + f"{pre}-metal4k.{arch}.raw.gz", disk, signed=False,
                                         uncompressed=ZEROS_SHA256)},
        }
        if arch == "s390x":
            formats["dasd.gz"] = {"disk": _entry(base + f"{pre}-dasd.{arch}.raw.gz", disk, signed=False,
                                                 uncompressed=ZEROS_SHA256)}
        out[arch] = {
            "artifacts": {"metal": {"release": rel, "formats": formats}},
            "rhel-coreos-extensions": {
                "azure-disk": {"release": rel, "url": f"https://rhcos.blob.core.windows.net/imagebucket/{pre}-azure."
                                                      f"{arch}.vhd"},
            },
        }
    return {
        "stream": name,
        "metadata": {"last-modified": "2025-07-02T09:12:40Z", "generator": "plume cosa2stream 0.15.0"},
        "architectures": out,
    }


def configmap(data: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "coreos-bootimages",
            "namespace": "openshift-machine-config-operator",
            "labels": {"app": "machine-config-operator"},
            "annotations": {"include.release.openshift.io/self-managed-high-availability": "true"},
            "creationTimestamp": "2025-07-10T08:01:02Z",
            "resourceVersion": "18231",
            "uid": "0d3c5a6e-7b1f-4c53-9a0e-51f4c7d2a9b1",
        },
        "data": data,
    }


def main() -> None:
    all_archs = ("x86_64", "aarch64", "ppc64le", "s390x")
    r9 = rhcos("4.19-9.6", "9.6.20250701-0", "rhcos-4.19", all_archs)
    r10 = rhcos("4.19-10.0", "10.0.20250702-0", "rhel-10", ("x86_64", "aarch64"))
    files = {
        "fcos-stable.json": fcos(),
        "rhcos-4.19.json": r9,
        "configmap-stream.json": configmap({"releaseVersion": "4.19.3", "stream": json.dumps(r9, indent=2)}),
        "configmap-streams.json": configmap({
            "releaseVersion": "4.19.3",
            "streams": json.dumps({"rhel-9": r9, "rhel-10": r10}, indent=2),
        }),
    }
    for name, doc in files.items():
        (HERE / name).write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
