"""``ignkit embed`` (a per-host live ISO that installs itself) and ``ignkit pxe customize``."""

from __future__ import annotations

import functools
import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Optional

import click

from ..errors import UsageError
from .options import customize_options

if TYPE_CHECKING:
    from ..live.customize import CustomizeOptions

_RUN_OPTIONS = (
    click.option("--dry-run", is_flag=True, help="Print what would be embedded and write nothing."),
    click.option("--overwrite", is_flag=True, help="Replace output files that exist."),
)


def _run_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--dry-run and --overwrite: how a customize command writes (not what goes into the image)."""
    for opt in reversed(_RUN_OPTIONS):
        f = opt(f)
    return f


def _say(lines: list[str], warnings: Optional[list[str]] = None) -> None:
    for w in warnings or []:
        click.echo(f"ignkit: warning: {w}", err=True)
    for line in lines:
        click.echo(line, err=True)


def _check_hosts_usage(options: CustomizeOptions, hosts_file: str, output: Optional[str],
                       output_dir: Optional[str], dry_run: bool, in_place: bool = False) -> None:
    from ..live.options import check_hosts_base

    check_hosts_base(options, hosts_file)
    if output is not None or in_place:
        raise UsageError("--hosts writes one image per host into --output-dir; drop -o/--in-place")
    if output_dir is None and not dry_run:
        raise UsageError("--hosts needs --output-dir DIR")


def _describe_hosts(images: list[Any]) -> None:
    from ..live.customize import describe

    for im in images:
        click.echo(f"== {im.host.hostname}: {im.path}")
        kargs = im.iso.current_kargs() if im.iso is not None and im.result.has_live_kargs else None
        area = im.iso.ignition_area.length if im.iso is not None else None
        click.echo(describe(im.result, area_size=area, kargs=kargs))


def _write_hosts(images: list[Any], write: Callable[..., None], label: str) -> None:
    """Run ``write(images, progress=...)``: a progress bar on a terminal, one line per host otherwise."""
    if sys.stderr.isatty():
        bar: Any = click.progressbar(length=len(images), label=label, file=sys.stderr, show_pos=True,
                                     item_show_func=lambda im: im.host.hostname if im else None)
        with bar:
            write(images, progress=lambda im: bar.update(1, im))
    else:
        write(images)
        for im in images:
            click.echo(f"{im.host.hostname}: {im.path}", err=True)
    _say([n for n in images[0].result.messages if not n.startswith("Boot media will automatically install to")],
         images[0].result.warnings)
    installs = [f"{im.host.hostname} ({im.result.installer_config.dest_device})" for im in images
                if im.result.installer_config and im.result.installer_config.dest_device]
    if installs:
        click.echo("Boot media will automatically install without confirmation: " + ", ".join(installs), err=True)


def _check_one_image_usage(options: CustomizeOptions, hosts_file: Optional[str], output_dir: Optional[str]) -> None:
    from ..live.options import check_hosts_base

    if hosts_file is None:
        raise UsageError("--one-image needs --hosts HOSTS.yaml")
    if output_dir is not None:
        raise UsageError("--one-image writes one image: give -o OUT, not --output-dir")
    check_hosts_base(options, hosts_file)


def _embed_one_image(live: Any, options: CustomizeOptions, hosts_file: str, output: Optional[str], in_place: bool,
                     force: bool, dry_run: bool, overwrite: bool) -> None:
    from ..inventory import load_inventory
    from ..live.image import write_iso
    from ..live.oneimage import describe_one_image, one_image_iso

    one = one_image_iso(live, options, load_inventory(hosts_file), force=force)
    if dry_run:
        click.echo(describe_one_image(one, area_size=live.ignition_area.length))
    else:
        write_iso(live, output=output, in_place=in_place, overwrite=overwrite)
    _say(one.result.messages, one.result.warnings)


def _embed_copying(iso: str, arch: Optional[str], output: str, overwrite: bool, force: bool, grow_area: bool,
                   options: CustomizeOptions) -> None:
    """One customized ISO into the new file ``output``: the kernel starts copying the image first
    (ignkit/isocopy.py); the ISO is opened, the configs read and checked and the area computed while it runs."""
    from ..isocopy import copying

    with copying(iso, output, overwrite=overwrite) as pending:
        from ..live.customize import customize_iso, resolve_dest_ignition_hash
        from ..live.image import finish_copy, open_iso

        live = open_iso(iso, arch=arch)
        live.allow_grow = grow_area
        resolve_dest_ignition_hash(options)
        result = customize_iso(live, options, force=force)
        finish_copy(pending, live)
    _say(result.messages, result.warnings)


@click.command()
@click.argument("iso", metavar="ISO", type=click.Path(dir_okay=False))
@click.option("-o", "--output", metavar="OUT", help="Write the customized ISO to OUT (a new file), or - for stdout.")
@click.option("--in-place", is_flag=True, help="Customize the input ISO itself.")
@click.option("-f", "--force", is_flag=True, help="Customize an ISO that is already customized (replaces it).")
@click.option("--arch", metavar="ARCH", help="Refuse the ISO unless it is for ARCH (x86_64, aarch64, ppc64le, s390x).")
@click.option("--hosts", "hosts_file", metavar="HOSTS.yaml", type=click.Path(dir_okay=False),
              help="One ISO per host of HOSTS.yaml (ignkit fields or nodes-config.yaml): DIR/<hostname>.iso, "
                   "all written or none.")
@click.option("--output-dir", metavar="DIR", type=click.Path(file_okay=False), help="Where --hosts writes ISOs.")
@click.option("--one-image", is_flag=True, help="With --hosts: one ISO (-o OUT) for every host; at boot the host whose "
              "MAC the machine carries is selected (no match: DHCP, no install).")
@click.option("--grow-area", is_flag=True, help="When the compressed config does not fit the Ignition area, move the "
              "area to a larger extent at the end of the ISO (`iso reset` gives back the original image).")
@customize_options("iso")
@_run_options
def embed(iso: str, output: Optional[str], in_place: bool, force: bool, arch: Optional[str],
          hosts_file: Optional[str], output_dir: Optional[str], one_image: bool, grow_area: bool,
          options: CustomizeOptions, dry_run: bool, overwrite: bool) -> None:
    """Build a live ISO that installs itself: the options of `coreos-installer iso customize`.

    \b
    ignkit embed rhcos-live.iso -o w1.iso --dest-ignition worker.ign --dest-device /dev/sda \\
        --hostname w1 --ip 192.0.2.11/24 --gateway 192.0.2.1 --dns 192.0.2.53 --mac 52:54:00:aa:bb:01
    ignkit embed rhcos-live.iso --hosts nodes-config.yaml --output-dir isos/ --dest-ignition worker.ign
    ignkit embed rhcos-live.iso --hosts nodes-config.yaml --one-image -o rack.iso --dest-ignition worker.ign
    """
    from ..outfile import check_output_mode

    if one_image:
        from ..live.customize import resolve_dest_ignition_hash
        from ..live.image import open_iso

        _check_one_image_usage(options, hosts_file, output_dir)
        if not dry_run:
            check_output_mode(output, in_place)
        live = open_iso(iso, arch=arch)
        live.allow_grow = grow_area
        resolve_dest_ignition_hash(options)
        _embed_one_image(live, options, hosts_file or "", output, in_place, force, dry_run, overwrite)
        return
    if hosts_file is not None:
        _check_hosts_usage(options, hosts_file, output, output_dir, dry_run, in_place)
    elif output_dir is not None:
        raise UsageError("--output-dir goes with --hosts; use -o OUT for one ISO")
    elif not dry_run:
        check_output_mode(output, in_place)
        if output != "-" and not in_place and os.path.isfile(iso):
            _embed_copying(iso, arch, output or "", overwrite, force, grow_area, options)
            return
    from ..live.customize import describe, resolve_dest_ignition_hash
    from ..live.image import open_iso

    live = open_iso(iso, arch=arch)
    live.allow_grow = grow_area
    resolve_dest_ignition_hash(options)
    if hosts_file is not None:
        from ..inventory import load_inventory
        from ..live.hosts import plan_iso_hosts, write_iso_hosts

        images = plan_iso_hosts(live, options, load_inventory(hosts_file), output_dir or "", force=force)
        if dry_run:
            _describe_hosts(images)
        else:
            _write_hosts(images, functools.partial(write_iso_hosts, overwrite=overwrite), "Writing ISOs")
        return
    from ..live.customize import customize_iso
    from ..live.image import writing_iso

    if dry_run:
        result = customize_iso(live, options, force=force)
        kargs = live.current_kargs() if result.has_live_kargs else None
        click.echo(describe(result, area_size=live.ignition_area.length, kargs=kargs))
    else:
        with writing_iso(live, output=output, in_place=in_place, overwrite=overwrite) as write:  # copy meanwhile
            result = customize_iso(live, options, force=force)
            write()
    _say(result.messages, result.warnings)


@click.command("customize")
@click.argument("initramfs", metavar="INITRAMFS", type=click.Path(dir_okay=False))
@click.option("-o", "--output", metavar="OUT", help="Write the customized initramfs to OUT, or - for stdout.")
@click.option("--hosts", "hosts_file", metavar="HOSTS.yaml", type=click.Path(dir_okay=False),
              help="One initramfs per host of HOSTS.yaml: DIR/<hostname>.img, all written or none.")
@click.option("--output-dir", metavar="DIR", type=click.Path(file_okay=False), help="Where --hosts writes images.")
@click.option("--one-image", is_flag=True, help="With --hosts: one initramfs (-o OUT) for every host, selected by MAC "
              "at boot (no match: DHCP, no install).")
@customize_options("pxe")
@_run_options
def pxe_customize(initramfs: str, output: Optional[str], hosts_file: Optional[str], output_dir: Optional[str],
                  one_image: bool, options: CustomizeOptions, dry_run: bool, overwrite: bool) -> None:
    """Append a per-host layer (config, installer config, keyfiles) to a CoreOS live initramfs.

    The input is copied unchanged and one xz (CRC32) cpio archive is appended; the options are those
    of `ignkit embed` without the live kernel arguments (give those in the PXE boot config).
    """
    from ..live.customize import compose_pxe, customize_pxe, describe, resolve_dest_ignition_hash

    if one_image:
        from ..inventory import load_inventory
        from ..live.oneimage import compose_one_image_pxe, describe_one_image, one_image_pxe

        _check_one_image_usage(options, hosts_file, output_dir)
        if output is None and not dry_run:
            raise UsageError("give -o OUT (a new file) or -o - (stdout)")
        resolve_dest_ignition_hash(options)
        hosts = load_inventory(hosts_file or "")
        if dry_run:
            one = compose_one_image_pxe(initramfs, options, hosts)
            click.echo(describe_one_image(one))
        else:
            one = one_image_pxe(initramfs, options, hosts, output, overwrite=overwrite)
        _say(one.result.messages, one.result.warnings)
        return
    if hosts_file is not None:
        _check_hosts_usage(options, hosts_file, output, output_dir, dry_run)
    elif output_dir is not None:
        raise UsageError("--output-dir goes with --hosts; use -o OUT for one initramfs")
    elif output is None and not dry_run:
        raise UsageError("give -o OUT (a new file) or -o - (stdout)")
    resolve_dest_ignition_hash(options)
    if hosts_file is not None:
        from ..inventory import load_inventory
        from ..live.hosts import plan_pxe_hosts, write_pxe_hosts

        images = plan_pxe_hosts(initramfs, options, load_inventory(hosts_file), output_dir or "")
        if dry_run:
            _describe_hosts(images)
        else:
            _write_hosts(images, functools.partial(write_pxe_hosts, initramfs, overwrite=overwrite),
                         "Writing initramfs images")
        return
    if dry_run:
        result = compose_pxe(initramfs, options)
        click.echo(describe(result))
    else:
        assert output is not None
        result = customize_pxe(initramfs, options, output, overwrite=overwrite)
    _say(result.messages, result.warnings)
