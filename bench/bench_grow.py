#!/usr/bin/env python3
"""Benchmark embedding a config larger than the Ignition area (``--grow-area``) on a generated 1 GiB ISO.

Builds a CoreOS-layout live ISO of about 1 GiB (testdata/mkiso.py, rootfs of incompressible bytes) and a
small one, and a config whose compressed archive is about 2.5 MiB, then times in the same run (median of
--repeat runs, each a subprocess with start-up included):

* ``cp ISO copy.iso``: the reference for a copy;
* ``ignkit iso ignition embed --grow-area -i big.ign ISO -o OUT``: ratio to cp (goal: within 1.1x);
* ``... --in-place`` on the 1 GiB ISO and on the small ISO, then ``iso reset --in-place`` (which gives back
  the original bytes, checked): the in-place times must not grow with the ISO size (ratio 1 GiB / small);
* ``ignkit pxe ignition wrap -i big.ign``: the same xz compression of the config with no ISO at all. It
  costs the same whatever the ISO (coreos-installer pays it too); the copy's own cost is the embed time
  minus this, compared with cp.

    python3 bench/bench_grow.py [--size-mib 1024] [--repeat 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    return time.perf_counter() - start


def build(path: Path, size_mib: int) -> None:
    spec = importlib.util.spec_from_file_location("mkiso", REPO / "testdata" / "mkiso.py")
    assert spec and spec.loader
    mkiso = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mkiso)
    mkiso.build_iso(path, "x86_64", rootfs_size=size_mib * 1024 * 1024)


def sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", help="where the ISOs and outputs go (default: a temporary directory)")
    args = ap.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-grow-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        big_iso, small_iso = work / "big.iso", work / "small.iso"
        if not big_iso.exists():
            build(big_iso, args.size_mib)
        if not small_iso.exists():
            build(small_iso, 0)
        blob = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(2560 * 1024 // 32))
        config = work / "big.ign"
        config.write_text(json.dumps({"ignition": {"version": "3.3.0"}, "storage": {"files": [
            {"path": "/big", "contents": {"source": "data:;base64," + base64.b64encode(blob).decode()}}]}}))
        ig = [sys.executable, "-m", "ignkit", "iso", "ignition", "embed", "--grow-area", "-i", str(config)]
        reset = [sys.executable, "-m", "ignkit", "iso", "reset", "--in-place"]
        out = work / "out.iso"
        timed(["cp", str(big_iso), str(work / "warm.iso")])  # warm the page cache
        (work / "warm.iso").unlink()
        cp_t, copy_t, inplace_big, inplace_small, reset_big, wrap_t = [], [], [], [], [], []
        wrap = [sys.executable, "-m", "ignkit", "pxe", "ignition", "wrap", "-i", str(config), "-o", str(work / "w.img")]
        pristine = {p: sha(p) for p in (big_iso, small_iso)}
        for _ in range(args.repeat):
            cp_t.append(timed(["cp", str(big_iso), str(out)]))
            out.unlink()
            copy_t.append(timed(ig + [str(big_iso), "-o", str(out)]))
            out.unlink()
            inplace_big.append(timed(ig + ["--in-place", str(big_iso)]))
            reset_big.append(timed(reset + [str(big_iso)]))
            inplace_small.append(timed(ig + ["--in-place", str(small_iso)]))
            timed(reset + [str(small_iso)])
            wrap_t.append(timed(wrap))
        for p, digest in pristine.items():
            if sha(p) != digest:
                raise SystemExit(f"{p}: reset did not give back the original bytes")
        cp_s, cp_ig = statistics.median(cp_t), statistics.median(copy_t)
        ib, ism, rb = statistics.median(inplace_big), statistics.median(inplace_small), statistics.median(reset_big)
        wr = statistics.median(wrap_t)
        print(f"ISO: {big_iso.stat().st_size / 2**20:.0f} MiB (small: {small_iso.stat().st_size / 2**20:.1f} MiB), "
              f"config {config.stat().st_size / 2**20:.1f} MiB, median of {args.repeat} runs")
        print(f"cp ISO OUT:                          {cp_s:.3f} s")
        print(f"embed --grow-area -o OUT:            {cp_ig:.3f} s  = {cp_ig / cp_s:.2f}x cp (goal <= 1.10)")
        print(f"  xz of the config alone (pxe ignition wrap): {wr:.3f} s; embed minus that: {cp_ig - wr:.3f} s "
              f"= {(cp_ig - wr) / cp_s:.2f}x cp")
        print(f"embed --grow-area --in-place, 1 GiB: {ib:.3f} s")
        print(f"embed --grow-area --in-place, small: {ism:.3f} s  -> 1 GiB / small = {ib / ism:.2f} "
              "(size independent: ~1)")
        print(f"iso reset --in-place (1 GiB, back to the original bytes): {rb:.3f} s")
        return 0
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
