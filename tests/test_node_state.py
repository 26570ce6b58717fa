"""Nodes' Ready condition from `oc get nodes -o json`, and which inventory host each Node is."""

from __future__ import annotations

import json

import pytest
from conftest import TESTDATA
from test_csr_support import client_item, node_item, nodes_doc, serving_item

from ignkit import csr as csrmod
from ignkit import csrwatch
from ignkit.errors import InputError
from ignkit.inventory import Address, Host

NODES = TESTDATA / "nodes" / "oc-get-nodes.json"


def inventory() -> list[Host]:
    return [
        Host("worker-0.example.com", addresses=[Address("192.0.2.10", 24)]),
        Host("worker-1.example.com", addresses=[Address("192.0.2.11", 24)]),   # node registered as "worker-1"
        Host("worker-2.example.com", addresses=[Address("192.0.2.12", 24)]),   # node registered as "rack1-slot3"
        Host("worker-3.example.com"),                                          # DHCP
        Host("worker-4.example.com", addresses=[Address("192.0.2.14", 24)]),   # not booted yet
    ]


def test_parse_nodes_ready_condition_of_real_shaped_listing() -> None:
    nodes = {n.name: n for n in csrmod.parse_nodes(NODES.read_bytes(), what=str(NODES))}
    assert list(nodes) == ["master-0.example.com", "worker-0.example.com", "worker-1", "rack1-slot3",
                           "worker-3.example.com"]
    w0 = nodes["worker-0.example.com"]
    assert (w0.ready, w0.state, w0.reason, w0.since) == ("True", "Ready", "KubeletReady", "2026-01-01T00:12:41Z")
    assert w0.is_ready and w0.describe() == "Ready"
    assert w0.addresses == [("InternalIP", "192.0.2.10"), ("Hostname", "worker-0.example.com")]
    w1 = nodes["worker-1"]
    assert (w1.ready, w1.state, w1.reason) == ("False", "NotReady", "KubeletNotReady")
    assert w1.message and w1.message.startswith("container runtime network not ready")
    assert w1.describe() == "NotReady (KubeletNotReady)" and not w1.is_ready
    w3 = nodes["worker-3.example.com"]   # the kubelet stopped posting status: `oc get nodes` says NotReady
    assert (w3.ready, w3.state, w3.describe()) == ("Unknown", "NotReady", "NotReady (NodeStatusUnknown)")
    assert w3.since == "2026-01-01T00:19:55Z"
    # Only the Ready condition counts: the pressure conditions are False on a healthy node.
    assert w0.to_dict()["state"] == "Ready" and w0.to_dict()["since"] == "2026-01-01T00:12:41Z"
    # The address map the CSR review takes comes from the same parse.
    assert csrmod.parse_node_addresses(NODES.read_bytes())["worker-1"] == [("InternalIP", "192.0.2.11"),
                                                                            ("Hostname", "worker-1")]


def test_parse_nodes_without_conditions_and_single_node() -> None:
    fresh = node_item("worker-0.example.com", [("InternalIP", "192.0.2.10")])
    del fresh["status"]["conditions"]   # registered a moment ago: no status posted yet
    (node,) = csrmod.parse_nodes(json.dumps(fresh))
    assert node.ready is None and node.state == "Unknown" and node.describe() == "Unknown (no Ready condition yet)"
    with pytest.raises(InputError, match="worker-0.example.com: status.conditions is not a list"):
        fresh["status"]["conditions"] = {"type": "Ready"}
        csrmod.parse_nodes(json.dumps(fresh))


def test_match_nodes_by_name_then_by_address() -> None:
    matched = csrmod.match_nodes(csrmod.parse_nodes(NODES.read_bytes()), inventory())
    assert {h: n.name for h, n in matched.items()} == {
        "worker-0.example.com": "worker-0.example.com",   # full name
        "worker-1.example.com": "worker-1",               # short name, as CSRs are matched
        "worker-2.example.com": "rack1-slot3",            # its InternalIP is the host's static address
        "worker-3.example.com": "worker-3.example.com",   # DHCP: by name
    }                                                      # master-0 is no inventory host; worker-4 not booted


def test_match_nodes_name_wins_and_ambiguous_addresses_match_nothing() -> None:
    hosts = inventory()
    by_ip = node_item("stray", [("InternalIP", "192.0.2.10")], ready="False")
    named = node_item("worker-0.example.com", [("InternalIP", "198.51.100.9")])
    assert csrmod.match_nodes(csrmod.parse_nodes(json.dumps(nodes_doc(by_ip, named))),
                              hosts)["worker-0.example.com"].name == "worker-0.example.com"
    # One Node whose addresses point at two hosts, and two Nodes that claim one host by address alone.
    both = node_item("both", [("InternalIP", "192.0.2.10"), ("InternalIP", "192.0.2.11")])
    twin_a = node_item("twin-a", [("InternalIP", "192.0.2.14")])
    twin_b = node_item("twin-b", [("Hostname", "worker-4.example.com")])
    nodes = csrmod.parse_nodes(json.dumps(nodes_doc(both, twin_a, twin_b)))
    index = csrmod.NodeIndex(hosts)
    host, why = index.find_node(nodes[0])
    assert host is None and "belong to 2 inventory hosts" in why
    assert index.find_node(nodes[1])[0] is hosts[4] and index.find_node(nodes[2])[0] is hosts[4]
    assert csrmod.match_nodes(nodes, hosts) == {}


def test_host_status_carries_the_node() -> None:
    records = csrmod.parse_csr_list(json.dumps({"kind": "List", "items": [
        client_item("c0", "worker-0.example.com", state="Approved"),
        serving_item("s0", "worker-0.example.com", dns=["worker-0.example.com"], ips=[], state="Approved")]}))
    hosts = inventory()
    matched = csrmod.match_nodes(csrmod.parse_nodes(NODES.read_bytes()), hosts)
    st = csrwatch.host_status(records, hosts, nodes=matched)
    assert st["worker-0.example.com"].complete and st["worker-0.example.com"].ready
    assert st["worker-1.example.com"].node_text() == "NotReady (KubeletNotReady)"
    assert not st["worker-4.example.com"].ready and st["worker-4.example.com"].node_text() == "not registered"
