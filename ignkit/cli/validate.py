"""``ignkit validate``: check Ignition configs and print findings like upstream ``ignition-validate``."""

from __future__ import annotations

import errno
import sys
from typing import Any

import click


@click.command("validate", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 when there are any).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the report(s) as JSON: an object with file, version, ok and entries (kind, path, "
                   "line, column, message, text), or read_error for a file that cannot be read; a list of "
                   "such objects when several files are given.")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
def validate(files: tuple[str, ...], strict: bool, as_json: bool) -> int:
    """Validate Ignition configs (spec 3.0.0 - 3.6.0 and 3.7.0-experimental).

    Each finding is printed on stdout exactly as upstream ignition-validate prints it, e.g.
    "error at $.storage.files.0.path, line 1 col 61: path not absolute". Inputs that cannot be
    parsed at all (empty, missing or unsupported version) give "couldn't parse config: ..." on
    stderr. FILE may be "-" for standard input.

    With several files every line is prefixed with the file name and ": " (stdin shows as "-").
    A file that cannot be read gives one "ignkit: error: couldn't read config: FILE: reason" line
    on stderr; the other files are still validated.

    Exit status: 0 when no file has errors (warnings allowed), 1 when any file has errors (or,
    with --strict, warnings), 2 when a file cannot be read.
    """
    import json

    from ..configkind import is_butane
    from ..ignition.validate import validate as run_validate

    prefix_lines = len(files) > 1
    status = 0
    documents: list[dict[str, Any]] = []
    for name in files:
        prefix = f"{name}: " if prefix_lines else ""
        try:
            if name == "-":
                if sys.stdin is None:  # started with file descriptor 0 closed
                    raise OSError(errno.EBADF, "standard input is closed")
                from ..fetch import refuse_terminal_stdin

                refuse_terminal_stdin()
                data = sys.stdin.buffer.read()
            else:
                with open(name, "rb") as f:
                    data = f.read()
        except OSError as e:
            reason = e.strerror or str(e)
            if as_json:
                documents.append({"file": name, "version": None, "ok": False, "read_error": reason,
                                  "entries": []})
            else:
                click.echo(f"ignkit: error: couldn't read config: {name}: {reason}", err=True)
            status = max(status, 2)
            continue
        if is_butane(data):
            status = max(status, _validate_butane(data, name, prefix, strict, as_json, documents))
            continue
        report = run_validate(data)
        failed = not report.ok or (strict and bool(report.warnings))
        if failed:
            status = max(status, 1)
        if as_json:
            documents.append({"file": name, **report.as_dict()})
            continue
        for entry in report.entries:
            click.echo(prefix + str(entry), err=entry.parse_error)
    if as_json:
        out: Any = documents[0] if len(files) == 1 else documents
        click.echo(json.dumps(out, indent=2))
    return status


def _validate_butane(data: bytes, name: str, prefix: str, strict: bool, as_json: bool,
                     documents: list[dict[str, Any]]) -> int:
    """A Butane file: translate it (which validates the result) and print its findings at Butane positions."""
    import os

    from ..butane.report import ButaneError
    from ..butane.translate import translate_bytes
    from ..configinput import notice

    files_dir = None if name == "-" else os.path.dirname(os.path.abspath(name))
    try:
        _, report = translate_bytes(data, files_dir=files_dir, raw=True)
        ok = True
    except ButaneError as e:
        report, ok = e.report, False  # type: ignore[assignment]
        if report is None or not report.entries:
            if as_json:
                documents.append({"file": name, "butane": True, "ok": False, "entries": [], "error": e.reason})
            else:
                click.echo(f"{prefix}{e.message}", err=True)
            return 1
    failed = not ok or (strict and bool(report.warnings))
    if as_json:
        documents.append({"file": name, "butane": True, **report.as_dict(), "ok": not failed})
        return 1 if failed else 0
    if ok:
        click.echo(notice("-" if name == "-" else name, report.variant, report.version, report.ignition_version),
                   err=True)
    for entry in report.entries:
        click.echo(prefix + str(entry))
    return 1 if failed else 0
