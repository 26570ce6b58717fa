"""ignkit.fetch against real local HTTP servers: statuses, size caps, dropped connections, Range resume."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from conftest import ArtifactServer

from ignkit import fetch
from ignkit.digests import DigestSink
from ignkit.errors import DigestMismatch, FetchError, InputError, UsageError


def test_fetch_bytes(httpserver) -> None:
    httpserver.expect_request("/config.ign").respond_with_data(b'{"ignition":{"version":"3.4.0"}}')
    assert fetch.fetch_bytes(httpserver.url_for("/config.ign")) == b'{"ignition":{"version":"3.4.0"}}'


def test_fetch_bytes_http_error_is_one_line(httpserver) -> None:
    httpserver.expect_request("/missing").respond_with_data("nope", status=404)
    with pytest.raises(FetchError) as ei:
        fetch.fetch_bytes(httpserver.url_for("/missing"))
    assert "HTTP 404" in str(ei.value) and "\n" not in str(ei.value)


def test_fetch_bytes_size_cap(httpserver) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000)
    with pytest.raises(FetchError, match="limit"):
        fetch.fetch_bytes(httpserver.url_for("/big"), max_size=4096)
    assert len(fetch.fetch_bytes(httpserver.url_for("/big"), max_size=5000)) == 5000


def test_fetch_retries_server_errors(httpserver) -> None:
    httpserver.expect_ordered_request("/flaky").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/flaky").respond_with_data("ok")
    assert fetch.fetch_bytes(httpserver.url_for("/flaky")) == b"ok"


def test_connection_refused_is_fetch_error() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(FetchError, match="cannot connect"):
        fetch.fetch_bytes(f"http://127.0.0.1:{port}/x", retries=0)


def test_only_http_schemes() -> None:
    with pytest.raises(UsageError):
        fetch.fetch_bytes("ftp://example.com/x")
    with pytest.raises(UsageError):
        fetch.download("file:///etc/passwd", "/nonexistent/x")


def test_read_source(tmp_path: Path, httpserver) -> None:
    p = tmp_path / "a"
    p.write_bytes(b"abc")
    assert fetch.read_source(str(p)) == b"abc"
    httpserver.expect_request("/a").respond_with_data(b"remote")
    assert fetch.read_source(httpserver.url_for("/a")) == b"remote"
    with pytest.raises(InputError, match="no such file"):
        fetch.read_source(str(tmp_path / "missing"))


def test_download_plain(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    artifact_server.files["/a.img"] = data
    sink = DigestSink("sha256", hashlib.sha256(data).hexdigest())
    out = fetch.download(artifact_server.url("/a.img"), tmp_path / "a.img", sinks=[sink], finish=sink.verify,
                         progress=False)
    assert out.read_bytes() == data
    assert not fetch.part_path(out).exists()


def test_download_resumes_after_dropped_connection(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    data = os.urandom(2 * 1024 * 1024 + 5)
    artifact_server.files["/rootfs.img"] = data
    artifact_server.drop_once.add("/rootfs.img")
    dest = tmp_path / "rootfs.img"
    sink = DigestSink("sha256", hashlib.sha256(data).hexdigest())
    # One attempt only: the interruption surfaces, the final name does not exist, the part file does.
    with pytest.raises(FetchError, match="rerun to resume"):
        fetch.download(artifact_server.url("/rootfs.img"), dest, sinks=[sink], finish=sink.verify,
                       attempts=1, progress=False)
    assert not dest.exists()
    part = fetch.part_path(dest)
    assert part.name == ".rootfs.img.part"
    assert 0 < part.stat().st_size < len(data)
    have = part.stat().st_size
    # A second run continues with a Range request from where the first stopped.
    sink = DigestSink("sha256", hashlib.sha256(data).hexdigest())
    fetch.download(artifact_server.url("/rootfs.img"), dest, sinks=[sink], finish=sink.verify, progress=False)
    assert dest.read_bytes() == data
    assert not part.exists()
    assert artifact_server.requests[-1] == ("/rootfs.img", f"bytes={have}-")


def test_download_retries_within_one_call(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    data = os.urandom(1024 * 1024)
    artifact_server.files["/k"] = data
    artifact_server.drop_once.add("/k")
    sink = DigestSink("sha256", hashlib.sha256(data).hexdigest())
    fetch.download(artifact_server.url("/k"), tmp_path / "k", sinks=[sink], finish=sink.verify, progress=False)
    assert (tmp_path / "k").read_bytes() == data
    assert [r for _, r in artifact_server.requests] == [None, f"bytes={len(data) // 2}-"]


def test_download_server_ignoring_range_restarts(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    data = os.urandom(300_000)
    artifact_server.files["/x"] = data
    artifact_server.ignore_range.add("/x")
    dest = tmp_path / "x"
    fetch.part_path(dest).write_bytes(data[:1000])
    sink = DigestSink("sha256", hashlib.sha256(data).hexdigest())
    fetch.download(artifact_server.url("/x"), dest, sinks=[sink], finish=sink.verify, progress=False)
    assert dest.read_bytes() == data


def test_download_bad_digest_leaves_nothing(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    artifact_server.files["/bad"] = b"tampered" * 1000
    dest = tmp_path / "bad"
    sink = DigestSink("sha256", "00" * 32, "bad")
    with pytest.raises(DigestMismatch, match="sha256 mismatch"):
        fetch.download(artifact_server.url("/bad"), dest, sinks=[sink], finish=sink.verify, progress=False)
    assert not dest.exists()
    assert not fetch.part_path(dest).exists()


def test_download_404(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch.download(artifact_server.url("/none"), tmp_path / "none", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_download_progress_bar_on_terminal(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    """With stderr on a terminal a progress bar is drawn there; the file is the same."""
    import pty
    import subprocess
    import sys

    data = os.urandom(3 * 1024 * 1024)
    artifact_server.files["/live.iso"] = data
    dest = tmp_path / "live.iso"
    code = ("import sys; from ignkit import fetch; "
            f"fetch.download({artifact_server.url('/live.iso')!r}, {str(dest)!r})")
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-c", code], stderr=terminal, stdout=subprocess.DEVNULL, timeout=60)
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert proc.returncode == 0
    assert dest.read_bytes() == data
    assert b"live.iso" in shown and b"100%" in shown


def test_download_whole_part_from_earlier_run(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    """A .part that is already complete (the earlier run stopped before the rename) is only checked."""
    data = os.urandom(100_000)
    artifact_server.files["/done"] = data
    dest = tmp_path / "done"
    fetch.part_path(dest).write_bytes(data)
    sink = DigestSink("sha256", hashlib.sha256(data).hexdigest())
    fetch.download(artifact_server.url("/done"), dest, sinks=[sink], finish=sink.verify, progress=False)
    assert dest.read_bytes() == data
    assert artifact_server.requests == [("/done", f"bytes={len(data)}-")]


@pytest.mark.parametrize("stale_size", [50_000, 150_000])
def test_download_stale_part_starts_over(tmp_path: Path, artifact_server: ArtifactServer, stale_size: int) -> None:
    """Bytes kept from an older version of the remote file fail the digest: fetched again from the start."""
    data = os.urandom(100_000)
    artifact_server.files["/img"] = data
    dest = tmp_path / "img"
    fetch.part_path(dest).write_bytes(os.urandom(stale_size))
    sink = DigestSink("sha256", hashlib.sha256(data).hexdigest())
    fetch.download(artifact_server.url("/img"), dest, sinks=[sink], finish=sink.verify, progress=False)
    assert dest.read_bytes() == data
    assert artifact_server.requests[0] == ("/img", f"bytes={stale_size}-")
    assert artifact_server.requests[-1] == ("/img", None)
    assert not fetch.part_path(dest).exists()


def test_open_url_body_errors_become_fetch_errors(artifact_server: ArtifactServer) -> None:
    """A connection cut while the caller reads the body inside ``with open_url(...)`` is a FetchError too."""
    artifact_server.files["/cut"] = os.urandom(500_000)
    artifact_server.drop_once.add("/cut")
    with pytest.raises(FetchError, match="/cut"):
        with fetch.open_url(artifact_server.url("/cut")) as resp:
            for _ in resp.iter_content(65536):
                pass
    # fetch_bytes sends the headers it is given.
    artifact_server.files["/h"] = b"ok"
    assert fetch.fetch_bytes(artifact_server.url("/h"), headers={"Range": "bytes=1-"}) == b"k"
