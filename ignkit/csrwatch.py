"""Drive ``oc`` until every inventory host's node holds an approved client and serving certificate.

Each round lists the CSRs (and, for hosts on DHCP, the Nodes), approves with ``oc adm certificate approve``
what :func:`ignkit.csr.review_csrs` approves, and reports progress; :func:`watch_csrs` returns a summary.
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
    RequestKind,
    parse_csr_list,
    parse_node_addresses,
    request_kind,
    review_csrs,
    settled_node,
)
from .errors import FetchError, InputError, UsageError
from .inventory import Host

__all__ = ["HostStatus", "WatchResult", "host_status", "watch_csrs", "format_watch_summary"]


@dataclass
class HostStatus:
    """Whether an inventory host's client and serving CSRs are approved (by anyone)."""

    hostname: str
    client: list[str] = field(default_factory=list)    # names of approved client CSRs
    serving: list[str] = field(default_factory=list)   # names of approved serving CSRs

    @property
    def complete(self) -> bool:
        return bool(self.client) and bool(self.serving)


def host_status(records: Iterable[CSRRecord], hosts: Sequence[Host],
                also_approved: Iterable[str] = ()) -> dict[str, HostStatus]:
    """Map each inventory hostname to the approved client and serving CSRs that name it.

    ``also_approved`` lists CSR names to count as approved even if ``records`` still shows them
    pending (approvals made a moment ago).
    """
    inv = NodeIndex(hosts)
    extra = set(also_approved)
    out = {h.hostname: HostStatus(h.hostname) for h in hosts}
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

    @property
    def complete(self) -> bool:
        return bool(self.status) and all(s.complete for s in self.status.values())


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
               on_round: Optional[Callable[[Mapping[str, HostStatus]], None]] = None) -> WatchResult:
    """Approve, with ``oc adm certificate approve``, what :func:`review_csrs` approves, until every host
    has an approved client and serving CSR or ``timeout`` seconds pass.

    Each round runs ``oc get csr -o json`` (and ``oc get nodes -o json`` when some host uses DHCP).
    ``echo`` receives one line per approval, refusal (once per CSR), change of what is still missing,
    and problem. The first failing ``oc get csr`` raises :class:`FetchError`; later failures are
    reported and retried. Ctrl-C after the first round ends the watch with ``interrupted`` set.
    ``on_round`` receives every host's status after each round that listed the CSRs.
    """
    if not hosts:
        raise UsageError("the inventory has no hosts")
    if not math.isfinite(interval) or interval <= 0:
        raise UsageError(f"--interval must be a positive number of seconds, not {interval!r}")
    if not math.isfinite(timeout) or timeout < 0:
        raise UsageError(f"--timeout must be a finite number of seconds, zero or more, not {timeout!r}")
    oc_path = _resolve_oc(oc)
    need_nodes = any(not h.addresses for h in hosts)
    result = WatchResult()
    approved_names: set[str] = set()
    start = clock()
    fetched_once = False
    last_waiting = ""

    def budget() -> float:
        """Seconds an oc call may take: not past the watch's deadline (a hung oc ends with it), but at least 3."""
        return min(command_timeout, max(3.0, timeout - (clock() - start)))

    def fetch() -> list[CSRRecord]:
        proc = _run_oc([oc_path, "get", "csr", "-o", "json"], budget())
        if proc.returncode != 0:
            raise FetchError(f"oc get csr failed: {_oc_message(proc)}")
        return parse_csr_list(proc.stdout, what="oc get csr")

    def fetch_nodes() -> dict[str, list[tuple[str, str]]]:
        try:
            nproc = _run_oc([oc_path, "get", "nodes", "-o", "json"], budget())
            if nproc.returncode != 0:
                raise FetchError(f"oc get nodes failed: {_oc_message(nproc)}")
            return parse_node_addresses(nproc.stdout, what="oc get nodes")
        except (FetchError, InputError) as e:
            echo(f"warning: {e}")
            return {}

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
            records: Optional[list[CSRRecord]] = None
            try:
                records = fetch()
            except (FetchError, InputError) as e:
                if not fetched_once:
                    raise
                echo(f"warning: {e} (retrying)")
            if records is not None:
                fetched_once = True
                review = review_csrs(records, hosts, fetch_nodes() if need_nodes else {})
                for d in review.decisions:
                    if d.approve:
                        if d.name not in approved_names:
                            approve(d)
                    elif d.name not in result.refused:
                        result.refused[d.name] = d
                        echo(f"refused {d.name}: {'; '.join(r.message for r in d.reasons)}")
                result.status = host_status(records, hosts, approved_names)
                if on_round is not None:
                    on_round(result.status)
                if result.complete:
                    break
                waiting = _waiting_for(result.status)
                if waiting != last_waiting:
                    echo(f"waiting for {waiting}")
                    last_waiting = waiting
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


def _waiting_for(status: Mapping[str, HostStatus]) -> str:
    parts = []
    for s in status.values():
        missing = [k.value for k in (RequestKind.CLIENT, RequestKind.SERVING) if not getattr(s, k.value)]
        if missing:
            parts.append(f"{s.hostname} ({' and '.join(missing)})")
    return ", ".join(parts)


def format_watch_summary(result: WatchResult) -> str:
    """The closing summary of a watch: per host, which certificates it holds; then the refusals."""
    lines = []
    done = sum(1 for s in result.status.values() if s.complete)
    for s in result.status.values():
        client = "client ok" if s.client else "client MISSING"
        serving = "serving ok" if s.serving else "serving MISSING"
        lines.append(f"{s.hostname}: {client}, {serving}")
    if result.complete:
        head = f"all inventory hosts ({len(result.status)}) have both certificates"
    else:
        stop = "interrupted" if result.interrupted else "timed out"
        head = f"{stop} after {result.elapsed:.0f} s: {done} of {len(result.status)} hosts have both certificates"
    lines.append(f"{head}; approved {len(result.approved)} CSRs, refused {len(result.refused)}")
    for name, d in result.refused.items():
        lines.append(f"  refused {name}: {'; '.join(r.message for r in d.reasons)}")
    for name, msg in result.failed_approvals.items():
        lines.append(f"  could not approve {name}: {msg}")
    return "\n".join(lines) + "\n"
