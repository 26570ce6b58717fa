"""Real kubelet-shaped CSRs and `oc get csr -o json` documents for the csr tests (imported by them)."""

from __future__ import annotations

import base64
import ipaddress
import zlib
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


_NOT_READY_MESSAGE = ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                      "message:Network plugin returns error: No CNI configuration file in /etc/kubernetes/cni/net.d/. "
                      "Has your network provider started?")


def node_item(name: str, addresses: Sequence[tuple[str, str]], ready: str = "True",
              since: str = "2026-01-01T00:10:00Z", heartbeat: str = "2026-01-01T00:20:00Z") -> dict[str, Any]:
    """One Node as `oc get nodes -o json` lists a freshly joined RHCOS worker: the pressure conditions and
    Ready (``ready``: "True", "False" - the kubelet's network is not up yet - or "Unknown" - the kubelet
    stopped posting status), the kubelet's addresses, capacity, node info and the not-ready taint."""
    if ready == "True":
        reason, message = "KubeletReady", "kubelet is posting ready status"
    elif ready == "False":
        reason, message = "KubeletNotReady", _NOT_READY_MESSAGE
    else:
        reason, message = "NodeStatusUnknown", "Kubelet stopped posting node status."

    def cond(typ: str, status: str, why: str, text: str) -> dict[str, str]:
        if ready == "Unknown":
            status, why, text = "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."
        return {"lastHeartbeatTime": heartbeat, "lastTransitionTime": since, "message": text,
                "reason": why, "status": status, "type": typ}

    short = name.split(".", 1)[0]
    spec: dict[str, Any] = {}
    if ready != "True":
        effect = "NoSchedule" if ready == "False" else "NoExecute"
        key = "node.kubernetes.io/not-ready" if ready == "False" else "node.kubernetes.io/unreachable"
        spec["taints"] = [{"effect": effect, "key": key, "timeAdded": since}]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "annotations": {
                "machineconfiguration.openshift.io/controlPlaneTopology": "HighlyAvailable",
                "machineconfiguration.openshift.io/currentConfig": "rendered-worker-5d4c0ef2b0b4d1f3a1c9e0b7e8d2a641",
                "machineconfiguration.openshift.io/desiredConfig": "rendered-worker-5d4c0ef2b0b4d1f3a1c9e0b7e8d2a641",
                "machineconfiguration.openshift.io/state": "Done",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
            "creationTimestamp": "2026-01-01T00:05:00Z",
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": short,
                "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/worker": "",
                "node.openshift.io/os_id": "rhcos",
            },
            "name": name,
            "resourceVersion": "48213",
            "uid": "0b0f3c0e-8f7a-4f55-9a53-" + format(zlib.crc32(name.encode()), "012x"),
        },
        "spec": spec,
        "status": {
            "addresses": [{"address": a, "type": t} for t, a in addresses],
            "allocatable": {"cpu": "7500m", "ephemeral-storage": "114396791822", "hugepages-1Gi": "0",
                            "hugepages-2Mi": "0", "memory": "15225576Ki", "pods": "250"},
            "capacity": {"cpu": "8", "ephemeral-storage": "125293548Ki", "hugepages-1Gi": "0",
                         "hugepages-2Mi": "0", "memory": "16376552Ki", "pods": "250"},
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory",
                     "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", ready, reason, message),
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "3c5e6d0a-51a4-4c1e-9a5e-6f0f2d1b7a90",
                "containerRuntimeVersion": "cri-o://1.29.2-3.rhaos4.16.gitd8d2bd1.el9",
                "kernelVersion": "5.14.0-427.13.1.el9_4.x86_64",
                "kubeProxyVersion": "v1.29.4+6c10b2d",
                "kubeletVersion": "v1.29.4+6c10b2d",
                "machineID": "9f1b8a2c7d3e4f5a8b6c0d1e2f3a4b5c",
                "operatingSystem": "linux",
                "osImage": "Red Hat Enterprise Linux CoreOS 416.94.202405291527-0",
                "systemUUID": "3f6c1a52-7d0e-4b1c-9f2a-5e8d6c4b3a21",
            },
        },
    }


def nodes_doc(*items: dict[str, Any]) -> dict[str, Any]:
    """What `oc get nodes -o json` prints around the Nodes."""
    return {"apiVersion": "v1", "items": list(items), "kind": "List", "metadata": {"resourceVersion": ""}}
