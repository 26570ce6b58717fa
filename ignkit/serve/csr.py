"""``ignkit serve --approve-csrs``: the CSR watch loop of :mod:`ignkit.csrwatch` in a thread of the server.

Each round's per-host approval state and Node state go to the status page; the loop's lines go to the
server's log. The loop goes on after every node is Ready, so a node that turns NotReady later shows.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..errors import IgnkitError

if TYPE_CHECKING:
    from ..csrwatch import HostStatus, WatchResult
    from ..inventory import Host
    from .status import Progress

log = logging.getLogger("ignkit.serve")

NOT_REGISTERED = "not registered"


def csr_states(status: Mapping[str, HostStatus]) -> dict[str, dict[str, str]]:
    """Per host: ``{"client": "approved"|"waiting", "serving": ...}`` for ``/status``."""
    return {name: {"client": "approved" if st.client else "waiting",
                   "serving": "approved" if st.serving else "waiting"} for name, st in status.items()}


def node_states(status: Mapping[str, HostStatus]) -> dict[str, dict[str, Any]]:
    """Per host: its Node's state (Ready, NotReady, Unknown or not registered), reason and since when."""
    out: dict[str, dict[str, Any]] = {}
    for name, st in status.items():
        n = st.node
        if n is None:
            out[name] = {"state": NOT_REGISTERED}
        else:
            out[name] = {"state": n.state, "name": n.name, "ready": n.ready, "reason": n.reason,
                         "message": n.message, "since": n.since}
    return out


def watch_note(result: WatchResult) -> str:
    """One line for the page: how far the rack is, and the last round's problems."""
    total = len(result.status)
    certs = sum(1 for s in result.status.values() if s.complete)
    ready = sum(1 for s in result.status.values() if s.ready)
    if result.complete and result.ready:
        note = "every host has approved client and serving certificates and a Ready node"
    else:
        note = f"{certs} of {total} hosts have both certificates, {ready} of {total} a Ready node"
    for p in result.problems:
        note += f"; warning: {p}"
    return note


def start_csr_watch(hosts: Sequence[Host], *, interval: float = 10.0, timeout: float = 7 * 24 * 3600.0,
                    oc: str = "oc") -> Callable[[Progress, asyncio.AbstractEventLoop], None]:
    """A ``background`` hook for :func:`ignkit.serve.server.run` that starts the watch in a daemon thread."""
    from ..csrwatch import watch_csrs

    def start(progress: Progress, loop: asyncio.AbstractEventLoop) -> None:
        progress.set_csr({h.hostname: {"client": "waiting", "serving": "waiting"} for h in hosts},
                         "CSR watch starting", nodes={h.hostname: {"state": NOT_REGISTERED} for h in hosts})

        def update(result: WatchResult, note: Optional[str] = None) -> None:
            progress.set_csr(csr_states(result.status), note or watch_note(result), nodes=node_states(result.status))

        def target() -> None:
            try:
                result = watch_csrs(hosts, oc=oc, interval=interval, timeout=timeout,
                                    echo=lambda line: log.info("csr: %s", line),
                                    until_ready=True, keep_watching=True, on_update=update)
            except IgnkitError as e:
                log.warning("csr: watch stopped: %s", e.message)
                progress.set_csr(progress.csr, f"CSR watch stopped: {e.message}", nodes=progress.nodes)
                return
            update(result, f"CSR watch ended after {result.elapsed:.0f} s: {watch_note(result)}")

        threading.Thread(target=target, name="csr-watch", daemon=True).start()

    return start
