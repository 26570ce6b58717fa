#!/usr/bin/env python3
"""Benchmark ``ignkit embed --hosts HOSTS.yaml --one-image``: build time and Ignition-area use by host count.

Uses coreos-installer's fixture ISO (testdata/upstream/coreos-installer/iso/embed-areas-2023-07.x86_64.iso.xz,
256 KiB Ignition area) and writes inventories of N hosts in the short form (MAC, static address, gateway,
DNS, install device, serial console, a karg). For each N it measures, in the same run:

* ``cp ISO out.iso`` (median of --repeat runs): the reference;
* ``ignkit embed ISO --hosts hosts.yaml --one-image -o out.iso --dest-ignition dest.ign --grow-area``
  as a subprocess, start-up included (median of --repeat runs), printed also as a ratio to cp;
* the compressed size of the one-image config (total, per host, % of the 256 KiB area);

then how many of the 1000 hosts fit the 256 KiB area without --grow-area.

    python3 bench/bench_oneimage.py [--counts 1,10,100,1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import lzma
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "testdata/upstream/coreos-installer/iso/embed-areas-2023-07.x86_64.iso.xz"
DEST = REPO / "testdata/upstream/coreos-installer/customize/dest.ign"


def inventory(n: int) -> str:
    lines = ["hosts:"]
    for i in range(n):
        mac = f"52:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
        ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{(i & 255) or 254}/16"
        lines += [f"  - hostname: worker-{i}.rack1.example.com", f"    mac: {mac}", f"    ip: {ip}",
                  "    gateway: 10.0.0.1", "    dns: 10.0.0.53", "    install_dev: /dev/nvme0n1",
                  "    console: ttyS0,115200n8", "    kargs: nosmt"]
    return "\n".join(lines) + "\n"


def timed(cmd: list[str], out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    out.unlink()
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--counts", default="1,10,100,1000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from ignkit.inventory import load_inventory
    from ignkit.live.customize import CustomizeOptions
    from ignkit.live.image import open_iso
    from ignkit.live.initramfs import build_initrd
    from ignkit.live.oneimage import compose_one_image, hosts_that_fit

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        iso = work / "live.iso"
        iso.write_bytes(lzma.decompress(FIXTURE.read_bytes()))
        live = open_iso(iso)
        area = live.ignition_area.length
        out = work / "out.iso"
        cp = statistics.median(timed(["cp", str(iso), str(out)], out) for _ in range(args.repeat))
        print(f"ISO {iso.stat().st_size} bytes, Ignition area {area} bytes; cp: {cp * 1000:.1f} ms")
        print(f"{'hosts':>6} {'embed ms':>10} {'x cp':>8} {'compressed':>11} {'per host':>9} {'% area':>8}")
        last = None
        for n in [int(c) for c in args.counts.split(",")]:
            hosts_file = work / f"hosts-{n}.yaml"
            hosts_file.write_text(inventory(n))
            cmd = [sys.executable, "-m", "ignkit", "embed", str(iso), "--hosts", str(hosts_file), "--one-image",
                   "-o", str(out), "--dest-ignition", str(DEST), "--grow-area"]
            t = statistics.median(timed(cmd, out) for _ in range(args.repeat))
            hosts = load_inventory(hosts_file)
            one = compose_one_image(CustomizeOptions(dest_ignition=[DEST]), hosts, live.features)
            size = len(build_initrd(one.result.members))
            print(f"{n:>6} {t * 1000:>10.0f} {t / cp:>8.1f} {size:>11} {size / n:>9.0f} {100.0 * size / area:>7.1f}%")
            last = one
        if last is not None:
            fit = hosts_that_fit(last, area)
            print(f"hosts that fit the {area}-byte area (of {len(last.hosts)}): {fit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
