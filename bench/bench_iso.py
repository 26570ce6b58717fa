#!/usr/bin/env python3
"""Live ISO engine speed and memory on a generated 1 GiB ISO, measured side by side with reference commands.

Prints ratios (ours / reference) for:
  - ``iso ignition embed -o OUT`` against ``cp ISO OUT`` (the same bytes moved),
  - ``--in-place`` on the 1 GiB ISO against ``--in-place`` on the small ISO (size independence),
  - ``-o -`` into a pipe against ``cat ISO`` into the same kind of pipe,
  - peak RSS of each ignkit child against the 64 MiB budget (resource.getrusage of the child).

    python3 bench/bench_iso.py [--size-mib 1024] [--dir DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHILD = r"""
import resource, subprocess, sys, time
t = time.perf_counter()
shell = sys.argv[1] == "sh"
cmd = sys.argv[2] if shell else sys.argv[1:]
subprocess.run(cmd, shell=shell, check=True, stdout=subprocess.DEVNULL if not shell else None)
dt = time.perf_counter() - t
print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def load_mkiso():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("mkiso", REPO / "testdata" / "mkiso.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def measure(cmd: list[str] | str) -> tuple[float, int]:
    """(seconds, peak RSS in KiB of the measured command's process tree's largest child)."""
    args = [sys.executable, "-c", CHILD] + (["sh", cmd] if isinstance(cmd, str) else cmd)
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()
    return float(out[-2]), int(out[-1])


def library_in_place(path: Path, runs: int) -> float:
    """Median seconds for open_iso + a kargs edit + write_iso(in_place=True), in this process."""
    sys.path.insert(0, str(REPO))
    from ignkit.live import open_iso, write_iso

    times = []
    for i in range(runs):
        t = time.perf_counter()
        iso = open_iso(path)
        if i == runs - 1:
            iso.reset_kargs()
        else:
            iso.modify_kargs(append=[f"bench={i}"])
        write_iso(iso, in_place=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def interleaved(runs: int, jobs: list) -> list[tuple[float, int, float, int]]:  # type: ignore[type-arg]
    """For each (reference, ours, before) job: median seconds and peak RSS of both, run alternately."""
    results = []
    for ref, ours, before in jobs:
        rt, ot, rr, orss = [], [], 0, 0
        for _ in range(runs):
            for cmd, times, is_ref in ((ref, rt, True), (ours, ot, False)):
                if before:
                    before()
                t, r = measure(cmd)
                times.append(t)
                if is_ref:
                    rr = max(rr, r)
                else:
                    orss = max(orss, r)
        results.append((statistics.median(rt), rr, statistics.median(ot), orss))
    return results


def library_copy_vs_cp(big: Path, out: Path, runs: int) -> tuple[float, float]:
    """Median seconds of write_iso(output=...) in this process and of cp, alternating."""
    sys.path.insert(0, str(REPO))
    from ignkit.live import open_iso, write_iso

    ours, ref = [], []
    for _ in range(runs):
        for target, is_ref in ((ref, True), (ours, False)):
            if out.exists():
                out.unlink()
            os.sync()
            t = time.perf_counter()
            if is_ref:
                subprocess.run(["cp", str(big), str(out)], check=True)
            else:
                iso = open_iso(big)
                iso.embed_ignition(b"{}", force=True)
                write_iso(iso, output=str(out))
            target.append(time.perf_counter() - t)
    if out.exists():
        out.unlink()
    return statistics.median(ours), statistics.median(ref)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--dir", default=None, help="scratch directory (default: a temporary one)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    mkiso = load_mkiso()
    scratch = Path(tempfile.mkdtemp(prefix="bench-iso.", dir=args.dir))
    ignkit = [sys.executable, "-m", "ignkit"]
    try:
        big = scratch / "big.iso"
        small = scratch / "small.iso"
        t = time.perf_counter()
        mkiso.build_iso(big, "x86_64", rootfs_size=args.size_mib * 1024 * 1024)
        mkiso.build_iso(small, "x86_64")
        os.sync()  # measure steady state, not the write-back of the freshly generated image
        print(f"generated {big.stat().st_size / 2**20:.0f} MiB ISO in {time.perf_counter() - t:.1f} s "
              f"(+ {small.stat().st_size // 1024} KiB ISO)")
        cfg = scratch / "config.ign"
        cfg.write_text('{"ignition":{"version":"3.4.0"}}\n')
        out = scratch / "out.iso"

        def rm_out() -> None:
            if out.exists():
                out.unlink()
            os.sync()

        # warm the page cache once
        subprocess.run(["cat", str(big)], stdout=subprocess.DEVNULL, check=True)
        embed_o = ignkit + ["iso", "ignition", "embed", "-f", "-i", str(cfg), "-o", str(out), str(big)]
        modify = ignkit + ["iso", "kargs", "modify", "-a", "x=1", "-d", "x=1", "--in-place"]
        pipe_cmd = " ".join(ignkit + ["iso", "ignition", "embed", "-f", "-i", str(cfg), "-o", "-", str(big)])
        # reference and ours alternate, run after run, so both see the same machine load
        pairs = interleaved(args.runs, [
            (["cp", str(big), str(out)], embed_o, rm_out),
            (modify + [str(small)], modify + [str(big)], None),
            (f"cat {big} | cat > /dev/null", f"{pipe_cmd} | cat > /dev/null", None),
            (ignkit + ["--version"], modify + [str(big)], None),
        ])
        (cp_t, cp_rss, o_t, o_rss), (ip_small_t, _, ip_big_t, ip_rss), (cat_t, cat_rss, pipe_t, pipe_rss), \
            (startup_t, _, _, _) = pairs
        rm_out()
        lib_o, lib_cp = library_copy_vs_cp(big, out, args.runs)
        lib_big = library_in_place(big, args.runs)
        lib_small = library_in_place(small, args.runs)

        print(f"{'measure':<52} {'ours':>8} {'reference':>10} {'ratio':>7}")
        print(f"{'-o OUT vs cp, big ISO':<52} {o_t:8.2f} {cp_t:10.2f} {o_t / cp_t:7.2f}")
        print(f"{'library write_iso -o OUT vs cp, big ISO':<52} {lib_o:8.2f} {lib_cp:10.2f} {lib_o / lib_cp:7.2f}")
        print(f"{'--in-place CLI: big vs small ISO':<52} {ip_big_t:8.2f} {ip_small_t:10.2f} "
              f"{ip_big_t / ip_small_t:7.2f}")
        print(f"{'--in-place vs bare interpreter start':<52} {ip_big_t:8.2f} {startup_t:10.2f} "
              f"{ip_big_t / startup_t:7.2f}")
        print(f"{'library in place (open+edit+write): big vs small':<52} {lib_big:8.3f} {lib_small:10.3f} "
              f"{lib_big / lib_small:7.2f}")
        print(f"{'-o - | cat vs cat ISO | cat':<52} {pipe_t:8.2f} {cat_t:10.2f} {pipe_t / cat_t:7.2f}")
        peak = max(o_rss, ip_rss, pipe_rss) / 1024
        print(f"{'peak RSS MiB (ignkit, any mode) vs 64 MiB':<52} {peak:8.1f} {64:10d} {peak / 64:7.2f}")
        print(f"(peak RSS of cp: {cp_rss / 1024:.1f} MiB; in-place {ip_rss / 1024:.1f}, -o {o_rss / 1024:.1f}, "
              f"-o - {pipe_rss / 1024:.1f})")
        print(f"(every CLI time includes starting the Python interpreter: {startup_t:.2f} s for `ignkit --version`)")
        ok = (lib_o <= lib_cp * 1.1 and o_t <= cp_t + startup_t and lib_big < 0.2
              and ip_big_t < ip_small_t * 1.5 + 0.05 and pipe_t <= cat_t * 1.2 + startup_t and peak < 64)
        print("verdict:", "OK" if ok else "OUT OF BUDGET")
        return 0 if ok else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(REPO))
    sys.exit(main())
