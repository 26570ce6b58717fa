"""``ignkit csr``: review and approve the certificate signing requests of provisioned nodes."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Optional

import click

from ..errors import InputError, UsageError

if TYPE_CHECKING:
    from ..inventory import Host


def _read(source: str, what: str) -> bytes:
    from ..fetch import read_source

    if source == "-" and sys.stdin.isatty():
        raise UsageError(f"{what}: reading standard input from a terminal (pipe `oc get ... -o json` in, "
                         f"or give a file)")
    return read_source(source)


def _hosts(path: str) -> list[Host]:
    from ..inventory import load_inventory

    hosts = load_inventory(path)
    if not hosts:
        raise InputError(f"{path}: the inventory has no hosts")
    return hosts


def _nodes(path: Optional[str]) -> dict[str, list[tuple[str, str]]]:
    if path is None:
        return {}
    from ..csr import parse_node_addresses

    return parse_node_addresses(_read(path, "--nodes"), what=path)


@click.group()
def csr() -> None:
    """Review and approve the CSRs of provisioned nodes."""


@csr.command(short_help="List pending CSRs; approve only those of inventory hosts.")
@click.option("--hosts", "hosts_file", required=True, metavar="HOSTS.yaml",
              help="Inventory of the hosts ignkit provisioned.")
@click.option("--nodes", "nodes_file", metavar="FILE",
              help="Output of `oc get nodes -o json`: addresses of hosts on DHCP.")
@click.option("--json", "as_json", is_flag=True, help="Print the decisions as JSON.")
@click.option("--approve-names", is_flag=True,
              help="Print only the names to approve, one per line (for `xargs -r oc adm certificate approve`).")
@click.argument("csrs", default="-", metavar="[CSRS.json|-]")
@click.pass_context
def review(ctx: click.Context, hosts_file: str, nodes_file: Optional[str], as_json: bool, approve_names: bool,
           csrs: str) -> None:
    """Decide which pending CSRs (`oc get csr -o json`) belong to inventory hosts.

    Approves client CSRs from node-bootstrapper and serving CSRs from system:node:<name> when <name>
    is an inventory host and every SAN is one of its names or addresses; lists everything else with
    the reason it is refused. Exits 1 when anything was refused.
    """
    if as_json and approve_names:
        raise UsageError("--json and --approve-names cannot be used together")
    if nodes_file == "-" and csrs == "-":
        raise UsageError("only one of CSRS and --nodes can come from standard input")
    from ..csr import format_review_table, parse_csr_list, review_csrs

    hosts = _hosts(hosts_file)
    nodes = _nodes(nodes_file)
    records = parse_csr_list(_read(csrs, "CSRS"), what="standard input" if csrs == "-" else csrs)
    result = review_csrs(records, hosts, nodes)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    elif approve_names:
        for d in result.approved:
            click.echo(d.name)
        for d in result.refused:
            click.echo(f"ignkit: refused {d.name}: {'; '.join(r.message for r in d.reasons)}", err=True)
    else:
        click.echo(format_review_table(result), nl=False)
    if result.refused:
        ctx.exit(1)


@csr.command(short_help="Approve inventory hosts' CSRs with oc as they arrive.")
@click.option("--hosts", "hosts_file", required=True, metavar="HOSTS.yaml",
              help="Inventory of the hosts ignkit provisioned.")
@click.option("--interval", type=float, default=10.0, show_default=True, metavar="S",
              help="Seconds between polls.")
@click.option("--timeout", type=float, default=3600.0, show_default=True, metavar="S",
              help="Give up after this many seconds.")
@click.option("--oc", "oc", default="oc", show_default=True, metavar="PATH", help="The oc command to run.")
@click.option("--until-ready", is_flag=True,
              help="Also wait until every host's Node is Ready (as `oc wait --for=condition=Ready node/NAME`), "
                   "within the same --timeout.")
@click.pass_context
def watch(ctx: click.Context, hosts_file: str, interval: float, timeout: float, oc: str, until_ready: bool) -> None:
    """Approve inventory hosts' CSRs as they arrive, until each has both certificates.

    Polls `oc get csr -o json` (and `oc get nodes -o json` for hosts on DHCP or with --until-ready),
    approves with `oc adm certificate approve NAME` what `ignkit csr review` would approve, and prints
    a summary. Exits 0 when every host has an approved client and serving CSR (and, with --until-ready,
    a Ready Node), 1 at the timeout, 130 on Ctrl-C (after the summary).
    """
    from ..csrwatch import format_watch_summary, watch_csrs

    hosts = _hosts(hosts_file)

    def echo(line: str) -> None:
        click.echo(line, err=line.startswith("warning:"))

    result = watch_csrs(hosts, oc=oc, interval=interval, timeout=timeout, echo=echo, until_ready=until_ready)
    click.echo(format_watch_summary(result), nl=False)
    if result.interrupted:
        ctx.exit(130)
    if not result.done:
        ctx.exit(1)
