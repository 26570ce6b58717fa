"""The per-host fan-out of ``--hosts``: one customized ISO or PXE initramfs per inventory host, all or nothing."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ..errors import IgnkitError, ImageError, UsageError
from ..outfile import refuse_input_as_output
from .customize import (
    Customization,
    CustomizeOptions,
    PathLike,
    check_initramfs_input,
    compose,
    customize_iso,
    scan_pxe_initramfs,
)
from .features import OsFeatures
from .kinds import ImageKind
from .options import check_hosts_base

if TYPE_CHECKING:
    from ..inventory import Host
    from .image import LiveIso


# ---------------------------------------------------------------------------------------------------
# One host's options


def host_options(base: CustomizeOptions, host: Host) -> CustomizeOptions:
    """The options for one inventory host: ``base`` plus the host's name, device, console, kargs, keyfiles, SSH keys."""
    import dataclasses

    opts = dataclasses.replace(
        base,
        dest_console=list(base.dest_console), dest_karg_append=list(base.dest_karg_append),
        keyfiles=dict(base.keyfiles),
    )
    opts.hostname = host.hostname
    opts.ssh_authorized_keys = list(base.ssh_authorized_keys) + [
        k for k in host.ssh_authorized_keys if k not in base.ssh_authorized_keys]
    if host.install_dev:
        opts.dest_device = host.install_dev
    if host.console:
        opts.dest_console = list(host.console)
    opts.dest_karg_append += list(host.kargs)
    for name, text in host.keyfiles.items():
        if name in opts.keyfiles:
            raise UsageError(f"{host.hostname}: config already specifies keyfile {name}")
        opts.keyfiles[name] = text
    return opts


# ---------------------------------------------------------------------------------------------------
# Many hosts: one image each, all or nothing


@dataclass
class HostImage:
    """One host's image in an ``--hosts`` run: where it goes and what it carries."""

    host: Host
    path: str                                   # <output_dir>/<hostname>.iso or .img
    result: Customization
    iso: Optional[LiveIso] = None               # ISO runs: the staged copy with this host's edits
    layer: bytes = b""                          # PXE runs: the xz cpio layer to append


#: Called after each host's image is written (before the set is published), e.g. to drive a progress bar.
ProgressCallback = Callable[[HostImage], None]


def _host_target(output_dir: PathLike, host: Host, suffix: str) -> str:
    name = host.hostname.rstrip(".") + suffix
    if len(name.encode()) > 255:
        raise UsageError(f"{host.hostname}: host name too long for a file name ({name!r})")
    return os.path.join(os.fspath(output_dir), name)


@contextlib.contextmanager
def _naming(host: Host) -> Iterator[None]:
    """Prefix the message of an error raised inside with the host name."""
    try:
        yield
    except IgnkitError as e:
        e.args = (f"{host.hostname}: {e.message}",) + tuple(e.args[1:])
        raise


def plan_iso_hosts(iso: LiveIso, options: CustomizeOptions, hosts: Sequence[Host], output_dir: PathLike, *,
                   force: bool = False) -> list[HostImage]:
    """Compose every host's ISO (``base`` options plus the host's own) without writing anything.

    A host whose architecture differs from the ISO's, or whose options fail, raises an error
    naming the host: a bad third host stops the run before the first ISO is written. ``options``
    must not set what the inventory gives per host (host name, short network options).
    """
    check_hosts_base(options)
    if not force and not iso.is_pristine():
        raise ImageError("This ISO image is already customized; use -f to force.")
    for h in hosts:
        check_host_arch(iso, h)
    images = []
    for h in hosts:
        result, copy = stage_iso_host(iso, options, h, force=force)
        images.append(HostImage(h, _host_target(output_dir, h, ".iso"), result, iso=copy))
        refuse_input_as_output(images[-1].path, [iso.path], hint="choose another --output-dir")
    return images


def check_host_arch(iso: LiveIso, host: Host) -> None:
    """Refuse (UsageError) a host whose declared architecture is not the ISO's."""
    if host.arch and iso.arch not in ("unknown", host.arch):
        raise UsageError(f"{host.hostname} is {host.arch} but {iso.path} is a {iso.arch} ISO")


def stage_iso_host(iso: LiveIso, options: CustomizeOptions, host: Host, *,
                   force: bool = False) -> tuple[Customization, LiveIso]:
    """One host's ISO edits, staged on a copy of ``iso`` (errors name the host).

    The copy's :attr:`~ignkit.live.image.LiveIso.patches` are the only bytes in which the host's ISO
    differs from ``iso``: :func:`write_iso_hosts` writes them into files, ``ignkit serve`` streams them.
    """
    copy = iso.copy()
    with _naming(host):
        result = customize_iso(copy, host_options(options, host), force=force)
    return result, copy


def plan_pxe_hosts(initramfs: PathLike, options: CustomizeOptions, hosts: Sequence[Host],
                   output_dir: PathLike) -> list[HostImage]:
    """Compose every host's PXE layer (the initramfs is scanned once) without writing anything."""
    check_hosts_base(options)
    if options.has_live_kargs:
        raise UsageError("--live-karg-* apply to ISO images only: give PXE kernel arguments in the boot config")
    check_initramfs_input(initramfs)
    features = scan_pxe_initramfs(initramfs).features
    images = []
    for h in hosts:
        result, layer = pxe_host_layer(features, options, h)
        images.append(HostImage(h, _host_target(output_dir, h, ".img"), result, layer=layer))
        refuse_input_as_output(images[-1].path, [initramfs], hint="choose another --output-dir")
    return images


def pxe_host_layer(features: Union[OsFeatures, Mapping[str, Any]], options: CustomizeOptions,
                   host: Host) -> tuple[Customization, bytes]:
    """One host's PXE layer: the xz cpio that follows the live initramfs' bytes (errors name the host).

    ``features`` are the live initramfs' (:func:`scan_pxe_initramfs`); :func:`write_pxe_hosts` appends
    the layer to a copy of the initramfs, ``ignkit serve`` streams the initramfs followed by it.
    """
    from .initramfs import build_initrd

    with _naming(host):
        result = compose(host_options(options, host), features, target=ImageKind.PXE, has_karg_areas=False)
    return result, build_initrd(result.members)


def write_host_images(images: Sequence[HostImage], write_one: Callable[[HostImage, str], None], *,
                      overwrite: bool = False, progress: Optional[ProgressCallback] = None) -> None:
    """Write every image, all or nothing (:func:`ignkit.outfile.write_files_atomic`).

    ``write_one(image, temp_path)`` writes one image over ``temp_path``. Existing targets are refused
    up front unless ``overwrite``. On any failure (or interruption) every temporary file is removed
    and no target of this run appears, so an ``--output-dir`` never holds a half set from one run.
    """
    from ..outfile import write_files_atomic

    if not images:
        return
    write_files_atomic([(im.path, functools.partial(write_one, im)) for im in images], overwrite=overwrite,
                       fsync=False, progress=None if progress is None else lambda i: progress(images[i]))


def write_iso_hosts(images: Sequence[HostImage], *, overwrite: bool = False,
                    progress: Optional[ProgressCallback] = None) -> None:
    """Write the ISOs of :func:`plan_iso_hosts`, all or nothing (see :func:`write_host_images`).

    Each ISO costs about one file copy: the kernel copies the image (copy_file_range) and only the
    embed areas are written from memory.
    """
    from .image import write_iso

    def write_one(im: HostImage, tmp: str) -> None:
        assert im.iso is not None
        write_iso(im.iso, output=tmp, overwrite=True)

    write_host_images(images, write_one, overwrite=overwrite, progress=progress)


def write_pxe_hosts(initramfs: PathLike, images: Sequence[HostImage], *, overwrite: bool = False,
                    progress: Optional[ProgressCallback] = None) -> None:
    """Write the images of :func:`plan_pxe_hosts`: each is ``initramfs`` plus its host's layer."""
    import shutil

    size = os.path.getsize(initramfs)

    def write_one(im: HostImage, tmp: str) -> None:
        shutil.copyfile(initramfs, tmp)
        if os.path.getsize(tmp) != size:
            raise ImageError(f"{os.fspath(initramfs)}: the file changed size while being copied")
        with open(tmp, "ab") as f:
            f.write(im.layer)

    write_host_images(images, write_one, overwrite=overwrite, progress=progress)


def customize_iso_hosts(iso: LiveIso, options: CustomizeOptions, hosts: Sequence[Host], output_dir: PathLike, *,
                        force: bool = False, overwrite: bool = False,
                        progress: Optional[ProgressCallback] = None) -> list[HostImage]:
    """One customized ISO per host, ``<output_dir>/<hostname>.iso``: plan all, then write all or nothing."""
    images = plan_iso_hosts(iso, options, hosts, output_dir, force=force)
    write_iso_hosts(images, overwrite=overwrite, progress=progress)
    return images


def customize_pxe_hosts(initramfs: PathLike, options: CustomizeOptions, hosts: Sequence[Host],
                        output_dir: PathLike, *, overwrite: bool = False,
                        progress: Optional[ProgressCallback] = None) -> list[HostImage]:
    """One customized initramfs per host, ``<output_dir>/<hostname>.img``: plan all, then write all or nothing."""
    images = plan_pxe_hosts(initramfs, options, hosts, output_dir)
    write_pxe_hosts(initramfs, images, overwrite=overwrite, progress=progress)
    return images
