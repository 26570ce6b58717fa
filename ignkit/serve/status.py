"""Each host's install timeline as ``ignkit serve`` sees it: what it fetched and when, as JSON and as an HTML page.

The page is rendered on the server (plain HTML, a meta refresh, ``<progress>`` bars): it needs no
JavaScript and reads in a text browser.
"""

from __future__ import annotations

import datetime
import html
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .catalog import Catalog

#: What a host fetches, in install order (the columns of the page).
STEPS = ("boot script", "kernel", "initramfs", "rootfs", "iso", "minimal iso", "config")


def _iso8601(t: Optional[float]) -> Optional[str]:
    if t is None:
        return None
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Fetch:
    """One kind of thing one host fetched: when, how often, how many bytes, and which part of it."""

    first: float
    last: float
    requests: int = 0
    bytes: int = 0
    size: Optional[int] = None
    covered: list[list[int]] = field(default_factory=list)   # merged [start, end) intervals sent

    def add_span(self, start: int, end: int) -> None:
        """Record that ``[start, end)`` was sent (kept as a short list of merged intervals)."""
        if end <= start:
            return
        out: list[list[int]] = []
        placed = False
        for a, b in self.covered:
            if b < start or a > end:
                if not placed and a > end:
                    out.append([start, end])
                    placed = True
                out.append([a, b])
            else:
                start, end = min(a, start), max(b, end)
        if not placed:
            out.append([start, end])
        out.sort()
        self.covered = out

    @property
    def covered_bytes(self) -> int:
        return sum(b - a for a, b in self.covered)

    @property
    def percent(self) -> Optional[float]:
        if not self.size:
            return None
        return round(100.0 * self.covered_bytes / self.size, 1)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"first": _iso8601(self.first), "last": _iso8601(self.last), "requests": self.requests}
        if self.size is not None:
            d.update(bytes_sent=self.bytes, size=self.size, covered=self.covered_bytes, percent=self.percent)
        return d


class Progress:
    """Per-host fetch records, updated by the request handlers (thread-safe for the CSR watcher too)."""

    def __init__(self, catalog: Catalog, clock: Callable[[], float] = time.time) -> None:
        self.catalog = catalog
        self.clock = clock
        self.started = clock()
        self._lock = threading.Lock()
        self.fetches: dict[str, dict[str, Fetch]] = {name: {} for name in catalog.hosts}
        self.peers: dict[str, str] = catalog.by_address()   # client address -> host name
        self.csr: dict[str, dict[str, Any]] = {}            # host -> client/serving CSR state (--approve-csrs)
        self.nodes: dict[str, dict[str, Any]] = {}          # host -> its Node's state (--approve-csrs)
        self.csr_note: Optional[str] = None

    def replace_catalog(self, catalog: Catalog) -> None:
        """Serve ``catalog`` from now on: records of hosts still listed are kept, new hosts start empty."""
        with self._lock:
            self.fetches = {name: self.fetches.get(name, {}) for name in catalog.hosts}
            peers = {p: n for p, n in self.peers.items() if n in catalog.hosts}
            peers.update(catalog.by_address())
            self.peers = peers
            self.catalog = catalog

    def host_of_peer(self, peer: Optional[str]) -> Optional[str]:
        return self.peers.get(peer or "")

    def begin(self, name: str, step: str, peer: Optional[str], size: Optional[int] = None) -> Fetch:
        """A request of ``name`` for ``step`` started (from client ``peer``); returns its record."""
        now = self.clock()
        with self._lock:
            if peer:
                self.peers[peer] = name
            fetches = self.fetches.setdefault(name, {})
            rec = fetches.get(step)
            if rec is None:
                rec = fetches[step] = Fetch(now, now, size=size)
            rec.last = now
            rec.requests += 1
            return rec

    def sent(self, rec: Fetch, start: int, end: int) -> None:
        """``[start, end)`` of a record's body went out."""
        with self._lock:
            rec.bytes += end - start
            rec.add_span(start, end)
            rec.last = self.clock()

    def set_csr(self, states: dict[str, dict[str, Any]], note: Optional[str] = None,
                nodes: Optional[dict[str, dict[str, Any]]] = None) -> None:
        """The CSR watch's view: per host its CSR approvals and (``nodes``) its Node's state."""
        with self._lock:
            self.csr = states
            self.csr_note = note
            if nodes is not None:
                self.nodes = nodes

    def snapshot(self) -> dict[str, Any]:
        """The JSON document of ``GET /status``."""
        with self._lock:
            hosts = []
            for name, sh in self.catalog.hosts.items():
                entry: dict[str, Any] = {
                    "hostname": name, "arch": sh.arch, "macs": sh.macs,
                    "iso_size": sh.iso.size if sh.iso else None,
                    "minimal_iso_size": sh.minimal.size if sh.minimal else None,
                    "fetched": {step: rec.to_dict() for step, rec in self.fetches.get(name, {}).items()},
                }
                if self.csr:
                    entry["csr"] = self.csr.get(name)
                if self.nodes:
                    entry["node"] = self.nodes.get(name)
                hosts.append(entry)
            doc: dict[str, Any] = {"started": _iso8601(self.started), "now": _iso8601(self.clock()), "hosts": hosts}
            doc["minimal_iso"] = {arch: m.to_dict() for arch, m in self.catalog.minimal.items()}
            if self.csr_note:
                doc["csr_note"] = self.csr_note
            return doc


def _cell(rec: Optional[dict[str, Any]]) -> str:
    if rec is None:
        return "<td class=none>&ndash;</td>"
    when = _when(rec["last"])
    if "size" not in rec:
        return f"<td class=done>{when}</td>"
    pct = rec.get("percent") or 0.0
    mib = rec["bytes_sent"] / (1 << 20)
    return (f"<td class={'done' if pct >= 100 else 'busy'}><progress max=100 value={pct:.1f}>{pct:.1f}%</progress> "
            f"{pct:.1f}% <small>({mib:.1f} MiB sent, {rec['requests']} req, {when})</small></td>")


def _when(stamp: Optional[str]) -> str:
    return html.escape(str(stamp or "")).replace("T", " ").rstrip("Z")


def _csr_cell(state: Optional[str]) -> str:
    if state == "approved":
        return "<td class=done>approved</td>"
    return f"<td class=none>{html.escape(state or 'waiting')}</td>"


def _node_cell(node: Optional[dict[str, Any]]) -> str:
    """Ready since ... / NotReady (reason) since ... / not registered."""
    if not node or node.get("state") in (None, "not registered"):
        return "<td class=none>not registered</td>"
    state = str(node["state"])
    text = state if state == "Ready" or not node.get("reason") else f"{state} ({node['reason']})"
    since = f" <small>since {_when(node['since'])}</small>" if node.get("since") else ""
    title = f" title=\"{html.escape(node['message'])}\"" if node.get("message") else ""
    return f"<td class={'done' if state == 'Ready' else 'busy'}{title}>{html.escape(text)}{since}</td>"


def render_html(doc: dict[str, Any], *, refresh: int = 5) -> str:
    """The operator's page: one row per host, one column per install step (then CSRs and node, if watched)."""
    show_csr = any("csr" in h for h in doc["hosts"])
    show_node = any("node" in h for h in doc["hosts"])
    head = "".join(f"<th>{html.escape(s)}</th>" for s in STEPS)
    if show_csr:
        head += "<th>client CSR</th><th>serving CSR</th>"
    if show_node:
        head += "<th>node</th>"
    rows = []
    for h in doc["hosts"]:
        cells = "".join(_cell(h["fetched"].get(s)) for s in STEPS)
        if show_csr:
            c = h.get("csr") or {}
            cells += _csr_cell(c.get("client")) + _csr_cell(c.get("serving"))
        if show_node:
            cells += _node_cell(h.get("node"))
        rows.append(f"<tr id=\"host-{html.escape(h['hostname'])}\"><th scope=row>{html.escape(h['hostname'])}</th>"
                    f"<td>{html.escape(h['arch'])}</td><td>{html.escape(' '.join(h['macs']))}</td>{cells}</tr>")
    note = f"<p>{html.escape(doc['csr_note'])}</p>" if doc.get("csr_note") else ""
    note += "".join(f"<p>Minimal ISOs for {html.escape(arch)}: not served: {html.escape(m['reason'])}</p>"
                    for arch, m in doc.get("minimal_iso", {}).items() if m.get("reason"))
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<meta http-equiv=refresh content={refresh}><title>ignkit serve</title>"
            "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:.2em .5em;text-align:left}.none{color:#999}.done{background:#dfd}.busy{background:#ffd}"
            "</style></head><body>"
            f"<h1>ignkit serve</h1><p>Started {html.escape(doc['started'])}; now {html.escape(doc['now'])}. "
            "JSON: <a href=\"/status\">/status</a>.</p>"
            f"<table><thead><tr><th>host</th><th>arch</th><th>MAC</th>{head}</tr></thead><tbody>\n"
            + "\n".join(rows) + f"\n</tbody></table>{note}</body></html>\n")
