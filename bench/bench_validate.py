#!/usr/bin/env python3
"""Benchmark ``ignkit validate`` against Debian's ``ignition-validate`` on the same files.

1. A generated 2.7 MB config (spec 3.3.0, which both tools accept) with 3000 files and 200 units:
   both tools run on it side by side; prints the median wall time of each and the ratio
   (target: ignkit no slower, ratio <= 1).
2. A small config: ``ignkit validate`` wall time including interpreter start-up, against
   ``python3 -c pass`` (target: under 0.1 s).

Usage: python3 bench/bench_validate.py [--runs N]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = "3.3.0"


def big_config(target_bytes: int = 2_700_000, files: int = 3000, units: int = 200) -> dict:
    rnd = random.Random(42)
    per_file = (target_bytes - units * 330) // files - 130
    cfg: dict = {"ignition": {"version": SPEC}, "storage": {"files": [], "directories": []},
                 "systemd": {"units": []}, "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": [
                     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEKEY core@example"]}]}}
    for i in range(files):
        payload = base64.b64encode(rnd.randbytes(max(per_file * 3 // 4, 16))).decode()
        entry: dict = {"path": f"/etc/ignkit/bench/dir{i % 50}/file{i}.conf", "mode": 420,
                       "overwrite": True, "contents": {"source": f"data:;base64,{payload}"}}
        if i % 7 == 0:
            entry["user"] = {"name": "core"}
            entry["group"] = {"id": 1000}
        cfg["storage"]["files"].append(entry)
    for d in range(50):
        cfg["storage"]["directories"].append({"path": f"/etc/ignkit/bench/dir{d}", "mode": 493})
    for u in range(units):
        cfg["systemd"]["units"].append({
            "name": f"bench-{u}.service", "enabled": True,
            "contents": f"[Unit]\nDescription=bench unit {u}\nAfter=network-online.target\n\n"
                        f"[Service]\nType=oneshot\nExecStart=/usr/bin/echo {u}\nRemainAfterExit=yes\n\n"
                        "[Install]\nWantedBy=multi-user.target\n",
            "dropins": [{"name": "10-env.conf", "contents": f"[Service]\nEnvironment=N={u}\n"}],
        })
    return cfg


CPU: dict[str, float] = {}
# Measure what an installed ignkit does: byte-compiled modules. PYTHONDONTWRITEBYTECODE (set in some
# CI/dev shells) would make every run recompile ignkit's sources; the cache goes to a temporary prefix
# so the source tree stays clean.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timeit(cmd: list[str], runs: int, expect_rc: int = 0) -> float:
    """Median wall time of ``runs`` runs; the median CPU time (user+sys) goes to ``CPU[cmd]``."""
    times = []
    cpu = []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        times.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        if p.returncode != expect_rc:
            raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode()[:300]}")
    CPU[" ".join(cmd)] = statistics.median(cpu)
    return statistics.median(times)


def cpu(cmd: list[str]) -> float:
    return CPU[" ".join(cmd)]


def import_times(cmd: list[str], runs: int = 5) -> dict[str, int]:
    """Cumulative import time (us) per module, the minimum over ``runs`` runs of ``-X importtime``."""
    best: dict[str, int] = {}
    for _ in range(runs):
        p = subprocess.run([cmd[0], "-X", "importtime"] + cmd[1:], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=ENV, text=True)
        for line in p.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[1].strip().isdigit():
                name = parts[2].strip()
                best[name] = min(best.get(name, 1 << 62), int(parts[1]))
    return best


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    py = sys.executable
    ignkit = [py, "-m", "ignkit", "validate"]
    oracle = shutil.which("ignition-validate")
    env_note = f"python {sys.version.split()[0]} ({py}), {os.cpu_count()} CPUs"
    with tempfile.TemporaryDirectory() as tmp:
        ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        big = Path(tmp) / "big.ign"
        big.write_text(json.dumps(big_config()))
        small = Path(tmp) / "small.ign"
        small.write_text(json.dumps({"ignition": {"version": SPEC}, "storage": {"files": [
            {"path": "/etc/hostname", "mode": 420, "contents": {"source": "data:,node1"}}]}}))
        print(f"# {env_note}; bytecode cached under a temporary PYTHONPYCACHEPREFIX (warm-up run first)")
        timeit(ignkit + [str(small)], 1)  # warm-up: writes the bytecode cache
        print(f"big config: {big.stat().st_size / 1e6:.2f} MB, 3000 files, 200 units (spec {SPEC})")
        big_ign = ignkit + [str(big)]
        t_ign = timeit(big_ign, args.runs)
        print(f"  ignkit validate            {t_ign * 1000:8.1f} ms wall, {cpu(big_ign) * 1000:8.1f} ms CPU "
              f"(medians of {args.runs})")
        if oracle:
            big_go = [oracle, str(big)]
            t_go = timeit(big_go, args.runs)
            print(f"  ignition-validate (Debian) {t_go * 1000:8.1f} ms wall, {cpu(big_go) * 1000:8.1f} ms CPU")
            print(f"  ratio ignkit/ignition-validate = {t_ign / t_go:.2f} wall, "
                  f"{cpu(big_ign) / cpu(big_go):.2f} CPU (target <= 1.00)")
        else:
            print("  ignition-validate not installed: no ratio")
        small_ign = ignkit + [str(small)]
        passcmd = [py, "-c", "pass"]
        t_small = timeit(small_ign, args.runs * 2)
        t_pass = timeit(passcmd, args.runs * 2)
        print(f"small config: ignkit validate {t_small * 1000:.1f} ms wall / {cpu(small_ign) * 1000:.1f} ms CPU "
              f"incl. start-up (target < 100 ms)")
        print(f"              python3 -c pass {t_pass * 1000:.1f} ms wall / {cpu(passcmd) * 1000:.1f} ms CPU; "
              f"ratio {t_small / t_pass:.2f} wall, {cpu(small_ign) / cpu(passcmd):.2f} CPU")
        if oracle:
            t_go_small = timeit([oracle, str(small)], args.runs * 2)
            print(f"              ignition-validate {t_go_small * 1000:.1f} ms wall")
        imports = import_times(ignkit + [str(small)])
        heavy = [m for m in ("jsonschema", "yaml", "requests", "cryptography", "pycdlib") if m in imports]
        ms = {name: imports.get(name, 0) / 1000 for name in ("ignkit.ignition.validate", "click", "ignkit.cli")}
        print(f"import times (-X importtime, cumulative): ignkit.ignition.validate "
              f"{ms['ignkit.ignition.validate']:.1f} ms, click {ms['click']:.1f} ms, "
              f"ignkit.cli {ms['ignkit.cli']:.1f} ms; heavy modules imported: {heavy or 'none'}")
        print(f"load average at the end: {os.getloadavg()[0]:.2f} (figures are only meaningful when idle)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
