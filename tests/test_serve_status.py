"""`ignkit serve`'s operator page in a real headless browser (Debian's chromium) during a download, and /status."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from conftest import CI_FIXTURES, TESTDATA, load_script
from servelib import Served
from test_csr_watch import cluster  # noqa: F401 - the oc stand-in fixture

C = CI_FIXTURES / "customize"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, timeout=120)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_status_page_shows_a_download_in_progress(tmp_path: Path) -> None:
    mkiso = load_script(TESTDATA / "mkiso.py", "ignkit_testdata_mkiso_status")
    iso = tmp_path / "live.iso"
    mkiso.build_iso(iso, "x86_64", rootfs_size=48 << 20)
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text("hosts:\n  - hostname: w1\n    mac: 52:54:00:00:00:01\n    install_dev: /dev/vda\n"
                     "  - hostname: w2\n    mac: 52:54:00:00:00:02\n    install_dev: /dev/vda\n")
    with Served(["--hosts", hosts, "--iso", iso, "--dest-ignition", C / "dest.ign"]) as s:
        size = int(requests.head(f"{s.url}/hosts/w1.iso", timeout=10).headers["Content-Length"])
        # w1 is downloading: 12 MiB read so far, then the client pauses (connection kept open).
        with socket.create_connection(("127.0.0.1", s.port)) as client:
            client.sendall(b"GET /hosts/w1.iso HTTP/1.1\r\nHost: x\r\n\r\n")
            got = 0
            while got < 12 << 20:
                got += len(client.recv(1 << 20))
            deadline = time.monotonic() + 10
            while True:
                iso_rec = next(h for h in requests.get(f"{s.url}/status", timeout=10).json()["hosts"]
                               if h["hostname"] == "w1")["fetched"].get("iso")
                if (iso_rec and iso_rec["covered"] >= 8 << 20) or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert iso_rec and iso_rec["size"] == size and 0 < iso_rec["percent"] < 100
            shot = tmp_path / "status.png"
            r1 = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,600", s.url + "/")
            r2 = chromium(tmp_path, "--dump-dom", s.url + "/")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", r1.stderr[-2000:]
        dom = r2.stdout.decode()
        row = re.search(r'<tr id="host-w1">(.*?)</tr>', dom, re.S)
        assert row, dom[:2000]
        m = re.search(r'<progress max="100" value="([\d.]+)">', row.group(1))
        assert m and 0 < float(m.group(1)) < 100, row.group(1)
        assert f"{iso_rec['percent']:.1f}%" in row.group(1) or "%" in row.group(1)
        other = re.search(r'<tr id="host-w2">(.*?)</tr>', dom, re.S)
        assert other and "<progress" not in other.group(1)
        # The browser's own requests are in the access log (Combined Log Format).
        assert re.search(r'127\.0\.0\.1 - - \[[^]]+\] "GET / HTTP/1\.1" 200 \d+ "-" ".*Chrome', s.log())


def test_status_json_and_text_browser_friendly_html(tmp_path: Path) -> None:
    mkiso = load_script(TESTDATA / "mkiso.py", "ignkit_testdata_mkiso_status2")
    iso = tmp_path / "live.iso"
    mkiso.build_iso(iso, "x86_64")
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text("hosts:\n  - hostname: w1\n    mac: 52:54:00:00:00:01\n    install_dev: /dev/vda\n")
    with Served(["--hosts", hosts, "--iso", iso, "--dest-ignition", C / "dest.ign"]) as s:
        assert requests.get(f"{s.url}/status", timeout=10).json()["hosts"][0]["fetched"] == {}
        requests.get(f"{s.url}/ipxe?mac=52:54:00:00:00:01", timeout=10)
        requests.get(f"{s.url}/hosts/w1.iso", headers={"Range": "bytes=0-1023"}, timeout=10)
        requests.get(f"{s.url}/hosts/w1.ign", timeout=10)
        doc = requests.get(f"{s.url}/status", timeout=10).json()
        f = doc["hosts"][0]["fetched"]
        assert set(f) == {"boot script", "iso", "config"}
        assert f["iso"]["covered"] == 1024 and f["iso"]["requests"] == 1
        page = requests.get(f"{s.url}/", timeout=10)
        assert page.headers["Content-Type"].startswith("text/html")
        assert "<script" not in page.text and "http-equiv=refresh" in page.text


def test_approve_csrs_in_the_server(cluster: Path, tmp_path: Path) -> None:
    from test_csr_support import client_item, serving_item
    from test_csr_watch import set_state

    w0 = "worker-0.example.com"
    mkiso = load_script(TESTDATA / "mkiso.py", "ignkit_testdata_mkiso_status3")
    iso = tmp_path / "live.iso"
    mkiso.build_iso(iso, "x86_64")
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(f"hosts:\n  - hostname: {w0}\n    mac: 52:54:00:00:00:01\n    ip: 192.0.2.10/24\n")
    set_state(cluster, stages=[[], [client_item("c-w0", w0), client_item("c-rogue", "rogue.example.com")]],
              on_approve={"c-w0": [serving_item("s-w0", w0, dns=[w0, "worker-0"], ips=["192.0.2.10"])]})
    with Served(["--hosts", hosts, "--iso", iso, "--approve-csrs", "--csr-interval", "0.2"]) as s:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            doc = requests.get(f"{s.url}/status", timeout=10).json()
            if doc["hosts"][0].get("csr") == {"client": "approved", "serving": "approved"}:
                break
            time.sleep(0.2)
        assert doc["hosts"][0]["csr"] == {"client": "approved", "serving": "approved"}, doc
        assert doc["hosts"][0]["node"] == {"state": "not registered"}   # `oc get nodes` lists none
        assert doc["csr_note"] == "1 of 1 hosts have both certificates, 0 of 1 a Ready node"
        page = requests.get(f"{s.url}/", timeout=10).text
        assert "<th>client CSR</th><th>serving CSR</th><th>node</th>" in page
        assert "<td class=done>approved</td><td class=done>approved</td><td class=none>not registered</td>" in page
        assert "csr: approved c-w0: client CSR of worker-0.example.com" in s.log()
        assert "csr: refused c-rogue: unknown host rogue.example.com" in s.log()
    assert (cluster / "approvals.log").read_text().split() == ["c-w0", "s-w0"]


def _status_of(url: str, host: str) -> dict:
    return next(h for h in requests.get(f"{url}/status", timeout=10).json()["hosts"] if h["hostname"] == host)


def _wait_node(url: str, host: str, state: str, reason: object = None) -> dict:
    deadline = time.monotonic() + 30
    while True:
        h = _status_of(url, host)
        node = h.get("node") or {}
        if (node.get("state") == state and (reason is None or node.get("reason") == reason)) \
                or time.monotonic() > deadline:
            return h
        time.sleep(0.1)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_approve_csrs_page_shows_nodes_going_ready(cluster: Path, tmp_path: Path) -> None:
    """The rack from "booted" to "node Ready" on one page: Nodes NotReady, then Ready, then one NotReady again."""
    from test_csr_support import client_item, node_item, serving_item
    from test_csr_watch import set_nodes, set_state

    w0, w1 = "worker-0.example.com", "worker-1.example.com"
    a0 = [("InternalIP", "192.0.2.10"), ("Hostname", w0)]
    mkiso = load_script(TESTDATA / "mkiso.py", "ignkit_testdata_mkiso_status4")
    iso = tmp_path / "live.iso"
    mkiso.build_iso(iso, "x86_64")
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(f"hosts:\n  - hostname: {w0}\n    mac: 52:54:00:00:00:01\n    ip: 192.0.2.10/24\n"
                     f"  - hostname: {w1}\n    mac: 52:54:00:00:00:02\n    ip: 192.0.2.11/24\n")
    set_state(cluster, csrs=[client_item("c-w0", w0, state="Approved"),
                             serving_item("s-w0", w0, dns=[w0], ips=["192.0.2.10"])])
    set_nodes(cluster, node_item(w0, a0, ready="False", since="2026-01-01T00:10:00Z"))
    with Served(["--hosts", hosts, "--iso", iso, "--approve-csrs", "--csr-interval", "0.1"]) as s:
        requests.get(f"{s.url}/hosts/{w0}.iso", headers={"Range": "bytes=0-1023"}, timeout=10)
        h = _wait_node(s.url, w0, "NotReady")
        assert h["csr"] == {"client": "approved", "serving": "approved"}, h
        assert h["node"]["reason"] == "KubeletNotReady" and h["node"]["ready"] == "False", h
        assert _status_of(s.url, w1)["node"] == {"state": "not registered"}

        set_nodes(cluster, node_item(w0, a0, since="2026-01-01T00:11:30Z"))
        h = _wait_node(s.url, w0, "Ready")
        assert h["node"] == {"state": "Ready", "name": w0, "ready": "True", "reason": "KubeletReady",
                             "message": "kubelet is posting ready status", "since": "2026-01-01T00:11:30Z"}, h
        assert "iso" in h["fetched"]
        shot = tmp_path / "nodes.png"
        r1 = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1600,500", s.url + "/")
        r2 = chromium(tmp_path, "--dump-dom", s.url + "/")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", r1.stderr[-2000:]
        dom = r2.stdout.decode()
        head = re.search(r"<thead>(.*?)</thead>", dom, re.S)
        assert head and re.search(r"<th>iso</th>.*<th>client CSR</th><th>serving CSR</th><th>node</th>",
                                  head.group(1), re.S), dom[:3000]
        row0 = re.search(rf'<tr id="host-{w0}">(.*?)</tr>', dom, re.S)
        assert row0, dom[:3000]
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row0.group(1), re.S)
        assert cells[-3:-1] == ["approved", "approved"], cells
        assert re.fullmatch(r"Ready <small>since 2026-01-01 00:11:30</small>", cells[-1]), cells
        row1 = re.search(rf'<tr id="host-{w1}">(.*?)</tr>', dom, re.S)
        assert row1 and row1.group(1).endswith('<td class="none">not registered</td>'), row1

        # Later the kubelet stops posting status: the page says so, and the watch goes on.
        set_nodes(cluster, node_item(w0, a0, ready="Unknown", since="2026-01-01T00:30:00Z"))
        h = _wait_node(s.url, w0, "NotReady", "NodeStatusUnknown")
        assert h["node"]["since"] == "2026-01-01T00:30:00Z", h
        page = requests.get(f"{s.url}/", timeout=10).text
        assert "NotReady (NodeStatusUnknown) <small>since 2026-01-01 00:30:00</small>" in page
        # `oc get nodes` failing is a warning on the page and in the log; the last known state stays.
        (cluster / "nodes.fail").touch()
        deadline = time.monotonic() + 30
        while "warning: oc get nodes failed" not in requests.get(f"{s.url}/status", timeout=10).json()["csr_note"] \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        doc = requests.get(f"{s.url}/status", timeout=10).json()
        assert "; warning: oc get nodes failed: Error from server (Forbidden)" in doc["csr_note"], doc
        assert doc["hosts"][0]["node"]["reason"] == "NodeStatusUnknown"
        (cluster / "nodes.fail").unlink()
        set_nodes(cluster, node_item(w0, a0, since="2026-01-01T00:31:00Z"))
        assert _wait_node(s.url, w0, "Ready")["node"]["since"] == "2026-01-01T00:31:00Z"
        log = s.log()
        assert log.count("csr: warning: oc get nodes failed") == 1
        assert f"csr: {w0}: node NotReady (KubeletNotReady) since 2026-01-01T00:10:00Z" in log
        assert f"csr: {w0}: node Ready since 2026-01-01T00:11:30Z" in log
        assert f"csr: {w0}: node NotReady (NodeStatusUnknown) since 2026-01-01T00:30:00Z" in log
    assert (cluster / "approvals.log").read_text().split() == ["s-w0"]
