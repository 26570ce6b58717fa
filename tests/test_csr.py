"""ignkit.csr and `ignkit csr review`: real CSRs, every decision and its reason."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from test_csr_support import (
    BOOTSTRAPPER,
    CLIENT_SIGNER,
    NODE_GROUPS,
    SERVING_SIGNER,
    client_item,
    csr_item,
    csr_list,
    make_csr,
    node_list,
    serving_item,
)

from ignkit import csr as csrmod
from ignkit import csrwatch
from ignkit.cli import main
from ignkit.errors import InputError
from ignkit.inventory import Address, Host

W0 = "worker-0.example.com"
W1 = "worker-1.example.com"
W2 = "worker-2.example.com"


def hosts() -> list[Host]:
    return [
        Host(W0, addresses=[Address("192.0.2.10", 24), Address("2001:db8::10", 64)]),
        Host(W1, addresses=[Address("192.0.2.11", 24)]),
        Host(W2),                                   # DHCP
    ]


def review(*items: dict[str, Any], nodes: Any = None) -> csrmod.Review:
    records = csrmod.parse_csr_list(json.dumps(csr_list(*items)))
    node_addrs = csrmod.parse_node_addresses(json.dumps(nodes)) if nodes is not None else None
    return csrmod.review_csrs(records, hosts(), node_addrs)


def one(*items: dict[str, Any], nodes: Any = None) -> csrmod.Decision:
    r = review(*items, nodes=nodes)
    assert len(r.decisions) == 1
    return r.decisions[0]


def codes(d: csrmod.Decision) -> list[str]:
    return [r.code for r in d.reasons]


# ---------------------------------------------------------------------------------------------- approve


def test_good_client_csr_is_approved() -> None:
    d = one(client_item("csr-a", W0))
    assert d.approve and d.reasons == []
    assert (d.kind, d.node, d.host) == ("client", W0, W0)
    assert d.sans == []


def test_client_csr_with_legacy_key_encipherment_is_approved() -> None:
    d = one(client_item("csr-a", W1, usages=["key encipherment", "digital signature", "client auth"]))
    assert d.approve


def test_short_node_name_matches_fqdn_inventory_host() -> None:
    d = one(client_item("csr-a", "worker-0"))
    assert d.approve and d.host == W0 and d.node == "worker-0"


def test_good_serving_csr_is_approved() -> None:
    d = one(serving_item("csr-s", W0, dns=[W0, "worker-0"], ips=["192.0.2.10", "2001:db8:0::10"]))
    assert d.approve, d.reasons
    assert d.kind == "serving" and d.host == W0
    assert d.sans == [f"DNS:{W0}", "DNS:worker-0", "IP:192.0.2.10", "IP:2001:db8::10"]


def test_serving_csr_of_dhcp_host_checked_against_node_addresses() -> None:
    nodes = node_list({W2: [("InternalIP", "198.51.100.7"), ("Hostname", W2)]})
    d = one(serving_item("csr-s", W2, dns=[W2], ips=["198.51.100.7"]), nodes=nodes)
    assert d.approve, d.reasons


def test_several_valid_pending_csrs_for_one_node_are_all_approved_with_a_note() -> None:
    r = review(client_item("csr-1", W0), client_item("csr-2", W0), client_item("csr-3", W1))
    assert [d.name for d in r.approved] == ["csr-1", "csr-2", "csr-3"]
    assert r.refused == []
    by = {d.name: d for d in r.decisions}
    assert "one of 2 valid pending client CSRs for worker-0.example.com" in by["csr-1"].notes[0]
    assert by["csr-2"].notes == by["csr-1"].notes
    assert by["csr-3"].notes == []


def test_settled_csrs_are_not_reviewed_and_reinstall_is_noted() -> None:
    r = review(client_item("old", W0, state="Approved"), client_item("denied", W1, state="Denied"),
               client_item("new", W0))
    assert [d.name for d in r.decisions] == ["new"]
    assert sorted((s.name, s.state) for s in r.settled) == [("denied", "denied"), ("old", "approved")]
    assert r.decisions[0].approve
    assert "already has an approved client CSR (old)" in r.decisions[0].notes[0]


# ---------------------------------------------------------------------------------------------- refuse


def test_unknown_host_is_refused() -> None:
    d = one(client_item("csr-x", "intruder.example.com"))
    assert codes(d) == ["unknown-host"]
    assert d.reasons[0].message == "unknown host intruder.example.com: not in the inventory"


def test_fqdn_of_short_inventory_name_is_refused_with_hint() -> None:
    records = csrmod.parse_csr_list(json.dumps(csr_list(client_item("c", "db-1.other.org"))))
    d = csrmod.review_csrs(records, [Host("db-1")]).decisions[0]
    assert codes(d) == ["unknown-host"]
    assert "the inventory has db-1" in d.reasons[0].message


def test_wrong_cn_is_refused() -> None:
    d = one(client_item("csr-x", W0, pem=make_csr("system:admin")))
    assert codes(d) == ["not-a-node"]
    assert d.reasons[0].message == "CN system:admin is not system:node:<name>"


def test_wrong_organisation_is_refused() -> None:
    d = one(client_item("csr-x", W0, pem=make_csr(f"system:node:{W0}", orgs=["system:masters"])))
    assert codes(d) == ["wrong-organization"]
    assert "O=system:masters" in d.reasons[0].message
    d = one(client_item("csr-y", W0, pem=make_csr(f"system:node:{W0}", orgs=["system:nodes", "system:masters"])))
    assert codes(d) == ["wrong-organization"]


def test_extra_subject_attributes_are_refused() -> None:
    pem = make_csr(f"system:node:{W0}", extra_attrs=[x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "x")])
    assert codes(one(client_item("csr-x", W0, pem=pem))) == ["wrong-subject"]


def test_forged_requestor_of_client_csr_is_refused() -> None:
    d = one(client_item("csr-x", W0, username="system:serviceaccount:default:builder",
                        groups=["system:serviceaccounts", "system:authenticated"]))
    assert codes(d) == ["wrong-requestor"]
    assert "system:serviceaccount:default:builder" in d.reasons[0].message


def test_client_csr_from_bootstrapper_without_its_group_is_refused() -> None:
    d = one(client_item("csr-x", W0, groups=["system:authenticated"]))
    assert codes(d) == ["wrong-groups"]


def test_client_csr_with_sans_is_refused() -> None:
    d = one(client_item("csr-x", W0, pem=make_csr(f"system:node:{W0}", dns=[W0])))
    assert codes(d) == ["unexpected-san"]


def test_client_csr_missing_client_auth_is_refused() -> None:
    d = one(client_item("csr-x", W0, usages=["digital signature", "key encipherment"]))
    assert codes(d) == ["wrong-usages"]
    assert "missing client auth" in d.reasons[0].message


def test_client_csr_with_server_auth_too_is_refused() -> None:
    d = one(client_item("csr-x", W0, usages=["digital signature", "client auth", "server auth"]))
    assert codes(d) == ["wrong-usages"]
    assert "unexpected server auth" in d.reasons[0].message


def test_wrong_signer_is_refused() -> None:
    d = one(client_item("csr-x", W0, signer="kubernetes.io/kube-apiserver-client"))
    assert codes(d) == ["wrong-signer"]
    d = one(client_item("csr-y", W0, signer=None))
    assert codes(d) == ["wrong-signer"] and "(none)" in d.reasons[0].message


def test_serving_csr_with_foreign_ip_is_refused() -> None:
    d = one(serving_item("csr-s", W0, dns=[W0], ips=["192.0.2.10", "203.0.113.9"]))
    assert codes(d) == ["foreign-san"]
    assert d.reasons[0].message == ("foreign SAN IP:203.0.113.9: not a name or address of "
                                    "worker-0.example.com in the inventory")


def test_serving_csr_with_another_hosts_address_or_name_is_refused() -> None:
    d = one(serving_item("csr-s", W0, dns=[W0, W1], ips=["192.0.2.11"]))
    assert codes(d) == ["foreign-san"]
    assert "DNS:worker-1.example.com, IP:192.0.2.11" in d.reasons[0].message


def test_serving_csr_with_email_san_is_refused() -> None:
    pem = make_csr(f"system:node:{W0}", dns=[W0], emails=["root@example.com"])
    d = one(serving_item("csr-s", W0, dns=[], ips=[], pem=pem))
    assert codes(d) == ["unexpected-san"]


def test_serving_csr_without_sans_is_refused() -> None:
    assert codes(one(serving_item("csr-s", W0, dns=[], ips=[]))) == ["no-san"]


def test_serving_requestor_and_cn_disagree() -> None:
    d = one(serving_item("csr-s", W0, dns=[W0], ips=["192.0.2.10"], username=f"system:node:{W1}"))
    assert codes(d) == ["cn-mismatch"]
    assert d.reasons[0].message == (f"requestor system:node:{W1} and CN system:node:{W0} disagree")


def test_serving_csr_filed_by_bootstrapper_is_refused() -> None:
    d = one(serving_item("csr-s", W0, dns=[W0], ips=["192.0.2.10"], username=BOOTSTRAPPER))
    assert codes(d) == ["wrong-requestor"]


def test_serving_csr_missing_server_auth_is_refused() -> None:
    d = one(serving_item("csr-s", W0, dns=[W0], ips=["192.0.2.10"], usages=["digital signature"]))
    assert codes(d) == ["wrong-usages"]
    assert "missing server auth" in d.reasons[0].message


def test_serving_csr_of_dhcp_host_without_nodes_is_unverifiable() -> None:
    d = one(serving_item("csr-s", W2, dns=[W2], ips=["198.51.100.7"]))
    assert codes(d) == ["unverifiable-san"]
    assert "--nodes" in d.reasons[0].message


def test_dhcp_host_foreign_ip_and_foreign_dns_from_node_object() -> None:
    nodes = node_list({W2: [("InternalIP", "198.51.100.7"), ("InternalDNS", "api.example.com")]})
    d = one(serving_item("csr-s", W2, dns=["api.example.com"], ips=["198.51.100.8"]), nodes=nodes)
    assert codes(d) == ["foreign-san"]
    assert "DNS:api.example.com, IP:198.51.100.8" in d.reasons[0].message
    assert "the Node's addresses" in d.reasons[0].message


def test_static_host_ignores_node_addresses() -> None:
    nodes = node_list({W0: [("InternalIP", "203.0.113.9")]})
    d = one(serving_item("csr-s", W0, dns=[W0], ips=["203.0.113.9"]), nodes=nodes)
    assert codes(d) == ["foreign-san"]


def test_bad_signature_and_garbage_requests_are_refused() -> None:
    d = one(client_item("csr-x", W0, pem=make_csr(f"system:node:{W0}", tamper=True)))
    assert codes(d) == ["bad-request"]
    assert "signature" in d.reasons[0].message
    item = client_item("csr-y", W0)
    item["spec"]["request"] = "%%%"
    assert one(item).reasons[0].message == "spec.request is not base64"
    item["spec"]["request"] = base64.b64encode(b"hello").decode()
    assert codes(one(item)) == ["bad-request"]


def test_several_reasons_are_all_listed() -> None:
    pem = make_csr("system:node:intruder", orgs=["system:masters"], dns=["evil.example.org"])
    d = one(csr_item("csr-z", pem, "system:serviceaccount:x:y", [], ["client auth", "server auth"],
                     CLIENT_SIGNER))
    assert codes(d) == ["wrong-organization", "wrong-requestor", "wrong-usages", "unknown-host", "unexpected-san"]


def test_other_signer_kinds_are_refused() -> None:
    pem = make_csr("alice", orgs=[])
    d = one(csr_item("user", pem, "alice", ["system:authenticated"], ["digital signature"],
                     "example.com/custom"))
    assert d.kind == "other"
    assert codes(d)[0] == "wrong-signer"


# ---------------------------------------------------------------------------------------------- parsing


def test_parse_single_object_and_states() -> None:
    item = serving_item("s", W0, dns=[W0], ips=[], state="Approved")
    (rec,) = csrmod.parse_csr_list(json.dumps(item))
    assert (rec.name, rec.state, rec.issued, rec.signer_name) == ("s", "approved", True, SERVING_SIGNER)
    assert rec.groups == NODE_GROUPS


@pytest.mark.parametrize("text, message", [
    ("not json", "not JSON"),
    ("[]", "expected a JSON object"),
    ('{"kind": "Pod"}', "no \"items\""),
    ('{"items": [{"kind": "Pod", "metadata": {"name": "p"}}]}', "kind 'Pod'"),
    ('{"items": [{"metadata": {}}]}', "no metadata.name"),
    ('{"items": [5]}', "item 0: not an object"),
    ('{"items": [{"metadata": {"name": "a"}, "spec": {"usages": "x"}}]}', "a: spec.usages: expected a list"),
    ('{"items": [{"metadata": {"name": "a"}, "status": {"conditions": 5}}]}', "a: status.conditions is not a list"),
])
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        csrmod.parse_csr_list(text)


@pytest.mark.parametrize("text, message", [
    ('{"items": [{"kind": "Pod", "metadata": {"name": "p"}}]}', "kind 'Pod' is not Node"),
    ('{"items": [{"metadata": [1]}]}', "metadata and status must be objects"),
    ('{"items": [{"metadata": {"name": "n"}, "status": {"addresses": 5}}]}', "n: status.addresses is not a list"),
])
def test_parse_node_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        csrmod.parse_node_addresses(text)


def test_parse_nodes() -> None:
    doc = node_list({"a": [("InternalIP", "192.0.2.1"), ("Hostname", "a")], "b": []})
    assert csrmod.parse_node_addresses(json.dumps(doc)) == {"a": [("InternalIP", "192.0.2.1"), ("Hostname", "a")],
                                                            "b": []}


def test_host_status() -> None:
    records = csrmod.parse_csr_list(json.dumps(csr_list(
        client_item("c0", W0, state="Approved"), serving_item("s0", W0, dns=[W0], ips=[], state="Approved"),
        client_item("c1", "worker-1", state="Approved"), serving_item("s1", W1, dns=[W1], ips=[]),
        client_item("cx", "stranger", state="Approved"))))
    st = csrwatch.host_status(records, hosts())
    assert st[W0].complete and st[W0].client == ["c0"] and st[W0].serving == ["s0"]
    assert st[W1].client == ["c1"] and st[W1].serving == [] and not st[W1].complete
    assert not st[W2].client
    assert csrwatch.host_status(records, hosts(), also_approved=["s1"])[W1].complete


# ---------------------------------------------------------------------------------------------- CLI


def write_inventory(tmp_path: Path) -> Path:
    p = tmp_path / "hosts.yaml"
    p.write_text(
        "hosts:\n"
        f"  - {{hostname: {W0}, ip: 192.0.2.10/24, mac: '52:54:00:00:00:10'}}\n"
        f"  - {{hostname: {W1}, ip: [192.0.2.11/24], mac: '52:54:00:00:00:11'}}\n"
        f"  - {{hostname: {W2}, mac: '52:54:00:00:00:12'}}\n"
    )
    return p


def mixed_list() -> dict[str, Any]:
    return csr_list(
        client_item("csr-good-c", W0),
        serving_item("csr-good-s", W1, dns=[W1], ips=["192.0.2.11"]),
        serving_item("csr-dhcp-s", W2, dns=[W2], ips=["198.51.100.7"]),
        serving_item("csr-foreign", W0, dns=[W0], ips=["203.0.113.9"]),
        client_item("csr-unknown", "rogue.example.com"),
        client_item("csr-old", W1, state="Approved"),
    )


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_review_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = write_inventory(tmp_path)
    csrs = tmp_path / "csrs.json"
    csrs.write_text(json.dumps(mixed_list()))
    nodes = tmp_path / "nodes.json"
    nodes.write_text(json.dumps(node_list({W2: [("InternalIP", "198.51.100.7")]})))
    before = csrs.read_bytes()
    code, out, err = run(["csr", "review", "--hosts", str(inv), "--nodes", str(nodes), str(csrs)], capsys)
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "NODE", "REQUESTOR", "DECISION", "REASON"]
    rows = {ln.split()[0]: ln for ln in lines[1:-1]}
    assert set(rows) == {"csr-good-c", "csr-good-s", "csr-dhcp-s", "csr-foreign", "csr-unknown"}
    assert rows["csr-good-c"].split()[1:5] == ["client", W0, "node-bootstrapper", "approve"]
    assert " approve " in rows["csr-good-s"] and " approve " in rows["csr-dhcp-s"]
    assert " REFUSE " in rows["csr-foreign"] and "foreign SAN IP:203.0.113.9" in rows["csr-foreign"]
    assert "unknown host rogue.example.com" in rows["csr-unknown"]
    assert lines[-1] == "3 to approve, 2 refused, 1 already settled (not pending)"
    assert csrs.read_bytes() == before


def test_cli_review_json_and_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = write_inventory(tmp_path)
    csrs = tmp_path / "csrs.json"
    csrs.write_text(json.dumps(mixed_list()))
    code, out, _ = run(["csr", "review", "--hosts", str(inv), "--json", str(csrs)], capsys)
    assert code == 1
    doc = json.loads(out)
    assert doc["approve"] == ["csr-good-c", "csr-good-s"]
    assert doc["refuse"] == ["csr-dhcp-s", "csr-foreign", "csr-unknown"]
    by = {c["name"]: c for c in doc["csrs"]}
    assert by["csr-dhcp-s"]["reasons"][0]["code"] == "unverifiable-san"
    assert by["csr-good-s"]["sans"] == [f"DNS:{W1}", "IP:192.0.2.11"]
    assert doc["settled"] == [{"name": "csr-old", "state": "approved", "requestor": BOOTSTRAPPER,
                               "signerName": CLIENT_SIGNER}]

    code, out, err = run(["csr", "review", "--hosts", str(inv), "--approve-names", str(csrs)], capsys)
    assert code == 1
    assert out == "csr-good-c\ncsr-good-s\n"
    assert "refused csr-unknown: unknown host rogue.example.com" in err


def test_cli_review_all_good_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = write_inventory(tmp_path)
    csrs = tmp_path / "csrs.json"
    csrs.write_text(json.dumps(csr_list(client_item("a", W0), client_item("b", W0))))
    code, out, _ = run(["csr", "review", "--hosts", str(inv), "--approve-names", str(csrs)], capsys)
    assert (code, out) == (0, "a\nb\n")
    csrs.write_text(json.dumps(csr_list()))
    code, out, _ = run(["csr", "review", "--hosts", str(inv), str(csrs)], capsys)
    assert code == 0 and out.startswith("no pending CSRs\n")


def test_cli_review_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = write_inventory(tmp_path)
    code, _, err = run(["csr", "review", "--hosts", str(inv), str(tmp_path / "missing.json")], capsys)
    assert code == 2 and err.startswith("ignkit: error: ") and "no such file" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, _, err = run(["csr", "review", "--hosts", str(inv), str(bad)], capsys)
    assert code == 2 and "not JSON" in err and "Traceback" not in err
    code, _, err = run(["csr", "review", "--hosts", str(inv), "--json", "--approve-names", str(bad)], capsys)
    assert code == 2 and "cannot be used together" in err
    code, _, err = run(["csr", "review", "--hosts", str(inv), "--nodes", "-"], capsys)
    assert code == 2 and "only one of CSRS and --nodes can come from standard input" in err


def test_cli_review_reads_stdin(tmp_path: Path) -> None:
    import subprocess
    import sys

    inv = write_inventory(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "ignkit", "csr", "review", "--hosts", str(inv),
                           "--approve-names", "-"], input=json.dumps(mixed_list()).encode(),
                          capture_output=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == b"csr-good-c\ncsr-good-s\n"


def test_ambiguous_short_name_is_refused() -> None:
    records = csrmod.parse_csr_list(json.dumps(csr_list(client_item("c", "db"))))
    d = csrmod.review_csrs(records, [Host("db.a.example"), Host("db.b.example")]).decisions[0]
    assert codes(d) == ["unknown-host"]
    assert d.reasons[0].message == "node name db is ambiguous in the inventory (db.a.example, db.b.example)"


def test_cli_review_with_nodes_config_inventory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The inventory format of `oc adm node-image create`: addresses come from the nmstate networkConfig.
    inv = tmp_path / "nodes-config.yaml"
    inv.write_text(
        "hosts:\n"
        "  - hostname: extra-worker-1\n"
        "    rootDeviceHints: {deviceName: /dev/sda}\n"
        "    interfaces: [{name: eth0, macAddress: '52:54:00:aa:bb:01'}]\n"
        "    networkConfig:\n"
        "      interfaces:\n"
        "        - name: eth0\n"
        "          type: ethernet\n"
        "          state: up\n"
        "          mac-address: '52:54:00:aa:bb:01'\n"
        "          ipv4: {enabled: true, dhcp: false, address: [{ip: 192.168.122.2, prefix-length: 23}]}\n"
    )
    csrs = tmp_path / "csrs.json"
    csrs.write_text(json.dumps(csr_list(
        client_item("c1", "extra-worker-1"),
        serving_item("s1", "extra-worker-1", dns=["extra-worker-1"], ips=["192.168.122.2"]),
        serving_item("s2", "extra-worker-1", dns=["extra-worker-1"], ips=["192.168.122.3"]),
    )))
    code, out, err = run(["csr", "review", "--hosts", str(inv), "--approve-names", str(csrs)], capsys)
    assert code == 1
    assert out == "c1\ns1\n"
    assert "refused s2: foreign SAN IP:192.168.122.3" in err
    code, _, err = run(["csr", "review", "--hosts", str(tmp_path / "none.yaml"), str(csrs)], capsys)
    assert code == 2 and err.startswith("ignkit: error: ") and "none.yaml" in err
