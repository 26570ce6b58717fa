#!/usr/bin/env python3
"""Benchmark ``ignkit hash`` against ``sha512sum`` on the same 1 GiB file, in the same run.

Usage: python3 bench/bench_hash.py [--size-mib N] [--runs N] [--dir DIR]

Creates a file of random bytes (default 1 GiB) in DIR (default: a temporary directory), warms the page
cache, then times both commands alternately and prints the best times, the ratio sha512sum/ignkit
(> 1 means ignkit is faster), and ignkit's peak RSS (which must stay flat: it streams).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def _time(cmd: list[str]) -> tuple[float, str, int]:
    """Run ``cmd``; return (wall seconds, stdout, peak RSS of that child in KiB)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed with status {proc.returncode}")
        out.seek(0)
        return elapsed, out.read().decode(), int(usage.ru_maxrss)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-hash-") as d:
        path = os.path.join(d, "big.bin")
        chunk = os.urandom(1024 * 1024)
        with open(path, "wb") as f:
            for i in range(args.size_mib):
                # Vary each MiB a little so nothing can dedupe or short-cut.
                f.write(i.to_bytes(8, "little") + chunk[8:])
        subprocess.run(["cat", path], check=True, stdout=subprocess.DEVNULL)  # warm the page cache

        ignkit_cmd = [sys.executable, "-m", "ignkit", "hash", path]
        ref_cmd = ["sha512sum", path]
        ig_times: list[float] = []
        ref_times: list[float] = []
        ig_out = ref_out = ""
        peak_kib = 0
        for _ in range(args.runs):
            t, ig_out, rss = _time(ignkit_cmd)
            ig_times.append(t)
            peak_kib = max(peak_kib, rss)
            t, ref_out, _ = _time(ref_cmd)
            ref_times.append(t)

    ig_hex = ig_out.strip().split("-", 1)[1]
    ref_hex = ref_out.split()[0]
    if ig_hex != ref_hex:
        print(f"MISMATCH: ignkit {ig_hex} != sha512sum {ref_hex}", file=sys.stderr)
        return 1
    best_ig, best_ref = min(ig_times), min(ref_times)
    print(f"file: {args.size_mib} MiB, runs: {args.runs}, digests agree")
    print(f"sha512sum   best {best_ref:.3f} s  ({args.size_mib / best_ref:.0f} MiB/s)")
    print(f"ignkit hash best {best_ig:.3f} s  ({args.size_mib / best_ig:.0f} MiB/s)")
    print(f"ratio sha512sum/ignkit = {best_ref / best_ig:.2f}  (> 1: ignkit faster)")
    print(f"ignkit peak RSS: {peak_kib / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
