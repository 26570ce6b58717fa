"""CoreOS stream metadata (FCOS, RHCOS, the ``coreos-bootimages`` ConfigMap) and verified artifact downloads.

Reads the three shapes into :class:`Stream` objects, lists :class:`Artifact` locations and digests, and
downloads artifacts with their sha256 (and uncompressed sha256) checked while they stream, Range resume,
skip-if-already-verified, and an optional GPG check of the stream's detached signatures.
"""

from __future__ import annotations

import contextlib
import lzma
import os
import posixpath
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union
from urllib.parse import unquote, urlsplit

from .arch import arch_name
from .errors import CheckFailed, DigestMismatch, InputError, UsageError
from .yamlfile import load_json_or_yaml

PathLike = Union[str, "os.PathLike[str]"]

#: Where Fedora CoreOS publishes its streams; ``stable``, ``testing`` and ``next`` resolve here.
FCOS_STREAM_BASE = "https://builds.coreos.fedoraproject.org/streams/"
FCOS_STREAMS = ("stable", "testing", "next")
#: Artifact kinds in the order they are listed and downloaded.
_KIND_ORDER = {"disk": 0, "kernel": 1, "initramfs": 2, "rootfs": 3}


@dataclass
class Artifact:
    """One downloadable file of a stream: e.g. the x86_64 metal ``pxe`` ``initramfs``."""

    arch: str
    platform: str
    format: str
    kind: str
    location: str
    sha256: Optional[str] = None
    uncompressed_sha256: Optional[str] = None
    signature: Optional[str] = None
    release: Optional[str] = None

    @property
    def filename(self) -> str:
        """The last path component of :attr:`location` (the name it is saved under)."""
        name = posixpath.basename(unquote(urlsplit(self.location).path))
        if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
            raise InputError(f"stream metadata: cannot derive a file name from location {self.location!r}")
        return name


@dataclass
class Stream:
    """One stream document (``{"stream": ..., "architectures": {...}}``)."""

    name: str
    doc: dict[str, Any] = field(repr=False)

    @property
    def architectures(self) -> list[str]:
        return sorted(self.doc.get("architectures", {}))

    def _obj(self, parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        """``parent[key]`` as a JSON object ({} when absent); InputError naming the place when it is not one."""
        value = parent.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise InputError(f"stream {self.name}: {where + '/' if where else ''}{key} is not an object")
        return value

    def _platforms(self, arch: str) -> dict[str, Any]:
        arch = arch_name(arch)
        archs = self._obj(self.doc, "architectures", "")
        if arch not in archs:
            have = ", ".join(sorted(archs)) or "none"
            raise InputError(f"architecture {arch} is not in stream {self.name} (it has: {have})")
        return self._obj(self._obj(archs, arch, "architectures"), "artifacts", f"architectures/{arch}")

    def _platform(self, arch: str, platform: str) -> dict[str, Any]:
        return self._obj(self._platforms(arch), platform, f"architectures/{arch_name(arch)}/artifacts")

    def release(self, arch: str, platform: str = "metal") -> Optional[str]:
        """The release (build version) of ``platform`` artifacts for ``arch``."""
        rel = self._platform(arch, platform).get("release")
        return str(rel) if rel is not None else None

    def formats(self, arch: str) -> list[tuple[str, str]]:
        """``(platform, format)`` pairs available for ``arch``, sorted."""
        where = f"architectures/{arch_name(arch)}/artifacts"
        return sorted((plat, fmt) for plat in self._platforms(arch)
                      for fmt in self._obj(self._platform(arch, plat), "formats", f"{where}/{plat}"))

    def artifacts(self, arch: str, fmt: str = "iso", platform: str = "metal") -> list[Artifact]:
        """The artifacts of ``arch``/``platform``/``fmt`` (e.g. kernel, initramfs, rootfs for ``pxe``)."""
        arch = arch_name(arch)
        plat = self._platform(arch, platform)
        where = f"architectures/{arch}/artifacts/{platform}/formats"
        formats = self._obj(plat, "formats", f"architectures/{arch}/artifacts/{platform}")
        if fmt not in formats:
            raise InputError(f"couldn't find architecture {arch}, platform {platform}, format {fmt} "
                             f"in stream {self.name}")
        out = []
        for kind, entry in self._obj(formats, fmt, where).items():
            here = f"stream {self.name}: {where}/{fmt}/{kind}"
            if not isinstance(entry, dict) or not isinstance(entry.get("location"), str):
                raise InputError(f"{here} has no location")
            for key in ("sha256", "uncompressed-sha256"):
                value = entry.get(key)
                if value is not None and not (isinstance(value, str) and len(value) == 64
                                              and all(c in "0123456789abcdefABCDEF" for c in value)):
                    raise InputError(f"{here}: {key} {value!r} is not a sha256 in hex")
            if not isinstance(entry.get("signature", ""), str):
                raise InputError(f"{here}: signature is not a URL")
            out.append(Artifact(arch=arch, platform=platform, format=fmt, kind=kind, location=entry["location"],
                                sha256=entry.get("sha256"), uncompressed_sha256=entry.get("uncompressed-sha256"),
                                signature=entry.get("signature"), release=self.release(arch, platform)))
        out.sort(key=lambda a: (_KIND_ORDER.get(a.kind, 99), a.kind))
        return out


def _load(data: bytes, what: str) -> dict[str, Any]:
    doc = load_json_or_yaml(data, what)
    if not isinstance(doc, dict):
        raise InputError(f"{what}: not stream metadata (expected JSON)")
    return doc


def _stream_doc(obj: Any, what: str) -> dict[str, Any]:
    """One stream document: an object, or a JSON (or YAML) string of one."""
    if isinstance(obj, str):
        obj = _load(obj.encode(), what)
    if not isinstance(obj, dict) or not isinstance(obj.get("architectures"), dict):
        raise InputError(f"{what}: not CoreOS stream metadata (no \"architectures\" object)")
    return obj


def _named(doc: dict[str, Any], default: object = "stream") -> Stream:
    """A stream named by its own ``stream`` key, else ``default``."""
    return Stream(str(doc.get("stream") or default), doc)


def parse_streams(data: bytes, what: str = "stream metadata") -> list[Stream]:
    """Parse a stream document, or the ``coreos-bootimages`` ConfigMap (``data.stream`` and/or ``data.streams``).

    ``data.streams`` may hold a map of name → stream (or a list of streams), as a JSON string or object.
    Returns every stream found, the legacy ``data.stream`` first.
    """
    return _streams_in(_load(data, what), what)


def _streams_in(doc: dict[str, Any], what: str) -> list[Stream]:
    if "architectures" in doc:
        return [_named(_stream_doc(doc, what))]
    items = doc.get("items")
    if doc.get("kind") == "List" and isinstance(items, list) and len(items) == 1:
        if not isinstance(items[0], dict):
            raise InputError(f"{what}: not stream metadata (expected JSON)")
        return _streams_in(items[0], what)
    cm = doc.get("data")
    if not isinstance(cm, dict) or not ("stream" in cm or "streams" in cm):
        raise InputError(f"{what}: neither a stream document nor the coreos-bootimages ConfigMap "
                         f"(no data.stream or data.streams)")
    out: list[Stream] = []
    if "stream" in cm:
        out.append(_named(_stream_doc(cm["stream"], f"{what}: data.stream")))
    if "streams" in cm:
        many = cm["streams"]
        if isinstance(many, str):
            many = _load(many.encode(), f"{what}: data.streams")
        if isinstance(many, dict) and "architectures" not in many:
            out += [Stream(str(key), _stream_doc(many[key], f"{what}: data.streams.{key}")) for key in sorted(many)]
        elif isinstance(many, list):
            out += [_named(_stream_doc(item, f"{what}: data.streams[{i}]"), i) for i, item in enumerate(many)]
        else:
            out.append(_named(_stream_doc(many, f"{what}: data.streams")))
    return out


def resolve_source(source: str) -> str:
    """``stable``/``testing``/``next`` (when no such file exists) → the Fedora CoreOS stream URL."""
    if source in FCOS_STREAMS and not os.path.exists(source):
        return f"{FCOS_STREAM_BASE}{source}.json"
    return source


def load_streams(source: str, *, ca_cert: Optional[PathLike] = None, insecure: bool = False) -> list[Stream]:
    """Read stream metadata from a file, ``-``, an http(s) URL or an FCOS stream name (see :func:`parse_streams`)."""
    from .fetch import read_source

    source = resolve_source(source)
    return parse_streams(read_source(source, ca_cert=ca_cert, insecure=insecure), source)


def select_stream(streams: list[Stream], name: Optional[str] = None) -> Stream:
    """Pick the stream called ``name``, or the only one; with several and no name, raise UsageError."""
    if name is not None:
        for s in streams:
            if s.name == name:
                return s
        raise UsageError(f"no stream named {name!r} (have: {', '.join(s.name for s in streams)})")
    if len(streams) == 1:
        return streams[0]
    names = ", ".join(s.name for s in streams)
    raise UsageError(f"the metadata holds several streams ({names}); choose one with --stream-name")


def load_stream(source: str, name: Optional[str] = None, *, ca_cert: Optional[PathLike] = None,
                insecure: bool = False) -> Stream:
    """:func:`load_streams` then :func:`select_stream`."""
    return select_stream(load_streams(source, ca_cert=ca_cert, insecure=insecure), name)


# --- verification while streaming ----------------------------------------------------------------------------

_OUT_CHUNK = 4 * 1024 * 1024


class _DigestWriter:
    def __init__(self, sink: Any) -> None:
        self.sink = sink

    def write(self, data: bytes) -> int:
        self.sink.update(data)
        return len(data)


class UncompressedDigestSink:
    """Decompresses (xz, gzip or zstd) what it is fed and checks the sha256 of the result at the end.

    Output is produced in bounded pieces, so even a tiny file that expands enormously stays in constant
    memory. Concatenated xz/gzip streams are followed.
    """

    def __init__(self, compression: str, expected_hex: str, label: str = "") -> None:
        from .digests import DigestSink

        if compression not in ("xz", "gz", "zst"):
            raise ValueError(compression)
        self.compression = compression
        self.label = label
        self._digest = DigestSink("sha256", expected_hex, f"{label} (uncompressed)" if label else "uncompressed")
        self.reset()

    def _new(self) -> Any:
        if self.compression == "xz":
            return lzma.LZMADecompressor()
        if self.compression == "gz":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        import zstandard

        return zstandard.ZstdDecompressor().stream_writer(
            _DigestWriter(self._digest), write_size=_OUT_CHUNK)  # type: ignore[arg-type]

    def reset(self) -> None:
        self._digest.reset()
        self._d: Any = self._new()

    def update(self, data: bytes) -> None:
        try:
            if self.compression == "zst":
                self._d.write(data)
            elif self.compression == "xz":
                self._update_xz(data)
            else:
                self._update_gz(data)
        except (lzma.LZMAError, zlib.error) as e:
            raise DigestMismatch(f"{self.label}: corrupt {self.compression} data: {e}") from None
        except Exception as e:  # noqa: BLE001 - zstandard.ZstdError and friends
            raise DigestMismatch(f"{self.label}: corrupt {self.compression} data: {e}") from None

    def _update_xz(self, data: bytes) -> None:
        d = self._d
        while True:
            if d.eof:
                if not data:
                    return
                d = self._d = lzma.LZMADecompressor()  # a concatenated stream follows
            self._digest.update(d.decompress(data, _OUT_CHUNK))
            data = b""
            if d.eof:
                data = d.unused_data
                continue
            if d.needs_input:
                return

    def _update_gz(self, data: bytes) -> None:
        d = self._d
        while data:
            if d.eof:
                d = self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._digest.update(d.decompress(data, _OUT_CHUNK))
            data = d.unconsumed_tail or d.unused_data

    def verify(self) -> None:
        if self.compression == "gz":
            with contextlib.suppress(zlib.error):
                self._digest.update(self._d.flush())
        elif self.compression == "zst":
            self._d.flush()
        self._digest.verify()


def compression_of(name: str) -> Optional[str]:
    """``xz``, ``gz`` or ``zst`` from a file name (tarballs excluded), else None."""
    lower = name.lower()
    if lower.endswith((".tar.xz", ".tar.gz", ".tar.zst")):
        return None
    for ext in ("xz", "gz", "zst"):
        if lower.endswith("." + ext):
            return ext
    return None


@dataclass
class DownloadResult:
    """What :func:`download_artifact` did: ``path`` of the verified file, ``skipped`` when it already was."""

    artifact: Artifact
    path: Path
    skipped: bool
    signature_path: Optional[Path] = None


def _verified_on_disk(artifact: Artifact, path: Path) -> bool:
    if not path.is_file() or not artifact.sha256:
        return False
    from .digests import digest

    try:
        return digest(path, "sha256") == f"sha256-{artifact.sha256.lower()}"
    except InputError:
        return False


def download_artifact(artifact: Artifact, directory: PathLike = ".", *, verify_signature: Optional[PathLike] = None,
                      ca_cert: Optional[PathLike] = None, insecure: bool = False, progress: Optional[bool] = None,
                      attempts: int = 5) -> DownloadResult:
    """Download one artifact into ``directory`` under its own file name, checked before it gets that name.

    The stream's ``sha256`` (and ``uncompressed-sha256`` of xz/gz/zst files) is computed while the bytes
    arrive; a mismatch deletes the download. With ``verify_signature`` (a public key file) the stream's
    detached signature is fetched and checked by gpg too, and saved beside the file as ``<name>.sig``.
    A file already present that verifies is not downloaded again. Interrupted downloads resume with
    HTTP Range (also across runs, from ``.<name>.part``).
    """
    from . import fetch
    from .digests import DigestSink

    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: no such directory")
    name = artifact.filename
    dest = directory / name
    label = f"{artifact.kind} {name}"
    if not artifact.sha256:
        raise InputError(f"stream metadata lists no sha256 for {label}: refusing an unverifiable download")
    sig: Optional[bytes] = None
    sig_path: Optional[Path] = None
    if verify_signature is not None:
        if not os.path.isfile(os.fspath(verify_signature)):
            raise InputError(f"{os.fspath(verify_signature)}: no such key file")
        if not artifact.signature:
            raise CheckFailed(f"stream metadata lists no signature for {label}; cannot --verify-signature")
        sig = fetch.fetch_bytes(artifact.signature, max_size=1024 * 1024, ca_cert=ca_cert, insecure=insecure)
        sig_path = directory / f"{name}.sig"

    def check_signature(path: Path) -> None:
        if sig is not None:
            from .gpg import verify_detached

            verify_detached(path, sig, verify_signature)  # type: ignore[arg-type]

    def save_signature() -> None:
        if sig is not None and sig_path is not None:
            from .outfile import write_bytes_atomic

            write_bytes_atomic(sig_path, sig)

    if _verified_on_disk(artifact, dest):
        try:
            check_signature(dest)
        except CheckFailed:
            pass  # the file on disk is not the signed one: download it again
        else:
            save_signature()
            return DownloadResult(artifact, dest, True, sig_path)

    sinks: list[Any] = [DigestSink("sha256", artifact.sha256, label)]
    comp = compression_of(name)
    if artifact.uncompressed_sha256 and comp:
        sinks.append(UncompressedDigestSink(comp, artifact.uncompressed_sha256, label))
    part = fetch.part_path(dest)

    def finish() -> None:
        for s in sinks:
            s.verify()
        check_signature(part)

    fetch.download(artifact.location, dest, sinks=sinks, finish=finish, ca_cert=ca_cert, insecure=insecure,
                   progress=progress, attempts=attempts)
    save_signature()
    return DownloadResult(artifact, dest, False, sig_path)


def download(stream: Stream, arch: str, fmt: str = "iso", directory: PathLike = ".", *, platform: str = "metal",
             verify_signature: Optional[PathLike] = None, ca_cert: Optional[PathLike] = None,
             insecure: bool = False, progress: Optional[bool] = None) -> list[DownloadResult]:
    """Download (and verify) every artifact of ``arch``/``platform``/``fmt``; see :func:`download_artifact`."""
    return [download_artifact(a, directory, verify_signature=verify_signature, ca_cert=ca_cert, insecure=insecure,
                              progress=progress)
            for a in stream.artifacts(arch, fmt, platform)]
