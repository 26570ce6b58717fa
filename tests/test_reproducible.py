"""Every output is byte-identical across supported Python versions (and hash seeds).

The same commands run under this interpreter and under another one (``IGNKIT_OTHER_PYTHON``: an interpreter
of another version with ignkit's dependencies installed; ``.ci/run`` points it at its Python 3.9 virtualenv)
and must give outputs with the same sha256. Each run has its own PYTHONHASHSEED, so set/dict-order
accidents show up too. gzip headers are the usual culprit: Python 3.11's gzip.compress writes zlib's
platform OS byte where 3.9 wrote 255.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CI_FIXTURES, REPO

from ignkit.ignition.build import gzip_bytes
from ignkit.initrd import build_cpio

C = CI_FIXTURES / "customize"
OTHER = os.environ.get("IGNKIT_OTHER_PYTHON", "")
HOSTS = """\
hosts:
  - hostname: a.example.com
    mac: 52:54:00:00:00:31
    ip: 192.0.2.31/24
    gateway: 192.0.2.1
    dns: [192.0.2.53]
    install_dev: /dev/sda
  - hostname: b.example.com
    mac: 52:54:00:00:00:32
    ip: 192.0.2.32/24
    gateway: 192.0.2.1
    install_dev: /dev/vda
"""


def test_gzip_header_is_fixed() -> None:
    out = gzip_bytes(b"hello\n" * 100)
    assert out[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # mtime 0, XFL 2, OS 255 on every Python
    assert gzip.decompress(out) == b"hello\n" * 100


def _inputs(tmp: Path, fixture_isos: dict[str, Path]) -> dict[str, Path]:
    live = {"usr/lib/dracut/hooks/x.sh": b"echo hi\n", "etc/coreos-live-initramfs": b"36.20220909.dev.0\n",
            "etc/coreos/features.json": json.dumps({"installer-config": True, "live-initrd-network": True,
                                                    "installer-config-directives": {"console": True}}).encode()}
    initramfs = tmp / "initramfs.img"
    initramfs.write_bytes(gzip_bytes(build_cpio(live)))
    hosts = tmp / "hosts.yaml"
    hosts.write_text(HOSTS)
    return {"iso": fixture_isos["embed-areas-2023-07.x86_64"], "initramfs": initramfs, "hosts": hosts}


def _commands(inp: dict[str, Path], out: Path) -> dict[str, list[object]]:
    per_host = ["--dest-ignition", C / "dest.ign", "--dest-console", "ttyS0,115200n8", "--ignition-ca", C / "cert.pem",
                "--installer-config", C / "install-1.conf", "--network-keyfile", C / "installer-test.nmconnection"]
    net = ["--hostname", "w0", "--ip", "192.0.2.10/24", "--gateway", "192.0.2.1", "--dns", "192.0.2.53",
           "--mac", "52:54:00:00:00:10", "--dest-device", "/dev/sda"]
    return {
        "embed.iso": ["embed", inp["iso"], "-o", out / "embed.iso", *per_host, *net, "--live-karg-append", "quiet",
                      "--live-ignition", C / "live.ign"],
        "hosts": ["embed", inp["iso"], "--hosts", inp["hosts"], "--output-dir", out / "hosts", *per_host],
        "iso-ignition.iso": ["iso", "ignition", "embed", "-i", C / "live.ign", "-o", out / "iso-ignition.iso",
                             inp["iso"]],
        "pxe.img": ["pxe", "customize", inp["initramfs"], "-o", out / "pxe.img", *per_host, *net],
        "wrap.img": ["pxe", "ignition", "wrap", "-i", C / "dest.ign", "-o", out / "wrap.img"],
        "network.img": ["pxe", "network", "wrap", "-k", C / "installer-test.nmconnection", "-o",
                        out / "network.img"],
        "merge.ign": ["merge", C / "dest.ign", C / "dest-2.ign", "-o", out / "merge.ign"],
    }


def _digests(python: str, inp: dict[str, Path], out: Path, seed: str) -> dict[str, str]:
    out.mkdir()
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(REPO))
    for name, args in _commands(inp, out).items():
        r = subprocess.run([python, "-m", "ignkit", *map(str, args)], capture_output=True, env=env, cwd=REPO,
                           timeout=300)
        assert r.returncode == 0, (python, name, r.stderr.decode())
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def _version(python: str) -> str:
    return subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_outputs_identical_across_hash_seeds(tmp_path: Path, fixture_isos: dict[str, Path]) -> None:
    inp = _inputs(tmp_path, fixture_isos)
    first = _digests(sys.executable, inp, tmp_path / "a", "1")
    assert len(first) >= 8  # every command wrote (the --hosts fan-out two ISOs)
    assert _digests(sys.executable, inp, tmp_path / "b", "2") == first


@pytest.mark.skipif(not OTHER, reason="IGNKIT_OTHER_PYTHON (another Python version with ignkit's dependencies, "
                                      "e.g. .ci/run's 3.9 virtualenv) is not set")
def test_outputs_identical_across_python_versions(tmp_path: Path, fixture_isos: dict[str, Path]) -> None:
    assert _version(OTHER) != _version(sys.executable), "IGNKIT_OTHER_PYTHON is this Python's version"
    inp = _inputs(tmp_path, fixture_isos)
    here = _digests(sys.executable, inp, tmp_path / "here", "3")
    there = _digests(OTHER, inp, tmp_path / "there", "4")
    print(f"\n{len(here)} outputs, Python {_version(sys.executable)} vs {_version(OTHER)}: "
          f"{sum(here[k] == there.get(k) for k in here)} identical")
    assert here == there
