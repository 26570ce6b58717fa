"""``ignkit merge``: merge Ignition configs with Ignition's own semantics, optionally resolving references."""

from __future__ import annotations

import os
from typing import Optional

import click

from ..ignition.versions import SUPPORTED as SPECS


@click.command("merge")
@click.argument("parent", metavar="PARENT")
@click.argument("children", metavar="[CHILD...]", nargs=-1)
@click.option("-o", "--output", default="-", metavar="FILE",
              help="Write the result to FILE (atomically) instead of standard output.")
@click.option("--resolve", is_flag=True,
              help="Flatten ignition.config.replace/merge references (data:, http(s), local files) "
                   "depth-first as Ignition renders them at boot, checking verification.hash.")
@click.option("--spec", type=click.Choice(SPECS), default=None, metavar="VERSION",
              help="Spec version of the result (default: the newest among the inputs). "
                   f"One of {', '.join(SPECS)}.")
@click.option("--compact", is_flag=True, help="Write compact JSON on one line (default: pretty, 2-space indent).")
@click.option("--ca-cert", type=click.Path(dir_okay=False), help="PEM CA certificates to trust for https.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates (only when you must).")
def merge(parent: str, children: tuple[str, ...], output: str, resolve: bool, spec: Optional[str],
          compact: bool, ca_cert: Optional[str], insecure: bool) -> None:
    """Merge CHILD configs into PARENT the way Ignition merges configs.

    PARENT and each CHILD are files, http(s) URLs, or - (standard input, once). Each input is
    validated on its own, all are translated to the newest spec version among them (or --spec),
    merged in order (keyed lists, child wins, null keeps the parent's value, files/directories/links
    share one path space), and the result is validated. Output is pretty-printed JSON (2-space indent)
    unless --compact; -o writes the file atomically.

    Without --resolve, ignition.config.merge/replace references stay in the result for Ignition
    to fetch at boot. With --resolve they are fetched and merged now and the result has none.
    """
    import json

    from ..errors import UsageError, redact_credentials
    from ..fetch import is_url, read_source
    from ..ignition.resolve import ConfigSource, http_fetcher, merge_configs
    from ..outfile import refuse_input_as_output, write_output

    inputs = (parent, *children)
    if sum(1 for s in inputs if s == "-") > 1:
        raise UsageError("standard input (-) can be given only once")
    if output != "-":
        out_real = os.path.realpath(output)
        refuse_input_as_output(output, [s for s in inputs if not is_url(s)])
        if os.path.isdir(output):
            raise UsageError(f"{output}: is a directory")
        if not os.path.isdir(os.path.dirname(out_real)):
            raise UsageError(f"{output}: no directory {os.path.dirname(output) or '.'} to write it in")
    from ..configinput import as_ignition

    sources = []
    for s in inputs:
        local_dir = None if s == "-" or is_url(s) else os.path.dirname(os.path.abspath(s))
        data = as_ignition(read_source(s, ca_cert=ca_cert, insecure=insecure), s, local_dir)
        if is_url(s):
            sources.append(ConfigSource(data, name=s, local_refs=False))
        elif s == "-":
            sources.append(ConfigSource(data, name="<stdin>", base_dir=os.getcwd()))
        else:
            sources.append(ConfigSource(data, name=s, base_dir=os.path.dirname(os.path.abspath(s))))
    warnings: list[str] = []
    result = merge_configs(*sources, resolve=resolve, spec=spec,
                           fetch=http_fetcher(ca_cert=ca_cert, insecure=insecure), warnings=warnings)
    for line in warnings:
        click.echo(f"ignkit: {redact_credentials(line)}", err=True)
    if compact:
        text = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(result, ensure_ascii=False, indent=2)
    write_output(output, (text + "\n").encode("utf-8"))
