"""`ignkit csr watch` against a small `oc` stand-in that serves a changing CSR list and records approvals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_csr_support import client_item, node_item, node_list, serving_item

from ignkit.cli import main

W0 = "worker-0.example.com"
W1 = "worker-1.example.com"
W2 = "worker-2.example.com"

# A pretend cluster. State lives in $OC_STATE/state.json:
#   csrs: the current CSR objects; stages: CSRs that appear at the n-th `get csr`;
#   on_approve: CSR name -> CSRs the node files once that one is approved (its serving CSR);
#   fail_approve: names whose approval fails; fail_get / fail_gets: make every / the n-th `get csr` fail;
#   nodes: Node objects, listed from the nodes_from_get-th `get csr` on;
#   node_stages: instead, the Nodes of the n-th `get nodes` (the last stage repeats), e.g. NotReady then Ready;
#   fail_nodes: the `get nodes` calls (0-based) that fail;
#   $OC_STATE/nodes.json, when it exists, is what every `get nodes` lists (a test swaps it: see set_nodes);
#   while $OC_STATE/nodes.fail exists, every `get nodes` fails.
# Every call is appended to calls.log, every successful approval to approvals.log.
OC_STANDIN = r'''
import json, os, sys
state_dir = os.environ["OC_STATE"]
path = os.path.join(state_dir, "state.json")
with open(path) as f:
    st = json.load(f)
args = sys.argv[1:]
with open(os.path.join(state_dir, "calls.log"), "a") as f:
    f.write(" ".join(args) + "\n")
def save():
    with open(path, "w") as f:
        json.dump(st, f)
if args == ["get", "csr", "-o", "json"]:
    n = st.get("gets", 0)
    if st.get("fail_get") or n in st.get("fail_gets", []):
        st["gets"] = n + 1
        save()
        sys.stderr.write("error: You must be logged in to the server (Unauthorized)\n")
        sys.exit(1)
    stages = st.get("stages", [])
    if n < len(stages):
        st["csrs"].extend(stages[n])
    st["gets"] = n + 1
    save()
    json.dump({"apiVersion": "v1", "kind": "List", "items": st["csrs"]}, sys.stdout)
elif args == ["get", "nodes", "-o", "json"]:
    n = st.get("node_gets", 0)
    st["node_gets"] = n + 1
    save()
    if n in st.get("fail_nodes", []) or os.path.exists(os.path.join(state_dir, "nodes.fail")):
        sys.stderr.write('Error from server (Forbidden): nodes is forbidden: User "system:serviceaccount:x:y" '
                         'cannot list resource "nodes" in API group "" at the cluster scope\n')
        sys.exit(1)
    if os.path.exists(os.path.join(state_dir, "nodes.json")):
        with open(os.path.join(state_dir, "nodes.json")) as f:
            items = json.load(f)
    elif "node_stages" in st:
        items = st["node_stages"][min(n, len(st["node_stages"]) - 1)]
    else:
        visible = st.get("gets", 0) >= st.get("nodes_from_get", 0)
        items = st.get("nodes", []) if visible else []
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout)
elif args[:3] == ["adm", "certificate", "approve"] and len(args) == 4:
    name = args[3]
    found = [c for c in st["csrs"] if c["metadata"]["name"] == name]
    if not found or name in st.get("fail_approve", []):
        sys.stderr.write('Error from server (NotFound): certificatesigningrequests "%s" not found\n' % name)
        sys.exit(1)
    found[0]["status"] = {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "Zm9v"}
    st["csrs"].extend(st.get("on_approve", {}).pop(name, []))
    save()
    with open(os.path.join(state_dir, "approvals.log"), "a") as f:
        f.write(name + "\n")
    print("certificatesigningrequest.certificates.k8s.io/%s approved" % name)
else:
    sys.stderr.write("oc stand-in: unexpected arguments %r\n" % (args,))
    sys.exit(3)
'''


@pytest.fixture()
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bin/oc stand-in first on PATH; returns its state directory."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    oc = bindir / "oc"
    oc.write_text(f"#!{sys.executable}\n{OC_STANDIN}")
    oc.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("OC_STATE", str(state))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return state


def set_state(state: Path, **kw: Any) -> None:
    doc = {"csrs": [], "stages": [], "on_approve": {}, "fail_approve": []}
    doc.update(kw)
    (state / "state.json").write_text(json.dumps(doc))


def set_nodes(state: Path, *items: dict[str, Any]) -> None:
    """From now on every `oc get nodes` lists ``items`` (the file is replaced whole, never seen half written)."""
    tmp = state / "nodes.json.tmp"
    tmp.write_text(json.dumps(list(items)))
    os.replace(tmp, state / "nodes.json")


def lines(state: Path, name: str) -> list[str]:
    p = state / name
    return p.read_text().splitlines() if p.exists() else []


def inventory(tmp_path: Path, *hosts: str) -> Path:
    p = tmp_path / "hosts.yaml"
    p.write_text("hosts:\n" + "".join(f"  - {h}\n" for h in hosts))
    return p


def test_watch_approves_inventory_hosts_until_both_certificates(
        cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = inventory(tmp_path, f"{{hostname: {W0}, ip: 192.0.2.10/24}}", f"{{hostname: {W2}}}")
    set_state(
        cluster,
        csrs=[client_item("old-denied", W0, state="Denied")],
        stages=[[
            client_item("c-w0", W0),
            client_item("c-w0-again", W0),              # the kubelet re-filed: both are approved
            client_item("c-w2", "worker-2"),
            client_item("c-rogue", "rogue.example.com"),
            client_item("c-forged", W0, username="system:serviceaccount:default:builder"),
        ]],
        on_approve={
            "c-w0": [serving_item("s-w0", W0, dns=[W0, "worker-0"], ips=["192.0.2.10"])],
            "c-w2": [serving_item("s-w2", "worker-2", dns=["worker-2", W2], ips=["198.51.100.7"]),
                     serving_item("s-w2-evil", "worker-2", dns=["worker-2"], ips=["192.0.2.10"])],
        },
        nodes=node_list({"worker-2": [("InternalIP", "198.51.100.7"), ("Hostname", W2)]})["items"],
    )
    code = main(["csr", "watch", "--hosts", str(inv), "--interval", "0.05", "--timeout", "30"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert lines(cluster, "approvals.log") == ["c-w0", "c-w0-again", "c-w2", "s-w0", "s-w2"]
    gets = [c for c in lines(cluster, "calls.log") if c == "get csr -o json"]
    assert len(gets) == 2          # stops as soon as both hosts hold both certificates
    assert "get nodes -o json" in lines(cluster, "calls.log")   # worker-2 is on DHCP
    assert "approved c-w0-again: client CSR of worker-0.example.com (one of 2 valid pending client CSRs" in out
    assert out.count("refused c-rogue: unknown host rogue.example.com") == 2   # once live, once in summary
    assert out.count("refused c-forged: wrong requestor system:serviceaccount:default:builder") == 2
    assert "refused s-w2-evil: foreign SAN IP:192.0.2.10" in out
    assert f"{W0}: client ok, serving ok" in out
    assert f"{W2}: client ok, serving ok" in out
    assert "all inventory hosts (2) have both certificates; approved 5 CSRs, refused 3" in out
    assert err == ""


def test_watch_times_out_with_summary_and_failed_approval(
        cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = inventory(tmp_path, f"{{hostname: {W0}, ip: 192.0.2.10/24}}", f"{{hostname: {W1}, ip: 192.0.2.11/24}}")
    set_state(
        cluster,
        csrs=[client_item("c-w0", W0), client_item("c-w1", W1)],
        on_approve={"c-w0": [serving_item("s-w0", W0, dns=[W0], ips=["192.0.2.10"])]},
        fail_approve=["c-w1"],
    )
    code = main(["csr", "watch", "--hosts", str(inv), "--interval", "0.1", "--timeout", "3"])
    out, err = capsys.readouterr()
    assert code == 1
    assert lines(cluster, "approvals.log") == ["c-w0", "s-w0"]
    assert len([c for c in lines(cluster, "calls.log") if c == "adm certificate approve c-w1"]) >= 2  # retried
    assert err.count("warning: oc adm certificate approve c-w1 failed: Error from server (NotFound)") == 1
    assert "get nodes -o json" not in lines(cluster, "calls.log")   # no DHCP host: nodes not needed
    assert f"{W0}: client ok, serving ok" in out
    assert f"{W1}: client MISSING, serving MISSING" in out
    assert re.search(r"^timed out after \d+ s: 1 of 2 hosts have both certificates; approved 2 CSRs, refused 0$",
                     out, re.M), out
    assert "waiting for worker-0.example.com (serving), worker-1.example.com (client and serving)\n" in out
    assert "could not approve c-w1: Error from server (NotFound)" in out


def test_watch_fails_cleanly_when_oc_cannot_list(
        cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = inventory(tmp_path, f"{{hostname: {W0}, ip: 192.0.2.10/24}}")
    set_state(cluster, fail_get=True)
    code = main(["csr", "watch", "--hosts", str(inv), "--interval", "0.05", "--timeout", "5"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err == "ignkit: error: oc get csr failed: error: You must be logged in to the server (Unauthorized)\n"


def test_watch_explicit_oc_and_missing_oc(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    inv = inventory(tmp_path, f"{{hostname: {W0}, ip: 192.0.2.10/24}}")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    code = main(["csr", "watch", "--hosts", str(inv), "--timeout", "1"])
    _, err = capsys.readouterr()
    assert code == 2 and "oc: command not found on PATH" in err
    # --oc with a path: the stand-in, not on PATH.
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("OC_STATE", str(state))
    oc = tmp_path / "my-oc"
    oc.write_text(f"#!{sys.executable}\n{OC_STANDIN}")
    oc.chmod(0o755)
    set_state(state, csrs=[client_item("c", W0, state="Approved"),
                           serving_item("s", W0, dns=[W0], ips=["192.0.2.10"])])
    code = main(["csr", "watch", "--hosts", str(inv), "--oc", str(oc), "--interval", "0.05", "--timeout", "5"])
    out, _ = capsys.readouterr()
    assert code == 0, out
    assert lines(state, "approvals.log") == ["s"]
    assert "approved s: serving CSR of worker-0.example.com" in out


def test_watch_dhcp_serving_csr_waits_for_the_node_object(
        cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = inventory(tmp_path, f"{{hostname: {W2}}}")
    set_state(
        cluster,
        csrs=[client_item("c-w2", W2, state="Approved"),
              serving_item("s-w2", W2, dns=[W2], ips=["198.51.100.7"])],
        nodes=node_list({W2: [("InternalIP", "198.51.100.7")]})["items"],
        nodes_from_get=2,
    )
    code = main(["csr", "watch", "--hosts", str(inv), "--interval", "0.05", "--timeout", "30"])
    out, _ = capsys.readouterr()
    assert code == 0, out
    assert "refused s-w2: cannot check IP:198.51.100.7" in out      # first round: no Node yet
    assert lines(cluster, "approvals.log") == ["s-w2"]
    assert "all inventory hosts (1) have both certificates; approved 1 CSRs, refused 0" in out


def test_watch_retries_a_failing_list_after_the_first(
        cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = inventory(tmp_path, f"{{hostname: {W0}, ip: 192.0.2.10/24}}")
    set_state(cluster, csrs=[client_item("c", W0)], fail_gets=[1],
              on_approve={"c": [serving_item("s", W0, dns=[W0], ips=["192.0.2.10"])]})
    code = main(["csr", "watch", "--hosts", str(inv), "--interval", "0.05", "--timeout", "30"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "warning: oc get csr failed: error: You must be logged in to the server (Unauthorized) (retrying)" in err
    assert lines(cluster, "approvals.log") == ["c", "s"]
    assert len([c for c in lines(cluster, "calls.log") if c == "get csr -o json"]) == 3


def test_watch_ctrl_c_prints_the_summary(cluster: Path, tmp_path: Path) -> None:
    inv = inventory(tmp_path, f"{{hostname: {W0}, ip: 192.0.2.10/24}}")
    set_state(cluster, csrs=[client_item("c", W0)])
    proc = subprocess.Popen([sys.executable, "-m", "ignkit", "csr", "watch", "--hosts", str(inv),
                             "--interval", "0.1", "--timeout", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not lines(cluster, "approvals.log") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    text = out.decode()
    assert "approved c: client CSR of worker-0.example.com" in text
    assert f"{W0}: client ok, serving MISSING" in text
    assert re.search(r"^interrupted after \d+ s: 0 of 1 hosts have both certificates", text, re.M), text
    assert b"Traceback" not in err


def test_watch_until_ready_waits_for_nodes_and_survives_a_failing_node_list(
        cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = inventory(tmp_path, f"{{hostname: {W0}, ip: 192.0.2.10/24}}", f"{{hostname: {W1}, ip: 192.0.2.11/24}}")
    w0 = [("InternalIP", "192.0.2.10"), ("Hostname", W0)]
    w1 = [("InternalIP", "192.0.2.11"), ("Hostname", "worker-1")]
    set_state(
        cluster,
        csrs=[client_item("c-w0", W0), client_item("c-w1", "worker-1")],
        on_approve={"c-w0": [serving_item("s-w0", W0, dns=[W0], ips=["192.0.2.10"])],
                    "c-w1": [serving_item("s-w1", "worker-1", dns=["worker-1"], ips=["192.0.2.11"])]},
        node_stages=[
            [],                                                              # nobody registered yet
            [node_item(W0, w0, ready="False", since="2026-01-01T00:10:00Z")],
            [node_item(W0, w0, ready="False", since="2026-01-01T00:10:00Z"),  # (this listing fails)
             node_item("worker-1", w1, ready="False")],
            [node_item(W0, w0, since="2026-01-01T00:11:30Z"),
             node_item("worker-1", w1, ready="False")],
            [node_item(W0, w0, since="2026-01-01T00:11:30Z"),
             node_item("worker-1", w1, since="2026-01-01T00:12:05Z")],
        ],
        fail_nodes=[2],
    )
    code = main(["csr", "watch", "--hosts", str(inv), "--until-ready", "--interval", "0.05", "--timeout", "30"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    node_gets = [c for c in lines(cluster, "calls.log") if c == "get nodes -o json"]
    assert len(node_gets) == 5     # went on after both certificates (round 2) until both Nodes were Ready
    assert lines(cluster, "approvals.log") == ["c-w0", "c-w1", "s-w0", "s-w1"]
    assert err.count("warning: oc get nodes failed: Error from server (Forbidden)") == 1   # not the end
    assert f"{W0}: node NotReady (KubeletNotReady) since 2026-01-01T00:10:00Z\n" in out
    assert f"{W0}: node Ready since 2026-01-01T00:11:30Z\n" in out
    assert f"{W1}: node Ready since 2026-01-01T00:12:05Z (registered as worker-1)\n" in out
    assert f"waiting for {W0} (node Ready), {W1} (node Ready)\n" in out
    assert f"{W0}: client ok, serving ok, node Ready since 2026-01-01T00:11:30Z\n" in out
    assert ("all inventory hosts (2) have both certificates and a Ready node; approved 4 CSRs, refused 0\n"
            in out)


def test_watch_until_ready_times_out_on_a_not_ready_node(
        cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = inventory(tmp_path, f"{{hostname: {W0}, ip: 192.0.2.10/24}}")
    set_state(cluster, csrs=[client_item("c", W0, state="Approved"),
                             serving_item("s", W0, dns=[W0], ips=["192.0.2.10"], state="Approved")],
              node_stages=[[node_item(W0, [("InternalIP", "192.0.2.10")], ready="Unknown")]])
    code = main(["csr", "watch", "--hosts", str(inv), "--until-ready", "--interval", "0.1", "--timeout", "1"])
    out, _ = capsys.readouterr()
    assert code == 1, out
    assert f"{W0}: client ok, serving ok, node NotReady (NodeStatusUnknown) since 2026-01-01T00:10:00Z\n" in out
    assert re.search(r"^timed out after \d+ s: 1 of 1 hosts have both certificates, 0 of 1 a Ready node;",
                     out, re.M), out
    # Without --until-ready the same cluster is done at once, and nodes are not listed (no DHCP host).
    (cluster / "calls.log").unlink()
    assert main(["csr", "watch", "--hosts", str(inv), "--interval", "0.1", "--timeout", "1"]) == 0
    assert "get nodes -o json" not in lines(cluster, "calls.log")
