"""``ignkit pxe config``: PXELINUX, iPXE or GRUB boot entries for a CoreOS live PXE install."""

from __future__ import annotations

from typing import Optional

import click

from ..errors import redact_credentials


@click.command("config")
@click.option("-F", "--format", "fmt", type=click.Choice(["pxelinux", "ipxe", "grub"]), required=True,
              help="Boot loader: pxelinux (BIOS), ipxe, or grub (UEFI; the aarch64 way).")
@click.option("-a", "--arch", default="x86_64", show_default=True,
              type=click.Choice(["x86_64", "aarch64", "ppc64le", "s390x", "arm64", "amd64"]),
              help="Architecture of the machines.")
@click.option("--kernel-url", help="Live kernel: URL or path relative to the loader's root.")
@click.option("--initramfs-url", help="Live initramfs (or the one `pxe customize` made).")
@click.option("--rootfs-url", help="Live rootfs (coreos.live.rootfs_url; http or https).")
@click.option("--stream", "stream_source", metavar="SOURCE",
              help="Take kernel, initramfs and rootfs URLs from stream metadata (file, URL, stable, ConfigMap JSON).")
@click.option("--stream-name", help="With several streams in a ConfigMap, which one.")
@click.option("--base-url", metavar="URL",
              help="With --stream: where you serve the downloaded files (their names appended to URL).")
@click.option("--ignition-url", help="Config of the installed system (coreos.inst.ignition_url; http or https).")
@click.option("--install-dev", help="Disk to install to, e.g. /dev/sda (coreos.inst.install_dev).")
@click.option("--ip", "ips", multiple=True, metavar="SPEC", help="A dracut ip= value (repeatable).")
@click.option("--nameserver", "nameservers", multiple=True, metavar="IP", help="nameserver= (repeatable).")
@click.option("--console", "consoles", multiple=True, metavar="SPEC",
              help="console= value, e.g. ttyS0,115200n8 (repeatable; the last is primary).")
@click.option("--karg", "kargs", multiple=True, metavar="ARG", help="Another kernel argument (repeatable).")
@click.option("--customized-initramfs", "customized", is_flag=True,
              help="The initramfs carries a live Ignition config (pxe customize): adds ignition.firstboot "
                   "ignition.platform.id=metal.")
@click.option("--label", default="coreos", show_default=True, help="Entry label.")
@click.option("--hosts", "hosts_file", type=click.Path(dir_okay=False), metavar="HOSTS.yaml",
              help="Write one file per host MAC (needs --output-dir). URLs may use {hostname}, {short_name}, {mac}.")
@click.option("--output-dir", type=click.Path(file_okay=False), help="Directory for the per-host files.")
@click.option("-o", "--output", default="-", show_default=True, help="Output file for a single entry.")
@click.option("--ca-cert", type=click.Path(dir_okay=False), help="PEM CA certificates for an https --stream.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates of --stream.")
def config(fmt: str, arch: str, kernel_url: Optional[str], initramfs_url: Optional[str], rootfs_url: Optional[str],
           stream_source: Optional[str], stream_name: Optional[str], base_url: Optional[str],
           ignition_url: Optional[str], install_dev: Optional[str], ips: tuple[str, ...],
           nameservers: tuple[str, ...], consoles: tuple[str, ...], kargs: tuple[str, ...], customized: bool,
           label: str, hosts_file: Optional[str], output_dir: Optional[str], output: str, ca_cert: Optional[str],
           insecure: bool) -> None:
    """Write PXELINUX, iPXE or GRUB boot entries that install CoreOS.

    The entry always carries coreos.live.rootfs_url, coreos.inst.install_dev and
    coreos.inst.ignition_url; entries that could not boot are refused.

    URLs may name a port and an IPv6 literal (http://[2001:db8::1]:8080/...); GRUB
    gets them as (http,HOST:PORT)/path. PXELINUX fetches http:// kernels only as
    lpxelinux.0 (with ldlinux.c32); pxelinux.0 speaks TFTP only. iPXE scripts run
    `dhcp` first when iPXE has no address yet (a script started from the NIC ROM).
    """
    from pathlib import Path

    from ..arch import normalize_arch
    from ..errors import UsageError
    from ..outfile import write_files_atomic, write_output
    from ..pxeconfig import BootParams, render, render_hosts

    arch = normalize_arch(arch)
    if stream_source:
        from ..stream import load_stream

        st = load_stream(stream_source, stream_name, ca_cert=ca_cert, insecure=insecure)
        arts = {a.kind: (base_url.rstrip("/") + "/" + a.filename if base_url else a.location)
                for a in st.artifacts(arch, "pxe")}
        kernel_url = kernel_url or arts.get("kernel")
        initramfs_url = initramfs_url or arts.get("initramfs")
        rootfs_url = rootfs_url or arts.get("rootfs")
    elif base_url:
        raise UsageError("--base-url goes with --stream")
    base = BootParams(kernel_url=kernel_url or "", initramfs_url=initramfs_url or "", rootfs_url=rootfs_url,
                      ignition_url=ignition_url, install_dev=install_dev, arch=arch, console=list(consoles),
                      ip=list(ips), nameservers=list(nameservers), kargs=list(kargs), customized=customized,
                      label=label)
    if hosts_file:
        if not output_dir:
            raise UsageError("--hosts writes one file per host: give --output-dir DIR")
        if output != "-":
            raise UsageError("--output is for a single entry; with --hosts use --output-dir")
        from ..inventory import load_inventory

        files, warnings = render_hosts(fmt, base, load_inventory(hosts_file))
        for w in warnings:
            click.echo(f"ignkit: warning: {redact_credentials(w)}", err=True)
        root = Path(output_dir)
        # All or nothing: a failure while writing leaves none of the per-host files.
        for target in write_files_atomic([(root / rel, text.encode()) for rel, text in sorted(files.items())],
                                         overwrite=True):
            click.echo(target)
        return
    if output_dir:
        raise UsageError("--output-dir is for per-host files: give --hosts HOSTS.yaml, or use --output")
    text, warnings = render(fmt, base)
    for w in warnings:
        click.echo(f"ignkit: warning: {redact_credentials(w)}", err=True)
    write_output(output, text.encode())
