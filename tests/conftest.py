"""Shared test helpers: fixture paths, the decompressed fixture ISOs, local HTTP(S) servers, the CLI as a process."""

from __future__ import annotations

import datetime
import http.server
import importlib.util
import ipaddress
import lzma
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
TESTDATA = REPO / "testdata"
# Upstream test data copied into the repository (origin, commit and license: testdata/upstream/NOTICE).
UPSTREAM = TESTDATA / "upstream"
CI_FIXTURES = UPSTREAM / "coreos-installer"
IGN_FIXTURES = UPSTREAM / "ignition"
# Reference material that is not part of the project: ../shared beside the checkout (CI clones the repository
# with shared/ beside it); IGNKIT_SHARED overrides. Only differential tests against its oracles need it, and
# they are skipped with the reason when it is absent: everything else runs from a clone alone.
SHARED = Path(os.environ.get("IGNKIT_SHARED", REPO.parent / "shared"))
ORACLES = SHARED / "oracles"
UPSTREAM_IGNITION_VALIDATE = ORACLES / "ignition-validate"  # upstream Ignition's main: spec 3.0.0 - 3.7.0-exp.
BUTANE = ORACLES / "butane"
BUTANE_ORACLE = BUTANE  # upstream butane built from source (differential tests only)


def _deprecations_are_errors_in_ignkit() -> None:
    """ignkit processes started by tests turn a DeprecationWarning attributed to one of ignkit's modules into an
    error (the -W syntax names modules exactly, hence the list); pyproject's filterwarnings does it in-process."""
    import pkgutil

    import ignkit

    names = ["ignkit"] + [m.name for m in pkgutil.walk_packages(ignkit.__path__, "ignkit.")]
    ours = [f"error::{cat}:{name}" for name in names for cat in ("DeprecationWarning", "PendingDeprecationWarning")]
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS", "")] + ours))


_deprecations_are_errors_in_ignkit()


def needs_shared(path: Path) -> pytest.MarkDecorator:
    """Skip unless ``path`` (something under SHARED) exists, saying which file and how to provide it."""
    return pytest.mark.skipif(not path.exists(), reason=f"needs {path} (../shared beside the clone, as in CI, "
                                                         f"or IGNKIT_SHARED=DIR)")


def load_script(path: Path, name: str) -> ModuleType:
    """Import a script that is not in a package (``testdata/mkiso.py``, ...) as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_ignkit(*args: object, stdin: bytes | None = b"", cwd: Path | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m ignkit ARGS`` as a real process; stdin is a pipe (empty unless given), output captured."""
    return subprocess.run([sys.executable, "-m", "ignkit", *map(str, args)], input=stdin, capture_output=True,
                          cwd=cwd, timeout=timeout)


@pytest.fixture(scope="session")
def fixture_isos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """coreos-installer's fixture ISOs, decompressed once per session: name (``embed-areas-2023-07.x86_64``,
    ``synthetic``, ...) → read-only path. Tests that modify an image copy it first."""
    out = tmp_path_factory.mktemp("fixture-isos")
    result = {}
    for xz in sorted((CI_FIXTURES / "iso").glob("*.iso.xz")):
        target = out / xz.name[: -len(".xz")]
        target.write_bytes(lzma.decompress(xz.read_bytes()))
        target.chmod(0o444)  # nothing may change a pristine fixture
        result[target.name[: -len(".iso")]] = target
    return result


# --- An HTTPS server with a CA generated here ----------------------------------------------------------------


def _make_ca_and_cert(tmp: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for localhost/127.0.0.1 it signed: (ca.pem, server.pem, server.key).

    The extensions (key usage, key identifiers, SAN) are what a strict verifier (Python 3.13's
    VERIFY_X509_STRICT) requires.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ignkit test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem, cert_pem, key_pem = tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return ca_pem, cert_pem, key_pem


@pytest.fixture(scope="session")
def _tls_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    from pytest_httpserver import HTTPServer

    ca_pem, cert_pem, key_pem = _make_ca_and_cert(tmp_path_factory.mktemp("tls"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert_pem), str(key_pem))
    server = HTTPServer(host="127.0.0.1", ssl_context=ctx)
    server.start()
    try:
        yield server, ca_pem
    finally:
        server.stop()


@pytest.fixture
def tls_server(_tls_session: tuple[Any, Path]) -> Iterator[tuple[Any, Path]]:
    """``(server, ca_pem)``: a pytest-httpserver on https://127.0.0.1:<port>/ (one per session) whose
    certificate only the CA in the file ``ca_pem`` verifies; each test's handlers are cleared after it."""
    server, ca_pem = _tls_session
    try:
        yield server, ca_pem
    finally:
        server.clear()


# --- A plain HTTP server for downloads: Range, dropped connections ---------------------------------------------


class ArtifactServer:
    """A tiny HTTP/1.1 server on 127.0.0.1 serving ``files`` (path -> bytes), honouring ``Range``.

    Paths listed in ``drop_once`` get their connection cut after half of the body the first time they
    are fetched without a Range header. ``requests`` records (path, Range header) of every GET.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.drop_once: set[str] = set()
        self.ignore_range: set[str] = set()
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                rng = self.headers.get("Range")
                server.requests.append((path, rng))
                body = server.files.get(path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path in server.drop_once and rng is None:
                    server.drop_once.discard(path)
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                start = 0
                if rng and rng.startswith("bytes=") and path not in server.ignore_range:
                    start = int(rng[6:].split("-", 1)[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self.wfile.write(body[start:])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def artifact_server() -> Iterator[ArtifactServer]:
    srv = ArtifactServer()
    try:
        yield srv
    finally:
        srv.close()
