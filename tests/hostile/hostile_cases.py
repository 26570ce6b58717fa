"""Helpers of the hostile-input suite (tests/hostile): a refusal is fast, one line, exit 1 or 2, leaves nothing.

Every case runs the real CLI as a process (``python -m ignkit``) in a scratch directory holding its inputs,
and asserts, through :func:`assert_refused`:

* the exit status is 1 or 2 and stderr is exactly one line starting ``ignkit: error:`` (never an internal
  error, never a traceback);
* nothing reached stdout (a refusal of ``-o -`` writes no partial image);
* every input's sha256 is unchanged, and the scratch directory holds exactly the files it held before (no
  output, no temporary file);
* the process finished within ``limit`` seconds (the subprocess is killed past twice that).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Optional

import pytest
from conftest import REPO, TESTDATA, load_script

mkiso = load_script(TESTDATA / "mkiso.py", "ignkit_hostile_mkiso")

#: Default wall-clock limit for one refusal (process start-up included; the machine is shared).
LIMIT = 8.0


def tree(root: Path) -> dict[str, str]:
    """Every file below ``root`` (relative path → sha256; symlinks and FIFOs by kind)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "special"
    return out


def assert_refused(args: Sequence[object], cwd: Path, *, stdin: Optional[bytes] = b"", limit: float = LIMIT,
                   watch: Iterable[Path] = (), expect: Optional[str] = None, stdin_file: Optional[Path] = None,
                   stdout_closed: bool = False, stdin_tty: bool = False,
                   env: Optional[dict[str, str]] = None) -> str:
    """Run ``ignkit ARGS`` in ``cwd`` and assert it refused cleanly (see the module docstring); return the message.

    ``watch`` lists more directories (outside ``cwd``) that must not change. ``expect`` must occur in the message.
    ``stdin_tty`` gives the process a pseudo-terminal as standard input; ``stdout_closed`` runs it with ``>&-``.
    """
    roots = [Path(cwd), *map(Path, watch)]
    before = [tree(r) for r in roots]
    extra_env = env
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("IGNKIT_DEBUG", None)
    env.update(extra_env or {})
    start = time.monotonic()
    kwargs: dict[str, object] = {}
    tty_fds: tuple[int, int] | None = None
    if stdin_tty:
        tty_fds = os.openpty()
        kwargs["stdin"] = tty_fds[1]
    elif stdin_file is not None:
        kwargs["stdin"] = open(stdin_file, "rb")  # noqa: SIM115 - closed below
    else:
        kwargs["input"] = stdin
    if stdout_closed:
        # The child's stdout is closed (`>&-`), as a shell does it.
        argv = ["/bin/sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "ignkit", *map(str, args)]
        kwargs["stdout"] = subprocess.DEVNULL
        kwargs["stderr"] = subprocess.PIPE
    else:
        argv = [sys.executable, "-m", "ignkit", *map(str, args)]
        kwargs["capture_output"] = True
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, timeout=2 * limit + 5, **kwargs)  # type: ignore[call-overload]
    except subprocess.TimeoutExpired:
        pytest.fail(f"ignkit {' '.join(map(str, args))}: still running after {2 * limit + 5:.0f} s")
    finally:
        if tty_fds is not None:
            os.close(tty_fds[0])
            os.close(tty_fds[1])
        elif stdin_file is not None:
            kwargs["stdin"].close()  # type: ignore[union-attr]
    elapsed = time.monotonic() - start
    err = proc.stderr.decode(errors="replace")
    lines = err.splitlines()
    assert proc.returncode in (1, 2), f"exit {proc.returncode}, stderr {err!r}"
    assert len(lines) == 1 and lines[0].startswith("ignkit: error: "), f"stderr {err!r}"
    assert "internal error" not in lines[0] and "Traceback" not in err, lines[0]
    if not stdout_closed:
        assert proc.stdout == b"", f"{len(proc.stdout)} bytes on stdout"
    after = [tree(r) for r in roots]
    for r, b, a in zip(roots, before, after):
        assert a == b, f"{r} changed: added {sorted(set(a) - set(b))}, " \
                       f"changed {sorted(k for k in b if k in a and a[k] != b[k])}, removed {sorted(set(b) - set(a))}"
    assert elapsed < limit, f"took {elapsed:.1f} s (limit {limit} s): {lines[0]}"
    if expect is not None:
        assert expect in lines[0], lines[0]
    return lines[0]


# --- inputs built once per session ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def iso_x86(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pristine x86_64 live ISO from testdata/mkiso.py (read-only: tests copy it)."""
    path = tmp_path_factory.mktemp("hostile-iso") / "mini.iso"
    mkiso.build_iso(path, "x86_64")
    path.chmod(0o444)
    return path


def build_iso(path: Path, overrides: dict[str, Optional[bytes]], arch: str = "x86_64") -> Path:
    """An ISO from testdata/mkiso.py with files replaced (ISO path → bytes, or None to leave one out)."""
    mkiso.build_iso(path, arch, overrides=overrides)
    return path


def live_initramfs(path: Path, extra: Optional[dict[str, bytes]] = None) -> Path:
    """A small CoreOS live initramfs (gzip cpio) with the stamp and features.json ignkit looks for."""
    from ignkit.initrd import build_cpio

    files = {"etc/coreos-live-initramfs": b"36.20220909.dev.0\n",
             "etc/coreos/features.json": json.dumps({"installer-config": True, "live-initrd-network": True,
                                                     "installer-config-directives": {"console": True}}).encode()}
    files.update(extra or {})
    data = gzip.compress(build_cpio(files), mtime=0)
    path.write_bytes(data + bytes(-len(data) % 4))
    return path


CONFIG = b'{"ignition":{"version":"3.4.0"}}\n'

HOSTS = """\
hosts:
  - hostname: worker-0
    mac: 52:54:00:00:00:10
    ip: 192.0.2.10/24
    gateway: 192.0.2.1
    install_dev: /dev/vda
"""


# --- crafted ISO layouts: byte patches of mkiso's output -------------------------------------------------------


def _records(data: bytes, iso_name: bytes) -> list[int]:
    """Offsets of the primary-tree directory records named ``iso_name`` (e.g. b"IGNITION.IMG;1")."""
    needle = bytes([len(iso_name)]) + iso_name
    out = []
    pos = data.find(needle)
    while pos != -1:
        rec = pos - 32
        if rec >= 0 and data[rec] >= 33 + len(iso_name):
            out.append(rec)
        pos = data.find(needle, pos + 1)
    return out


def patch_record(path: Path, iso_name: bytes, *, extent: Optional[int] = None, length: Optional[int] = None,
                 name: Optional[bytes] = None) -> None:
    """Change the extent, data length or name of the directory record(s) of ``iso_name`` in place."""
    import struct

    data = bytearray(path.read_bytes())
    recs = _records(bytes(data), iso_name)
    assert recs, f"{iso_name!r} not found"
    for rec in recs:
        if extent is not None:
            struct.pack_into("<I", data, rec + 2, extent)
            struct.pack_into(">I", data, rec + 6, extent)
        if length is not None:
            struct.pack_into("<I", data, rec + 10, length)
            struct.pack_into(">I", data, rec + 14, length)
        if name is not None:
            assert len(name) == len(iso_name)
            data[rec + 33:rec + 33 + len(name)] = name
    path.write_bytes(bytes(data))


def record_extent(path: Path, iso_name: bytes) -> int:
    """The extent (sector number) of the first record named ``iso_name``."""
    import struct

    data = path.read_bytes()
    return int(struct.unpack_from("<I", data, _records(data, iso_name)[0] + 2)[0])


def root_extent(path: Path) -> int:
    """The root directory's extent, from the primary volume descriptor."""
    import struct

    with open(path, "rb") as f:
        f.seek(16 * 2048 + 156 + 2)
        return int(struct.unpack("<I", f.read(4))[0])


def make_legacy(path: Path) -> None:
    """Turn an mkiso x86_64 image into a coreKarg-era one: coreos/kargs.json renamed away (so ignkit does not see
    it) and the legacy header in the system area pointing at the isolinux.cfg and grub.cfg karg areas."""
    import struct

    from ignkit.live import open_iso

    iso = open_iso(path)
    areas = iso.kargs_areas
    size = areas[0].size
    patch_record(path, b"KARGS.JSO;1", name=b"KARGX.JSO;1")
    header = b"coreKarg" + struct.pack("<8Q", size, areas[0].offset, *[a.offset for a in areas],
                                       *([0] * (6 - len(areas))))
    with open(path, "r+b") as f:
        f.seek(32768 - 24 - 72)
        f.write(header)


# --- a misbehaving HTTP server on 127.0.0.1 -------------------------------------------------------------------


class HostileServer:
    """A raw HTTP server on 127.0.0.1, one thread per connection, every behaviour bounded in time.

    ``/trickle`` announces 100000 bytes and sends one every 0.3 s; ``/silent`` reads the request and never
    answers; ``/config/<n>`` serves an Ignition config merging ten new query-string spellings of
    ``/config/<n+1>`` (up to 8); anything else is a 404. Each connection ends after at most
    ``max_seconds``, and all end at :meth:`close`.
    """

    def __init__(self, max_seconds: float = 15.0) -> None:
        import socket
        import threading

        self.max_seconds = max_seconds
        self.stop = threading.Event()
        self.hits: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.threads: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, path: str, userinfo: str = "") -> str:
        return f"http://{userinfo}127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        import socket
        import threading

        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, conn: Any) -> None:
        deadline = time.monotonic() + self.max_seconds
        conn.settimeout(0.5)
        try:
            data = b""
            while b"\r\n\r\n" not in data and time.monotonic() < deadline and not self.stop.is_set():
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    continue
                if not chunk:
                    return
                data += chunk
            path = data.split(b" ", 2)[1].decode() if data.count(b" ") >= 2 else "/"
            self.hits.append(path)
            if path.startswith("/trickle"):
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                while time.monotonic() < deadline and not self.stop.wait(0.3):
                    conn.sendall(b"x")
            elif path.startswith("/silent"):
                while time.monotonic() < deadline and not self.stop.wait(0.2):
                    pass
            elif path.startswith("/config/"):
                level = int(path.split("/")[2].split("?")[0])
                query = path.split("?v=")[1] if "?v=" in path else ""
                cfg: dict[str, Any] = {"ignition": {"version": "3.4.0"}}
                if level < 8:  # each level merges ten new query strings of the next: 10**8 distinct URLs
                    cfg["ignition"]["config"] = {"merge": [
                        {"source": self.url(f"/config/{level + 1}?v={query}{k}")} for k in range(10)]}
                body = json.dumps(cfg).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            else:
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(5)
        for t in self.threads:
            t.join(5)


@pytest.fixture
def hostile_server() -> Iterator[HostileServer]:
    srv = HostileServer()
    try:
        yield srv
    finally:
        srv.close()
