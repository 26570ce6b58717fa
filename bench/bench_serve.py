#!/usr/bin/env python3
"""``ignkit serve`` against nginx, side by side in one run, on 127.0.0.1 only.

nginx (Debian's, started here with a generated config, sendfile on) serves a pre-written copy of the
same per-host ISO that ``ignkit serve`` streams from the base image plus patches. Same client (curl)
for both. Prints:
  - throughput of 1 and of 16 concurrent full downloads of the per-host ISO (goal >= 0.8x nginx),
  - time to first byte (median of 20 small Range requests),
  - peak RSS of the server process with 200 concurrent connections reading (goal < 128 MiB),
  - start-up time of ``ignkit serve`` with 1000 inventory hosts (goal < 5 s).

Every loop is bounded in count and time; nothing but 127.0.0.1 is contacted.

    python3 bench/bench_serve.py [--size-mib 1024] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
DEST = REPO / "testdata" / "demo" / "worker.ign"


def load_mkiso():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("mkiso", REPO / "testdata" / "mkiso.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int, key: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def tree_pids(pid: int) -> list[int]:
    out = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for k in kids:
        out += tree_pids(int(k))
    return out


class Nginx:
    def __init__(self, root: Path, work: Path) -> None:
        self.port = free_port()
        conf = work / "nginx.conf"
        conf.write_text(f"""\
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {work}/nginx-tmp;
    proxy_temp_path {work}/nginx-tmp;
    fastcgi_temp_path {work}/nginx-tmp;
    uwsgi_temp_path {work}/nginx-tmp;
    scgi_temp_path {work}/nginx-tmp;
    types {{ application/x-iso9660-image iso; }}
    server {{
        listen 127.0.0.1:{self.port};
        root {root};
    }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)], stderr=subprocess.DEVNULL)
        wait_port(self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class Serve:
    def __init__(self, args: list[str], timeout: float = 120) -> None:
        self.log = tempfile.NamedTemporaryFile(prefix="bench-serve-", delete=False)
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "ignkit", "serve", "--listen", "127.0.0.1:0",
                                      "--access-log", os.devnull, *args], stderr=self.log, env=env)
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)/", Path(self.log.name).read_text())
            if m:
                self.startup = time.perf_counter() - self.t0
                self.url = m.group(1)
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(Path(self.log.name).read_text())
            time.sleep(0.01)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.unlink(self.log.name)


def downloads(url: str, n: int, size: int) -> float:
    """Seconds for ``n`` concurrent full downloads by curl (bodies discarded); checks every length."""
    t = time.perf_counter()
    procs = [subprocess.Popen(["curl", "-fsS", "--max-time", "300", "-o", "/dev/null", "-w", "%{size_download}",
                               url], stdout=subprocess.PIPE) for _ in range(n)]
    outs = [p.communicate(timeout=320)[0] for p in procs]
    dt = time.perf_counter() - t
    for o in outs:
        assert int(o) == size, (o, size)
    return dt


def cpu_seconds(pids: list[int]) -> float:
    """user + system CPU seconds the processes have used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def timed(run: Callable[[], float], pids: list[int]) -> tuple[float, float]:
    """(``run()``'s seconds, CPU seconds ``pids`` used meanwhile)."""
    before = cpu_seconds(pids)
    t = run()
    return t, cpu_seconds(pids) - before


def ttfb(url: str, runs: int = 20) -> float:
    times = []
    for i in range(runs):
        out = subprocess.run(["curl", "-fsS", "-o", "/dev/null", "-r", f"{i * 4096}-{i * 4096 + 4095}",
                              "-w", "%{time_starttransfer}", url], capture_output=True, check=True, timeout=30)
        times.append(float(out.stdout))
    return statistics.median(times)


def many_connections(port: int, path: str, pids: list[int], n: int = 200, seconds: float = 8.0) -> int:
    """Open ``n`` connections that each fetch the whole ISO and read for ``seconds``; peak RSS (KiB) of ``pids``."""
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    peak = 0
    got = 0
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            for key, _ in sel.select(timeout=0.1):
                try:
                    got += len(key.fileobj.recv(1 << 16))  # type: ignore[union-attr]
                except BlockingIOError:
                    pass
            peak = max(peak, sum(rss_kib(p) for p in pids))
    finally:
        for s in socks:
            s.close()
    return peak


def inventory(path: Path, n: int) -> None:
    lines = ["hosts:"]
    for i in range(n):
        lines += [f"  - hostname: node{i:04d}.example.com", f"    mac: 52:54:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:"
                  f"{i & 255:02x}:01", "    install_dev: /dev/sda", f"    ip: 10.{i >> 8 & 255}.{i & 255}.10/8",
                  "    gateway: 10.0.0.1"]
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    a = ap.parse_args()
    for tool in ("nginx", "curl"):
        if not shutil.which(tool):
            print(f"bench_serve: needs {tool}", file=sys.stderr)
            return 2
    work = Path(a.dir or tempfile.mkdtemp(prefix="bench-serve-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "nginx-tmp").mkdir(exist_ok=True)
    base = work / "base.iso"
    if not base.exists():
        load_mkiso().build_iso(base, "x86_64", rootfs_size=a.size_mib << 20)
    hosts = work / "hosts.yaml"
    hosts.write_text("hosts:\n  - hostname: w1\n    mac: 52:54:00:00:00:01\n    install_dev: /dev/sda\n"
                     "    ip: 192.0.2.11/24\n    gateway: 192.0.2.1\n")
    root = work / "www"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-m", "ignkit", "embed", str(base), "--hosts", str(hosts), "--output-dir",
                    str(root), "--overwrite", "--dest-ignition", str(DEST)], check=True, env=env,
                   stderr=subprocess.DEVNULL)
    size = (root / "w1.iso").stat().st_size
    # nginx's worker runs as an unprivileged user: let it read the copy.
    for p in (work, root):
        p.chmod(0o755)
    (root / "w1.iso").chmod(0o644)
    print(f"per-host ISO: {size / (1 << 20):.0f} MiB; machine: {os.cpu_count()} CPUs; client: curl; 127.0.0.1 only")
    nginx = Nginx(root, work)
    serve = Serve(["--hosts", str(hosts), "--iso", str(base), "--dest-ignition", str(DEST)])
    try:
        # Same bytes from both (checked once, by hashing two downloads).
        digests = [hashlib.sha256(subprocess.run(["curl", "-fsS", u], capture_output=True, check=True).stdout)
                   .hexdigest() for u in (f"{nginx.url}/w1.iso", f"{serve.url}/hosts/w1.iso")]
        assert digests[0] == digests[1], "served bytes differ from embed's"
        ours, ref = f"{serve.url}/hosts/w1.iso", f"{nginx.url}/w1.iso"
        print(f"{'measure':34} {'ignkit serve':>14} {'nginx':>14} {'ratio':>7}")
        nginx_pids = tree_pids(nginx.proc.pid)
        for n in (1, 16):
            # Alternate, best of 2 each (the machine is shared); also the CPU time each server spent.
            r_runs, o_runs = [], []
            for _ in range(2):
                r_runs.append(timed(lambda n=n: downloads(ref, n, size), nginx_pids))  # type: ignore[misc]
                o_runs.append(timed(lambda n=n: downloads(ours, n, size), [serve.proc.pid]))  # type: ignore[misc]
            (r_t, r_cpu), (o_t, o_cpu) = min(r_runs), min(o_runs)
            r_bw, o_bw = n * size / r_t / (1 << 20), n * size / o_t / (1 << 20)
            print(f"{f'throughput, {n} download(s) MiB/s':34} {o_bw:14.0f} {r_bw:14.0f} {o_bw / r_bw:7.2f}"
                  f"   (goal >= 0.80)")
            gib = n * size / (1 << 30)
            print(f"{f'  server CPU s per GiB ({n})':34} {o_cpu / gib:14.3f} {r_cpu / gib:14.3f} "
                  f"{o_cpu / max(r_cpu, 1e-9):7.2f}")
        o_f, r_f = ttfb(ours), ttfb(ref)
        print(f"{'time to first byte ms (median)':34} {o_f * 1000:14.2f} {r_f * 1000:14.2f} {o_f / r_f:7.2f}")
        o_rss = many_connections(int(serve.url.rsplit(':', 1)[1]), "/hosts/w1.iso", [serve.proc.pid])
        r_rss = many_connections(nginx.port, "/w1.iso", tree_pids(nginx.proc.pid))
        print(f"{'peak RSS, 200 connections MiB':34} {o_rss / 1024:14.1f} {r_rss / 1024:14.1f} "
              f"{o_rss / max(r_rss, 1):7.2f}   (goal ours < 128 MiB)")
    finally:
        serve.stop()
        nginx.stop()
    big = work / "hosts-1000.yaml"
    inventory(big, 1000)
    times = []
    for _ in range(2):
        s = Serve(["--hosts", str(big), "--iso", str(base), "--dest-ignition", str(DEST)])
        times.append((s.startup, cpu_seconds([s.proc.pid])))
        rss = rss_kib(s.proc.pid)
        s.stop()
    wall, cpu = min(times)
    # On a shared machine the wall time mostly measures the wait for a CPU: print the CPU time too.
    print(f"{'start-up, 1000 hosts s':34} {wall:14.2f} {'':>14} {'':>7}   (goal < 5 s; CPU {cpu:.2f} s; RSS "
          f"after start {rss / 1024:.0f} MiB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    if not a.keep and a.dir is None:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
