"""``ignkit pxe``: its subcommands live in the modules of their concern."""

from __future__ import annotations

import click

from . import LazyGroup


@click.group(
    cls=LazyGroup,
    lazy={
        "config": "ignkit.cli.pxe_config:config",
        "customize": "ignkit.cli.embed:pxe_customize",
        "ignition": "ignkit.cli.pxe_wrap:ignition",
        "network": "ignkit.cli.pxe_wrap:network",
    },
    lazy_help={
        "config": "Write PXELINUX, iPXE or GRUB boot entries.",
        "customize": "Append a per-host layer to a CoreOS live initramfs.",
        "ignition": "Wrap an Ignition config in an initrd image, or unwrap it.",
        "network": "Wrap NetworkManager keyfiles in an initrd image, or unwrap them.",
    },
)
def pxe() -> None:
    """PXE initramfs customization and boot configs."""
