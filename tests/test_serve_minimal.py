"""`ignkit serve`'s minimal ISOs (/hosts/<name>-minimal.iso, /mac/<mac>-minimal.iso), real server on 127.0.0.1.

The served bytes are compared with `ignkit iso extract minimal-iso BASE --rootfs-url URL -o m.iso` followed by
`ignkit embed -f m.iso --hosts ...` (the minimal ISO's kargs carry the URL, so embed needs -f, as with
coreos-installer) for every fixture ISO that carries coreos/miniso.dat, x86_64 and s390x.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests
from conftest import CI_FIXTURES
from conftest import run_ignkit as run
from servelib import Served, start_fails
from test_miniso import WITH_MINISO
from test_serve import HOSTS, sha  # the same two-host inventory as the full-ISO tests

C = CI_FIXTURES / "customize"

PLAIN = ("hosts:\n  - hostname: w1\n    mac: 52:54:00:00:00:01\n"
         "  - hostname: w2.example.com\n    mac: 52:54:00:00:00:02\n")


def curl(*args: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["curl", "-sS", "--max-time", "60", *map(str, args)], capture_output=True, timeout=90)


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    p = tmp_path / "hosts.yaml"
    p.write_text(HOSTS)
    return p


def _arch(iso: Path) -> str:
    from ignkit.live import open_iso

    return open_iso(iso).arch


def test_minimal_iso_equals_extract_then_embed(fixture_isos: dict[str, Path], hosts: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text(PLAIN)
    # Images older than installer configs take a live config only (as in test_serve).
    variants = [(hosts, ["--dest-ignition", C / "dest.ign", "--dest-karg-append", "quiet"]),
                (plain, ["--live-ignition", C / "live.ign"])]
    arches = set()
    for name in WITH_MINISO:
        iso = fixture_isos[name]
        arch = _arch(iso)
        pxe = tmp_path / name / "pxe"
        assert run("iso", "extract", "pxe", "-C", pxe, iso).returncode == 0
        rootfs = next(pxe.glob("*rootfs*")).read_bytes()
        for inv, custom in variants:
            if run("embed", iso, "--hosts", inv, "--output-dir", tmp_path / name / "probe", *custom).returncode == 0:
                break
        else:
            pytest.fail(f"{name}: embed refuses every variant")
        with Served(["--hosts", inv, "--iso", iso, *custom]) as s:
            url = f"{s.url}/artifacts/{arch}/rootfs"
            m = tmp_path / name / "m.iso"
            r = run("iso", "extract", "minimal-iso", iso, "--rootfs-url", url, "-o", m)
            assert r.returncode == 0, r.stderr
            out = tmp_path / name / "out"
            r = run("embed", "-f", m, "--hosts", inv, "--output-dir", out, *custom)
            assert r.returncode == 0, r.stderr
            for host, mac in (("w1", "52-54-00-00-00-01"), ("w2.example.com", "52:54:00:00:00:02")):
                want = sha((out / f"{host}.iso").read_bytes())
                got = requests.get(f"{s.url}/hosts/{host}-minimal.iso", timeout=60)
                assert got.status_code == 200 and got.headers["Content-Type"] == "application/x-iso9660-image"
                assert sha(got.content) == want, (name, host)
                assert sha(requests.get(f"{s.url}/mac/{mac}-minimal.iso", timeout=60).content) == want, (name, host)
                # The full ISO is still the full one.
                full = requests.get(f"{s.url}/hosts/{host}.iso", timeout=60).content
                assert sha(full) != want and len(full) == iso.stat().st_size
            # The karg read back from the served image names this server's rootfs, and that URL serves it.
            served_iso = tmp_path / name / "served.iso"
            served_iso.write_bytes(requests.get(f"{s.url}/hosts/w1-minimal.iso", timeout=60).content)
            shown = run("iso", "kargs", "show", served_iso)
            assert shown.returncode == 0, shown.stderr
            assert f"coreos.live.rootfs_url={url}" in shown.stdout.decode().split()
            assert "coreos.liveiso=" not in shown.stdout.decode()
            fetched = requests.get(url, timeout=60)
            assert fetched.status_code == 200 and fetched.content == rootfs
            doc = requests.get(f"{s.url}/status", timeout=10).json()
            assert doc["minimal_iso"][arch] == {"available": True, "rootfs_url": url, "size": m.stat().st_size}
        arches.add(arch)
    assert arches == {"x86_64", "s390x"}


@pytest.fixture
def served(fixture_isos: dict[str, Path], hosts: Path) -> Served:
    with Served(["--hosts", hosts, "--iso", fixture_isos["embed-areas-2023-07.x86_64"],
                 "--dest-ignition", C / "dest.ign"]) as s:
        yield s


def test_http_semantics_curl_and_requests(served: Served, tmp_path: Path) -> None:
    url = f"{served.url}/hosts/w2.example.com-minimal.iso"
    whole = curl(url).stdout
    size = len(whole)
    assert size > 500_000
    head = curl("-I", url).stdout.decode()
    assert "HTTP/1.1 200" in head and f"Content-Length: {size}" in head and "Accept-Ranges: bytes" in head
    etag = next(line.split(": ", 1)[1].strip() for line in head.splitlines() if line.startswith("ETag"))
    full_etag = requests.head(f"{served.url}/hosts/w2.example.com.iso", timeout=10).headers["ETag"]
    assert etag != full_etag
    for spec, (a, b) in (("0-99", (0, 100)), ("1000-", (1000, size)), ("-4096", (size - 4096, size)),
                         (f"{size - 10}-{size + 1000}", (size - 10, size))):
        r = curl("-D", "-", "-o", tmp_path / "part", "-r", spec, url)
        hdr = r.stdout.decode()
        assert "HTTP/1.1 206" in hdr and f"Content-Range: bytes {a}-{b - 1}/{size}" in hdr, spec
        assert (tmp_path / "part").read_bytes() == whole[a:b], spec
    r = curl("-D", "-", "-o", "/dev/null", "-H", f"Range: bytes={size}-", url).stdout.decode()
    assert "HTTP/1.1 416" in r and f"Content-Range: bytes */{size}" in r
    assert "HTTP/1.1 304" in curl("-D", "-", "-H", f"If-None-Match: {etag}", url).stdout.decode()
    r = curl("-D", "-", "-o", tmp_path / "p", "-r", "0-9", "-H", f"If-Range: {etag}", url).stdout.decode()
    assert "HTTP/1.1 206" in r
    r = curl("-D", "-", "-o", tmp_path / "p", "-r", "0-9", "-H", f"If-Range: {full_etag}", url).stdout.decode()
    assert "HTTP/1.1 200" in r and (tmp_path / "p").read_bytes() == whole
    # curl -C - resumes a partial download; requests reads a range and streams the whole.
    part = tmp_path / "resume.iso"
    part.write_bytes(whole[:300_000])
    r = curl("-C", "-", "-o", part, url)
    assert r.returncode == 0, r.stderr
    assert sha(part.read_bytes()) == sha(whole)
    got = requests.get(url, headers={"Range": "bytes=123-456789"}, timeout=60)
    assert got.status_code == 206 and got.content == whole[123:456790]
    with requests.get(f"{served.url}/mac/52-54-00-00-00-02-minimal.iso", stream=True, timeout=60) as resp:
        assert sha(b"".join(resp.iter_content(1 << 14))) == sha(whole)
    assert "HTTP/1.1 405" in curl("-D", "-", "-X", "PUT", "--data", "x", url).stdout.decode()


def test_status_counts_minimal_iso_bytes(served: Served) -> None:
    url = f"{served.url}/hosts/w1-minimal.iso"
    size = int(requests.head(url, timeout=10).headers["Content-Length"])
    assert requests.get(url, headers={"Range": f"bytes=0-{size // 4 - 1}"}, timeout=30).status_code == 206
    w1 = next(h for h in requests.get(f"{served.url}/status", timeout=10).json()["hosts"] if h["hostname"] == "w1")
    rec = w1["fetched"]["minimal iso"]
    assert w1["minimal_iso_size"] == size and rec["size"] == size and rec["covered"] == size // 4
    assert rec["percent"] == round(100.0 * (size // 4) / size, 1) and "iso" not in w1["fetched"]
    requests.get(url, timeout=30)
    w1 = next(h for h in requests.get(f"{served.url}/status", timeout=10).json()["hosts"] if h["hostname"] == "w1")
    assert w1["fetched"]["minimal iso"]["percent"] == 100.0 and w1["fetched"]["minimal iso"]["requests"] == 2
    page = requests.get(served.url + "/", timeout=10).text
    assert "<th>minimal iso</th>" in page and "100.0%" in page


def test_unavailable_minimal_isos_are_404_with_the_reason(fixture_isos: dict[str, Path], hosts: Path,
                                                          tmp_path: Path) -> None:
    # No coreos/miniso.dat (2021-09): 404 with coreos-installer's refusal, in the body, the log and /status.
    old = fixture_isos["embed-areas-2021-09"]
    plain = tmp_path / "plain.yaml"
    plain.write_text(PLAIN)
    with Served(["--hosts", plain, "--iso", old, "--live-ignition", C / "live.ign"]) as s:
        r = requests.get(f"{s.url}/hosts/w1-minimal.iso", timeout=10)
        assert r.status_code == 404 and r.text.count("\n") == 1
        assert "does not support extracting a minimal ISO" in r.text
        assert requests.get(f"{s.url}/mac/52:54:00:00:00:02-minimal.iso", timeout=10).text == r.text
        assert requests.get(f"{s.url}/hosts/w1.iso", timeout=10).status_code == 200
        assert "127.0.0.1: 404 /hosts/w1-minimal.iso (no minimal ISO for x86_64: " in s.log()
        assert "ignkit: warning: minimal ISOs for x86_64 are not served: " in s.log()
        doc = requests.get(f"{s.url}/status", timeout=10).json()
        assert not doc["minimal_iso"]["x86_64"]["available"]
        assert "does not support extracting" in doc["minimal_iso"]["x86_64"]["reason"]
        assert "Minimal ISOs for x86_64: not served" in requests.get(s.url + "/", timeout=10).text
        for path in ("/hosts/nope-minimal.iso", "/mac/52-54-00-99-99-99-minimal.iso", "/mac/zz-minimal.iso",
                     "/hosts/-minimal.iso"):
            r = requests.get(s.url + path, timeout=10)
            assert r.status_code == 404 and "unknown" in r.text, path

    # No rootfs to point at: an image whose images/pxeboot has no rootfs.img (renamed) and no --pxe-dir.
    src = fixture_isos["embed-areas-2023-07.x86_64"].read_bytes()
    assert src.count(b"ROOTFS.IMG;1") == 1 and src.count(b"rootfs.img") == 1
    norootfs = tmp_path / "norootfs.iso"
    norootfs.write_bytes(src.replace(b"ROOTFS.IMG;1", b"ROOTFX.IMG;1").replace(b"rootfs.img", b"rootfx.img"))
    with Served(["--hosts", hosts, "--iso", norootfs, "--dest-ignition", C / "dest.ign"]) as s:
        assert requests.get(f"{s.url}/artifacts/x86_64/rootfs", timeout=10).status_code == 404
        r = requests.get(f"{s.url}/hosts/w1-minimal.iso", timeout=10)
        assert r.status_code == 404 and "no rootfs for x86_64 to point coreos.live.rootfs_url= at" in r.text
        assert requests.get(f"{s.url}/hosts/w1.iso", timeout=10).status_code == 200
        # --pxe-dir gives it one: then the minimal ISO points at it.
    pxe = tmp_path / "pxe"
    assert run("iso", "extract", "pxe", "-C", pxe, fixture_isos["embed-areas-2023-07.x86_64"]).returncode == 0
    with Served(["--hosts", hosts, "--iso", norootfs, "--pxe-dir", pxe, "--dest-ignition", C / "dest.ign"]) as s:
        r = requests.get(f"{s.url}/hosts/w1-minimal.iso", timeout=10)
        assert r.status_code == 200
        served_iso = tmp_path / "w1-minimal.iso"
        served_iso.write_bytes(r.content)
        assert f"coreos.live.rootfs_url={s.url}/artifacts/x86_64/rootfs" in run("iso", "kargs", "show",
                                                                                served_iso).stdout.decode()
        rootfs = requests.get(f"{s.url}/artifacts/x86_64/rootfs", timeout=10).content
        assert rootfs == next(pxe.glob("*rootfs*")).read_bytes()


def test_live_karg_options_keep_the_rootfs_url(fixture_isos: dict[str, Path], hosts: Path, tmp_path: Path) -> None:
    """--live-karg-* start from the image's default kargs (as embed -f does), which lack the rootfs URL: serve
    appends it as one more --live-karg-append, so the minimal ISO still finds its rootfs; bytes equal that
    embed command's. A host whose options delete the URL gets a 404 with the reason instead."""
    iso = fixture_isos["embed-areas-2023-07.x86_64"]
    custom = ["--dest-ignition", C / "dest.ign", "--live-karg-append", "console=ttyS0"]
    with Served(["--hosts", hosts, "--iso", iso, *custom]) as s:
        url = f"{s.url}/artifacts/x86_64/rootfs"
        m = tmp_path / "m.iso"
        assert run("iso", "extract", "minimal-iso", iso, "--rootfs-url", url, "-o", m).returncode == 0
        # embed -f alone drops the URL ...
        assert run("embed", "-f", m, "--hosts", hosts, "--output-dir", tmp_path / "plain", *custom).returncode == 0
        kargs = run("iso", "kargs", "show", tmp_path / "plain" / "w1.iso").stdout.decode()
        assert "console=ttyS0" in kargs and "coreos.live.rootfs_url=" not in kargs
        # ... so serve appends it after the host's own appends.
        out = tmp_path / "out"
        r = run("embed", "-f", m, "--hosts", hosts, "--output-dir", out, *custom,
                "--live-karg-append", f"coreos.live.rootfs_url={url}")
        assert r.returncode == 0, r.stderr
        got = requests.get(f"{s.url}/hosts/w1-minimal.iso", timeout=60)
        assert got.status_code == 200 and sha(got.content) == sha((out / "w1.iso").read_bytes())
        served_iso = tmp_path / "served.iso"
        served_iso.write_bytes(got.content)
        shown = run("iso", "kargs", "show", served_iso).stdout.decode().split()
        assert "console=ttyS0" in shown and f"coreos.live.rootfs_url={url}" in shown
    drop = ["--dest-ignition", C / "dest.ign", "--live-karg-delete", "coreos.live.rootfs_url"]
    with Served(["--hosts", hosts, "--iso", iso, *drop]) as s:
        r = requests.get(f"{s.url}/hosts/w1-minimal.iso", timeout=10)
        assert r.status_code == 404 and "lack coreos.live.rootfs_url=" in r.text
        assert requests.get(f"{s.url}/hosts/w1.iso", timeout=10).status_code == 200


def test_rootfs_url_that_does_not_fit_refuses_startup(fixture_isos: dict[str, Path], hosts: Path) -> None:
    iso = fixture_isos["embed-areas-2023-07.x86_64"]
    long_url = "http://127.0.0.1:9/" + "a" * 1100
    r = start_fails(["--hosts", hosts, "--iso", iso, "--dest-ignition", C / "dest.ign", "--base-url", long_url])
    err = r.stderr.decode()
    assert r.returncode == 2 and err.startswith("ignkit: error: minimal ISO for x86_64 (coreos.live.rootfs_url=")
    assert "kargs too large for area" in err and len(err.strip().splitlines()) == 1 and "listening" not in err
    # The same URL is what `iso extract minimal-iso --rootfs-url` refuses too.
    r = run("iso", "extract", "minimal-iso", iso, "--rootfs-url", f"{long_url}/artifacts/x86_64/rootfs")
    assert r.returncode == 2 and b"kargs too large for area" in r.stderr


def test_state_directory_is_private_and_removed_at_exit(fixture_isos: dict[str, Path], hosts: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    with Served(["--hosts", hosts, "--iso", fixture_isos["embed-areas-2023-07.x86_64"],
                 "--dest-ignition", C / "dest.ign"]) as s:
        built = [p for p in tmp.rglob("*-minimal.iso")]
        assert len(built) == 1 and built[0].parent.name.startswith("ignkit-serve-minimal-")
        # Built once: its modification time is the base image's (stable Last-Modified across restarts).
        assert built[0].stat().st_mtime == fixture_isos["embed-areas-2023-07.x86_64"].stat().st_mtime
        lm = requests.head(f"{s.url}/hosts/w1-minimal.iso", timeout=10).headers["Last-Modified"]
        assert lm == requests.head(f"{s.url}/hosts/w1.iso", timeout=10).headers["Last-Modified"]
    assert list(tmp.iterdir()) == []


def test_a_host_named_minimal_keeps_its_full_iso(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    inv = tmp_path / "h.yaml"
    inv.write_text("hosts:\n  - hostname: a\n    mac: 52:54:00:00:00:01\n"
                   "  - hostname: a-minimal\n    mac: 52:54:00:00:00:02\n")
    with Served(["--hosts", inv, "--iso", fixture_isos["embed-areas-2023-07.x86_64"], "--live-ignition",
                 C / "live.ign"]) as s:
        tags = {p: requests.head(s.url + p, timeout=10).headers["ETag"]
                for p in ("/hosts/a-minimal.iso", "/mac/52-54-00-00-00-02.iso", "/mac/52-54-00-00-00-01-minimal.iso",
                          "/hosts/a-minimal-minimal.iso", "/mac/52-54-00-00-00-02-minimal.iso")}
    assert tags["/hosts/a-minimal.iso"] == tags["/mac/52-54-00-00-00-02.iso"]          # the host a-minimal's ISO
    assert tags["/hosts/a-minimal-minimal.iso"] == tags["/mac/52-54-00-00-00-02-minimal.iso"]
    assert len(set(tags.values())) == 3


def test_minimal_etag_and_last_modified_survive_a_restart(fixture_isos: dict[str, Path], hosts: Path) -> None:
    """A restart rebuilds the minimal base: same bytes, same ETag and Last-Modified, so If-Range resumes work."""
    args = ["--hosts", hosts, "--iso", fixture_isos["embed-areas-2023-07.x86_64"], "--dest-ignition", C / "dest.ign",
            "--base-url", "http://192.0.2.1:8080"]
    seen = []
    for _ in range(2):
        with Served(args) as s:
            h = requests.head(f"{s.url}/hosts/w1-minimal.iso", timeout=10).headers
            seen.append((h["ETag"], h["Last-Modified"], h["Content-Length"]))
            # --base-url is what the minimal ISO points at (and boot scripts use).
            assert (requests.get(f"{s.url}/status", timeout=10).json()["minimal_iso"]["x86_64"]["rootfs_url"]
                    == "http://192.0.2.1:8080/artifacts/x86_64/rootfs")
    assert seen[0] == seen[1]


def test_minimal_bytes_go_by_sendfile_and_a_reload_reuses_the_base(fixture_isos: dict[str, Path], hosts: Path,
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """strace the server: the minimal base's unpatched spans leave by sendfile(2) from the state file. SIGHUP
    rebuilds the table without rebuilding the base (one file in the state directory), and the bytes stay."""
    import re
    import signal
    import time

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    trace = tmp_path / "strace.log"
    prefix = ("strace", "-f", "-qq", "-e", "trace=sendfile,sendto,write,writev,sendmsg,openat,accept4,close",
              "-o", str(trace))
    args = ["--hosts", hosts, "--iso", fixture_isos["embed-areas-2023-07.x86_64"], "--dest-ignition", C / "dest.ign"]
    with Served(args, prefix=prefix) as s:
        before = requests.get(f"{s.url}/hosts/w1-minimal.iso", timeout=60).content
        assert requests.get(f"{s.url}/hosts/w1-minimal.iso", timeout=60).content == before
    with Served(args) as s:   # (without strace, which would take the SIGHUP itself)
        first = requests.get(f"{s.url}/hosts/w1-minimal.iso", timeout=60).content
        built = list(tmp.rglob("*-minimal.iso"))
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while "reloaded: 2 hosts" not in s.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "reloaded: 2 hosts" in s.log()
        assert list(tmp.rglob("*-minimal.iso")) == built and len(built) == 1
        assert requests.get(f"{s.url}/hosts/w1-minimal.iso", timeout=60).content == first
    fds: dict[str, str] = {}   # open descriptors: file path, or "socket" for accepted connections
    sent = {"sendfile": 0, "other": 0}
    for line in trace.read_text().splitlines():
        m = re.search(r'^\d+\s+openat\(AT_FDCWD, "([^"]*)".*= (\d+)$', line)
        if m:
            fds[m.group(2)] = m.group(1)
            continue
        m = re.search(r"^\d+\s+accept4\(.*= (\d+)$", line)
        if m:
            fds[m.group(1)] = "socket"
            continue
        m = re.search(r"^\d+\s+close\((\d+)\)", line)
        if m:
            fds.pop(m.group(1), None)
            continue
        m = re.search(r"^\d+\s+(\w+)\((\d+), (\d+)?.*= (\d+)$", line)
        if not m or fds.get(m.group(2)) != "socket":
            continue   # the log, and the minimal base being built at start-up
        if m.group(1) == "sendfile":
            assert fds.get(m.group(3) or "", "").endswith("-minimal.iso"), line
        sent["sendfile" if m.group(1) == "sendfile" else "other"] += int(m.group(4))
    size = len(before)
    # Two downloads: all but the Ignition area (mostly zeros, sent from memory) and the kargs by sendfile.
    assert sent["sendfile"] >= 2 * (size - (300 << 10)), sent
    assert sent["other"] < 2 * (300 << 10) + (64 << 10), sent


def test_stream_cache_holds_the_minimal_base(fixture_isos: dict[str, Path], hosts: Path, tmp_path: Path,
                                             artifact_server: object) -> None:
    """With --stream --cache the minimal base goes to CACHE/minimal/ (kept after exit) and points at the
    downloaded rootfs."""
    from test_stream import StreamSite, make_fixtures

    site = StreamSite(artifact_server, "rhcos-4.19.json")  # type: ignore[arg-type]
    cache = tmp_path / "cache"
    iso = fixture_isos["embed-areas-2023-07.x86_64"]
    with Served(["--hosts", hosts, "--iso", iso, "--stream", site.url, "--cache", cache,
                 "--dest-ignition", C / "dest.ign"]) as s:
        url = f"{s.url}/artifacts/x86_64/rootfs"
        got = requests.get(f"{s.url}/hosts/w1-minimal.iso", timeout=60)
        assert got.status_code == 200
        (name,) = [p.name for p in (cache / "x86_64").iterdir() if "rootfs" in p.name]
        assert requests.get(url, timeout=30).content == make_fixtures.artifact_content(name)
        m = tmp_path / "m.iso"
        assert run("iso", "extract", "minimal-iso", iso, "--rootfs-url", url, "-o", m).returncode == 0
        r = run("embed", "-f", m, "--hosts", hosts, "--output-dir", tmp_path / "out", "--dest-ignition", C / "dest.ign")
        assert r.returncode == 0, r.stderr
        assert sha(got.content) == sha((tmp_path / "out" / "w1.iso").read_bytes())
    (built,) = (cache / "minimal").iterdir()
    assert built.name.startswith("x86_64-") and built.name.endswith("-minimal.iso")
    assert built.read_bytes() == m.read_bytes()    # the extracted base, before any host's edits


def test_grow_area_grows_the_minimal_iso_too(fixture_isos: dict[str, Path], hosts: Path, tmp_path: Path) -> None:
    import base64
    import json
    import os

    big = tmp_path / "big.ign"
    payload = base64.b64encode(os.urandom(400_000)).decode()
    big.write_text(json.dumps({"ignition": {"version": "3.4.0"}, "storage": {"files": [
        {"path": "/var/big", "contents": {"source": "data:;base64," + payload}}]}}))
    iso = fixture_isos["embed-areas-2023-07.x86_64"]
    opts = ["--dest-ignition", big, "--grow-area"]
    with Served(["--hosts", hosts, "--iso", iso, *opts]) as s:
        m = tmp_path / "m.iso"
        assert run("iso", "extract", "minimal-iso", iso, "--rootfs-url", f"{s.url}/artifacts/x86_64/rootfs",
                   "-o", m).returncode == 0
        r = run("embed", "-f", m, "--hosts", hosts, "--output-dir", tmp_path / "out", *opts)
        assert r.returncode == 0, r.stderr
        for host in ("w1", "w2.example.com"):
            want = (tmp_path / "out" / f"{host}.iso").read_bytes()
            assert len(want) > m.stat().st_size
            got = requests.get(f"{s.url}/hosts/{host}-minimal.iso", timeout=60)
            assert int(got.headers["Content-Length"]) == len(want) and sha(got.content) == sha(want)
            tail = requests.get(f"{s.url}/hosts/{host}-minimal.iso", headers={"Range": "bytes=-300000"}, timeout=60)
            assert tail.status_code == 206 and tail.content == want[-300000:]


def test_hosts_are_staged_on_first_request_when_the_minimal_image_has_the_full_ones_room(
        fixture_isos: dict[str, Path], hosts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Library level: each fixture's minimal image has the full image's areas and features, so hosts are staged
    lazily (start-up costs what it did without minimal ISOs); staging them all at start-up instead (the
    fallback for an image with less room) gives the same bytes."""
    import ignkit.serve.minimal as minimal
    from ignkit.inventory import load_inventory
    from ignkit.live.options import CustomizeOptions
    from ignkit.serve.catalog import build_catalog, open_isos

    inv = load_inventory(hosts)
    with minimal.MinimalStore() as store:
        for name in ("embed-areas-2022-09", "embed-areas-2023-07.x86_64", "embed-areas-2023-07.s390x"):
            # (2022-09 predates installer configs: a live config only)
            opts = (CustomizeOptions(live_ignition=[str(C / "live.ign")]) if name == "embed-areas-2022-09"
                    else CustomizeOptions(dest_ignition=[str(C / "dest.ign")]))
            lazy = build_catalog(inv, opts, open_isos([str(fixture_isos[name])]), base_url="http://192.0.2.1:8080",
                                 minimal_store=store)
            (base,) = lazy.minimal.values()
            assert base.lazy and all(sh.minimal is None and sh.minimal_note is None for sh in lazy.hosts.values())
            with monkeypatch.context() as m:
                m.setattr(minimal, "_same_room", lambda full, mini: False)
                eager = build_catalog(inv, opts, open_isos([str(fixture_isos[name])]),
                                      base_url="http://192.0.2.1:8080", minimal_store=store)
            assert all(sh.minimal is not None for sh in eager.hosts.values())
            for host, sh in lazy.hosts.items():
                view, note = minimal.host_minimal(sh)
                assert view is not None and note is None and minimal.host_minimal(sh)[0] is view
                other = eager.hosts[host].minimal
                assert other is not None and view.etag == other.etag and view.read() == other.read()


def test_no_base_url_no_minimal_iso(fixture_isos: dict[str, Path], hosts: Path) -> None:
    """Library level (a wildcard --listen without --base-url): the rootfs URL is unknown, so no minimal ISO
    is built, and each host's lookup says why."""
    import ignkit.serve.minimal as minimal
    from ignkit.inventory import load_inventory
    from ignkit.live.options import CustomizeOptions
    from ignkit.serve.catalog import build_catalog, open_isos

    opts = CustomizeOptions(dest_ignition=[str(C / "dest.ign")])
    with minimal.MinimalStore() as store:
        cat = build_catalog(load_inventory(hosts), opts, open_isos([str(fixture_isos["embed-areas-2023-07.x86_64"])]),
                            base_url=None, minimal_store=store)
        assert list(Path(store.directory).iterdir()) == []
    base = cat.minimal["x86_64"]
    assert base.iso is None and base.rootfs_url is None and "no --base-url" in str(base.reason)
    assert any(w.startswith("minimal ISOs for x86_64 are not served: no --base-url") for w in cat.warnings)
    view, note = minimal.host_minimal(cat.hosts["w1"])
    assert view is None and note is not None and "no --base-url" in note
