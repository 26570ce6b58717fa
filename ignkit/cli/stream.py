"""``ignkit stream show`` and ``ignkit download``: CoreOS stream metadata and verified downloads."""

from __future__ import annotations

import json
from typing import Any, Optional

import click

_source_help = ("Stream metadata: a file, - for stdin, an http(s) URL, a Fedora CoreOS stream name "
                "(stable, testing, next), or the JSON of `oc -n openshift-machine-config-operator get "
                "configmap/coreos-bootimages -o json`.")


def _tls_options(f: Any) -> Any:
    f = click.option("--insecure", is_flag=True, help="Do not verify TLS certificates (only when you must).")(f)
    f = click.option("--ca-cert", type=click.Path(dir_okay=False), help="PEM CA certificates to trust for https.")(f)
    return f


def _host_arch() -> str:
    import platform

    from ..arch import arch_name

    return arch_name(platform.machine() or "x86_64")


@click.group("stream")
def stream() -> None:
    """Read CoreOS stream metadata (FCOS, RHCOS, the coreos-bootimages ConfigMap)."""


@stream.command("show")
@click.argument("source", metavar="SOURCE")
@click.option("-a", "--arch", help="Only this architecture (x86_64, aarch64, ppc64le, s390x).")
@click.option("-f", "--format", "fmt", help="Only this format (iso, pxe, raw.xz, ...).")
@click.option("-p", "--platform", default="metal", show_default=True, help="Platform.")
@click.option("--stream-name", help="Only this stream of a ConfigMap's data.streams (default: every stream).")
@click.option("--json", "as_json", is_flag=True, help="Print the artifacts as JSON.")
@_tls_options
def show(source: str, arch: Optional[str], fmt: Optional[str], platform: str, stream_name: Optional[str],
         as_json: bool, ca_cert: Optional[str], insecure: bool) -> None:
    """Print artifact locations and sha256 digests of SOURCE.

    SOURCE: a stream JSON file, -, an http(s) URL, stable/testing/next, or the
    coreos-bootimages ConfigMap JSON (data.stream or data.streams; every stream
    it holds unless --stream-name picks one).
    """
    from ..arch import arch_name
    from ..errors import InputError
    from ..stream import load_streams, select_stream

    streams = load_streams(source, ca_cert=ca_cert, insecure=insecure)
    chosen = [select_stream(streams, stream_name)] if stream_name else streams
    rows: list[dict[str, Any]] = []
    lines: list[str] = []
    for st in chosen:
        archs = [arch_name(arch)] if arch else st.architectures
        for a in archs:
            fmts = [fmt] if fmt else [f for p, f in st.formats(a) if p == platform]
            for f in fmts:
                arts = st.artifacts(a, f, platform)
                rel = arts[0].release if arts else None
                lines.append(f"{st.name} {a} {platform} {f}" + (f" (release {rel})" if rel else ""))
                for art in arts:
                    rows.append({"stream": st.name, "architecture": a, "platform": platform, "format": f,
                                 "artifact": art.kind, "release": art.release, "location": art.location,
                                 "sha256": art.sha256, "uncompressed-sha256": art.uncompressed_sha256,
                                 "signature": art.signature})
                    lines.append(f"  {art.kind:<10} {art.location}")
                    if art.sha256:
                        lines.append(f"  {'':<10} sha256 {art.sha256}")
                    if art.uncompressed_sha256:
                        lines.append(f"  {'':<10} uncompressed-sha256 {art.uncompressed_sha256}")
                    if art.signature:
                        lines.append(f"  {'':<10} signature {art.signature}")
    if not rows:
        what = " ".join(x for x in (arch, platform, fmt) if x)
        raise InputError(f"{source}: no {what} artifacts in the stream metadata")
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for line in lines:
            click.echo(line)


@click.command("download")
@click.option("-s", "--stream", "source", required=True, metavar="SOURCE", help=_source_help)
@click.option("-a", "--arch", help="Architecture (default: this machine's).")
@click.option("-f", "--format", "fmt", default="iso", show_default=True, help="Format: iso, pxe, raw.xz, ...")
@click.option("-p", "--platform", default="metal", show_default=True, help="Platform.")
@click.option("-C", "--directory", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Where to save the files.")
@click.option("--stream-name", help="With several streams in a ConfigMap (data.streams), which one.")
@click.option("--verify-signature", "keyfile", type=click.Path(dir_okay=False), metavar="KEYFILE",
              help="Also check the stream's detached GPG signatures against the public key(s) in KEYFILE.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@_tls_options
def download(source: str, arch: Optional[str], fmt: str, platform: str, directory: str, stream_name: Optional[str],
             keyfile: Optional[str], progress: Optional[bool], ca_cert: Optional[str], insecure: bool) -> None:
    """Download live media listed in stream metadata, verified.

    Each file's sha256 (and uncompressed-sha256) is checked while it downloads; an
    interrupted download resumes with HTTP Range; a file already present and verified is
    not fetched again; a partial file never carries the final name. Prints each path.
    """
    from ..stream import download as do_download
    from ..stream import load_stream

    st = load_stream(source, stream_name, ca_cert=ca_cert, insecure=insecure)
    results = do_download(st, arch or _host_arch(), fmt, directory, platform=platform, verify_signature=keyfile,
                          ca_cert=ca_cert, insecure=insecure, progress=progress)
    for r in results:
        if r.skipped:
            click.echo(f"{r.path}: already present and verified, not downloaded again", err=True)
        click.echo(str(r.path))
        if r.signature_path is not None:
            click.echo(str(r.signature_path))
