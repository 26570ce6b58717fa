"""Drive ``oc`` until every inventory host's node holds an approved client and serving certificate
(and, on request, until every host's Node is Ready).

Each round lists the CSRs (and the Nodes, when some host uses DHCP or node state is watched), approves with
``oc adm certificate approve`` what :func:`ignkit.csr.review_csrs` approves, and reports progress;
:func:`watch_csrs` returns a summary.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Callable, Optional

from .csr import (
    CSRRecord,
    CsrState,
    Decision,
    NodeIndex,
    NodeState,
    RequestKind,
    match_nodes,
    node_addresses,
    parse_csr_list,
    parse_nodes,
    request_kind,
    review_csrs,
    settled_node,
)
from .errors import FetchError, InputError, UsageError
from .inventory import Host

__all__ = ["HostStatus", "WatchResult", "host_status", "watch_csrs", "format_watch_summary"]


@dataclass
class HostStatus:
    """Whether an inventory host's client and serving CSRs are approved (by anyone), and its Node."""

    hostname: str
    client: list[str] = field(default_factory=list)    # names of approved client CSRs
    serving: list[str] = field(default_factory=list)   # names of approved serving CSRs
    node: Optional[NodeState] = None                   # its Node, once registered (when nodes are watched)

    @property
    def complete(self) -> bool:
        return bool(self.client) and bool(self.serving)

    @property
    def ready(self) -> bool:
        """Its Node is registered and Ready."""
        return self.node is not None and self.node.is_ready

    def node_text(self, since: bool = False) -> str:
        """``Ready``, ``NotReady (reason)`` or ``not registered`` (with ``since``: `` since <lastTransitionTime>``)."""
        if self.node is None:
            return "not registered"
        text = self.node.describe()
        return f"{text} since {self.node.since}" if since and self.node.since else text


def host_status(records: Iterable[CSRRecord], hosts: Sequence[Host],
                also_approved: Iterable[str] = (),
                nodes: Optional[Mapping[str, NodeState]] = None) -> dict[str, HostStatus]:
    """Map each inventory hostname to the approved client and serving CSRs that name it (and its Node).

    ``also_approved`` lists CSR names to count as approved even if ``records`` still shows them
    pending (approvals made a moment ago). ``nodes`` is :func:`ignkit.csr.match_nodes`' map of
    hostnames to Nodes.
    """
    inv = NodeIndex(hosts)
    extra = set(also_approved)
    nodes = nodes or {}
    out = {h.hostname: HostStatus(h.hostname, node=nodes.get(h.hostname)) for h in hosts}
    for rec in records:
        if not (rec.state is CsrState.APPROVED or (rec.pending and rec.name in extra)):
            continue
        kind = request_kind(rec)
        if kind is RequestKind.OTHER:
            continue
        node = settled_node(rec)
        if node is None:
            continue
        host, _ = inv.find(node)
        if host is None:
            continue
        getattr(out[host.hostname], kind.value).append(rec.name)
    return out


@dataclass
class WatchResult:
    """What :func:`watch_csrs` did."""

    approved: list[Decision] = field(default_factory=list)
    refused: dict[str, Decision] = field(default_factory=dict)
    failed_approvals: dict[str, str] = field(default_factory=dict)   # CSR name -> oc's message
    status: dict[str, HostStatus] = field(default_factory=dict)
    rounds: int = 0
    elapsed: float = 0.0
    timed_out: bool = False
    interrupted: bool = False      # stopped by Ctrl-C (KeyboardInterrupt) after the first round
    until_ready: bool = False      # the goal included every host's Node being Ready
    nodes_watched: bool = False    # `oc get nodes` ran every round: HostStatus.node is meaningful
    problems: list[str] = field(default_factory=list)   # the last round's failures to list CSRs or Nodes

    @property
    def complete(self) -> bool:
        """Every host holds both certificates."""
        return bool(self.status) and all(s.complete for s in self.status.values())

    @property
    def ready(self) -> bool:
        """Every host's Node is Ready."""
        return bool(self.status) and all(s.ready for s in self.status.values())

    @property
    def done(self) -> bool:
        """The goal was reached: both certificates everywhere, and Ready nodes if ``until_ready``."""
        return self.complete and (self.ready or not self.until_ready)


def _run_oc(argv: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise UsageError(f"{argv[0]}: command not found (install the OpenShift client or pass --oc)") from None
    except PermissionError:
        raise UsageError(f"{argv[0]}: not executable") from None
    except subprocess.TimeoutExpired:
        raise FetchError(f"`{' '.join(argv)}` did not finish within {timeout:g} s") from None


def _oc_message(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = (proc.stderr or proc.stdout or b"").decode("utf-8", "replace").strip().splitlines()
    return text[-1] if text else f"exit status {proc.returncode}"


def _resolve_oc(oc: str) -> str:
    if os.sep in oc:
        return oc
    found = shutil.which(oc)
    if found is None:
        raise UsageError(f"{oc}: command not found on PATH (install the OpenShift client or pass --oc)")
    return found


def watch_csrs(hosts: Sequence[Host], *, oc: str = "oc", interval: float = 10.0, timeout: float = 3600.0,
               echo: Callable[[str], None] = lambda line: None, command_timeout: float = 60.0,
               sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic,
               on_round: Optional[Callable[[Mapping[str, HostStatus]], None]] = None,
               until_ready: bool = False, keep_watching: bool = False,
               on_update: Optional[Callable[[WatchResult], None]] = None) -> WatchResult:
    """Approve, with ``oc adm certificate approve``, what :func:`review_csrs` approves, until every host
    has an approved client and serving CSR (and, with ``until_ready``, a Ready Node) or ``timeout``
    seconds pass.

    Each round runs ``oc get csr -o json``, and ``oc get nodes -o json`` when some host uses DHCP or
    ``until_ready`` is set; its one output serves both the DHCP checks and each
    host's :attr:`HostStatus.node` (kept from the last good listing when a later one fails).
    ``echo`` receives one line per approval, refusal (once per CSR), change of what is still missing,
    change of a node's state, and problem. The first failing ``oc get csr`` raises :class:`FetchError`;
    later failures, and failures of ``oc get nodes``, are reported and retried. Ctrl-C after the first
    round ends the watch with ``interrupted`` set. ``keep_watching`` goes on after the goal is reached,
    until ``timeout`` (a server shows nodes that turn NotReady later). ``on_round`` receives every
    host's status after each round that listed the CSRs; ``on_update`` receives the result so far after
    every round (with that round's :attr:`WatchResult.problems`).
    """
    if not hosts:
        raise UsageError("the inventory has no hosts")
    if not math.isfinite(interval) or interval <= 0:
        raise UsageError(f"--interval must be a positive number of seconds, not {interval!r}")
    if not math.isfinite(timeout) or timeout < 0:
        raise UsageError(f"--timeout must be a finite number of seconds, zero or more, not {timeout!r}")
    oc_path = _resolve_oc(oc)
    track_nodes = until_ready
    need_nodes = track_nodes or any(not h.addresses for h in hosts)
    result = WatchResult(until_ready=until_ready, nodes_watched=track_nodes)
    approved_names: set[str] = set()
    start = clock()
    fetched_once = False
    last_waiting: Optional[str] = None
    nodes_warning = ""
    host_nodes: dict[str, NodeState] = {}            # hostname -> its Node, from the last good listing
    node_text = {h.hostname: "not registered" for h in hosts}

    def budget() -> float:
        """Seconds an oc call may take: not past the watch's deadline (a hung oc ends with it), but at least 3."""
        return min(command_timeout, max(3.0, timeout - (clock() - start)))

    def fetch() -> list[CSRRecord]:
        proc = _run_oc([oc_path, "get", "csr", "-o", "json"], budget())
        if proc.returncode != 0:
            raise FetchError(f"oc get csr failed: {_oc_message(proc)}")
        return parse_csr_list(proc.stdout, what="oc get csr")

    def fetch_nodes() -> Optional[list[NodeState]]:
        """The Nodes, or None (after one warning line per new problem) when they cannot be listed."""
        nonlocal nodes_warning
        try:
            nproc = _run_oc([oc_path, "get", "nodes", "-o", "json"], budget())
            if nproc.returncode != 0:
                raise FetchError(f"oc get nodes failed: {_oc_message(nproc)}")
            nodes = parse_nodes(nproc.stdout, what="oc get nodes")
        except (FetchError, InputError) as e:
            result.problems.append(str(e))
            if str(e) != nodes_warning:
                echo(f"warning: {e}")
                nodes_warning = str(e)
            return None
        nodes_warning = ""
        return nodes

    def report_nodes(status: Mapping[str, HostStatus]) -> None:
        for name, st in status.items():
            text = st.node_text(since=True)
            if text != node_text[name]:
                node_text[name] = text
                alias = f" (registered as {st.node.name})" if st.node is not None and st.node.name != name else ""
                echo(f"{name}: node {text}{alias}")

    def approve(d: Decision) -> None:
        try:
            aproc = _run_oc([oc_path, "adm", "certificate", "approve", d.name], budget())
            msg = "" if aproc.returncode == 0 else _oc_message(aproc)
        except FetchError as e:
            msg = str(e)
        if not msg:
            approved_names.add(d.name)
            result.approved.append(d)
            result.failed_approvals.pop(d.name, None)
            result.refused.pop(d.name, None)
            note = f" ({'; '.join(d.notes)})" if d.notes else ""
            echo(f"approved {d.name}: {d.kind} CSR of {d.host}{note}")
            return
        if result.failed_approvals.get(d.name) != msg:
            echo(f"warning: oc adm certificate approve {d.name} failed: {msg}")
        result.failed_approvals[d.name] = msg

    try:
        while True:
            result.rounds += 1
            result.problems = []
            records: Optional[list[CSRRecord]] = None
            try:
                records = fetch()
            except (FetchError, InputError) as e:
                if not fetched_once:
                    raise
                result.problems.append(str(e))
                echo(f"warning: {e} (retrying)")
            if records is not None:
                fetched_once = True
                nodes = fetch_nodes() if need_nodes else None
                if nodes is not None and track_nodes:
                    host_nodes = match_nodes(nodes, hosts)
                review = review_csrs(records, hosts, node_addresses(nodes) if nodes else {})
                for d in review.decisions:
                    if d.approve:
                        if d.name not in approved_names:
                            approve(d)
                    elif d.name not in result.refused:
                        result.refused[d.name] = d
                        echo(f"refused {d.name}: {'; '.join(r.message for r in d.reasons)}")
                result.status = host_status(records, hosts, approved_names, host_nodes)
                if track_nodes:
                    report_nodes(result.status)
                if on_round is not None:
                    on_round(result.status)
                if on_update is not None:
                    on_update(result)
                if result.done and not keep_watching:
                    break
                waiting = _waiting_for(result.status, until_ready)
                if waiting != last_waiting:
                    echo(f"waiting for {waiting}" if waiting else "every host has both certificates"
                         + (" and a Ready node" if until_ready else ""))
                    last_waiting = waiting
            elif on_update is not None:
                on_update(result)
            elapsed = clock() - start
            if elapsed >= timeout:
                result.timed_out = True
                break
            sleep(min(interval, timeout - elapsed))
    except KeyboardInterrupt:
        if not fetched_once:
            raise
        result.interrupted = True
    result.elapsed = clock() - start
    if not result.status:
        result.status = {h.hostname: HostStatus(h.hostname) for h in hosts}
    return result


def _waiting_for(status: Mapping[str, HostStatus], until_ready: bool = False) -> str:
    parts = []
    for s in status.values():
        missing = [k.value for k in (RequestKind.CLIENT, RequestKind.SERVING) if not getattr(s, k.value)]
        if until_ready and not s.ready:
            missing.append("node Ready")
        if missing:
            words = ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else missing[0]
            parts.append(f"{s.hostname} ({words})")
    return ", ".join(parts)


def format_watch_summary(result: WatchResult) -> str:
    """The closing summary of a watch: per host, which certificates it holds (and its node); then the refusals."""
    lines = []
    done = sum(1 for s in result.status.values() if s.complete)
    ready = sum(1 for s in result.status.values() if s.ready)
    total = len(result.status)
    for s in result.status.values():
        client = "client ok" if s.client else "client MISSING"
        serving = "serving ok" if s.serving else "serving MISSING"
        node = ""
        if result.nodes_watched:
            node = f", node {s.node_text(since=True)}"
        lines.append(f"{s.hostname}: {client}, {serving}{node}")
    if result.done:
        head = f"all inventory hosts ({total}) have both certificates"
        if result.until_ready:
            head += " and a Ready node"
    else:
        stop = "interrupted" if result.interrupted else "timed out"
        head = f"{stop} after {result.elapsed:.0f} s: {done} of {total} hosts have both certificates"
        if result.until_ready:
            head += f", {ready} of {total} a Ready node"
    lines.append(f"{head}; approved {len(result.approved)} CSRs, refused {len(result.refused)}")
    for name, d in result.refused.items():
        lines.append(f"  refused {name}: {'; '.join(r.message for r in d.reasons)}")
    for name, msg in result.failed_approvals.items():
        lines.append(f"  could not approve {name}: {msg}")
    return "\n".join(lines) + "\n"
