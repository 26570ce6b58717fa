#!/usr/bin/env python3
"""Benchmark ``ignkit butane`` against upstream ``butane`` (the Go binary) on the same document.

A generated Butane document (fcos 1.5.0) with 3000 files whose contents are local files under a files
directory (mixed sizes: text that gzip shrinks, random bytes that it does not, tiny files that stay
percent-encoded), 100 inline files, 100 units and a tree. Both tools run it as processes, start-up
included; prints the median wall and CPU times and the ratio (target: ignkit <= 1.5x butane). The two
outputs are checked to be equal as data first.

Usage: python3 bench/bench_butane.py [--runs N] [--butane PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUTANE = Path(os.environ.get("IGNKIT_SHARED", ROOT.parent / "shared")) / "oracles" / "butane"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
CPU: dict[str, float] = {}


def make_tree(base: Path, files: int = 3000) -> Path:
    rnd = random.Random(7)
    d = base / "files"
    words = ["alpha", "beta", "gamma", "delta", "node", "worker", "value", "option", "=", "#", "\n"]
    lines = []
    for i in range(files):
        rel = f"dir{i % 40}/file{i}.conf"
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        kind = i % 3
        if kind == 0:
            p.write_text(" ".join(rnd.choice(words) for _ in range(rnd.randint(50, 400))))
        elif kind == 1:
            p.write_bytes(rnd.randbytes(rnd.randint(16, 600)))
        else:
            p.write_text(f"host{i}\n")
        lines.append(f"    - path: /etc/bench/{rel}\n      mode: 0644\n      contents:\n        local: {rel}\n")
    for i in range(100):
        lines.append(f"    - path: /etc/bench/inline{i}\n      contents:\n        inline: |\n"
                     f"          setting{i} = {'x' * (i % 50)}\n          other = {i}\n")
    tree = d / "tree"
    for i in range(30):
        (tree / f"sub{i % 3}").mkdir(parents=True, exist_ok=True)
        (tree / f"sub{i % 3}" / f"t{i}").write_text(f"tree file {i}\n" * (i + 1))
    units = []
    for u in range(100):
        units.append(f"    - name: bench-{u}.service\n      enabled: true\n      contents: |\n"
                     f"        [Service]\n        ExecStart=/usr/bin/echo {u}\n        [Install]\n"
                     f"        WantedBy=multi-user.target\n")
    doc = ("variant: fcos\nversion: 1.5.0\nstorage:\n  trees:\n    - local: tree\n      path: /etc/tree\n"
           "  files:\n" + "".join(lines) + "systemd:\n  units:\n" + "".join(units))
    bu = base / "bench.bu"
    bu.write_text(doc)
    return bu


def timeit(cmd: list[str], runs: int) -> float:
    times, cpu = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        times.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode()[:300]}")
    CPU[" ".join(cmd)] = statistics.median(cpu)
    return statistics.median(times)


def _contents(cfg: dict) -> dict:  # type: ignore[type-arg]
    import base64
    import urllib.parse

    out = {}
    for f in cfg["storage"]["files"]:
        src = f["contents"]["source"]
        head, _, payload = src.partition(",")
        raw = base64.b64decode(payload) if head.endswith(";base64") else urllib.parse.unquote_to_bytes(payload)
        if f["contents"].get("compression") == "gzip":
            raw = gzip.decompress(raw)
        out[f["path"]] = raw
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--butane", default=str(DEFAULT_BUTANE))
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        ENV["PYTHONPATH"] = str(ROOT) + os.pathsep + ENV.get("PYTHONPATH", "")
        bu = make_tree(Path(tmp))
        files_dir = str(Path(tmp) / "files")
        ours = [py, "-m", "ignkit", "butane", "-d", files_dir, str(bu)]
        theirs = [args.butane, "-d", files_dir, str(bu)]
        a = json.loads(subprocess.run(ours, capture_output=True, env=ENV, check=True).stdout)
        b = json.loads(subprocess.run(theirs, capture_output=True, check=True).stdout)
        same = _contents(a) == _contents(b) and a.get("systemd") == b.get("systemd")
        identical = a == b  # gzip data URLs included (ignkit writes Go's deflate bytes)
        size = sum(p.stat().st_size for p in Path(files_dir).rglob("*") if p.is_file())
        print(f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs; document {bu.stat().st_size / 1e3:.0f} kB, "
              f"3130 files ({size / 1e6:.2f} MB local), 100 units; outputs equal as data: {same}, "
              f"identical JSON (data URLs byte for byte): {identical}")
        t_ours = timeit(ours, args.runs)
        t_go = timeit(theirs, args.runs)
        print(f"  ignkit butane  {t_ours * 1000:8.1f} ms wall, {CPU[' '.join(ours)] * 1000:8.1f} ms CPU "
              f"(medians of {args.runs}, start-up included)")
        print(f"  butane (Go)    {t_go * 1000:8.1f} ms wall, {CPU[' '.join(theirs)] * 1000:8.1f} ms CPU")
        print(f"  ratio ignkit/butane = {t_ours / t_go:.2f} wall, "
              f"{CPU[' '.join(ours)] / CPU[' '.join(theirs)]:.2f} CPU (target <= 1.5)")
        return 0 if same and identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
