"""Validly signed but malformed CSRs (issue 10 item 3): a duplicated subjectAltName extension and a subject that
is not UTF-8 are refused as CSRs (with the reason), never an internal error."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hostile_cases import REPO
from test_csr_support import _KEY, client_item, csr_list, make_csr

W0 = "worker-0"
HOSTS = f"hosts:\n  - hostname: {W0}\n    ip: 192.0.2.10/24\n"


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def _read_tlv(buf: bytes, pos: int) -> tuple[int, int]:
    """(content start, end) of the TLV at ``pos``."""
    n = buf[pos + 1]
    if n < 0x80:
        return pos + 2, pos + 2 + n
    k = n & 0x7F
    length = int.from_bytes(buf[pos + 2:pos + 2 + k], "big")
    return pos + 2 + k, pos + 2 + k + length


def resign(pem: bytes, old: bytes, new: bytes) -> bytes:
    """The CSR with ``old`` replaced by ``new`` (same length) inside its signed part, signed again."""
    der = x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER)
    start, _ = _read_tlv(der, 0)
    _, info_end = _read_tlv(der, start)
    info = der[start:info_end]
    _, alg_end = _read_tlv(der, info_end)
    alg = der[info_end:alg_end]
    assert info.count(old) == 1 and len(old) == len(new)
    info = info.replace(old, new)
    sig = _KEY.sign(info, ec.ECDSA(hashes.SHA256()))
    out = _tlv(0x30, info + alg + _tlv(0x03, b"\0" + sig))
    return b"-----BEGIN CERTIFICATE REQUEST-----\n" + __import__("base64").encodebytes(out) + \
        b"-----END CERTIFICATE REQUEST-----\n"


def duplicate_san() -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(x509.oid.NameOID.ORGANIZATION_NAME, "system:nodes"),
        x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, f"system:node:{W0}")]))
    builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(W0)]), critical=False)
    builder = builder.add_extension(x509.IssuerAlternativeName([x509.DNSName(W0)]), critical=False)
    pem = builder.sign(_KEY, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    return resign(pem, b"\x06\x03\x55\x1d\x12", b"\x06\x03\x55\x1d\x11")


def bad_utf8_subject() -> bytes:
    return resign(make_csr(f"system:node:{W0}"), W0.encode(), b"work\xff\xfe-0")


@pytest.mark.parametrize("make", [duplicate_san, bad_utf8_subject], ids=["duplicate-san", "subject-not-utf8"])
def test_malformed_csr_is_refused_not_crashed(make: object, tmp_path: Path) -> None:
    pem = make()  # type: ignore[operator]
    try:
        x509.load_pem_x509_csr(pem)  # loads (current cryptography): the damage is inside, the signature is valid
    except ValueError:
        pass  # older cryptography (the lower bound) refuses it while loading: ignkit must refuse it all the same
    (tmp_path / "h.yaml").write_text(HOSTS)
    (tmp_path / "csrs.json").write_text(json.dumps(csr_list(client_item("c1", W0, pem=pem))))
    proc = subprocess.run([sys.executable, "-m", "ignkit", "csr", "review", "--hosts", "h.yaml", "--json",
                           "csrs.json"], cwd=tmp_path, capture_output=True, timeout=30,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode in (0, 1), proc.stderr
    assert b"internal error" not in proc.stderr and b"Traceback" not in proc.stderr
    decision = json.loads(proc.stdout)["csrs"][0]
    assert decision["decision"] != "approve", decision
    # current cryptography loads it and ignkit cannot read its parts; the lower bound refuses it at load
    assert re.search(r"cannot be read|is not a valid certificate request", json.dumps(decision)), decision
