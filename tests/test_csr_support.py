"""Real kubelet-shaped CSRs and `oc get csr -o json` documents for the csr tests (imported by them)."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Sequence
from typing import Any, Optional

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

BOOTSTRAPPER = "system:serviceaccount:openshift-machine-config-operator:node-bootstrapper"
BOOTSTRAPPER_GROUPS = ["system:serviceaccounts", "system:serviceaccounts:openshift-machine-config-operator",
                       "system:authenticated"]
NODE_GROUPS = ["system:nodes", "system:authenticated"]
CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
SERVING_SIGNER = "kubernetes.io/kubelet-serving"
CLIENT_USAGES = ["digital signature", "client auth"]
SERVING_USAGES = ["digital signature", "key encipherment", "server auth"]

_KEY = ec.generate_private_key(ec.SECP256R1())


def make_csr(cn: Optional[str], orgs: Sequence[str] = ("system:nodes",), dns: Sequence[str] = (),
             ips: Sequence[str] = (), emails: Sequence[str] = (), extra_attrs: Sequence[x509.NameAttribute] = (),
             tamper: bool = False) -> bytes:
    """A PEM CSR signed by a P-256 key, like the kubelet's."""
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    attrs.extend(extra_attrs)
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
    names += [x509.RFC822Name(e) for e in emails]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    req = builder.sign(_KEY, hashes.SHA256())
    if not tamper:
        return req.public_bytes(serialization.Encoding.PEM)
    der = bytearray(req.public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01   # breaks the signature, keeps the structure
    return x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)


def csr_item(name: str, pem: bytes, username: str, groups: Sequence[str], usages: Sequence[str],
             signer: Optional[str], state: Optional[str] = None) -> dict[str, Any]:
    """One CertificateSigningRequest object as the API returns it."""
    spec: dict[str, Any] = {
        "groups": list(groups),
        "request": base64.b64encode(pem).decode("ascii"),
        "usages": list(usages),
        "username": username,
    }
    if signer is not None:
        spec["signerName"] = signer
    status: dict[str, Any] = {}
    if state is not None:
        status["conditions"] = [{"type": state, "status": "True", "reason": "test", "message": "test",
                                 "lastUpdateTime": "2026-01-01T00:00:00Z"}]
        if state == "Approved":
            status["certificate"] = base64.b64encode(b"not a real certificate").decode("ascii")
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z", "resourceVersion": "1"},
        "spec": spec,
        "status": status,
    }


def client_item(name: str, node: str, state: Optional[str] = None, **kw: Any) -> dict[str, Any]:
    """A good client CSR of ``node`` (override any part through keywords)."""
    pem = kw.pop("pem", None) or make_csr(f"system:node:{node}")
    return csr_item(name, pem, kw.pop("username", BOOTSTRAPPER), kw.pop("groups", BOOTSTRAPPER_GROUPS),
                    kw.pop("usages", CLIENT_USAGES), kw.pop("signer", CLIENT_SIGNER), state)


def serving_item(name: str, node: str, dns: Sequence[str], ips: Sequence[str], state: Optional[str] = None,
                 **kw: Any) -> dict[str, Any]:
    """A good serving CSR of ``node`` with the given SANs (override any part through keywords)."""
    pem = kw.pop("pem", None) or make_csr(f"system:node:{node}", dns=dns, ips=ips)
    return csr_item(name, pem, kw.pop("username", f"system:node:{node}"), kw.pop("groups", NODE_GROUPS),
                    kw.pop("usages", SERVING_USAGES), kw.pop("signer", SERVING_SIGNER), state)


def csr_list(*items: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": list(items), "metadata": {"resourceVersion": ""}}


def node_list(nodes: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
         "status": {"addresses": [{"type": t, "address": a} for t, a in addrs]}}
        for name, addrs in nodes.items()]}


def test_generated_csrs_are_real() -> None:
    good = x509.load_pem_x509_csr(make_csr("system:node:a", dns=["a"], ips=["192.0.2.1"]))
    assert good.is_signature_valid
    assert good.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:a"
    bad = x509.load_pem_x509_csr(make_csr("system:node:a", tamper=True))
    assert not bad.is_signature_valid
