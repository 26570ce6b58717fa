"""ignkit.digests and ``ignkit hash``: files, stdin, URLs over http and https (self-signed CA)."""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ignkit.cli import main
from ignkit.errors import DigestMismatch, FetchError, InputError

dg = importlib.import_module("ignkit.digests")


def test_digest_bytes_matches_hashlib() -> None:
    assert dg.digest_bytes(b"") == "sha512-" + hashlib.sha512(b"").hexdigest()
    assert dg.digest_bytes(b"abc", "sha256") == "sha256-" + hashlib.sha256(b"abc").hexdigest()
    with pytest.raises(InputError, match="unknown hash type"):
        dg.digest_bytes(b"", "md5")


@pytest.mark.parametrize("size", [0, 1, dg.BUFSIZE - 1, dg.BUFSIZE, 3 * dg.BUFSIZE + 7,
                                  dg.PIPELINE_MIN + dg.BUFSIZE // 3])
def test_digest_file_sizes(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    p = tmp_path / "f"
    p.write_bytes(data)
    assert dg.digest(p) == "sha512-" + hashlib.sha512(data).hexdigest()
    assert dg.digest(str(p), "sha256") == "sha256-" + hashlib.sha256(data).hexdigest()
    with open(p, "rb") as f:
        assert dg.digest(f) == "sha512-" + hashlib.sha512(data).hexdigest()


def test_digest_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        dg.digest(tmp_path / "nope")
    with pytest.raises(InputError, match="is a directory"):
        dg.digest(tmp_path)


def test_parse_digest() -> None:
    h = hashlib.sha512(b"x").hexdigest()
    assert dg.parse_digest(f"sha512-{h.upper()}") == ("sha512", h)
    assert dg.parse_digest(f" SHA256-{'ab' * 32}\n") == ("sha256", "ab" * 32)
    for bad, msg in [("nodash", "failed to detect"), ("md5-00", "unknown hash type"),
                     ("sha256-zz", "not hexadecimal"), ("sha256-" + "00" * 31, "wrong digest length \\(248 bits\\)"),
                     ("sha512-", "failed to detect")]:
        with pytest.raises(InputError, match=msg):
            dg.parse_digest(bad)


def test_check(tmp_path: Path) -> None:
    p = tmp_path / "c.ign"
    p.write_bytes(b'{"ignition":{"version":"3.4.0"}}')
    good = dg.digest(p, "sha256")
    assert dg.check(p, good) == good
    with pytest.raises(DigestMismatch) as ei:
        dg.check(p, "sha256-" + "0" * 64)
    assert ei.value.exit_code == 1
    assert "hash mismatch" in str(ei.value) and good in str(ei.value)


def test_cli_hash_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "config.ign"
    p.write_bytes(b"hello\n")
    assert main(["hash", str(p)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == "sha512-" + hashlib.sha512(b"hello\n").hexdigest()
    assert main(["hash", "--check", out, str(p)]) == 0
    assert main(["hash", "--check", "sha512-" + "1" * 128, str(p)]) == 1
    assert "hash mismatch" in capsys.readouterr().err
    assert main(["hash", "--check", "sha512-12", str(p)]) == 2
    assert main(["hash", "--algo", "sha256", "--check", out, str(p)]) == 2
    assert main(["hash", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "ignkit: error:" in err and "Traceback" not in err


def test_cli_stdin_matches_sha512sum(tmp_path: Path) -> None:
    data = os.urandom(100_000)
    r = subprocess.run([sys.executable, "-m", "ignkit", "hash", "-"], input=data, capture_output=True, check=True)
    assert r.stdout.decode().strip() == "sha512-" + hashlib.sha512(data).hexdigest()


def test_digest_url(httpserver) -> None:
    data = os.urandom(2 * dg.BUFSIZE + 3)
    httpserver.expect_request("/worker.ign").respond_with_data(data)
    assert dg.digest(httpserver.url_for("/worker.ign")) == "sha512-" + hashlib.sha512(data).hexdigest()
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    with pytest.raises(FetchError, match="HTTP 404"):
        dg.digest(httpserver.url_for("/gone"))


def test_tls_verified_by_default_ca_cert_passes_insecure_skips(tls_server, capsys: pytest.CaptureFixture[str]) -> None:
    server, ca_pem = tls_server
    data = b'{"ignition":{"version":"3.4.0"}}'
    server.expect_request("/secure.ign").respond_with_data(data)
    url = server.url_for("/secure.ign")
    assert url.startswith("https://127.0.0.1:")
    want = "sha512-" + hashlib.sha512(data).hexdigest()
    # Unknown CA: refused, one line, exit 2.
    with pytest.raises(FetchError, match="certificate verification failed"):
        dg.digest(url)
    assert main(["hash", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ignkit: error:") and err.count("\n") == 1
    # Trusting the CA makes it pass; --insecure skips verification.
    assert dg.digest(url, ca_cert=ca_pem) == want
    assert main(["hash", "--ca-cert", str(ca_pem), url]) == 0
    assert capsys.readouterr().out.strip() == want
    assert main(["hash", "--insecure", url]) == 0
    assert capsys.readouterr().out.strip() == want
    assert main(["hash", "--ca-cert", str(ca_pem), "--check", want, url]) == 0


def test_cli_constant_memory_on_a_large_file(tmp_path: Path) -> None:
    """160 MiB (sparse) hashed by the CLI with a peak RSS far below the file size."""
    big = tmp_path / "big.img"
    size = 160 * 1024 * 1024
    with open(big, "wb") as f:
        f.truncate(size)
    # The child reports its own high-water mark (VmHWM): ru_maxrss from wait4 would also count the
    # RSS the (large) pytest process had when it forked, which Linux carries across exec.
    code = (
        "import sys\n"
        "from ignkit.cli import main\n"
        "rc = main(['hash', sys.argv[1]])\n"
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')][0].split()[1]\n"
        "sys.stderr.write(hwm)\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode().strip()
    peak_kib = int(proc.stderr.decode())
    h = hashlib.sha512()
    zeros = bytes(1024 * 1024)
    for _ in range(size // len(zeros)):
        h.update(zeros)
    assert out == "sha512-" + h.hexdigest()
    assert peak_kib < 96 * 1024, f"peak RSS {peak_kib} KiB"
