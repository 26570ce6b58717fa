"""`ignkit serve` as a real process on 127.0.0.1, with real clients (curl, requests, raw sockets).

The bytes of every per-host ISO and initramfs are compared with what `ignkit embed` / `pxe customize`
write for the same host; the boot scripts with `ignkit pxe config`'s files.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from conftest import CI_FIXTURES, TESTDATA, load_script
from conftest import run_ignkit as run
from servelib import Served, start_fails

C = CI_FIXTURES / "customize"
mkiso = load_script(TESTDATA / "mkiso.py", "ignkit_testdata_mkiso_serve")

HOSTS = """\
hosts:
  - hostname: w1
    mac: 52:54:00:00:00:01
    install_dev: /dev/vda
    console: ttyS0,115200n8
  - hostname: w2.example.com
    mac: 52:54:00:00:00:02
    install_dev: /dev/sda
    ip: 192.0.2.2/24
    gateway: 192.0.2.1
    kargs: nosmt
"""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    p = tmp_path / "hosts.yaml"
    p.write_text(HOSTS)
    return p


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """mkiso's x86_64 and aarch64 images (a 24 MiB rootfs, so that bodies are larger than socket buffers)."""
    out = tmp_path_factory.mktemp("mini")
    isos = {}
    for arch in ("x86_64", "aarch64"):
        isos[arch] = out / f"mini-{arch}.iso"
        mkiso.build_iso(isos[arch], arch, rootfs_size=24 << 20)
    return isos


@pytest.fixture
def served(mini: dict[str, Path], hosts: Path) -> Served:
    with Served(["--hosts", hosts, "--iso", mini["x86_64"], "--dest-ignition", C / "dest.ign"]) as s:
        yield s


def curl(*args: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["curl", "-sS", "--max-time", "60", *map(str, args)], capture_output=True, timeout=90)


def raw(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send one raw request, return everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks)


# --- the served bytes are embed's bytes --------------------------------------------------------------------


def _isos(fixture_isos: dict[str, Path], mini: dict[str, Path]) -> list[tuple[str, Path]]:
    return sorted(fixture_isos.items()) + [(f"mkiso-{a}", p) for a, p in sorted(mini.items())]


def test_served_iso_equals_embed_for_every_fixture(fixture_isos: dict[str, Path], mini: dict[str, Path],
                                                   hosts: Path, tmp_path: Path) -> None:
    # Images older than installer configs (2021-09 and before) take a live config only.
    plain = tmp_path / "plain.yaml"
    plain.write_text("hosts:\n  - hostname: w1\n    mac: 52:54:00:00:00:01\n"
                     "  - hostname: w2.example.com\n    mac: 52:54:00:00:00:02\n")
    variants = [(hosts, ["--dest-ignition", C / "dest.ign", "--dest-karg-append", "quiet"]),
                (plain, ["--live-ignition", C / "live.ign"])]
    checked, refused = [], []
    for name, iso in _isos(fixture_isos, mini):
        out = tmp_path / name
        for inv, custom in variants:
            r = run("embed", iso, "--hosts", inv, "--output-dir", out, *custom)
            if r.returncode == 0:
                break
            # What embed refuses, serve refuses at start-up with the same one-line error.
            bad = start_fails(["--hosts", inv, "--iso", iso, *custom])
            assert bad.returncode == r.returncode, name
            assert bad.stderr.decode().strip() == r.stderr.decode().strip(), name
        else:
            refused.append(name)
            continue
        with Served(["--hosts", inv, "--iso", iso, *custom]) as s:
            for host in ("w1", "w2.example.com"):
                expected = (out / f"{host}.iso").read_bytes()
                got = requests.get(f"{s.url}/hosts/{host}.iso", timeout=60)
                assert got.status_code == 200
                assert sha(got.content) == sha(expected), (name, host)
            mac = requests.get(f"{s.url}/mac/52-54-00-00-00-02.iso", timeout=60)
            assert sha(mac.content) == sha((out / "w2.example.com.iso").read_bytes())
        checked.append(name)
    # Every CoreOS fixture (x86_64 and s390x) and mkiso's x86_64 and aarch64 images; "synthetic" is no live ISO.
    assert refused == ["synthetic"], refused
    assert len(checked) == len(fixture_isos) - 1 + 2 and {"mkiso-x86_64", "mkiso-aarch64"} <= set(checked)


def test_both_architectures_in_one_server(mini: dict[str, Path], tmp_path: Path) -> None:
    inv = tmp_path / "h.yaml"
    inv.write_text("hosts:\n  - hostname: x1\n    arch: x86_64\n    mac: 52:54:00:00:01:01\n"
                   "  - hostname: a1\n    arch: aarch64\n    mac: 52:54:00:00:01:02\n")
    opts = ["--dest-ignition", C / "dest.ign", "--dest-device", "/dev/vda"]
    with Served(["--hosts", inv, "--iso", f"x86_64={mini['x86_64']}", "--iso", f"arm64={mini['aarch64']}", *opts]) as s:
        for host, arch in (("x1", "x86_64"), ("a1", "aarch64")):
            one = tmp_path / f"{host}.yaml"
            one.write_text(f"hosts:\n  - hostname: {host}\n    arch: {arch}\n")
            r = run("embed", mini[arch], "--hosts", one, "--output-dir", tmp_path / arch, *opts)
            assert r.returncode == 0, r.stderr
            got = requests.get(f"{s.url}/hosts/{host}.iso", timeout=60).content
            assert sha(got) == sha((tmp_path / arch / f"{host}.iso").read_bytes())
            kernel = requests.get(f"{s.url}/artifacts/{arch}/kernel", timeout=60)
            assert kernel.status_code == 200 and kernel.content == mkiso.kernel_stub(arch)
        assert requests.get(f"{s.url}/artifacts/ppc64le/kernel", timeout=10).status_code == 404


# --- HTTP semantics with real clients --------------------------------------------------------------------------


def test_ranges_with_curl(served: Served, tmp_path: Path) -> None:
    url = f"{served.url}/hosts/w1.iso"
    whole = curl(url).stdout
    size = len(whole)
    head = curl("-I", url).stdout.decode()
    assert "HTTP/1.1 200" in head and f"Content-Length: {size}" in head and "Accept-Ranges: bytes" in head
    etag = next(line.split(": ", 1)[1].strip() for line in head.splitlines() if line.startswith("ETag"))
    for spec, (a, b) in (("0-99", (0, 100)), ("1000-", (1000, size)), ("-4096", (size - 4096, size)),
                         (f"{size - 10}-{size + 1000}", (size - 10, size)), ("-999999999999", (0, size))):
        r = curl("-D", "-", "-o", tmp_path / "part", "-r", spec, url)
        hdr = r.stdout.decode()
        assert "HTTP/1.1 206" in hdr, spec
        assert f"Content-Range: bytes {a}-{b - 1}/{size}" in hdr, spec
        assert (tmp_path / "part").read_bytes() == whole[a:b], spec
    # Unsatisfiable -> 416 with the size; malformed, negative, too long or multiple -> the whole body (200).
    r = curl("-D", "-", "-o", "/dev/null", "-H", f"Range: bytes={size}-", url).stdout.decode()
    assert "HTTP/1.1 416" in r and f"Content-Range: bytes */{size}" in r
    assert "HTTP/1.1 416" in curl("-D", "-", "-o", "/dev/null", "-H", "Range: bytes=-0", url).stdout.decode()
    for bad in ("bytes=abc", "bytes=-5-10", "bytes=10-5", "items=0-1", "bytes=0-1,5-6", "bytes=" + "9" * 30 + "-",
                "bytes=--1", "bytes=0x10-20"):
        r = curl("-D", "-", "-o", tmp_path / "all", "-H", f"Range: {bad}", url)
        assert "HTTP/1.1 200" in r.stdout.decode(), bad
        assert (tmp_path / "all").read_bytes() == whole, bad
    # Conditional requests.
    assert "HTTP/1.1 304" in curl("-D", "-", "-H", f"If-None-Match: {etag}", url).stdout.decode()
    assert "HTTP/1.1 304" in curl("-D", "-", "-H", f"If-None-Match: W/{etag}, \"x\"", url).stdout.decode()
    r = curl("-D", "-", "-o", tmp_path / "p", "-r", "0-9", "-H", f"If-Range: {etag}", url).stdout.decode()
    assert "HTTP/1.1 206" in r
    r = curl("-D", "-", "-o", tmp_path / "p", "-r", "0-9", "-H", 'If-Range: "other"', url).stdout.decode()
    assert "HTTP/1.1 200" in r and (tmp_path / "p").read_bytes() == whole
    lm = next(line.split(": ", 1)[1].strip() for line in head.splitlines() if line.startswith("Last-Modified"))
    assert "HTTP/1.1 206" in curl("-D", "-", "-o", "/dev/null", "-r", "0-9", "-H", f"If-Range: {lm}", url).stdout.decode()
    assert "HTTP/1.1 304" in curl("-D", "-", "-H", f"If-Modified-Since: {lm}", url).stdout.decode()
    # Requests that change anything are refused.
    assert "HTTP/1.1 405" in curl("-D", "-", "-X", "PUT", "--data", "x", url).stdout.decode()


def test_curl_resume_and_requests_range(served: Served, tmp_path: Path) -> None:
    url = f"{served.url}/hosts/w2.example.com.iso"
    whole = requests.get(url, timeout=60).content
    part = tmp_path / "w2.iso"
    part.write_bytes(whole[:5_000_000])
    r = curl("-C", "-", "-o", part, url)
    assert r.returncode == 0, r.stderr
    assert sha(part.read_bytes()) == sha(whole)
    got = requests.get(url, headers={"Range": "bytes=123-456789"}, timeout=60)
    assert got.status_code == 206 and got.content == whole[123:456790]
    with requests.get(url, stream=True, timeout=60) as resp:
        assert sha(b"".join(resp.iter_content(1 << 16))) == sha(whole)


def test_etag_survives_restart_and_depends_on_host(mini: dict[str, Path], hosts: Path) -> None:
    args = ["--hosts", hosts, "--iso", mini["x86_64"], "--dest-ignition", C / "dest.ign"]
    tags = []
    for _ in range(2):
        with Served(args) as s:
            tags.append({h: requests.head(f"{s.url}/hosts/{h}.iso", timeout=10).headers["ETag"]
                         for h in ("w1", "w2.example.com")})
    assert tags[0] == tags[1]
    assert tags[0]["w1"] != tags[0]["w2.example.com"]
    with Served(args + ["--dest-karg-append", "quiet"]) as s:
        assert requests.head(f"{s.url}/hosts/w1.iso", timeout=10).headers["ETag"] != tags[0]["w1"]


def test_unknown_hosts_and_traversal(served: Served) -> None:
    for path in ("/hosts/nope.iso", "/mac/52-54-00-99-99-99.iso", "/mac/zz.iso", "/ipxe?mac=52:54:00:99:99:99",
                 "/grub/grub.cfg-01-52-54-00-99-99-99", "/hosts/w1.txt", "/artifacts/x86_64/passwd",
                 "/hosts/nope/initramfs.img"):
        r = requests.get(served.url + path, timeout=10)
        assert r.status_code == 404, path
    assert "127.0.0.1: 404 /hosts/nope.iso (unknown host)" in served.log()
    for path in (b"/hosts/../../../../etc/passwd", b"/hosts/..%2f..%2f..%2fetc%2fpasswd", b"/artifacts/x86_64/..%2f..%2f..%2fetc%2fpasswd",
                 b"/artifacts/..%2F..%2Fetc/passwd", b"/%2e%2e/%2e%2e/etc/passwd", b"/hosts/w1.iso%00.ign",
                 b"/hosts/w1%00.iso", b"/mac/..%2f..%2fetc%2fpasswd.iso", b"/artifacts/%2e%2e/kernel",
                 b"/hosts/%2e%2e%2fw1.iso", b"//etc/passwd", b"/hosts/w1.iso/../../../etc/passwd"):
        resp = raw(served.port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status = resp.split(b"\r\n", 1)[0]
        assert status.split()[1] in (b"400", b"404"), (path, status)
        assert b"root:" not in resp
    r = curl("--path-as-is", f"{served.url}/artifacts/x86_64/../../../../etc/passwd")
    assert b"root:" not in r.stdout
    assert requests.get(served.url + "/hosts/w1.iso", timeout=30).status_code == 200


def test_stalled_and_vanishing_clients_do_not_block_others(served: Served) -> None:
    url = f"{served.url}/hosts/w1.iso"
    size = int(requests.head(url, timeout=10).headers["Content-Length"])
    assert size > 20 << 20
    req = b"GET /hosts/w1.iso HTTP/1.1\r\nHost: x\r\n\r\n"
    stalled = []
    for _ in range(3):  # connections that ask for the whole ISO and never read
        s = socket.create_connection(("127.0.0.1", served.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(req)
        stalled.append(s)
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        got = requests.get(url, timeout=30).content
        assert len(got) == size and time.monotonic() - t0 < 20
        # A client that reads a little and disconnects: one log line, the server carries on.
        with socket.create_connection(("127.0.0.1", served.port)) as s:
            s.sendall(req)
            s.recv(100000)
        deadline = time.monotonic() + 10
        while "stopped after" not in served.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        lines = [line for line in served.log().splitlines() if "stopped after" in line]
        assert lines and all(line.startswith("ignkit serve: 127.0.0.1: /hosts/w1.iso: stopped after") for line in lines)
        assert "Traceback" not in served.log()
        assert sha(requests.get(url, timeout=30).content) == sha(got)
    finally:
        for s in stalled:
            s.close()


def test_config_endpoint_has_digest(served: Served) -> None:
    r = requests.get(f"{served.url}/hosts/w1.ign", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/vnd.coreos.ignition+json"
    assert r.headers["X-Ignition-Hash"] == "sha512-" + hashlib.sha512(r.content).hexdigest()
    cfg = json.loads(r.content)
    files = {f["path"] for f in cfg["storage"]["files"]}
    assert "/etc/hostname" in files
    # It is the config the host's ISO installs (dest.ign inside the embedded live config).
    from ignkit.live.customize import read_customization
    from ignkit.live.image import open_iso

    iso = requests.get(f"{served.url}/hosts/w1.iso", timeout=30).content
    tmp = Path(served._err.name + ".iso")
    tmp.write_bytes(iso)
    try:
        parts = read_customization(open_iso(tmp).members())
        assert parts.dest_config == cfg
    finally:
        tmp.unlink()
    # The digest is usable as coreos.inst.ignition_url's --ignition-hash: ignkit hash agrees.
    h = run("hash", f"{served.url}/hosts/w1.ign")
    assert h.returncode == 0 and h.stdout.decode().strip().endswith(r.headers["X-Ignition-Hash"])


def test_boot_scripts_equal_pxe_config(served: Served, hosts: Path, tmp_path: Path) -> None:
    u = served.url
    for fmt in ("ipxe", "grub"):
        out = tmp_path / fmt
        r = run("pxe", "config", "-F", fmt, "--hosts", hosts, "--output-dir", out,
                "--kernel-url", f"{u}/artifacts/x86_64/kernel", "--initramfs-url", f"{u}/artifacts/x86_64/initramfs",
                "--rootfs-url", f"{u}/artifacts/x86_64/rootfs", "--ignition-url", f"{u}/hosts/{{hostname}}.ign")
        assert r.returncode == 0, r.stderr
        for mac in ("52-54-00-00-00-01", "52-54-00-00-00-02"):
            path = f"/ipxe?mac={mac}" if fmt == "ipxe" else f"/grub/grub.cfg-01-{mac}"
            got = requests.get(u + path, timeout=10)
            assert got.status_code == 200
            name = f"{mac}.ipxe" if fmt == "ipxe" else f"grub.cfg-01-{mac}"
            assert got.text == (out / name).read_text(), (fmt, mac)
    # GRUB's ${net_default_mac} uses colons.
    assert requests.get(u + "/grub/grub.cfg-01-52:54:00:00:00:01", timeout=10).text == \
        requests.get(u + "/grub/grub.cfg-01-52-54-00-00-00-01", timeout=10).text
    chain = requests.get(u + "/boot.ipxe", timeout=10).text
    assert chain.startswith("#!ipxe\n") and f"chain {u}/ipxe?mac=${{net0/mac:hexhyp}}" in chain
    grub = requests.get(u + "/grub/grub.cfg", timeout=10).text
    assert "configfile (http,127.0.0.1" in grub and "/grub/grub.cfg-01-${net_default_mac}" in grub


def test_initramfs_equals_pxe_customize_and_artifacts(tmp_path: Path, hosts: Path) -> None:
    from test_pxe_customize import make_initramfs

    pxe = tmp_path / "pxe"
    pxe.mkdir()
    initrd = make_initramfs(pxe / "rhcos-live-initramfs.x86_64.img")
    (pxe / "rhcos-live-kernel-x86_64").write_bytes(mkiso.kernel_stub("x86_64"))
    (pxe / "rhcos-live-rootfs.x86_64.img").write_bytes(bytes(range(256)) * 4096)
    opts = ["--dest-ignition", C / "dest.ign"]
    r = run("pxe", "customize", initrd, "--hosts", hosts, "--output-dir", tmp_path / "out", *opts)
    assert r.returncode == 0, r.stderr
    with Served(["--hosts", hosts, "--pxe-dir", pxe, *opts]) as s:
        for host in ("w1", "w2.example.com"):
            got = requests.get(f"{s.url}/hosts/{host}/initramfs.img", timeout=30)
            assert got.status_code == 200
            assert sha(got.content) == sha((tmp_path / "out" / f"{host}.img").read_bytes())
            part = requests.get(f"{s.url}/hosts/{host}/initramfs.img", headers={"Range": "bytes=-100"}, timeout=30)
            assert part.status_code == 206 and part.content == got.content[-100:]
        for kind, f in (("kernel", "rhcos-live-kernel-x86_64"), ("initramfs", "rhcos-live-initramfs.x86_64.img"),
                        ("rootfs", "rhcos-live-rootfs.x86_64.img")):
            assert requests.get(f"{s.url}/artifacts/x86_64/{kind}", timeout=30).content == (pxe / f).read_bytes()
        assert requests.get(f"{s.url}/hosts/w1.iso", timeout=10).status_code == 404
        assert requests.get(f"{s.url}/ipxe?mac=52:54:00:00:00:01", timeout=10).status_code == 200
        # Static inventory addresses attribute shared artifacts to hosts; the rest by who fetched what.
        status = requests.get(f"{s.url}/status", timeout=10).json()
        w1 = next(h for h in status["hosts"] if h["hostname"] == "w1")
        assert set(w1["fetched"]) >= {"initramfs", "boot script"}


def test_initramfs_from_the_iso_itself(tmp_path: Path, hosts: Path) -> None:
    from test_pxe_customize import make_initramfs

    initrd = make_initramfs(tmp_path / "initrd.img")
    iso = tmp_path / "live.iso"
    mkiso.build_iso(iso, "x86_64", overrides={"/images/pxeboot/initrd.img": initrd.read_bytes()})
    opts = ["--dest-ignition", C / "dest.ign"]
    r = run("pxe", "customize", initrd, "--hosts", hosts, "--output-dir", tmp_path / "out", *opts)
    assert r.returncode == 0, r.stderr
    with Served(["--hosts", hosts, "--iso", iso, *opts]) as s:
        got = requests.get(f"{s.url}/hosts/w1/initramfs.img", timeout=30).content
        assert sha(got) == sha((tmp_path / "out" / "w1.img").read_bytes())
        assert requests.get(f"{s.url}/artifacts/x86_64/initramfs", timeout=30).content == initrd.read_bytes()


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_unpatched_spans_go_by_sendfile(mini: dict[str, Path], hosts: Path, tmp_path: Path) -> None:
    """strace the server: the image's bytes leave by sendfile(2); only the patched areas are written."""
    trace = tmp_path / "strace.log"
    prefix = ("strace", "-f", "-qq", "-e", "trace=sendfile,sendto,write,writev,sendmsg", "-o", str(trace))
    with Served(["--hosts", hosts, "--iso", mini["x86_64"], "--dest-ignition", C / "dest.ign"], prefix=prefix) as s:
        size = len(requests.get(f"{s.url}/hosts/w1.iso", timeout=60).content)
    sent = {"sendfile": 0, "other": 0}
    for line in trace.read_text().splitlines():
        m = re.search(r"^\d+\s+(\w+)\((\d+),.*= (\d+)$", line)
        if not m or m.group(2) in ("1", "2"):
            continue   # stdout/stderr (the log)
        sent["sendfile" if m.group(1) == "sendfile" else "other"] += int(m.group(3))
    assert size > 24 << 20
    assert sent["sendfile"] >= size - (300 << 10), sent       # all but the Ignition area and kargs
    assert sent["other"] < 300 << 10, sent


# --- start-up refusals ---------------------------------------------------------------------------------------


def test_startup_refusals(mini: dict[str, Path], fixture_isos: dict[str, Path], hosts: Path, tmp_path: Path) -> None:
    bad_inv = tmp_path / "bad.yaml"
    bad_inv.write_text("hosts:\n  - hostname: a\n    colour: blue\n")
    big = tmp_path / "big.ign"
    import os

    big.write_text(json.dumps({"ignition": {"version": "3.4.0"}, "storage": {"files": [
        {"path": "/x", "contents": {"source": "data:;base64," + __import__("base64").b64encode(os.urandom(400000)).decode()}}]}}))
    arm = tmp_path / "arm.yaml"
    arm.write_text("hosts:\n  - hostname: a1\n    arch: aarch64\n")
    cases = [
        (["--hosts", bad_inv, "--iso", mini["x86_64"]], "colour"),
        (["--hosts", hosts, "--iso", tmp_path / "missing.iso"], "missing.iso: no such file"),
        (["--hosts", hosts, "--iso", f"aarch64={mini['x86_64']}"], "not aarch64"),
        (["--hosts", arm, "--iso", mini["x86_64"]], "a1"),
        (["--hosts", hosts, "--iso", mini["x86_64"], "--dest-ignition", big], "w1: "),
        (["--hosts", hosts], "nothing to serve"),
        (["--hosts", hosts, "--iso", mini["x86_64"], "--listen", "nonsense"], "--listen"),
    ]
    for args, words in cases:
        r = start_fails(args)
        err = r.stderr.decode()
        assert r.returncode in (1, 2), (args, err)
        assert err.startswith("ignkit: error: ") and len(err.strip().splitlines()) == 1, (args, err)
        assert words in err, (args, err)
        assert "listening" not in err


def test_tls_and_access_log_file(mini: dict[str, Path], hosts: Path, tmp_path: Path) -> None:
    from conftest import _make_ca_and_cert

    ca, cert, key = _make_ca_and_cert(tmp_path)
    alog = tmp_path / "access.log"
    args = ["--hosts", hosts, "--iso", mini["x86_64"], "--dest-ignition", C / "dest.ign", "--tls-cert", cert,
            "--tls-key", key, "--access-log", alog]
    with Served(args) as s:
        assert s.url.startswith("https://127.0.0.1:")
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://127.0.0.1:{s.port}/hosts/w1.ign", timeout=60)   # plain HTTP on the TLS port
        whole = requests.get(f"{s.url}/hosts/w1.iso", verify=str(ca), timeout=60)
        part = requests.get(f"{s.url}/hosts/w1.iso", headers={"Range": "bytes=100-"}, verify=str(ca), timeout=60)
        assert whole.status_code == 200 and part.status_code == 206 and part.content == whole.content[100:]
        script = requests.get(f"{s.url}/ipxe?mac=52:54:00:00:00:01", verify=str(ca), timeout=10).text
        assert f"coreos.inst.ignition_url={s.url}/hosts/w1.ign" in script
    r = run("embed", mini["x86_64"], "--hosts", hosts, "--output-dir", tmp_path / "out", "--dest-ignition", C / "dest.ign")
    assert r.returncode == 0
    assert sha(whole.content) == sha((tmp_path / "out" / "w1.iso").read_bytes())
    lines = alog.read_text().splitlines()
    size = len(whole.content)
    assert any(re.fullmatch(r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET /hosts/w1\.iso HTTP/1\.1" '
                            rf'200 {size} "-" "python-requests/[\d.]+"', line) for line in lines), lines
    assert any(f'"GET /hosts/w1.iso HTTP/1.1" 206 {size - 100} ' in line for line in lines), lines


def test_sighup_reloads_the_inventory_without_dropping_downloads(mini: dict[str, Path], hosts: Path,
                                                                 tmp_path: Path) -> None:
    import signal

    opts = ["--dest-ignition", C / "dest.ign"]
    r = run("embed", mini["x86_64"], "--hosts", hosts, "--output-dir", tmp_path / "before", *opts)
    assert r.returncode == 0
    with Served(["--hosts", hosts, "--iso", mini["x86_64"], *opts]) as s:
        old_tag = requests.head(f"{s.url}/hosts/w1.iso", timeout=10).headers["ETag"]
        # A download of w1 is running when the inventory changes (w1 gets a karg, w3 appears).
        client = socket.create_connection(("127.0.0.1", s.port))
        client.sendall(b"GET /hosts/w1.iso HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        first = client.recv(1 << 20)
        hosts.write_text(HOSTS.replace("    console: ttyS0,115200n8\n", "    console: ttyS0,115200n8\n    kargs: quiet\n")
                         + "  - hostname: w3\n    mac: 52:54:00:00:00:03\n    install_dev: /dev/vdb\n")
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while "reloaded: 3 hosts" not in s.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "reloaded: 3 hosts" in s.log()
        rest = [first]
        while True:
            b = client.recv(1 << 20)
            if not b:
                break
            rest.append(b)
        client.close()
        body = b"".join(rest).split(b"\r\n\r\n", 1)[1]
        assert sha(body) == sha((tmp_path / "before" / "w1.iso").read_bytes())   # the bytes it started with
        r = run("embed", mini["x86_64"], "--hosts", hosts, "--output-dir", tmp_path / "after", *opts)
        assert r.returncode == 0
        for h in ("w1", "w3"):
            got = requests.get(f"{s.url}/hosts/{h}.iso", timeout=60)
            assert sha(got.content) == sha((tmp_path / "after" / f"{h}.iso").read_bytes())
        assert requests.head(f"{s.url}/hosts/w1.iso", timeout=10).headers["ETag"] != old_tag
        # A broken inventory is refused with one line; the server keeps what it had.
        hosts.write_text("hosts: [{hostname: bad, colour: blue}]\n")
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while "reload failed" not in s.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "reload failed, still serving the previous inventory: " in s.log() and "colour" in s.log()
        assert requests.get(f"{s.url}/hosts/w3.ign", timeout=10).status_code == 200


def test_stream_artifacts_downloaded_into_the_cache(tmp_path: Path, hosts: Path, artifact_server: object) -> None:
    from test_stream import StreamSite, make_fixtures

    site = StreamSite(artifact_server, "rhcos-4.19.json")  # type: ignore[arg-type]
    cache = tmp_path / "cache"
    args = ["--hosts", hosts, "--stream", site.url, "--cache", cache, "--dest-ignition", C / "dest.ign"]
    with Served(args) as s:
        names = {}
        for kind in ("kernel", "initramfs", "rootfs"):
            (name,) = [p.name for p in (cache / "x86_64").iterdir() if kind in p.name]
            names[kind] = name
            got = requests.get(f"{s.url}/artifacts/x86_64/{kind}", timeout=30)
            assert got.status_code == 200 and got.content == make_fixtures.artifact_content(name)
        # The stand-in initramfs is no CoreOS live initramfs: served as is, no per-host layer, said once.
        assert "ignkit: warning: no per-host initramfs for x86_64" in s.log()
        assert requests.get(f"{s.url}/hosts/w1/initramfs.img", timeout=10).status_code == 404
        # Without a live image to compose against there is no installed-system config, hence no boot script.
        script = requests.get(f"{s.url}/ipxe?mac=52:54:00:00:00:01", timeout=10)
        assert script.status_code == 404 and "no installed-system config" in script.text
    gets = len(site.artifact_gets())
    with Served(args):
        pass
    assert len(site.artifact_gets()) == gets       # verified files in the cache are not fetched again
    bad = start_fails(["--hosts", hosts, "--stream", site.url])
    assert bad.returncode == 2 and bad.stderr.decode() == "ignkit: error: --stream and --cache go together\n"


def test_grow_area_serves_the_grown_image(mini: dict[str, Path], hosts: Path, tmp_path: Path) -> None:
    import base64
    import os

    big = tmp_path / "big.ign"
    payload = base64.b64encode(os.urandom(400_000)).decode()
    big.write_text(json.dumps({"ignition": {"version": "3.4.0"}, "storage": {"files": [
        {"path": "/var/big", "contents": {"source": "data:;base64," + payload}}]}}))
    opts = ["--dest-ignition", big, "--grow-area"]
    r = run("embed", mini["x86_64"], "--hosts", hosts, "--output-dir", tmp_path / "out", *opts)
    assert r.returncode == 0, r.stderr
    with Served(["--hosts", hosts, "--iso", mini["x86_64"], *opts]) as s:
        for host in ("w1", "w2.example.com"):
            want = (tmp_path / "out" / f"{host}.iso").read_bytes()
            assert len(want) > mini["x86_64"].stat().st_size
            head = requests.head(f"{s.url}/hosts/{host}.iso", timeout=10)
            assert int(head.headers["Content-Length"]) == len(want)
            assert sha(requests.get(f"{s.url}/hosts/{host}.iso", timeout=60).content) == sha(want)
            tail = requests.get(f"{s.url}/hosts/{host}.iso", headers={"Range": "bytes=-300000"}, timeout=60)
            assert tail.status_code == 206 and tail.content == want[-300000:]
