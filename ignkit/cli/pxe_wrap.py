"""``ignkit pxe ignition|network wrap|unwrap``: an Ignition config or NM keyfiles as a separate initrd image."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import BinaryIO, Optional

import click

from ..errors import ImageError, InputError, UsageError
from ..live.initramfs import CONFIG_MEMBER, NETWORK_DIR


def _read_bytes(path: str) -> bytes:
    if path == "-":
        from ..fetch import refuse_terminal_stdin

        refuse_terminal_stdin()
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None


def _open_image(path: Optional[str]) -> BinaryIO:
    if path is None or path == "-":
        from ..fetch import refuse_terminal_stdin

        refuse_terminal_stdin()
        return sys.stdin.buffer
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None


def _binary_stdout() -> BinaryIO:
    """Standard output for an image; refused on a terminal (coreos-installer's words, then ours) or when closed."""
    from ..outfile import binary_stdout

    return binary_stdout()  # type: ignore[return-value]


def _write_image(output: Optional[str], data: bytes) -> None:
    """Write a binary image to ``output``, or to stdout (never a terminal) when it is None or ``-``."""
    if output is None or output == "-":
        out = _binary_stdout()
        out.write(data)
        out.flush()
        return
    from ..outfile import write_bytes_atomic

    write_bytes_atomic(output, data)


def _read_members(image: Optional[str], pattern: str) -> dict[str, bytes]:
    from ..initrd import read_initrd
    from ..live.initramfs import MAX_MEMBER_SIZE

    f = _open_image(image)
    try:
        return read_initrd(f, pattern, max_member_size=MAX_MEMBER_SIZE)
    finally:
        if f is not sys.stdin.buffer:
            f.close()


def _stdout_bytes() -> BinaryIO:
    from ..outfile import stdout_bytes

    return stdout_bytes()  # type: ignore[return-value]


@click.group()
def ignition() -> None:
    """Wrap an Ignition config in an initrd image, or unwrap it.

    Append the wrapped image to the PXE initrd list and boot with
    `ignition.firstboot ignition.platform.id=metal`.
    """


@ignition.command("wrap")
@click.option("-i", "--ignition-file", "config", metavar="CONFIG", default="-", show_default="stdin",
              help="Ignition config to wrap (copied verbatim).")
@click.option("-o", "--output", metavar="OUT", help="Write the image here (default: stdout, never a terminal).")
def ignition_wrap(config: str, output: Optional[str]) -> None:
    """Write an xz cpio initrd holding CONFIG as /config.ign."""
    from ..live.initramfs import build_initrd

    if output is None or output == "-":
        _binary_stdout()  # refuse a terminal before waiting for input
    else:
        from ..outfile import refuse_input_as_output

        refuse_input_as_output(output, [config])
    _write_image(output, build_initrd({CONFIG_MEMBER: _read_bytes(config)}))


@ignition.command("unwrap")
@click.argument("image", required=False, metavar="[IMAGE]")
def ignition_unwrap(image: Optional[str]) -> None:
    """Print the Ignition config (the last /config.ign) of an initrd image (stdin if IMAGE is omitted)."""
    members = _read_members(image, CONFIG_MEMBER)
    if CONFIG_MEMBER not in members:
        raise ImageError("couldn't find Ignition config in archive")
    from ..outfile import stdout_bytes

    out = stdout_bytes()
    out.write(members[CONFIG_MEMBER])
    out.flush()


@click.group()
def network() -> None:
    """Wrap NetworkManager keyfiles in an initrd image, or unwrap them.

    The live system copies them to /etc/NetworkManager/system-connections/ for its first boot.
    """


@network.command("wrap")
@click.option("-k", "--keyfile", "keyfiles", metavar="KEYFILE", multiple=True, required=True,
              help="NetworkManager keyfile to include (repeatable).")
@click.option("-o", "--output", metavar="OUT", help="Write the image here (default: stdout, never a terminal).")
def network_wrap(keyfiles: tuple[str, ...], output: Optional[str]) -> None:
    """Write an xz cpio initrd holding each KEYFILE as /etc/coreos-firstboot-network/NAME."""
    from ..live.initramfs import build_initrd

    if output is None or output == "-":
        _binary_stdout()
    else:
        from ..outfile import refuse_input_as_output

        refuse_input_as_output(output, keyfiles)
    members: dict[str, bytes] = {}
    for path in keyfiles:
        name = os.path.basename(path)
        if not name:
            raise InputError(f"{path}: not a file name")
        member = f"{NETWORK_DIR}{name}"
        if member in members:
            raise UsageError(f"multiple input files named '{name}'")
        members[member] = _read_bytes(path)
    _write_image(output, build_initrd(members))


@network.command("unwrap")
@click.option("-C", "--directory", metavar="DIR", help="Write each keyfile into DIR (created if needed).")
@click.argument("image", required=False, metavar="[IMAGE]")
def network_unwrap(directory: Optional[str], image: Optional[str]) -> None:
    """Print the NetworkManager keyfiles of an initrd image, or write them into DIR."""
    members = _read_members(image, NETWORK_DIR + "*")
    files = sorted((path.rsplit("/", 1)[1], data) for path, data in members.items())
    if not files:
        raise ImageError("No embedded network settings.")
    names = [name for name, _ in files]
    from ..outfile import plain_file_name

    for name in names:
        plain_file_name(name, "keyfile name in the image")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ImageError(f"multiple keyfiles named '{dup}' in the image")
    from ..netconf import keyfiles_listing, write_keyfiles

    if directory is not None:
        for path in write_keyfiles(dict(files), directory):
            click.echo(path)
        return
    out = _stdout_bytes()
    out.write(keyfiles_listing(dict(files)))
    out.flush()
