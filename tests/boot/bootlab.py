"""Shared machinery of the boot suite: paths, ignkit runs, once-only artifacts and the two-worker boot pool."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import bootlib

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BOOTISO = REPO / "testdata" / "bootiso"
BUILD = REPO / "testdata" / "build"

TOOLS = ["xorriso", "qemu-system-x86_64", "qemu-system-aarch64", "grub-mkimage", "mkfs.vfat", "mmd", "mcopy",
         "isohybrid", "apt-get", "apt-cache", "dpkg-deb", "nginx"]
FIRMWARE = [bootlib.OVMF_CODE, bootlib.OVMF_VARS, bootlib.AAVMF_CODE, bootlib.AAVMF_VARS]


TOOLS = ["xorriso", "qemu-system-x86_64", "qemu-system-aarch64", "grub-mkimage", "mkfs.vfat", "mmd", "mcopy",
         "isohybrid", "apt-get", "apt-cache", "dpkg-deb", "nginx"]
FIRMWARE = [bootlib.OVMF_CODE, bootlib.OVMF_VARS, bootlib.AAVMF_CODE, bootlib.AAVMF_VARS]


def load_build_module() -> Any:
    spec = importlib.util.spec_from_file_location("bootiso_build", BOOTISO / "build.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def missing_tools() -> list[str]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    missing += [str(f) for f in FIRMWARE if not f.is_file()]
    return missing


class IgnkitMissing(Exception):
    """An ignkit command or option the test needs does not exist (yet)."""


class IgnkitFailed(AssertionError):
    pass


def ignkit(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m ignkit ARGS`` from the repository; raise if it fails."""
    cmd = [sys.executable, "-m", "ignkit", *args]
    proc = subprocess.run(cmd, cwd=REPO, input=stdin, capture_output=True, timeout=300)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        if ("No such command" in err or "No such option" in err or "ModuleNotFoundError" in err
                or "ImportError" in err):
            raise IgnkitMissing(f"`ignkit {' '.join(args[:3])}` is not available yet: {err.splitlines()[-1]}")
        raise IgnkitFailed(f"ignkit {' '.join(args)} exited {proc.returncode}: {err}")
    return proc


class Lab:
    """Once-only artifacts and a two-worker pool of boot cases."""

    def __init__(self, workdir: Path, workers: int = 2) -> None:
        self.workdir = workdir
        self.build_mod = load_build_module()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="boot")
        self._lock = threading.Lock()
        self._artifacts: dict[str, Future] = {}
        self._cases: dict[str, Future] = {}
        self._build_lock = threading.Lock()
        self.cleanups: list[Callable[[], None]] = []  # run by close(), last first (e.g. stop a server)

    # -- artifacts: computed once, in the calling thread, others wait for them
    def artifact(self, name: str, fn: Callable[[], Any]) -> Any:
        with self._lock:
            fut = self._artifacts.get(name)
            owner = fut is None
            if owner:
                fut = Future()
                self._artifacts[name] = fut
        assert fut is not None
        if owner:
            try:
                fut.set_result(fn())
            except BaseException as e:  # noqa: BLE001 - handed to every waiter
                fut.set_exception(e)
        return fut.result()

    def build(self, arch: str) -> dict:
        """The Debian-parts ISO for ``arch`` (cached under testdata/build/bootiso/<arch>)."""
        def do() -> dict:
            with self._build_lock:  # one apt-get download at a time
                m = self.build_mod.build(arch, BUILD / "bootiso" / arch, BUILD / "debs")
            m = dict(m)
            m["dir"] = BUILD / "bootiso" / arch
            m["path"] = m["dir"] / m["iso"]
            return m
        return self.artifact(f"build-{arch}", do)

    # -- boot cases
    def submit(self, name: str) -> Future:
        import cases

        with self._lock:
            fut = self._cases.get(name)
            if fut is None:
                fn = cases.CASES[name]
                fut = self.pool.submit(fn, self)
                self._cases[name] = fut
        return fut

    def result(self, name: str) -> Any:
        """The BootReport of case ``name`` (re-raises what the case raised, e.g. IgnkitMissing, BootTimeout)."""
        return self.submit(name).result()

    def close(self) -> None:
        for fut in self._cases.values():
            fut.cancel()
        self.pool.shutdown(wait=True)
        for fn in reversed(self.cleanups):
            fn()


