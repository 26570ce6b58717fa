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
            if doc["hosts"][0].get("csr") == {"client": "approved", "serving": "approved"} and doc.get("csr_note"):
                break
            time.sleep(0.2)
        assert doc["hosts"][0]["csr"] == {"client": "approved", "serving": "approved"}, doc
        assert doc["csr_note"] == "every host has approved client and serving certificates"
        page = requests.get(f"{s.url}/", timeout=10).text
        assert "client: approved, serving: approved" in page
        assert "csr: approved c-w0: client CSR of worker-0.example.com" in s.log()
        assert "csr: refused c-rogue: unknown host rogue.example.com" in s.log()
    assert (cluster / "approvals.log").read_text().split() == ["c-w0", "s-w0"]
