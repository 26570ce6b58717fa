"""Run ``ignkit serve`` as a real process on 127.0.0.1 (a free port) for a test, and stop it afterwards."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from conftest import REPO


class Served:
    """A running ``ignkit serve``: ``url`` (``http://127.0.0.1:PORT``), its stderr so far via :meth:`log`."""

    def __init__(self, args: list[Any], timeout: float = 60, prefix: tuple[str, ...] = ()) -> None:
        self._err = tempfile.NamedTemporaryFile(prefix="ignkit-serve-", suffix=".log", delete=False)
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen([*prefix, sys.executable, "-m", "ignkit", "serve", "--listen", "127.0.0.1:0",
                                      *map(str, args)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._err, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(r"listening on (https?://127\.0\.0\.1:\d+)/", self.log())
            if m:
                self.url = m.group(1)
                self.port = int(self.url.rsplit(":", 1)[1])
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ignkit serve did not start:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        return Path(self._err.name).read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM to the whole process group (a wrapper such as strace and the server under it), then wait."""
        pgid = self.proc.pid  # start_new_session: the group is the process's own
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _group_alive(pgid):
                self.proc.poll()
                time.sleep(0.05)
            if not _group_alive(pgid):
                break
        self.proc.wait()
        self._err.close()

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        os.unlink(self._err.name)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # Zombies still count for killpg: look for a live member.
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def start_fails(args: list[Any]) -> subprocess.CompletedProcess[bytes]:
    """Run ``ignkit serve`` expecting a start-up refusal (it must exit on its own)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "ignkit", "serve", "--listen", "127.0.0.1:0", *map(str, args)],
                          capture_output=True, stdin=subprocess.DEVNULL, env=env, timeout=60)
