"""The ``ignkit`` command line: a click group whose subcommands load lazily (fast start-up).

Each command group lives in its own module under ``ignkit.cli``; this module only maps names to
them and turns library errors into one line on stderr and an exit status.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from .. import __version__
from ..errors import IgnkitError, redact_credentials

# name -> "module:attribute" of a click command or group.
COMMANDS: dict[str, str] = {
    "validate": "ignkit.cli.validate:validate",
    "hash": "ignkit.cli.hash:hash_cmd",
    "merge": "ignkit.cli.merge:merge",
    "ignition": "ignkit.cli.ignition:ignition",
    "iso": "ignkit.cli.iso:iso",
    "embed": "ignkit.cli.embed:embed",
    "pxe": "ignkit.cli.pxe:pxe",
    "stream": "ignkit.cli.stream:stream",
    "download": "ignkit.cli.stream:download",
    "csr": "ignkit.cli.csr:csr",
    "butane": "ignkit.cli.butane:butane",
    "serve": "ignkit.cli.serve:serve",
}

HELP: dict[str, str] = {
    "validate": "Validate Ignition configs (spec 3.0.0 - 3.7.0-experimental).",
    "hash": "Print the sha512-/sha256- digest of a file, URL or stdin.",
    "merge": "Merge Ignition configs with Ignition's own semantics.",
    "ignition": "Ignition config helpers (worker.ign from the cluster's Secret).",
    "iso": "Inspect and edit a CoreOS live ISO's Ignition and kernel-argument areas.",
    "embed": "Build a per-host live ISO that installs itself.",
    "pxe": "PXE initramfs customization and boot configs.",
    "stream": "Read CoreOS stream metadata.",
    "download": "Download and verify live media listed in stream metadata.",
    "csr": "Review and approve the CSRs of provisioned nodes.",
    "butane": "Translate a Butane config (YAML) to Ignition.",
    "serve": "Serve per-host ISOs, initramfs, configs and boot scripts over HTTP, with progress.",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when that subcommand runs."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, lazy_help: dict[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})
        self.lazy_help = dict(lazy_help or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name].split(":")
            cmd = getattr(importlib.import_module(module_name), attr)
            return cmd  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help without importing every module.
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy_help:
                rows.append((name, self.lazy_help[name]))
            else:
                cmd = self.get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS, lazy_help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, envvar="IGNKIT_DEBUG",
              help="Print a traceback before an error's line (anywhere on the line; the exit status is unchanged).")
# The version from ignkit.__version__ (pyproject reads it too): importlib.metadata would cost ~30 ms of start-up.
@click.version_option(version=__version__, prog_name="ignkit")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """ignkit: Ignition configs and CoreOS live media, per host, offline."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = ctx.obj.get("debug", False) or debug


def error(message: str, code: int) -> int:
    """Print one ``ignkit: error:`` line on stderr and return the exit status."""
    line = redact_credentials(" ".join(str(message).split("\n")).strip())
    click.echo(f"ignkit: error: {line}", err=True)
    return code


def split_debug(argv: list[str]) -> tuple[list[str], bool]:
    """Take every ``--debug`` out of ``argv`` (before a ``--``, wherever it stands: before or after the
    subcommand) and say whether debugging was asked for there or by ``IGNKIT_DEBUG``."""
    end = argv.index("--") if "--" in argv else len(argv)
    rest = [a for a in argv[:end] if a != "--debug"] + argv[end:]
    asked = len(rest) != len(argv) or os.environ.get("IGNKIT_DEBUG", "") not in ("", "0")
    return rest, asked


def _occupy_closed_stdio() -> None:
    """Put /dev/null on standard descriptors the caller closed (``>&-``): otherwise the first file ignkit
    opens would get descriptor 1 (or 2) and anything printed would land in it. ``sys.stdout`` stays None,
    so commands that write to ``-`` refuse a closed standard output."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one
            except OSError:
                return


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit status.

    ``--debug`` (anywhere) or ``IGNKIT_DEBUG=1`` adds the traceback before the error line (usage errors
    excepted); the exit status stays the one documented for the error.
    """
    _occupy_closed_stdio()
    args, debug = split_debug(list(sys.argv[1:] if argv is None else argv))

    def fail(message: str, code: int) -> int:
        if debug:
            import traceback  # only for --debug: not loaded at every start

            traceback.print_exc()
        return error(message, code)

    try:
        # make_context + invoke rather than cli.main(): click's main turns a broken pipe into exit 1.
        with cli.make_context("ignkit", args, obj={"debug": debug}) as ctx:
            rv = cli.invoke(ctx)
        code = rv if isinstance(rv, int) else 0
    except click.exceptions.Exit as e:
        code = e.exit_code
    except click.exceptions.Abort:
        code = fail("aborted", 130)
    except click.ClickException as e:  # bad usage: the line says it all, no traceback even under --debug
        code = error(e.format_message(), e.exit_code)
    except IgnkitError as e:
        code = fail(e.message, e.exit_code)
    except (KeyboardInterrupt, EOFError):
        code = fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): exit quietly like other Unix tools, and keep the
        # interpreter's final flush of stdout from complaining.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        code = 141
    except OSError as e:
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        code = fail(f"{where}{e.strerror or e}", 2)
    except Exception as e:  # noqa: BLE001 - last resort: one line, not a traceback
        code = fail(f"internal error: {type(e).__name__}: {e} (run with --debug for a traceback)", 70)
    return code


def run() -> None:
    sys.exit(main())
