"""Stream metadata parsing and ``ignkit stream show`` / ``ignkit download`` against a real local HTTP server."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CI_FIXTURES, TESTDATA, ArtifactServer, load_script

from ignkit import stream as st
from ignkit.cli import main
from ignkit.errors import CheckFailed, DigestMismatch, InputError, UsageError

STREAMS = TESTDATA / "stream"
VERIFY = CI_FIXTURES / "verify"
KEY = VERIFY / "test-key.pub.asc"
FCOS_BASE = "https://builds.coreos.fedoraproject.org/prod/streams/stable/builds/"
RHCOS_BASE = "https://rhcos.mirror.openshift.com/art/storage/prod/streams/"

make_fixtures = load_script(STREAMS / "make_fixtures.py", "make_fixtures")


class StreamSite:
    """Serves a stream fixture whose locations point at a local server, and every artifact it lists."""

    def __init__(self, server: ArtifactServer, fixture: str) -> None:
        self.server = server
        text = (STREAMS / fixture).read_text()
        text = text.replace(FCOS_BASE, server.url("/fcos/")).replace(RHCOS_BASE, server.url("/rhcos/"))
        self.doc = json.loads(text)
        self.stream_path = "/" + fixture
        for s in st.parse_streams(text.encode()):
            for arch in s.architectures:
                for plat, fmt in s.formats(arch):
                    for a in s.artifacts(arch, fmt, plat):
                        name = a.filename
                        if name.endswith(".raw.xz"):
                            data = (VERIFY / "1M.xz").read_bytes()
                        elif name.endswith(".raw.gz"):
                            data = (VERIFY / "1M.gz").read_bytes()
                        else:
                            data = make_fixtures.artifact_content(name)
                        server.files[self.path_of(a.location)] = data
                        if a.signature and name.endswith(".raw.xz"):
                            server.files[self.path_of(a.signature)] = (VERIFY / "1M.xz.sig").read_bytes()
        self.publish()

    def path_of(self, url: str) -> str:
        prefix = self.server.url("")
        assert url.startswith(prefix)
        return url[len(prefix):]

    def publish(self) -> None:
        self.server.files[self.stream_path] = json.dumps(self.doc).encode()

    @property
    def url(self) -> str:
        return self.server.url(self.stream_path)

    def entry(self, arch: str, fmt: str, kind: str) -> dict:
        return self.doc["architectures"][arch]["artifacts"]["metal"]["formats"][fmt][kind]  # type: ignore[no-any-return]

    def artifact_gets(self) -> list[tuple[str, str | None]]:
        return [(p, r) for p, r in self.server.requests if p != self.stream_path and not p.endswith(".sig")]


# --- parsing --------------------------------------------------------------------------------------------------

def test_fixture_digests_match_content() -> None:
    s = st.load_stream(str(STREAMS / "fcos-stable.json"))
    for a in s.artifacts("x86_64", "pxe"):
        assert a.sha256 == hashlib.sha256(make_fixtures.artifact_content(a.filename)).hexdigest()


def test_parse_fcos_stream() -> None:
    (s,) = st.load_streams(str(STREAMS / "fcos-stable.json"))
    assert s.name == "stable"
    assert s.architectures == ["aarch64", "x86_64"]
    assert s.release("aarch64") == "42.20251012.3.0"
    assert ("metal", "pxe") in s.formats("x86_64") and ("qemu", "qcow2.xz") in s.formats("x86_64")
    pxe = s.artifacts("arm64", "pxe")
    assert [a.kind for a in pxe] == ["kernel", "initramfs", "rootfs"]
    assert pxe[0].filename == "fedora-coreos-42.20251012.3.0-live-kernel.aarch64"
    assert all(a.signature and a.signature.endswith(".sig") for a in pxe)
    (iso,) = s.artifacts("x86_64", "iso")
    assert iso.kind == "disk" and iso.location.endswith("-live-iso.x86_64.iso")
    (disk,) = s.artifacts("x86_64", "raw.xz")
    assert disk.uncompressed_sha256 == hashlib.sha256(bytes(1 << 20)).hexdigest()


def test_parse_rhcos_and_configmaps() -> None:
    (r,) = st.load_streams(str(STREAMS / "rhcos-4.19.json"))
    assert r.name == "rhcos-4.19" and r.architectures == ["aarch64", "ppc64le", "s390x", "x86_64"]
    assert all(a.signature is None for a in r.artifacts("s390x", "pxe"))
    (c1,) = st.load_streams(str(STREAMS / "configmap-stream.json"))
    assert c1.doc == r.doc
    many = st.load_streams(str(STREAMS / "configmap-streams.json"))
    assert [s.name for s in many] == ["rhel-10", "rhel-9"]
    assert st.select_stream(many, "rhel-9").doc == r.doc
    with pytest.raises(UsageError, match="several streams"):
        st.select_stream(many)
    with pytest.raises(UsageError, match="no stream named"):
        st.select_stream(many, "rhel-8")


def test_parse_errors(tmp_path: Path) -> None:
    s = st.load_stream(str(STREAMS / "fcos-stable.json"))
    with pytest.raises(InputError, match="couldn't find architecture x86_64, platform metal, format raw.gz"):
        s.artifacts("x86_64", "raw.gz")
    with pytest.raises(InputError, match="architecture s390x is not in stream stable"):
        s.artifacts("s390x", "iso")
    for text, msg in [(b"not json at all: [", "not stream metadata"), (b'{"stream": "x"}', "neither a stream"),
                      (b'{"kind": "ConfigMap", "data": {"stream": "{}"}}', "no \"architectures\"")]:
        p = tmp_path / "bad.json"
        p.write_bytes(text)
        with pytest.raises(InputError, match=msg):
            st.load_streams(str(p))
    with pytest.raises(InputError, match="no such file"):
        st.load_streams(str(tmp_path / "missing.json"))


def _nest(leaf: object, depth: int) -> dict:
    """{"architectures": {"x86_64": {"artifacts": {"metal": {"formats": {"iso": {"disk": ...}}}}}}} cut at depth."""
    keys = ["x86_64", "artifacts", "metal", "formats", "iso", "disk"][:depth]
    doc: object = leaf
    for k in reversed(keys):
        doc = {k: doc}
    return {"stream": "odd", "architectures": doc}


@pytest.mark.parametrize("doc,msg", [
    (_nest("str", 1), "stream odd: architectures/x86_64 is not an object"),
    (_nest([], 2), "architectures/x86_64/artifacts is not an object"),
    (_nest("x", 3), "architectures/x86_64/artifacts/metal is not an object"),
    (_nest([], 4), "architectures/x86_64/artifacts/metal/formats is not an object"),
    (_nest("x", 5), "architectures/x86_64/artifacts/metal/formats/iso is not an object"),
    (_nest({"location": 5}, 6), "formats/iso/disk has no location"),
    (_nest({"location": "http://x/a.iso", "sha256": 5}, 6), "disk: sha256 5 is not a sha256 in hex"),
    (_nest({"location": "http://x/a.iso", "uncompressed-sha256": "ab"}, 6), "uncompressed-sha256 'ab' is not"),
    (_nest({"location": "http://x/a.iso", "signature": ["x"]}, 6), "signature is not a URL"),
])
def test_malformed_stream_shapes_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: dict,
                                              msg: str) -> None:
    p = tmp_path / "odd.json"
    p.write_text(json.dumps(doc))
    for argv in (["stream", "show", str(p)], ["download", "-s", str(p), "-a", "x86_64", "-C", str(tmp_path)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("ignkit: error: ") and err.count("\n") == 1 and msg in err, err
    assert _ls(tmp_path) == ["odd.json"]


def test_resolve_fcos_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert st.resolve_source("stable") == "https://builds.coreos.fedoraproject.org/streams/stable.json"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "next").write_text("{}")
    assert st.resolve_source("next") == "next"


# --- stream show ------------------------------------------------------------------------------------------------

def test_show_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stream", "show", str(STREAMS / "fcos-stable.json"), "--arch", "aarch64", "--format", "pxe"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "stable aarch64 metal pxe (release 42.20251012.3.0)"
    kernel = FCOS_BASE + "42.20251012.3.0/aarch64/fedora-coreos-42.20251012.3.0-live-kernel.aarch64"
    assert out[1].split() == ["kernel", kernel]
    assert out[2].split()[0] == "sha256" and len(out[2].split()[1]) == 64
    assert out[3].split()[0] == "signature"
    assert [line.split()[0] for line in out[1:] if not line.startswith("   ")] == ["kernel", "initramfs", "rootfs"]


def test_show_configmap_streams_json(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(STREAMS / "configmap-streams.json")
    assert main(["stream", "show", path, "-a", "x86_64", "-f", "iso"]) == 0  # every stream, by name
    heads = [line for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert heads == ["rhel-10 x86_64 metal iso (release 10.0.20250702-0)",
                     "rhel-9 x86_64 metal iso (release 9.6.20250701-0)"]
    assert main(["stream", "show", path, "--stream-name", "rhel-8"]) == 2
    assert "no stream named 'rhel-8' (have: rhel-10, rhel-9)" in capsys.readouterr().err
    assert main(["stream", "show", str(STREAMS / "rhcos-4.19.json"), "-p", "aws"]) == 2
    assert "no aws artifacts" in capsys.readouterr().err
    assert main(["stream", "show", path, "--stream-name", "rhel-10", "-a", "x86_64", "-f", "iso", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["stream"] == "rhel-10" and rows[0]["signature"] is None
    assert rows[0]["location"].endswith("rhcos-10.0.20250702-0-live-iso.x86_64.iso")


def test_show_stdin_and_url(artifact_server: ArtifactServer) -> None:
    site = StreamSite(artifact_server, "configmap-stream.json")
    data = (STREAMS / "configmap-stream.json").read_bytes()
    r = subprocess.run([sys.executable, "-m", "ignkit", "stream", "show", "-", "-a", "s390x", "-f", "pxe"],
                       input=data, capture_output=True, check=True)
    assert r.stdout.decode().startswith("rhcos-4.19 s390x metal pxe (release 9.6.20250701-0)\n")
    r2 = subprocess.run([sys.executable, "-m", "ignkit", "stream", "show", site.url, "-a", "s390x", "-f", "pxe"],
                        capture_output=True, check=True)
    assert r2.stdout.decode().splitlines()[0] == r.stdout.decode().splitlines()[0]


# --- download ---------------------------------------------------------------------------------------------------

def _ls(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


def test_download_iso_then_skip(tmp_path: Path, artifact_server: ArtifactServer,
                                capsys: pytest.CaptureFixture[str]) -> None:
    site = StreamSite(artifact_server, "fcos-stable.json")
    args = ["download", "--stream", site.url, "--arch", "x86_64", "--format", "iso", "-C", str(tmp_path)]
    assert main(args) == 0
    name = "fedora-coreos-42.20251012.3.0-live-iso.x86_64.iso"
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / name)]
    assert _ls(tmp_path) == [name]
    assert (tmp_path / name).read_bytes() == make_fixtures.artifact_content(name)
    gets = len(site.artifact_gets())
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "already present and verified" in captured.err
    assert len(site.artifact_gets()) == gets  # not fetched again


def test_download_pxe_resumes_after_drop(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    site = StreamSite(artifact_server, "rhcos-4.19.json")
    initramfs = site.path_of(site.entry("aarch64", "pxe", "initramfs")["location"])
    artifact_server.drop_once.add(initramfs)
    res = st.download(st.load_stream(site.url), "aarch64", "pxe", tmp_path, progress=False)
    assert [r.artifact.kind for r in res] == ["kernel", "initramfs", "rootfs"]
    for r in res:
        assert r.path.read_bytes() == make_fixtures.artifact_content(r.path.name)
    assert len(_ls(tmp_path)) == 3 and not any(n.endswith(".part") for n in _ls(tmp_path))
    full = len(artifact_server.files[initramfs])
    assert [rng for p, rng in artifact_server.requests if p == initramfs] == [None, f"bytes={full // 2}-"]


def test_download_from_configmap_streams_by_name(tmp_path: Path, artifact_server: ArtifactServer,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The ConfigMap `oc get configmap/coreos-bootimages -o json` prints, with data.streams, served over http."""
    StreamSite(artifact_server, "configmap-streams.json")
    url = artifact_server.url("/configmap-streams.json")
    args = ["download", "-s", url, "-a", "aarch64", "-f", "pxe", "-C", str(tmp_path)]
    assert main(args) == 2
    assert "several streams (rhel-10, rhel-9); choose one with --stream-name" in capsys.readouterr().err
    assert _ls(tmp_path) == []
    assert main([*args, "--stream-name", "rhel-10"]) == 0
    names = [Path(p).name for p in capsys.readouterr().out.split()]
    assert names == ["rhcos-10.0.20250702-0-live-kernel.aarch64", "rhcos-10.0.20250702-0-live-initramfs.aarch64.img",
                     "rhcos-10.0.20250702-0-live-rootfs.aarch64.img"]
    assert _ls(tmp_path) == sorted(names)
    for n in names:
        assert (tmp_path / n).read_bytes() == make_fixtures.artifact_content(n)


def test_download_wrong_digest(tmp_path: Path, artifact_server: ArtifactServer,
                               capsys: pytest.CaptureFixture[str]) -> None:
    site = StreamSite(artifact_server, "rhcos-4.19.json")
    kernel = site.path_of(site.entry("x86_64", "pxe", "kernel")["location"])
    artifact_server.files[kernel] = b"tampered kernel" + artifact_server.files[kernel][15:]
    rc = main(["download", "-s", site.url, "-a", "x86_64", "-f", "pxe", "-C", str(tmp_path), "--no-progress"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "sha256 mismatch" in err and "kernel" in err
    assert _ls(tmp_path) == []  # neither a final name nor a .part left behind


def test_download_replaces_unverified_file(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    site = StreamSite(artifact_server, "fcos-stable.json")
    (iso,) = st.load_stream(site.url).artifacts("aarch64", "iso")
    (tmp_path / iso.filename).write_bytes(b"stale")
    r = st.download_artifact(iso, tmp_path, progress=False)
    assert not r.skipped
    assert (tmp_path / iso.filename).read_bytes() == make_fixtures.artifact_content(iso.filename)


def test_download_checks_uncompressed_digest(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    site = StreamSite(artifact_server, "rhcos-4.19.json")
    (disk,) = st.download(st.load_stream(site.url), "ppc64le", "raw.gz", tmp_path, progress=False)
    assert disk.path.read_bytes() == (VERIFY / "1M.gz").read_bytes()
    site.entry("s390x", "raw.gz", "disk")["uncompressed-sha256"] = "0" * 64
    site.publish()
    with pytest.raises(DigestMismatch, match="uncompressed"):
        st.download(st.load_stream(site.url), "s390x", "raw.gz", tmp_path, progress=False)
    assert _ls(tmp_path) == [disk.path.name]


def test_download_verify_signature(tmp_path: Path, artifact_server: ArtifactServer,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    site = StreamSite(artifact_server, "fcos-stable.json")
    rc = main(["download", "-s", site.url, "-a", "x86_64", "-f", "raw.xz", "-C", str(tmp_path),
               "--verify-signature", str(KEY)])
    assert rc == 0, capsys.readouterr().err
    name = "fedora-coreos-42.20251012.3.0-metal.x86_64.raw.xz"
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / name), str(tmp_path / (name + ".sig"))]
    assert (tmp_path / name).read_bytes() == (VERIFY / "1M.xz").read_bytes()
    assert (tmp_path / (name + ".sig")).read_bytes() == (VERIFY / "1M.xz.sig").read_bytes()


def test_download_tampered_file_fails_signature(tmp_path: Path, artifact_server: ArtifactServer) -> None:
    site = StreamSite(artifact_server, "fcos-stable.json")
    entry = site.entry("aarch64", "raw.xz", "disk")
    tampered = bytearray((VERIFY / "1M.xz").read_bytes())
    tampered[100] ^= 0xFF
    artifact_server.files[site.path_of(entry["location"])] = bytes(tampered)
    # The (unsigned) stream metadata agrees with the tampered file: only the signature can catch it.
    entry["sha256"] = hashlib.sha256(tampered).hexdigest()
    del entry["uncompressed-sha256"]
    site.publish()
    with pytest.raises(CheckFailed, match="GPG verification failure"):
        st.download(st.load_stream(site.url), "aarch64", "raw.xz", tmp_path, verify_signature=KEY, progress=False)
    assert _ls(tmp_path) == []
    # Without --verify-signature the digests alone accept it (the metadata is what was tampered with).
    st.download(st.load_stream(site.url), "aarch64", "raw.xz", tmp_path, progress=False)


def test_download_verify_signature_without_signature(tmp_path: Path, artifact_server: ArtifactServer,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    site = StreamSite(artifact_server, "rhcos-4.19.json")
    rc = main(["download", "-s", site.url, "-a", "x86_64", "-f", "iso", "-C", str(tmp_path),
               "--verify-signature", str(KEY)])
    assert rc == 1
    assert "lists no signature" in capsys.readouterr().err
    assert _ls(tmp_path) == []


def test_download_missing_artifact_is_fetch_error(tmp_path: Path, artifact_server: ArtifactServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    site = StreamSite(artifact_server, "rhcos-4.19.json")
    del artifact_server.files[site.path_of(site.entry("x86_64", "iso", "disk")["location"])]
    assert main(["download", "-s", site.url, "-a", "x86_64", "-C", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "HTTP 404" in err and err.count("\n") == 1
    assert _ls(tmp_path) == []


def test_uncompressed_sink_bounded(tmp_path: Path) -> None:
    import lzma

    big = lzma.compress(bytes(24 << 20), check=lzma.CHECK_CRC32, preset=0)
    sink = st.UncompressedDigestSink("xz", hashlib.sha256(bytes(24 << 20)).hexdigest(), "zeros")
    for i in range(0, len(big), 4096):
        sink.update(big[i:i + 4096])
    sink.verify()
    bad = st.UncompressedDigestSink("gz", "0" * 64, "junk")
    with pytest.raises(DigestMismatch, match="corrupt gz"):
        bad.update(io.BytesIO(b"definitely not gzip").read())
    assert os.path.exists(VERIFY / "1M.zst")


def test_stream_over_tls_needs_the_ca(tls_server, capsys: pytest.CaptureFixture[str]) -> None:
    server, ca_pem = tls_server
    server.expect_request("/streams/stable.json").respond_with_data((STREAMS / "fcos-stable.json").read_bytes())
    url = server.url_for("/streams/stable.json")
    assert main(["stream", "show", url, "-a", "x86_64", "-f", "iso"]) == 2
    assert "certificate verification failed" in capsys.readouterr().err
    assert main(["stream", "show", "--ca-cert", str(ca_pem), url, "-a", "x86_64", "-f", "iso"]) == 0
    assert capsys.readouterr().out.startswith("stable x86_64 metal iso (release 42.20251012.3.0)\n")
