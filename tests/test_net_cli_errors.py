"""Bad input to ``hash``, ``stream show``, ``download``, ``pxe config``, ``ignition from-secret`` and ``csr review``.

Each refusal must be exactly one ``ignkit: error: ...`` line on stderr, a non-zero exit status, no
traceback, and no output file (not even a partial one).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TESTDATA

from ignkit.cli import main

STREAMS = TESTDATA / "stream"
FCOS = STREAMS / "fcos-stable.json"
PXE = ["--kernel-url", "http://10.0.0.1/k", "--initramfs-url", "http://10.0.0.1/i", "--rootfs-url",
       "http://10.0.0.1/r", "--ignition-url", "http://10.0.0.1/w.ign", "--install-dev", "/dev/sda"]
SHA512_OF_NOTHING = ("sha512-cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0"
                     "ff8318d2877eec2f63b931bd47417a81a538327af927da3e")


@pytest.fixture
def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory with a directory, garbage JSON, an empty object and a list."""
    (tmp_path / "adir").mkdir()
    (tmp_path / "garbage.json").write_text("garbage{")
    (tmp_path / "empty.json").write_text("{}")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "hosts.yaml").write_text("hosts:\n  - hostname: worker-0\n    mac: '52:54:00:aa:bb:01'\n")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], code: int, needle: str) -> str:
    assert main(argv) == code, argv
    cap = capsys.readouterr()
    assert cap.out == "", argv
    lines = cap.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ignkit: error: "), (argv, cap.err)
    assert "Traceback" not in cap.err and needle in lines[0], (argv, lines[0])
    return lines[0]


CASES = [
    # hash
    (["hash", "missing.ign"], 2, "missing.ign: no such file"),
    (["hash", "adir"], 2, "adir: is a directory"),
    (["hash", "ftp://example.com/w.ign"], 2, "only http:// and https:// URLs"),
    (["hash", "--check", "sha512", "empty.json"], 2, "failed to detect hash-type"),
    (["hash", "--check", "md5-00", "empty.json"], 2, "unknown hash type 'md5'"),
    (["hash", "--check", "sha256-xyz", "empty.json"], 2, "not hexadecimal"),
    (["hash", "--check", "sha256-abcd", "empty.json"], 2, "wrong digest length (16 bits)"),
    (["hash", "--check", SHA512_OF_NOTHING, "empty.json"], 1, "hash mismatch, computed 'sha512-"),
    (["hash", "--algo", "md5", "empty.json"], 2, "Invalid value for '--algo'"),
    (["hash", "--ca-cert", "nope.pem", "https://127.0.0.1/"], 2, "nope.pem"),
    (["hash", "--ca-cert", "garbage.json", "https://127.0.0.1/"], 2, "garbage.json: no PEM CA certificate"),
    # stream show
    (["stream", "show", "missing.json"], 2, "missing.json: no such file"),
    (["stream", "show", "adir"], 2, "adir: is a directory"),
    (["stream", "show", "garbage.json"], 2, "not stream metadata"),
    (["stream", "show", "empty.json"], 2, "neither a stream document nor the coreos-bootimages ConfigMap"),
    (["stream", "show", "list.json"], 2, "not stream metadata"),
    (["stream", "show", str(FCOS), "-a", "s390x"], 2, "architecture s390x is not in stream stable"),
    (["stream", "show", str(FCOS), "-a", "x86_64", "-f", "qcow2"], 2, "couldn't find architecture x86_64"),
    # download
    (["download", "-s", "missing.json", "-a", "x86_64", "-C", "out"], 2, "missing.json: no such file"),
    (["download", "-s", "garbage.json", "-a", "x86_64", "-C", "out"], 2, "not stream metadata"),
    (["download", "-s", str(FCOS), "-a", "x86_64", "-C", "nodir"], 2, "nodir: no such directory"),
    (["download", "-s", str(FCOS), "-a", "x86_64", "-C", "out", "--verify-signature", "nokey.asc"], 2,
     "nokey.asc: no such key file"),
    (["download", "-s", str(STREAMS / "rhcos-4.19.json"), "-a", "x86_64", "-C", "out", "--verify-signature",
      "empty.json"], 1, "lists no signature"),
    (["download", "-s", str(STREAMS / "configmap-streams.json"), "-a", "x86_64", "-C", "out"], 2,
     "choose one with --stream-name"),
    # pxe config
    (["pxe", "config", "-F", "ipxe", *PXE, "--stream", "missing.json", "-o", "out/boot.ipxe"], 2,
     "missing.json: no such file"),
    (["pxe", "config", "-F", "ipxe", *PXE, "--stream", "garbage.json", "-o", "out/boot.ipxe"], 2,
     "not stream metadata"),
    (["pxe", "config", "-F", "pxelinux", "-a", "aarch64", *PXE, "-o", "out/default"], 2, "BIOS-only"),
    (["pxe", "config", "-F", "grub", *PXE, "--rootfs-url", "ftp://10.0.0.1/r", "-o", "out/grub.cfg"], 2,
     "must be an http:// or https:// URL"),
    (["pxe", "config", "-F", "ipxe", *PXE, "--hosts", "missing.yaml", "--output-dir", "out"], 2, "missing.yaml"),
    (["pxe", "config", "-F", "ipxe", *PXE, "--hosts", "garbage.json", "--output-dir", "out"], 2, "garbage.json"),
    (["pxe", "config", "-F", "ipxe", *PXE, "--hosts", "hosts.yaml"], 2, "give --output-dir DIR"),
    # ignition from-secret
    (["ignition", "from-secret", "missing.json", "-o", "out/worker.ign"], 2, "missing.json: no such file"),
    (["ignition", "from-secret", "adir", "-o", "out/worker.ign"], 2, "adir: is a directory"),
    (["ignition", "from-secret", "garbage.json", "-o", "out/worker.ign"], 2, "neither a Secret nor an Ignition"),
    (["ignition", "from-secret", "list.json", "-o", "out/worker.ign"], 2, "neither a Secret nor an Ignition"),
    (["ignition", "from-secret", "file:///etc/hosts", "-o", "out/worker.ign"], 2, "only http:// and https://"),
    # csr review
    (["csr", "review", "--hosts", "hosts.yaml", "missing.json"], 2, "missing.json: no such file"),
    (["csr", "review", "--hosts", "hosts.yaml", "adir"], 2, "adir: is a directory"),
    (["csr", "review", "--hosts", "hosts.yaml", "garbage.json"], 2, "garbage.json: not JSON"),
    (["csr", "review", "--hosts", "hosts.yaml", "empty.json"], 2, "not a list of CertificateSigningRequests"),
    (["csr", "review", "--hosts", "hosts.yaml", "list.json"], 2, "expected a JSON object"),
    (["csr", "review", "--hosts", "missing.yaml", "empty.json"], 2, "missing.yaml"),
    (["csr", "review", "--hosts", "hosts.yaml", "--nodes", "garbage.json", "empty.json"], 2, "garbage.json: not JSON"),
]


@pytest.mark.parametrize("argv,code,needle", CASES, ids=[" ".join(c[0][:3]) + f" #{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_one_line(inputs: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int,
                               needle: str) -> None:
    out = inputs / "out"
    out.mkdir()
    _refused(capsys, argv, code, needle)
    assert list(out.iterdir()) == []


def test_unreachable_url_is_one_line_and_quick(inputs: Path, capsys: pytest.CaptureFixture[str],
                                               closed_port: int) -> None:
    """A closed port on 127.0.0.1: one line per command, and the download gives up without nested retries."""
    base = f"http://127.0.0.1:{closed_port}"
    stream = inputs / "closed.json"
    stream.write_text(FCOS.read_text().replace("https://builds.coreos.fedoraproject.org", base))
    out = inputs / "out"
    out.mkdir()
    for argv in (["hash", f"{base}/worker.ign"],
                 ["stream", "show", f"{base}/stable.json"],
                 ["ignition", "from-secret", f"{base}/secret.json", "-o", str(out / "worker.ign")],
                 ["pxe", "config", "-F", "ipxe", *PXE, "--stream", f"{base}/stable.json", "-o", str(out / "b")]):
        _refused(capsys, argv, 2, "cannot connect: [Errno 111] Connection refused")
    t0 = time.monotonic()
    line = _refused(capsys, ["download", "-s", str(stream), "-a", "x86_64", "-C", str(out)], 2,
                    "Connection refused (gave up after 1 attempt)")
    assert "rerun to resume" not in line
    assert time.monotonic() - t0 < 10  # the session's own retries only (about 3.5 s of backoff)
    assert list(out.iterdir()) == []


def test_output_to_a_directory_leaves_nothing(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.name for p in inputs.iterdir())
    assert main(["pxe", "config", "-F", "ipxe", *PXE, "-o", "adir"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ignkit: error: ") and err.count("\n") == 1
    assert sorted(p.name for p in inputs.iterdir()) == before
    assert list((inputs / "adir").iterdir()) == []


def test_https_to_a_plain_http_server(httpserver, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    httpserver.expect_request("/w.ign").respond_with_data(b"{}")
    url = httpserver.url_for("/w.ign").replace("http://", "https://")
    for argv in (["hash", url], ["stream", "show", url], ["ignition", "from-secret", url]):
        _refused(capsys, argv, 2, ": TLS error: ")  # the text after it depends on the OpenSSL version
