"""``ignkit iso``: inspect and edit a CoreOS live ISO's Ignition and kernel-argument areas."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from typing import TYPE_CHECKING, Any, BinaryIO, Callable

import click

from ..errors import CheckFailed, InputError, UsageError
from . import LazyGroup

if TYPE_CHECKING:
    from ..live.image import LiveIso

_ISO_ARG = click.argument("iso", metavar="ISO", type=click.Path(dir_okay=False))
_GROW_OPT = click.option("--grow-area", is_flag=True,
                         help="When the compressed config does not fit the Ignition area, move the area to a larger "
                              "extent at the end of the ISO (`iso reset` gives back the original image).")
_ARCH_OPT = click.option("--arch", metavar="ARCH",
                         help="Refuse the ISO unless it is for ARCH (x86_64, aarch64, ppc64le, s390x).")


def _output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """-o/--output, --in-place and --overwrite: where a changed ISO goes.

    The combination is checked before the command runs, so a forgotten -o fails fast and leaves nothing behind.
    """
    @functools.wraps(f)
    def checked(**kw: Any) -> Any:
        from ..outfile import check_output_mode

        check_output_mode(kw["output"], kw["in_place"])
        return f(**kw)

    g = click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")(checked)
    g = click.option("--in-place", is_flag=True, help="Change the input ISO itself.")(g)
    return click.option("-o", "--output", metavar="OUT",
                        help="Write the changed ISO to OUT (a new file), or - for stdout.")(g)


def _open(iso: str, arch: str | None) -> LiveIso:
    from ..live.image import open_iso

    return open_iso(iso, arch=arch)


def _edit(iso: str, arch: str | None, output: str | None, in_place: bool, overwrite: bool,
          change: Callable[[LiveIso], object], prepare: Callable[[], object] | None = None) -> None:
    """Call ``prepare`` (reading an input), open the ISO, apply ``change`` to it, write the result where the
    output options say.

    A new file: the kernel starts copying the image first (ignkit/isocopy.py), and ``prepare`` runs, the ISO
    is opened and ``change`` computed while it runs: all that is loaded (ignkit.live, pycdlib) is imported
    only then."""
    if output is not None and output != "-" and not in_place and os.path.isfile(iso):
        from ..isocopy import copying

        with copying(iso, output, overwrite=overwrite) as pending:
            if prepare is not None:
                prepare()
            from ..live.image import finish_copy

            live = _open(iso, arch)
            change(live)
            finish_copy(pending, live)
        return
    from ..live.image import write_iso

    if prepare is not None:
        prepare()
    live = _open(iso, arch)
    change(live)
    write_iso(live, output=output, in_place=in_place, overwrite=overwrite)


def _open_input(path: str) -> BinaryIO:
    """``path`` (``-``: stdin) open for reading; InputError (UsageError for stdin on a terminal) otherwise."""
    try:
        if path == "-":
            if sys.stdin.isatty():
                raise UsageError("no config given: use -i CONFIG, or pipe the config on stdin")
            return sys.stdin.buffer
        return open(path, "rb")
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None


def _read_opened(f: BinaryIO, path: str) -> bytes:
    """All of ``f`` (from :func:`_open_input`), closed after unless it is stdin."""
    try:
        with contextlib.nullcontext(f) if path == "-" else f:
            return f.read()
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None


def _read_input(path: str) -> bytes:
    return _read_opened(_open_input(path), path)


def _stdout_bytes() -> BinaryIO:
    from ..outfile import stdout_bytes

    return stdout_bytes()  # type: ignore[return-value]


@click.group(
    cls=LazyGroup,
    # coreos-installer's name for what ignkit calls `embed`: the same command, for muscle memory.
    lazy={"customize": "ignkit.cli.embed:embed"},
    lazy_help={"customize": "The same as `ignkit embed` (coreos-installer's name for it)."},
)
def iso() -> None:
    """Inspect and edit a CoreOS live ISO's Ignition and kernel-argument areas.

    Commands that change an ISO need -o OUT (a new file; --overwrite to replace one), -o - (stdout)
    or --in-place. The three give byte-identical images.
    """


# -- inspect --

@iso.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_ARCH_OPT
@_ISO_ARG
def inspect(iso: str, as_json: bool, arch: str | None) -> None:
    """Show the ISO's architecture, volume id, embed areas, kargs, features and state.

    \b
    Text and --json use the same words; text label -> JSON key:
      ISO -> path, size            architecture -> arch, arch_evidence
      volume id -> volume_id       state -> state: pristine | customized | unknown
      ignition area -> ignition    kargs areas -> kargs (default, current)
      El Torito -> eltorito_platforms: BIOS, UEFI, PowerPC, Mac (else hex)
      features -> features         pxe files -> pxe_files (lower case, as extract pxe names them)
    """
    info = _open(iso, arch).inspect()
    if as_json:
        import json

        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    ign = info["ignition"]
    lines = [
        f"ISO:           {info['path']} ({info['size']} bytes)",
        f"architecture:  {info['arch']} ({info['arch_evidence']})",
        f"volume id:     {info['volume_id']}",
        f"state:         {info['state']}{' (unreadable embed area)' if info['state'] == 'unknown' else ''}",
        f"ignition area: {ign['file']} +{ign['file_offset']} (ISO offset {ign['offset']}, "
        f"{ign['length']} bytes, {ign['used']} used; from {ign['source']})",
    ]
    grown = ign.get("grown")
    if grown:
        lines.append(f"  grown:       moved by ignkit from ISO offset {grown['original_offset']} "
                     f"({grown['original_length']} bytes); the original image was {grown['original_size']} bytes "
                     "(iso reset gives it back)")
    if ign.get("members") is None:
        lines.append(f"  content:     unreadable: {ign.get('error')}")
    else:
        lines.append(f"  members:     {', '.join(ign['members']) or '(empty)'}")
    kargs = info["kargs"]
    if kargs is None:
        lines.append("kargs areas:   none (kernel arguments cannot be edited)")
    else:
        lines.append(f"kargs areas:   {len(kargs['files'])} of {kargs['size']} bytes (from {kargs['source']})")
        for a in kargs["files"]:
            lines.append(f"  {a['file']} +{a['file_offset']} (ISO offset {a['offset']}, "
                         f"pad {a['pad']!r}, end {a['end']!r})")
        lines.append(f"  default:     {kargs['default']}")
        lines.append(f"  current:     {kargs['current']}")
    platforms = info["eltorito_platforms"]
    lines.append(f"El Torito:     {', '.join(platforms) if platforms else 'none'}")
    feats = info["features"]
    if feats:
        on = sorted(k for k, v in feats.items() if v is True)
        directives = feats.get("installer-config-directives")
        lines.append(f"features:      {', '.join(on) or '(none)'}")
        if isinstance(directives, dict):
            lines.append(f"  installer-config-directives: {', '.join(sorted(k for k, v in directives.items() if v))}")
    else:
        lines.append("features:      (no coreos/features.json)")
    if info["pxe_files"]:
        lines.append(f"pxe files:     {', '.join(info['pxe_files'])}")
    click.echo("\n".join(lines))


# -- ignition --

@iso.group()
def ignition() -> None:
    """Embed, show or remove the live system's Ignition config."""


@ignition.command("embed")
@click.option("-i", "--ignition-file", "config", metavar="CONFIG", default="-", show_default=True,
              help="Ignition config to embed (a JSON object, embedded verbatim); - reads stdin.")
@click.option("-f", "--force", is_flag=True, help="Replace an Ignition config that is already embedded.")
@_GROW_OPT
@_ARCH_OPT
@_output_options
@_ISO_ARG
def ignition_embed(iso: str, config: str, force: bool, arch: str | None, output: str | None, in_place: bool,
                   overwrite: bool, grow_area: bool = False) -> None:
    """Embed an Ignition config into the ISO's Ignition area."""
    source = "from stdin" if config == "-" else config
    given = _open_input(config)  # a missing config fails here, before a copy starts
    data = b""

    def read() -> None:  # while the copy runs (a config of megabytes takes milliseconds to read and check)
        from ..configinput import as_ignition

        nonlocal data
        data = as_ignition(_read_opened(given, config), "stdin" if config == "-" else config,
                           None if config == "-" else os.path.dirname(os.path.abspath(config)))

    def change(live: LiveIso) -> None:
        live.allow_grow = grow_area
        live.embed_ignition(data, force=force, source=source)

    try:
        _edit(iso, arch, output, in_place, overwrite, change, prepare=read)
    finally:
        if config != "-":
            given.close()


@ignition.command("show")
@_ARCH_OPT
@_ISO_ARG
def ignition_show(iso: str, arch: str | None) -> None:
    """Print the embedded Ignition config."""
    config = _open(iso, arch).ignition_config()
    if config is None:
        raise CheckFailed("No embedded Ignition config.")
    out = _stdout_bytes()
    out.write(config)
    out.flush()


@ignition.command("remove")
@_ARCH_OPT
@_output_options
@_ISO_ARG
def ignition_remove(iso: str, arch: str | None, output: str | None, in_place: bool, overwrite: bool) -> None:
    """Remove the embedded Ignition config (network keyfiles stay)."""
    _edit(iso, arch, output, in_place, overwrite, lambda live: live.remove_ignition())


# -- network --

@iso.group()
def network() -> None:
    """Embed, extract or remove NetworkManager keyfiles for the live system."""


@network.command("embed")
@click.option("-k", "--keyfile", "keyfiles", metavar="KEYFILE", multiple=True, required=True,
              help="NetworkManager keyfile to embed (repeatable).")
@click.option("-f", "--force", is_flag=True, help="Replace keyfiles that are already embedded.")
@_ARCH_OPT
@_output_options
@_ISO_ARG
def network_embed(iso: str, keyfiles: tuple[str, ...], force: bool, arch: str | None, output: str | None,
                  in_place: bool, overwrite: bool) -> None:
    """Embed NetworkManager keyfiles (the live system's firstboot network)."""
    files: dict[str, bytes] = {}
    for path in keyfiles:
        name = os.path.basename(path)
        if name in files:
            raise UsageError(f"multiple input files named '{name}'")
        files[name] = _read_input(path)
    _edit(iso, arch, output, in_place, overwrite, lambda live: live.embed_network(files, force=force))


@network.command("extract")
@click.option("-C", "--directory", metavar="DIR", help="Write the keyfiles into DIR instead of printing them.")
@_ARCH_OPT
@_ISO_ARG
def network_extract(iso: str, directory: str | None, arch: str | None) -> None:
    """Print the embedded keyfiles, or write them into a directory."""
    files = _open(iso, arch).network_keyfiles()
    if not files:
        raise CheckFailed("No embedded network settings.")
    from ..netconf import keyfiles_listing, write_keyfiles

    if directory:
        for path in write_keyfiles(files, directory):
            click.echo(path)
        return
    out = _stdout_bytes()
    out.write(keyfiles_listing(files))
    out.flush()


@network.command("remove")
@_ARCH_OPT
@_output_options
@_ISO_ARG
def network_remove(iso: str, arch: str | None, output: str | None, in_place: bool, overwrite: bool) -> None:
    """Remove the embedded keyfiles (the Ignition config stays)."""
    _edit(iso, arch, output, in_place, overwrite, lambda live: live.remove_network())


# -- kargs --

@iso.group()
def kargs() -> None:
    """Show or edit the live system's kernel arguments."""


@kargs.command("show")
@click.option("-d", "--default", "default", is_flag=True, help="Show the default kernel arguments.")
@_ARCH_OPT
@_ISO_ARG
def kargs_show(iso: str, default: bool, arch: str | None) -> None:
    """Print the current (or default) kernel arguments."""
    live = _open(iso, arch)
    value = live.current_kargs()  # raises the "no karg areas" error first
    if default:
        value = live.default_kargs or ""
    click.echo(value)


@kargs.command("modify")
@click.option("-a", "--append", metavar="KARG", multiple=True, help="Append a kernel argument.")
@click.option("-d", "--delete", metavar="KARG", multiple=True, help="Delete a kernel argument.")
@click.option("-r", "--replace", metavar="KEY=OLD=NEW", multiple=True, help="Replace KEY=OLD by KEY=NEW.")
@_ARCH_OPT
@_output_options
@_ISO_ARG
def kargs_modify(iso: str, append: tuple[str, ...], delete: tuple[str, ...], replace: tuple[str, ...],
                 arch: str | None, output: str | None, in_place: bool, overwrite: bool) -> None:
    """Edit the current kernel arguments: delete, then append, then replace."""
    _edit(iso, arch, output, in_place, overwrite,
          lambda live: live.modify_kargs(append=append, delete=delete, replace=replace))


@kargs.command("reset")
@_ARCH_OPT
@_output_options
@_ISO_ARG
def kargs_reset(iso: str, arch: str | None, output: str | None, in_place: bool, overwrite: bool) -> None:
    """Put the default kernel arguments back."""
    _edit(iso, arch, output, in_place, overwrite, lambda live: live.reset_kargs())


# -- reset --

@iso.command("reset")
@_ARCH_OPT
@_output_options
@_ISO_ARG
def reset(iso: str, arch: str | None, output: str | None, in_place: bool, overwrite: bool) -> None:
    """Remove every customization: empty Ignition area, default kernel arguments."""
    _edit(iso, arch, output, in_place, overwrite, lambda live: live.reset())


# -- extract --

@iso.group()
def extract() -> None:
    """Extract files from the ISO."""


@extract.command("pxe")
@click.option("-C", "--directory", "-o", "--output-dir", "directory", metavar="DIR", default=".",
              show_default=True, help="Directory to write the files into.")
@click.option("--overwrite", is_flag=True, help="Replace files that exist.")
@_ARCH_OPT
@_ISO_ARG
def extract_pxe(iso: str, directory: str, overwrite: bool, arch: str | None) -> None:
    """Write the kernel, initramfs and rootfs from images/pxeboot as <ISO name>-<file>."""
    from ..live.image import extract_pxe as do_extract

    live = _open(iso, arch)
    for path in do_extract(live, directory, overwrite=overwrite):
        click.echo(path)


@extract.command("minimal-iso")
@click.option("-o", "--output", "output_opt", metavar="OUT",
              help="Write the minimal ISO to OUT (a new file); - or nothing: stdout.")
@click.option("--output-rootfs", metavar="PATH", help="Also write images/pxeboot/rootfs.img to PATH.")
@click.option("--rootfs-url", metavar="URL", help="Boot the minimal ISO with coreos.live.rootfs_url=URL.")
@click.option("--overwrite", is_flag=True, help="Replace OUT / PATH if they exist.")
@_ARCH_OPT
@_ISO_ARG
@click.argument("output_arg", metavar="[OUTPUT]", required=False)
def extract_minimal_iso(iso: str, output_opt: str | None, output_arg: str | None, output_rootfs: str | None,
                        rootfs_url: str | None, overwrite: bool, arch: str | None) -> None:
    """Rebuild the minimal ISO (no rootfs) from coreos/miniso.dat, as coreos-installer does.

    The ISO must be pristine (`ignkit iso reset` it first). OUTPUT as a second argument is
    coreos-installer's spelling of -o.
    """
    from ..live.miniso import extract_minimal_iso as do_extract

    if output_opt is not None and output_arg is not None:
        raise UsageError("give the output either as -o OUT or as the OUTPUT argument, not both")
    _open(iso, arch)
    do_extract(iso, output_opt or output_arg or "-", rootfs_url=rootfs_url, output_rootfs=output_rootfs,
               overwrite=overwrite)


# -- coreos-installer's deprecated spellings (hidden): `iso embed|show|remove` --

def _deprecated(ctx: click.Context, command: Callable[..., Any], old: str, new: str, **kwargs: Any) -> None:
    click.echo(f"`iso {old}` is deprecated; use `iso {new}`.  Continuing.", err=True)
    ctx.invoke(command, **kwargs)


@iso.command("embed", hidden=True)
@click.option("-c", "--config", metavar="CONFIG", default="-", help="Ignition config to embed; - reads stdin.")
@click.option("-f", "--force", is_flag=True, help="Replace an Ignition config that is already embedded.")
@_GROW_OPT
@_ARCH_OPT
@_output_options
@_ISO_ARG
@click.pass_context
def embed_alias(ctx: click.Context, **kwargs: Any) -> None:
    """Deprecated: use `iso ignition embed`."""
    _deprecated(ctx, ignition_embed, "embed", "ignition embed", **kwargs)


@iso.command("show", hidden=True)
@_ARCH_OPT
@_ISO_ARG
@click.pass_context
def show_alias(ctx: click.Context, **kwargs: Any) -> None:
    """Deprecated: use `iso ignition show`."""
    _deprecated(ctx, ignition_show, "show", "ignition show", **kwargs)


@iso.command("remove", hidden=True)
@_ARCH_OPT
@_output_options
@_ISO_ARG
@click.pass_context
def remove_alias(ctx: click.Context, **kwargs: Any) -> None:
    """Deprecated: use `iso ignition remove`."""
    _deprecated(ctx, ignition_remove, "remove", "ignition remove", **kwargs)
