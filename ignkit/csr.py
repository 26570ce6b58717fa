"""Review the certificate signing requests of joining nodes and approve exactly those of inventory hosts.

A new node files two CSRs: a *client* CSR from the ``node-bootstrapper`` service account, then, once
that is approved and the kubelet has registered, a *serving* CSR from ``system:node:<name>``.
:func:`review_csrs` decides, for every pending request in the output of ``oc get csr -o json``,
whether it is one of those two shapes for a host of the inventory (and, for serving CSRs, whether
every subject alternative name belongs to that host); everything else is refused with its reasons.
:mod:`ignkit.csrwatch` drives ``oc`` with these decisions until every host holds both certificates.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from .docread import loads_json
from .enums import WordEnum
from .errors import InputError
from .inventory import Host

__all__ = [
    "BOOTSTRAPPER",
    "CLIENT_SIGNER",
    "SERVING_SIGNER",
    "CSRRecord",
    "Decision",
    "Refusal",
    "RequestKind",
    "CsrState",
    "Verdict",
    "Review",
    "parse_csr_list",
    "parse_node_addresses",
    "parse_nodes",
    "node_addresses",
    "match_nodes",
    "NodeState",
    "review_csrs",
    "format_review_table",
    "request_kind",
    "settled_node",
    "NodeIndex",
]

BOOTSTRAPPER = "system:serviceaccount:openshift-machine-config-operator:node-bootstrapper"
BOOTSTRAPPER_GROUP = "system:serviceaccounts:openshift-machine-config-operator"
NODE_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"
CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
SERVING_SIGNER = "kubernetes.io/kubelet-serving"

# The exact usage sets the kubelet asks for (with and without the legacy "key encipherment").
_CLIENT_USAGES = (
    frozenset({"digital signature", "client auth"}),
    frozenset({"digital signature", "key encipherment", "client auth"}),
)
_SERVING_USAGES = (
    frozenset({"digital signature", "server auth"}),
    frozenset({"digital signature", "key encipherment", "server auth"}),
)
_DNS_ADDRESS_TYPES = ("Hostname", "InternalDNS", "ExternalDNS")
_IP_ADDRESS_TYPES = ("InternalIP", "ExternalIP")

# Reason codes (stable; used by --json).
BAD_REQUEST = "bad-request"
WRONG_SIGNER = "wrong-signer"
WRONG_REQUESTOR = "wrong-requestor"
WRONG_GROUPS = "wrong-groups"
CN_MISMATCH = "cn-mismatch"
NOT_A_NODE = "not-a-node"
WRONG_ORGANIZATION = "wrong-organization"
WRONG_SUBJECT = "wrong-subject"
UNEXPECTED_SAN = "unexpected-san"
NO_SAN = "no-san"
FOREIGN_SAN = "foreign-san"
UNVERIFIABLE_SAN = "unverifiable-san"
WRONG_USAGES = "wrong-usages"
UNKNOWN_HOST = "unknown-host"


class RequestKind(WordEnum):
    """Which of a joining node's two requests a CSR is (by signer, usages and requestor), or neither."""

    CLIENT = "client"
    SERVING = "serving"
    OTHER = "other"


class CsrState(WordEnum):
    """Where a CSR stands, from its status conditions."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    FAILED = "failed"


class Verdict(WordEnum):
    """ignkit's decision on a pending CSR."""

    APPROVE = "approve"
    REFUSE = "refuse"


@dataclass
class CSRRecord:
    """One CertificateSigningRequest object as ``oc get csr -o json`` lists it."""

    name: str
    username: str
    groups: list[str]
    usages: list[str]
    signer_name: Optional[str]
    request: str                 # spec.request as given: base64 of a PEM CSR
    state: CsrState
    issued: bool = False         # status.certificate is set
    created: Optional[str] = None

    def __post_init__(self) -> None:
        self.state = CsrState(self.state)  # a word ("pending", ...) is accepted too

    @property
    def pending(self) -> bool:
        return self.state is CsrState.PENDING


@dataclass
class Refusal:
    """Why a CSR is refused: a stable ``code`` and a one-line ``message`` for people."""

    code: str
    message: str


@dataclass
class Decision:
    """The verdict on one pending CSR."""

    name: str
    kind: RequestKind
    requestor: str
    signer_name: Optional[str]
    node: Optional[str] = None         # <name> of CN=system:node:<name>
    host: Optional[str] = None         # the inventory hostname it belongs to
    usages: list[str] = field(default_factory=list)
    sans: list[str] = field(default_factory=list)   # "DNS:name" / "IP:addr" / "email:..." / "URI:..."
    reasons: list[Refusal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    created: Optional[str] = None

    def __post_init__(self) -> None:
        self.kind = RequestKind(self.kind)  # a word ("client", ...) is accepted too

    @property
    def approve(self) -> bool:
        return not self.reasons

    @property
    def verdict(self) -> Verdict:
        return Verdict.APPROVE if self.approve else Verdict.REFUSE

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "decision": self.verdict.value,
            "node": self.node,
            "host": self.host,
            "requestor": self.requestor,
            "signerName": self.signer_name,
            "usages": list(self.usages),
            "sans": list(self.sans),
            "reasons": [{"code": r.code, "message": r.message} for r in self.reasons],
            "notes": list(self.notes),
            "created": self.created,
        }


@dataclass
class Review:
    """The verdicts on every pending CSR, plus the CSRs that were already approved or denied."""

    decisions: list[Decision]
    settled: list[CSRRecord] = field(default_factory=list)

    @property
    def approved(self) -> list[Decision]:
        return [d for d in self.decisions if d.approve]

    @property
    def refused(self) -> list[Decision]:
        return [d for d in self.decisions if not d.approve]

    def to_dict(self) -> dict[str, Any]:
        return {
            Verdict.APPROVE.value: [d.name for d in self.approved],
            Verdict.REFUSE.value: [d.name for d in self.refused],
            "csrs": [d.to_dict() for d in self.decisions],
            "settled": [{"name": r.name, "state": r.state.value, "requestor": r.username, "signerName": r.signer_name}
                        for r in self.settled],
        }


# --------------------------------------------------------------------------------------------------
# Parsing


def _load_json(data: Union[bytes, str, Mapping[str, Any]], what: str) -> Any:
    if isinstance(data, Mapping):
        return data
    try:
        return loads_json(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{what}: not JSON ({e})") from None


def _items(data: Union[bytes, str, Mapping[str, Any]], kind: str, command: str,
           what: str) -> list[Mapping[str, Any]]:
    """The objects of a ``kind`` List (or the one object) that ``command`` printed."""
    doc = _load_json(data, what)
    if not isinstance(doc, Mapping):
        raise InputError(f"{what}: expected a JSON object (the output of `{command}`)")
    if doc.get("kind") == kind:
        items: Any = [doc]
    elif "items" in doc:
        items = doc.get("items") or []
    else:
        raise InputError(f"{what}: not a list of {kind}s (no \"items\")")
    if not isinstance(items, list):
        raise InputError(f"{what}: \"items\" is not a list")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InputError(f"{what}: item {i}: not an object")
        if item.get("kind") not in (None, kind):
            raise InputError(f"{what}: item {i}: kind {item.get('kind')!r} is not {kind}")
    return items


def _state(status: Mapping[str, Any], where: str) -> CsrState:
    types = set()
    conditions = status.get("conditions") or []
    if not isinstance(conditions, list):
        raise InputError(f"{where}: status.conditions is not a list")
    for cond in conditions:
        if isinstance(cond, Mapping) and str(cond.get("status", "True")) == "True":
            types.add(cond.get("type"))
    if "Denied" in types:
        return CsrState.DENIED
    if "Failed" in types:
        return CsrState.FAILED
    if "Approved" in types:
        return CsrState.APPROVED
    return CsrState.PENDING


def _str_list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{what}: expected a list of strings")
    return list(value)


def parse_csr_list(data: Union[bytes, str, Mapping[str, Any]], *, what: str = "CSR list") -> list[CSRRecord]:
    """Parse the output of ``oc get csr -o json`` (a List, or one CertificateSigningRequest).

    Raises :class:`InputError` when the document is not JSON or not CertificateSigningRequests.
    """
    records = []
    for i, item in enumerate(_items(data, "CertificateSigningRequest", "oc get csr -o json", what)):
        where = f"{what}: item {i}"
        meta = item.get("metadata") or {}
        spec = item.get("spec") or {}
        status = item.get("status") or {}
        if not isinstance(meta, Mapping) or not isinstance(spec, Mapping) or not isinstance(status, Mapping):
            raise InputError(f"{where}: metadata, spec and status must be objects")
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise InputError(f"{where}: no metadata.name")
        where = f"{what}: {name}"
        signer = spec.get("signerName")
        records.append(CSRRecord(
            name=name,
            username=str(spec.get("username") or ""),
            groups=_str_list(spec.get("groups"), f"{where}: spec.groups"),
            usages=_str_list(spec.get("usages"), f"{where}: spec.usages"),
            signer_name=signer if isinstance(signer, str) else None,
            request=str(spec.get("request") or ""),
            state=_state(status, where),
            issued=bool(status.get("certificate")),
            created=meta.get("creationTimestamp") if isinstance(meta.get("creationTimestamp"), str) else None,
        ))
    return records


@dataclass
class NodeState:
    """One Node of ``oc get nodes -o json``: its addresses and its ``Ready`` condition."""

    name: str
    addresses: list[tuple[str, str]] = field(default_factory=list)   # (type, address), as listed
    ready: Optional[str] = None      # the Ready condition's status: "True", "False", "Unknown"; None: no condition
    reason: Optional[str] = None     # its reason (KubeletReady, KubeletNotReady, NodeStatusUnknown, ...)
    message: Optional[str] = None
    since: Optional[str] = None      # its lastTransitionTime: when the node became (Not)Ready

    @property
    def is_ready(self) -> bool:
        return self.ready == "True"

    @property
    def state(self) -> str:
        """The word ``oc get nodes`` prints: Ready, NotReady (status False or Unknown), or Unknown (no condition)."""
        if self.ready is None:
            return "Unknown"
        return "Ready" if self.is_ready else "NotReady"

    def describe(self) -> str:
        """``Ready``, ``NotReady (KubeletNotReady)``, ``Unknown (no Ready condition yet)``."""
        if self.is_ready:
            return "Ready"
        if self.ready is None:
            return "Unknown (no Ready condition yet)"
        return f"NotReady ({self.reason})" if self.reason else "NotReady"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "ready": self.ready, "reason": self.reason,
                "message": self.message, "since": self.since,
                "addresses": [{"type": t, "address": a} for t, a in self.addresses]}


def _opt_str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def parse_nodes(data: Union[bytes, str, Mapping[str, Any]], *, what: str = "node list") -> list[NodeState]:
    """Parse ``oc get nodes -o json`` (a List, or one Node): each node's addresses and Ready condition.

    Raises :class:`InputError` when the document is not JSON or not Nodes.
    """
    out: list[NodeState] = []
    for i, item in enumerate(_items(data, "Node", "oc get nodes -o json", what)):
        meta = item.get("metadata") or {}
        status = item.get("status") or {}
        if not isinstance(meta, Mapping) or not isinstance(status, Mapping):
            raise InputError(f"{what}: item {i}: metadata and status must be objects")
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise InputError(f"{what}: item {i}: no metadata.name")
        node = NodeState(name)
        listed = status.get("addresses") or []
        if not isinstance(listed, list):
            raise InputError(f"{what}: {name}: status.addresses is not a list")
        for a in listed:
            if isinstance(a, Mapping) and isinstance(a.get("type"), str) and isinstance(a.get("address"), str):
                node.addresses.append((a["type"], a["address"]))
        conditions = status.get("conditions") or []
        if not isinstance(conditions, list):
            raise InputError(f"{what}: {name}: status.conditions is not a list")
        for cond in conditions:
            if isinstance(cond, Mapping) and cond.get("type") == "Ready":
                value = cond.get("status")
                node.ready = value if value in ("True", "False") else "Unknown"
                node.reason = _opt_str(cond.get("reason"))
                node.message = _opt_str(cond.get("message"))
                node.since = _opt_str(cond.get("lastTransitionTime"))
        out.append(node)
    return out


def parse_node_addresses(data: Union[bytes, str, Mapping[str, Any]], *,
                         what: str = "node list") -> dict[str, list[tuple[str, str]]]:
    """Parse ``oc get nodes -o json`` into ``{node name: [(address type, address), ...]}``."""
    return node_addresses(parse_nodes(data, what=what))


def node_addresses(nodes: Iterable[NodeState]) -> dict[str, list[tuple[str, str]]]:
    """``{node name: [(address type, address), ...]}`` of parsed nodes (what :func:`review_csrs` takes)."""
    return {n.name: list(n.addresses) for n in nodes}


# --------------------------------------------------------------------------------------------------
# Decoding one request


@dataclass
class _Decoded:
    common_names: list[str]
    organizations: list[str]
    other_attributes: list[str]
    dns: list[str]
    ips: list[str]
    other_sans: list[str]


def _decode_request(request: str) -> Union[_Decoded, str]:
    """Decode spec.request; return the parts ignkit checks, or a one-line reason it cannot be read."""
    from cryptography import x509

    try:
        pem = base64.b64decode(request.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return "spec.request is not base64"
    if b"-----BEGIN CERTIFICATE REQUEST-----" not in pem:
        return "spec.request is not a PEM certificate request"
    if pem.count(b"-----BEGIN ") != 1:
        return "spec.request holds more than one PEM block"
    try:
        req = x509.load_pem_x509_csr(pem)
    except ValueError as e:
        return f"spec.request is not a valid certificate request ({e})"
    try:
        if not req.is_signature_valid:
            return "the request's signature does not verify"
    except Exception as e:  # noqa: BLE001 - unsupported key types and the like
        return f"the request's signature cannot be checked ({e})"
    try:
        return _request_parts(req)
    except (ValueError, UnicodeError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as e:
        # Validly signed but malformed inside: a duplicated extension, a name that is not UTF-8, ...
        return f"the request cannot be read ({type(e).__name__}: {e})"


def _request_parts(req: Any) -> Union[_Decoded, str]:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cns: list[str] = []
    orgs: list[str] = []
    others: list[str] = []
    for attr in req.subject:
        value = attr.value if isinstance(attr.value, str) else repr(attr.value)
        if attr.oid == NameOID.COMMON_NAME:
            cns.append(value)
        elif attr.oid == NameOID.ORGANIZATION_NAME:
            orgs.append(value)
        else:
            others.append(f"{attr.oid._name}={value}")
    dns: list[str] = []
    ips: list[str] = []
    other_sans: list[str] = []
    try:
        ext = req.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        ext = None
    except ValueError as e:
        return f"the request's extensions cannot be read ({e})"
    if ext is not None:
        for gn in ext.value:
            if isinstance(gn, x509.DNSName):
                dns.append(gn.value)
            elif isinstance(gn, x509.IPAddress):
                ips.append(str(gn.value))
            elif isinstance(gn, x509.RFC822Name):
                other_sans.append(f"email:{gn.value}")
            elif isinstance(gn, x509.UniformResourceIdentifier):
                other_sans.append(f"URI:{gn.value}")
            else:
                other_sans.append(f"{type(gn).__name__}:{gn.value!r}")
    return _Decoded(cns, orgs, others, dns, ips, other_sans)


# --------------------------------------------------------------------------------------------------
# Hosts


class NodeIndex:
    """Find the inventory host a node name (or, failing that, a Node's addresses) belongs to."""

    def __init__(self, hosts: Sequence[Host]) -> None:
        self.hosts = list(hosts)
        self.by_name: dict[str, Host] = {}
        self.by_short: dict[str, list[Host]] = {}
        self.by_ip: dict[Union[ipaddress.IPv4Address, ipaddress.IPv6Address], list[Host]] = {}
        for h in self.hosts:
            self.by_name.setdefault(h.hostname.lower().rstrip("."), h)
            if "." in h.hostname:
                self.by_short.setdefault(h.short_name.lower(), []).append(h)
            for a in {x for x in (_ip(v) for v in h.ips) if x is not None}:
                self.by_ip.setdefault(a, []).append(h)

    def find_node(self, node: NodeState) -> tuple[Optional[Host], str]:
        """The host of a Node: by its name as :meth:`find` matches CSRs; else, when exactly one host fits, by
        its DNS addresses (matched the same way) or its IP addresses (the inventory's static addresses).
        Returns (host, "name" or "address") or (None, why not)."""
        host, why = self.find(node.name)
        if host is not None:
            return host, "name"
        found: dict[str, Host] = {}
        for typ, value in node.addresses:
            if typ in _DNS_ADDRESS_TYPES:
                h, _ = self.find(value.rstrip("."))
                candidates = [h] if h is not None else []
            elif typ in _IP_ADDRESS_TYPES:
                ip = _ip(value)
                candidates = self.by_ip.get(ip, []) if ip is not None else []
            else:
                continue
            for h in candidates:
                found[h.hostname] = h
        if len(found) == 1:
            return next(iter(found.values())), "address"
        if found:
            return None, f"node {node.name}'s addresses belong to {len(found)} inventory hosts ({', '.join(found)})"
        return None, why

    def find(self, node: str) -> tuple[Optional[Host], str]:
        """Return (host, "") or (None, why not)."""
        key = node.lower()
        if key in self.by_name:
            return self.by_name[key], ""
        matches = self.by_short.get(key, [])
        if len(matches) == 1:
            return matches[0], ""
        if len(matches) > 1:
            names = ", ".join(h.hostname for h in matches)
            return None, f"node name {node} is ambiguous in the inventory ({names})"
        hint = ""
        short = key.split(".", 1)[0]
        if short != key and short in self.by_name:
            hint = f" (the inventory has {self.by_name[short].hostname}, not this fully qualified name)"
        return None, f"unknown host {node}: not in the inventory{hint}"


def _ip(value: str) -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    try:
        return ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None


def match_nodes(nodes: Iterable[NodeState], hosts: Sequence[Host]) -> dict[str, NodeState]:
    """``{inventory hostname: its Node}`` for the hosts that have registered (see :meth:`NodeIndex.find_node`).

    A Node that names a host wins over Nodes that match it only by address; a host that several Nodes
    claim by address alone gets none of them (it is ambiguous). Hosts without a Node are left out.
    """
    inv = NodeIndex(hosts)
    by_name: dict[str, NodeState] = {}
    by_address: dict[str, list[NodeState]] = {}
    for n in nodes:
        host, how = inv.find_node(n)
        if host is None:
            continue
        if how == "name":
            by_name.setdefault(host.hostname, n)
        else:
            by_address.setdefault(host.hostname, []).append(n)
    out = {}
    for h in inv.hosts:
        if h.hostname in by_name:
            out[h.hostname] = by_name[h.hostname]
        elif len(by_address.get(h.hostname, [])) == 1:
            out[h.hostname] = by_address[h.hostname][0]
    return out


# --------------------------------------------------------------------------------------------------
# Review


def request_kind(rec: CSRRecord) -> RequestKind:
    if rec.signer_name == CLIENT_SIGNER:
        return RequestKind.CLIENT
    if rec.signer_name == SERVING_SIGNER:
        return RequestKind.SERVING
    if "client auth" in rec.usages or rec.username == BOOTSTRAPPER:
        return RequestKind.CLIENT
    if "server auth" in rec.usages:
        return RequestKind.SERVING
    return RequestKind.OTHER


def _check_usages(d: Decision, rec: CSRRecord, allowed: Sequence[frozenset[str]]) -> None:
    have = set(rec.usages)
    if any(have == a and len(rec.usages) == len(a) for a in allowed):
        return
    need = allowed[0]
    missing = sorted(need - have)
    extra = sorted(have - allowed[-1])
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if extra:
        parts.append("unexpected " + ", ".join(extra))
    if len(rec.usages) != len(have):
        parts.append("duplicates")
    detail = "; ".join(parts) or "not an allowed set"
    want = ", ".join(sorted(need))
    d.reasons.append(Refusal(WRONG_USAGES, f"wrong usages [{', '.join(rec.usages)}]: {detail} "
                                           f"(want {want}, optionally key encipherment)"))


def _review_one(rec: CSRRecord, inv: NodeIndex,
                nodes: Mapping[str, Sequence[tuple[str, str]]]) -> Decision:
    kind = request_kind(rec)
    d = Decision(name=rec.name, kind=kind, requestor=rec.username, signer_name=rec.signer_name,
                 usages=list(rec.usages), created=rec.created)
    want_signer = {RequestKind.CLIENT: CLIENT_SIGNER, RequestKind.SERVING: SERVING_SIGNER}.get(kind)
    if rec.signer_name != want_signer:
        got = rec.signer_name or "(none)"
        if want_signer:
            d.reasons.append(Refusal(WRONG_SIGNER, f"wrong signer name {got}: a kubelet {kind} CSR "
                                                   f"uses {want_signer}"))
        else:
            d.reasons.append(Refusal(WRONG_SIGNER, f"wrong signer name {got}: not a kubelet client "
                                                   f"or serving CSR"))
    decoded = _decode_request(rec.request)
    if isinstance(decoded, str):
        d.reasons.append(Refusal(BAD_REQUEST, decoded))
        return d
    d.sans = ([f"DNS:{n}" for n in decoded.dns] + [f"IP:{a}" for a in decoded.ips] + decoded.other_sans)

    # Subject: CN=system:node:<name>, O=system:nodes, nothing else.
    node: Optional[str] = None
    if len(decoded.common_names) != 1:
        d.reasons.append(Refusal(NOT_A_NODE, f"subject has {len(decoded.common_names)} common names, "
                                             f"want one CN=system:node:<name>"))
    else:
        cn = decoded.common_names[0]
        if cn.startswith(NODE_PREFIX) and len(cn) > len(NODE_PREFIX):
            node = cn[len(NODE_PREFIX):]
            d.node = node
        else:
            d.reasons.append(Refusal(NOT_A_NODE, f"CN {cn} is not system:node:<name>"))
    if decoded.organizations != [NODES_GROUP]:
        got = ", ".join(decoded.organizations) or "none"
        d.reasons.append(Refusal(WRONG_ORGANIZATION, f"wrong organisation O={got}: want O={NODES_GROUP} only"))
    if decoded.other_attributes:
        d.reasons.append(Refusal(WRONG_SUBJECT, "unexpected subject attributes "
                                                + ", ".join(decoded.other_attributes)))

    # Requestor.
    if kind is RequestKind.CLIENT:
        if rec.username != BOOTSTRAPPER:
            d.reasons.append(Refusal(WRONG_REQUESTOR, f"wrong requestor {rec.username or '(none)'}: a new "
                                                      f"node's client CSR comes from {BOOTSTRAPPER}"))
        elif BOOTSTRAPPER_GROUP not in rec.groups:
            d.reasons.append(Refusal(WRONG_GROUPS, f"requestor groups lack {BOOTSTRAPPER_GROUP}"))
    elif kind is RequestKind.SERVING:
        if not rec.username.startswith(NODE_PREFIX):
            d.reasons.append(Refusal(WRONG_REQUESTOR, f"wrong requestor {rec.username or '(none)'}: a "
                                                      f"serving CSR comes from the node itself "
                                                      f"(system:node:<name>)"))
        elif node is not None and rec.username != NODE_PREFIX + node:
            d.reasons.append(Refusal(CN_MISMATCH, f"requestor {rec.username} and CN {NODE_PREFIX}{node} "
                                                  f"disagree"))
        elif NODES_GROUP not in rec.groups:
            d.reasons.append(Refusal(WRONG_GROUPS, f"requestor groups lack {NODES_GROUP}"))

    # Usages.
    if kind is RequestKind.CLIENT:
        _check_usages(d, rec, _CLIENT_USAGES)
    elif kind is RequestKind.SERVING:
        _check_usages(d, rec, _SERVING_USAGES)

    # The host.
    host: Optional[Host] = None
    if node is not None:
        host, why = inv.find(node)
        if host is None:
            d.reasons.append(Refusal(UNKNOWN_HOST, why))
        else:
            d.host = host.hostname

    # Subject alternative names.
    if kind is RequestKind.CLIENT:
        if d.sans:
            d.reasons.append(Refusal(UNEXPECTED_SAN, "a client CSR has no subject alternative names, "
                                                     "this one has " + ", ".join(d.sans)))
    elif kind is RequestKind.SERVING:
        if decoded.other_sans:
            d.reasons.append(Refusal(UNEXPECTED_SAN, "only DNS and IP names are allowed, not "
                                                     + ", ".join(decoded.other_sans)))
        if not decoded.dns and not decoded.ips:
            d.reasons.append(Refusal(NO_SAN, "a serving CSR names at least one DNS name or IP address"))
        if host is not None and node is not None:
            _check_serving_sans(d, decoded, host, node, nodes)
    return d


def _check_serving_sans(d: Decision, decoded: _Decoded, host: Host, node: str,
                        nodes: Mapping[str, Sequence[tuple[str, str]]]) -> None:
    short = host.short_name.lower()
    dns_ok = {host.hostname.lower().rstrip("."), short}
    ip_ok = {a for a in (_ip(x) for x in host.ips) if a is not None}
    dhcp = not host.addresses
    node_addrs = nodes.get(node)
    if dhcp and node_addrs:
        for typ, value in node_addrs:
            ip = _ip(value) if typ in _IP_ADDRESS_TYPES else None
            if ip is not None:
                ip_ok.add(ip)
            elif typ in _DNS_ADDRESS_TYPES and value.lower().rstrip(".").split(".", 1)[0] == short:
                dns_ok.add(value.lower().rstrip("."))
    foreign = [f"DNS:{n}" for n in decoded.dns if n.lower().rstrip(".") not in dns_ok]
    unverifiable: list[str] = []
    for a in decoded.ips:
        if _ip(a) in ip_ok:
            continue
        if dhcp and not node_addrs:
            unverifiable.append(f"IP:{a}")
        else:
            foreign.append(f"IP:{a}")
    if foreign:
        source = "the Node's addresses" if dhcp else "the inventory"
        d.reasons.append(Refusal(FOREIGN_SAN, f"foreign SAN {', '.join(foreign)}: not a name or address of "
                                              f"{host.hostname} in {source}"))
    if unverifiable:
        d.reasons.append(Refusal(UNVERIFIABLE_SAN, f"cannot check {', '.join(unverifiable)}: {host.hostname} "
                                                   f"uses DHCP and Node {node} is unknown "
                                                   f"(give `oc get nodes -o json` with --nodes)"))


def review_csrs(records: Iterable[CSRRecord], hosts: Sequence[Host],
                nodes: Optional[Mapping[str, Sequence[tuple[str, str]]]] = None) -> Review:
    """Decide on every pending CSR: approve it only if it is a node client or serving CSR of an inventory host.

    ``nodes`` maps node names to their ``status.addresses`` (see :func:`parse_node_addresses`); it is
    used only for hosts without static addresses in the inventory (DHCP), and only DNS names whose
    first label is the host's short name are taken from it. CSRs that are already approved, denied
    or failed land in ``Review.settled``.
    """
    inv = NodeIndex(hosts)
    nodes = nodes or {}
    decisions: list[Decision] = []
    settled: list[CSRRecord] = []
    for rec in records:
        if rec.pending:
            decisions.append(_review_one(rec, inv, nodes))
        else:
            settled.append(rec)
    _annotate(decisions, settled)
    return Review(decisions, settled)


def settled_node(rec: CSRRecord) -> Optional[str]:
    """The node name of an already-settled CSR (from its CN, else its requestor)."""
    decoded = _decode_request(rec.request)
    if isinstance(decoded, _Decoded) and len(decoded.common_names) == 1:
        cn = decoded.common_names[0]
        if cn.startswith(NODE_PREFIX):
            return cn[len(NODE_PREFIX):]
    if rec.username.startswith(NODE_PREFIX):
        return rec.username[len(NODE_PREFIX):]
    return None


def _annotate(decisions: list[Decision], settled: list[CSRRecord]) -> None:
    groups: dict[tuple[str, str], list[Decision]] = {}
    for d in decisions:
        if d.approve and d.host:
            groups.setdefault((d.kind, d.host), []).append(d)
    for (kind, hostname), ds in groups.items():
        if len(ds) > 1:
            for d in ds:
                d.notes.append(f"one of {len(ds)} valid pending {kind} CSRs for {hostname}: normal when "
                               f"requests wait (the kubelet files a new one); each is approved")
    approved_client: dict[str, str] = {}
    for rec in settled:
        if rec.state is CsrState.APPROVED and request_kind(rec) is RequestKind.CLIENT:
            node = settled_node(rec)
            if node:
                approved_client.setdefault(node, rec.name)
    for d in decisions:
        if d.approve and d.kind is RequestKind.CLIENT and d.node in approved_client:
            d.notes.append(f"{d.node} already has an approved client CSR ({approved_client[d.node]}): "
                           f"a reinstall, or another machine using its name")


# --------------------------------------------------------------------------------------------------
# Output


def _short_requestor(name: str) -> str:
    return "node-bootstrapper" if name == BOOTSTRAPPER else (name or "-")


def format_review_table(review: Review) -> str:
    """A table for people: one row per pending CSR, its decision and reasons, then a summary line."""
    rows = [("NAME", "TYPE", "NODE", "REQUESTOR", "DECISION", "REASON")]
    for d in review.decisions:
        why = "; ".join(r.message for r in d.reasons) if d.reasons else "; ".join(d.notes) or "-"
        rows.append((d.name, d.kind, d.node or "-", _short_requestor(d.requestor),
                     "approve" if d.approve else "REFUSE", why))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5] for r in rows]
    if not review.decisions:
        lines = ["no pending CSRs"]
    summary = f"{len(review.approved)} to approve, {len(review.refused)} refused"
    if review.settled:
        summary += f", {len(review.settled)} already settled (not pending)"
    lines.append(summary)
    return "\n".join(lines) + "\n"
