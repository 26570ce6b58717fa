#!/usr/bin/env python3
"""Benchmark ``ignkit embed --hosts``: the cost of each host's ISO against ``cp`` of the same ISO.

Builds a CoreOS-layout live ISO of about 1 GiB with testdata/mkiso.py (or uses --iso), writes an
inventory of N hosts (static addresses, MACs, install devices), then times in the same run:

* ``cp ISO copy.iso`` (median of --repeat runs), and N such copies in a row (same bytes written as
  N hosts, so the page cache and disk write-back weigh on both alike): the references;
* ``ignkit embed ISO --hosts hosts.yaml --output-dir DIR --dest-ignition dest.ign`` with N hosts and
  with 1 host (median of --repeat runs each), as a subprocess, start-up included.

It prints the per-host cost (total / N) and the marginal cost of a further host ((t_N - t_1) / (N - 1)),
each as a ratio to one ``cp`` (taken as the N-copies time / N, and as a single cp). Outputs are deleted after every run.

    python3 bench/bench_embed.py [--hosts 20] [--size-mib 1024] [--repeat 3] [--workdir DIR] [--iso ISO]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], cleanup: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if cleanup.is_dir():
        shutil.rmtree(cleanup)
    elif cleanup.exists():
        cleanup.unlink()
    return elapsed


def fill_rootfs(iso: Path) -> None:
    """Overwrite the rootfs of zeros with incompressible bytes, like a real squashfs.

    With zeros ``cp`` punches holes instead of writing (coreutils 9 detects zero runs), which would
    compare ignkit's full copy against a copy that writes almost nothing.
    """
    sys.path.insert(0, str(REPO))
    from ignkit.isofs import IsoFS

    with IsoFS(str(iso)) as fs:
        entry = next(e for e in fs.listdir("IMAGES/PXEBOOT") if e.name.upper().startswith("ROOTFS"))
    block = os.urandom(16 * 2**20)
    with open(iso, "r+b") as f:
        f.seek(entry.offset)
        left = entry.length
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n


def write_hosts(path: Path, n: int) -> None:
    hosts = [{"hostname": f"worker-{i:02d}.example.com", "mac": f"52:54:00:00:{i // 256:02x}:{i % 256:02x}",
              "ip": f"192.0.2.{10 + i}/24", "gateway": "192.0.2.1", "dns": ["192.0.2.53"],
              "install_dev": "/dev/sda", "console": "ttyS0,115200n8"} for i in range(n)]
    path.write_text(json.dumps({"hosts": hosts}, indent=1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--size-mib", type=int, default=1024, help="approximate ISO size (rootfs of zeros)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", help="where the ISO and outputs go (default: a temporary directory)")
    ap.add_argument("--iso", help="use this live ISO instead of building one")
    args = ap.parse_args(argv)

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-embed-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.iso:
            iso = Path(args.iso)
        else:
            iso = work / "live.iso"
            if not iso.exists():
                sys.path.insert(0, str(REPO / "testdata"))
                import mkiso  # type: ignore[import-not-found]

                mkiso.build_iso(iso, "x86_64", rootfs_size=args.size_mib * 1024 * 1024)
                fill_rootfs(iso)
        dest = work / "dest.ign"
        dest.write_text(json.dumps({"ignition": {"version": "3.4.0"},
                                    "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-ed25519 A"]}]}}))
        hosts_n, hosts_1 = work / "hosts.yaml", work / "one.yaml"
        write_hosts(hosts_n, args.hosts)
        write_hosts(hosts_1, 1)
        size = iso.stat().st_size
        ignkit = [sys.executable, "-m", "ignkit", "embed", str(iso), "--dest-ignition", str(dest)]
        # Warm the page cache once, so the first timed run is not the only one reading from disk.
        timed(["cp", str(iso), str(work / "warm.iso")], work / "warm.iso")

        cp_t, cpn_t, t_n, t_1 = [], [], [], []
        many_cp = ("mkdir -p \"$2\" && i=0; while [ $i -lt $3 ]; do cp \"$1\" \"$2/$i.iso\"; i=$((i+1)); done")
        for _ in range(args.repeat):
            cp_t.append(timed(["cp", str(iso), str(work / "copy.iso")], work / "copy.iso"))
            cpn_t.append(timed(["sh", "-c", many_cp, "sh", str(iso), str(work / "cpn"), str(args.hosts)],
                               work / "cpn"))
            t_1.append(timed(ignkit + ["--hosts", str(hosts_1), "--output-dir", str(work / "out1")], work / "out1"))
            t_n.append(timed(ignkit + ["--hosts", str(hosts_n), "--output-dir", str(work / "outn")], work / "outn"))
        cp_s, cpn = statistics.median(cp_t), statistics.median(cpn_t)
        one, many = statistics.median(t_1), statistics.median(t_n)
        cp_each = cpn / args.hosts
        per_host = many / args.hosts
        marginal = (many - one) / (args.hosts - 1) if args.hosts > 1 else many
        n = args.hosts
        print(f"ISO: {size / 2**20:.0f} MiB, {n} hosts, median of {args.repeat} runs")
        print(f"cp of the ISO, once:                  {cp_s:8.3f} s")
        print(f"cp of the ISO, {n} times:              {cpn:8.3f} s   ({cp_each:.3f} s per copy)")
        print(f"ignkit embed --hosts, 1 host:         {one:8.3f} s")
        print(f"ignkit embed --hosts, {n} hosts:       {many:8.3f} s")
        print(f"per host (total / {n}):               {per_host:8.3f} s   ratio to one cp {per_host / cp_each:5.2f} "
              f"(to a lone cp {per_host / cp_s:5.2f})")
        print(f"each further host ((t{n} - t1) / {n - 1}): {marginal:8.3f} s   ratio to one cp "
              f"{marginal / cp_each:5.2f} (to a lone cp {marginal / cp_s:5.2f})")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
