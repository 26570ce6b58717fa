"""``ignkit serve --approve-csrs``: the CSR watch loop of :mod:`ignkit.csrwatch` in a thread of the server.

Each round's per-host approval state goes to the status page; the loop's lines go to the server's log.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Callable

from ..errors import IgnkitError

if TYPE_CHECKING:
    from ..csrwatch import HostStatus
    from ..inventory import Host
    from .status import Progress

log = logging.getLogger("ignkit.serve")


def _state(status: Mapping[str, HostStatus]) -> dict[str, dict[str, str]]:
    return {name: {"client": "approved" if st.client else "waiting",
                   "serving": "approved" if st.serving else "waiting"} for name, st in status.items()}


def start_csr_watch(hosts: Sequence[Host], *, interval: float = 10.0, timeout: float = 7 * 24 * 3600.0,
                    oc: str = "oc") -> Callable[[Progress, asyncio.AbstractEventLoop], None]:
    """A ``background`` hook for :func:`ignkit.serve.server.run` that starts the watch in a daemon thread."""
    from ..csrwatch import watch_csrs

    def start(progress: Progress, loop: asyncio.AbstractEventLoop) -> None:
        def target() -> None:
            try:
                result = watch_csrs(hosts, oc=oc, interval=interval, timeout=timeout,
                                    echo=lambda line: log.info("csr: %s", line),
                                    on_round=lambda status: progress.set_csr(_state(status)))
            except IgnkitError as e:
                log.warning("csr: watch stopped: %s", e.message)
                progress.set_csr(progress.csr, f"CSR watch stopped: {e.message}")
                return
            note = ("every host has approved client and serving certificates" if result.complete
                    else "CSR watch timed out")
            progress.set_csr(_state(result.status), note)

        threading.Thread(target=target, name="csr-watch", daemon=True).start()

    return start
