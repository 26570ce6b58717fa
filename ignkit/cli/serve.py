"""``ignkit serve``: one HTTP endpoint for a rack (per-host ISOs, initramfs, configs, boot scripts, progress)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import click

from .options import customize_options

if TYPE_CHECKING:
    from ..live.options import CustomizeOptions
    from ..serve.catalog import Catalog


@click.command("serve")
@click.option("--hosts", "hosts_file", required=True, metavar="HOSTS.yaml", type=click.Path(dir_okay=False),
              help="The inventory (ignkit fields or nodes-config.yaml), as for `embed --hosts`.")
@click.option("--iso", "isos", multiple=True, metavar="[ARCH=]PATH",
              help="A pristine live ISO (one per architecture; repeatable).")
@click.option("--pxe-dir", "pxe_dirs", multiple=True, metavar="[ARCH=]DIR",
              help="PXE kernel, initramfs and rootfs (e.g. from `ignkit download`); default: the ISO's own.")
@click.option("--stream", "stream_source", metavar="SOURCE", help="Download the PXE kernel, initramfs and rootfs "
              "from stream metadata (file, URL, stable, ConfigMap JSON) into --cache at start-up, verified.")
@click.option("--stream-name", help="With several streams in a ConfigMap, which one.")
@click.option("--cache", "cache_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Where --stream keeps its downloads (DIR/<arch>/; verified files are not fetched again).")
@click.option("--ca-cert", type=click.Path(dir_okay=False), help="PEM CA certificates for an https --stream.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates of --stream.")
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT",
              help="Address to listen on (:PORT for all addresses).")
@click.option("--base-url", metavar="URL", help="How machines reach this server (boot scripts' URLs); "
              "default http://HOST:PORT of --listen.")
@click.option("--tls-cert", metavar="FILE", type=click.Path(dir_okay=False), help="Serve HTTPS with this certificate.")
@click.option("--tls-key", metavar="FILE", type=click.Path(dir_okay=False), help="Private key of --tls-cert.")
@click.option("--access-log", metavar="FILE", type=click.Path(dir_okay=False),
              help="Append the access log (Combined Log Format) to FILE instead of stderr.")
@click.option("--approve-csrs", is_flag=True, help="Run `ignkit csr watch`'s loop in the server and show "
              "each host's client/serving CSR approval and node state (Ready, NotReady, not registered) on the "
              "status page (needs oc and a kubeconfig).")
@click.option("--csr-interval", type=click.FloatRange(min=0.01), default=10.0, show_default=True, metavar="SECONDS",
              help="With --approve-csrs: seconds between rounds.")
@click.option("-f", "--force", is_flag=True, help="Serve an ISO that is already customized (its areas replaced).")
@click.option("--grow-area", is_flag=True, help="When a host's compressed config does not fit the Ignition area, "
              "serve the image with the area moved to a larger extent at the end (as `embed --grow-area`).")
@customize_options("iso", per_host=False)  # the per-host values come from HOSTS.yaml
def serve(hosts_file: str, isos: tuple[str, ...], pxe_dirs: tuple[str, ...], listen: str, base_url: Optional[str],
          tls_cert: Optional[str], tls_key: Optional[str], access_log: Optional[str], approve_csrs: bool,
          csr_interval: float, stream_source: Optional[str], stream_name: Optional[str], cache_dir: Optional[str],
          ca_cert: Optional[str], insecure: bool, force: bool, grow_area: bool, options: CustomizeOptions) -> None:
    """Serve every inventory host's media over HTTP, composed exactly as `ignkit embed` composes them.

    \b
    ignkit serve --hosts nodes-config.yaml --dest-ignition worker.ign --iso rhcos-live.x86_64.iso \\
        --listen 192.0.2.1:8080
    """
    import logging
    import os
    import sys

    from ..arch import normalize_arch
    from ..errors import UsageError
    from ..inventory import load_inventory
    from ..live.customize import resolve_dest_ignition_hash
    from ..serve.catalog import build_catalog, open_isos, pxe_dir_artifacts, stream_artifacts
    from ..serve.minimal import MinimalStore
    from ..serve.server import bind, default_base_url, parse_listen, run, tls_context

    ctx = tls_context(tls_cert, tls_key)
    host, port = parse_listen(listen)
    resolve_dest_ignition_hash(options)
    if stream_source and pxe_dirs:
        raise UsageError("give --pxe-dir or --stream, not both")
    if bool(stream_source) != bool(cache_dir):
        raise UsageError("--stream and --cache go together")
    sock = bind(host, port)
    url = base_url or default_base_url(sock, ctx is not None)
    try:
        # Each arch's minimal ISO base: under --cache, else in a private directory removed at exit.
        store = MinimalStore(os.path.join(cache_dir, "minimal") if cache_dir else None)
    except BaseException:
        sock.close()
        raise
    click.get_current_context().call_on_close(store.close)

    def load() -> Catalog:
        """Everything from the inputs: at start-up, and again on SIGHUP."""
        opened = open_isos(isos, force=force, grow_area=grow_area)
        inventory = load_inventory(hosts_file)
        if stream_source and cache_dir:
            arches = sorted(set(opened) | {normalize_arch(h.arch) for h in inventory if h.arch}) or ["x86_64"]
            pxe = stream_artifacts(stream_source, arches, cache_dir, stream_name=stream_name, ca_cert=ca_cert,
                                   insecure=insecure)
        else:
            pxe = pxe_dir_artifacts(pxe_dirs, next(iter(opened), "x86_64"))
        return build_catalog(inventory, options, opened, pxe, base_url=url, force=force, minimal_store=store)

    try:
        catalog = load()
    except BaseException:
        sock.close()
        raise
    logging.basicConfig(level=logging.INFO, format="ignkit serve: %(message)s", stream=sys.stderr)
    for w in catalog.warnings:
        click.echo(f"ignkit: warning: {w}", err=True)
    if url is None:
        click.echo("ignkit: warning: no --base-url and a wildcard --listen address: boot scripts are not served",
                   err=True)
    background = None
    if approve_csrs:
        from ..serve.csr import start_csr_watch

        background = start_csr_watch(list(load_inventory(hosts_file)), interval=csr_interval)

    def ready(where: str) -> None:
        click.echo(f"ignkit serve: listening on {where} ({len(catalog.hosts)} hosts)", err=True)

    run(catalog, sock, ssl_context=ctx, access_log=access_log, on_ready=ready, background=background, reload=load)

