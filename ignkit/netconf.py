"""NetworkManager keyfiles for the live and installed system, from short options or a subset of nmstate.

Two entry points produce ``{file name: keyfile text}`` maps:

* :func:`static_keyfiles` — the short form of ``ignkit embed`` (``--ip``, ``--gateway``, ``--dns``,
  ``--interface`` / ``--mac``): one ethernet connection with static addresses;
* :func:`nmstate_to_keyfiles` — the subset of nmstate found in ``nodes-config.yaml``
  ``networkConfig`` and ``--network-nmstate`` files: ethernet interfaces with DHCP or static IPv4/IPv6
  addresses, DNS servers and search domains, and routes. Anything else is refused with a message that
  names the unsupported key.

Keyfiles are INI text; :func:`parse_keyfile` reads one back (used by tests and ``--dry-run``).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from .docread import loads_json
from .errors import InputError

KEYFILE_SUFFIX = ".nmconnection"

_MAC_RE = re.compile(r"\A[0-9a-f]{2}([:-][0-9a-f]{2}){5}\Z", re.IGNORECASE)
_IFNAME_RE = re.compile(r"\A[^/\s:]{1,15}\Z")

IPInterface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]


def normalize_mac(text: str, *, where: str = "MAC address") -> str:
    """Return a MAC address as lower-case ``aa:bb:cc:dd:ee:ff``; raises InputError when malformed."""
    s = str(text).strip()
    if not _MAC_RE.match(s):
        raise InputError(f"{where}: {text!r} is not a MAC address (expected aa:bb:cc:dd:ee:ff)")
    return s.replace("-", ":").lower()


def check_interface_name(name: str, *, where: str = "interface") -> str:
    """Return ``name`` if it is a valid Linux interface name (1-15 chars, no '/', ':' or spaces)."""
    s = str(name)
    if not _IFNAME_RE.match(s) or s in (".", ".."):
        raise InputError(f"{where}: {name!r} is not a valid interface name")
    return s


def parse_address(text: str, *, where: str = "--ip") -> IPInterface:
    """Parse ``ADDR/PREFIX`` (IPv4 or IPv6); the prefix length is required."""
    s = str(text).strip()
    if "/" not in s:
        raise InputError(f"{where}: {text!r} needs a prefix length, e.g. 192.0.2.10/24 or 2001:db8::10/64")
    try:
        iface = ipaddress.ip_interface(s)
    except ValueError:
        raise InputError(f"{where}: {text!r} is not an IPv4 or IPv6 address with a prefix length") from None
    if iface.ip == iface.network.network_address and iface.network.prefixlen < iface.max_prefixlen - 1 \
            and iface.version == 4:
        raise InputError(f"{where}: {text!r} is a network address, not a host address")
    return iface


def parse_ip(text: str, *, where: str = "address") -> Union[ipaddress.IPv4Address, ipaddress.IPv6Address]:
    """Parse a bare IPv4 or IPv6 address (gateway, DNS server)."""
    try:
        return ipaddress.ip_address(str(text).strip())
    except ValueError:
        raise InputError(f"{where}: {text!r} is not an IPv4 or IPv6 address") from None


@dataclass
class Route:
    """A static route: ``destination`` network, ``gateway`` (next hop), optional metric."""

    destination: str
    gateway: Optional[str] = None
    metric: Optional[int] = None

    @property
    def version(self) -> int:
        return ipaddress.ip_network(self.destination, strict=False).version


@dataclass
class EthernetConfig:
    """What one generated ethernet keyfile says. ``None`` for ``dhcp4``/``dhcp6`` means "decide"."""

    name: str                                   # connection id and file stem
    interface: Optional[str] = None             # interface-name binding
    mac: Optional[str] = None                   # [ethernet] mac-address binding
    addresses: list[IPInterface] = field(default_factory=list)
    gateway4: Optional[str] = None
    gateway6: Optional[str] = None
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    ipv4: str = "auto"                          # auto | manual | disabled
    ipv6: str = "auto"                          # auto | manual | disabled
    mtu: Optional[int] = None
    extra4: dict[str, str] = field(default_factory=dict)   # further [ipv4] keys (ignore-auto-dns, ...)
    extra6: dict[str, str] = field(default_factory=dict)


def keyfile_text(sections: Mapping[str, Mapping[str, str]]) -> str:
    """Serialize ``{section: {key: value}}`` as keyfile INI text (sections and keys in the given order)."""
    out: list[str] = []
    for name, keys in sections.items():
        if out:
            out.append("")
        out.append(f"[{name}]")
        for k, v in keys.items():
            out.append(f"{k}={v}")
    return "\n".join(out) + "\n"


def parse_keyfile(text: Union[str, bytes]) -> dict[str, dict[str, str]]:
    """Parse keyfile INI text into ``{section: {key: value}}`` (comments and blank lines skipped)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    result: dict[str, dict[str, str]] = {}
    current: Optional[dict[str, str]] = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = result.setdefault(line[1:-1], {})
            continue
        if current is None or "=" not in line:
            raise InputError(f"keyfile line {n}: expected [section] or key=value, got {raw!r}")
        k, v = line.split("=", 1)
        current[k.strip()] = v.strip()
    return result


def keyfiles_listing(files: Mapping[str, bytes]) -> bytes:
    """Keyfiles as ``network extract`` / ``network unwrap`` print them: each under a ``##########`` name line."""
    parts = [f"########## {name} ##########\n".encode() + files[name] for name in sorted(files)]
    return b"\n".join(parts)


def write_keyfiles(files: Mapping[str, bytes], directory: Union[str, os.PathLike[str]]) -> list[str]:
    """Write keyfiles (name → contents) into ``directory`` (created if needed), all or none, mode 0600.

    Names come from an image, so each must be a plain file name; an existing file is refused before
    anything is written. Returns the paths written, sorted by name.
    """
    from .outfile import write_files_atomic

    for name in files:
        if not name or name in (".", "..") or "/" in name or "\0" in name:
            raise InputError(f"keyfile name {name!r} is not a plain file name")
    jobs = [(os.path.join(os.fspath(directory), name), files[name]) for name in sorted(files)]
    return write_files_atomic(jobs, overwrite=False, mode=0o600, exists="File exists (already exists)")


def ethernet_keyfile(cfg: EthernetConfig) -> str:
    """Render one ethernet connection as keyfile text."""
    conn: dict[str, str] = {"id": cfg.name, "type": "ethernet"}
    if cfg.interface:
        conn["interface-name"] = cfg.interface
    conn["autoconnect"] = "true"
    conn["autoconnect-priority"] = "1"
    sections: dict[str, dict[str, str]] = {"connection": conn}
    eth: dict[str, str] = {}
    if cfg.mac:
        eth["mac-address"] = cfg.mac.upper()
    if cfg.mtu:
        eth["mtu"] = str(cfg.mtu)
    sections["ethernet"] = eth
    for version, method in ((4, cfg.ipv4), (6, cfg.ipv6)):
        sec: dict[str, str] = {"method": method}
        gw = cfg.gateway4 if version == 4 else cfg.gateway6
        addrs = [a for a in cfg.addresses if a.version == version]
        for i, a in enumerate(addrs, 1):
            value = f"{a.ip}/{a.network.prefixlen}"
            if i == 1 and gw:
                value += f",{gw}"
            sec[f"address{i}"] = value
        if gw and not addrs:
            sec["gateway"] = gw
        dns = [d for d in cfg.dns if ipaddress.ip_address(d).version == version]
        if dns:
            sec["dns"] = "".join(f"{d};" for d in dns)
        if cfg.dns_search and method != "disabled" and (version == 4 or cfg.ipv4 == "disabled"):
            sec["dns-search"] = "".join(f"{d};" for d in cfg.dns_search)
        routes = [r for r in cfg.routes if r.version == version]
        for i, r in enumerate(routes, 1):
            value = r.destination
            if r.gateway or r.metric is not None:
                value += f",{r.gateway or ('0.0.0.0' if version == 4 else '::')}"
            if r.metric is not None:
                value += f",{r.metric}"
            sec[f"route{i}"] = value
        if version == 6 and method in ("auto", "manual"):
            sec["addr-gen-mode"] = "eui64"
        if method in ("auto", "manual") and version == 4:
            sec["may-fail"] = "false" if method == "manual" else "true"
        sec.update(cfg.extra4 if version == 4 else cfg.extra6)
        sections[f"ipv{version}"] = sec
    return keyfile_text(sections)


def static_keyfiles(
    *,
    addresses: Sequence[str] = (),
    gateway: Sequence[str] = (),
    dns: Sequence[str] = (),
    interface: Optional[str] = None,
    mac: Optional[str] = None,
    where: Optional[str] = None,
) -> dict[str, str]:
    """The keyfile of ``--ip/--gateway/--dns/--interface/--mac``: ``{file name: text}``.

    ``addresses`` are ``ADDR/PREFIX`` strings of either family (at least one); each gateway must lie
    in the subnet of an address of its family; the family without addresses is disabled. The
    connection binds to ``interface`` and/or ``mac``; with neither it applies to any ethernet device.
    Errors name the options (``--ip``), or the fields below ``where`` (``hosts.yaml: hosts[2].ip``).
    """
    def label(name: str) -> str:
        return f"--{name}" if where is None else f"{where}.{name}"

    if not addresses:
        raise InputError("--gateway/--dns/--interface/--mac need --ip ADDR/PREFIX" if where is None else
                         f"{where}: gateway/dns/interface/mac need ip ADDR/PREFIX")
    ifaces = [parse_address(a, where=label("ip")) for a in addresses]
    if interface is not None:
        interface = check_interface_name(interface, where=label("interface"))
    if mac is not None:
        mac = normalize_mac(mac, where=label("mac"))
    gw4: Optional[str] = None
    gw6: Optional[str] = None
    for g in gateway:
        ip = parse_ip(g, where=label("gateway"))
        if not any(a.version == ip.version and ip in a.network for a in ifaces):
            raise InputError(f"{label('gateway')}: {g} is not in the subnet of any "
                             f"{'--ip' if where is None else 'ip'} address")
        if ip.version == 4:
            if gw4:
                raise InputError(f"{label('gateway')}: more than one IPv4 gateway")
            gw4 = str(ip)
        else:
            if gw6:
                raise InputError(f"{label('gateway')}: more than one IPv6 gateway")
            gw6 = str(ip)
    servers = [str(parse_ip(d, where=label("dns"))) for d in dns]
    name = interface or (f"ethernet-{mac.replace(':', '')}" if mac else "ignkit-static")
    has4 = any(a.version == 4 for a in ifaces)
    has6 = any(a.version == 6 for a in ifaces)
    cfg = EthernetConfig(
        name=name, interface=interface, mac=mac, addresses=list(ifaces), gateway4=gw4, gateway6=gw6,
        dns=servers, ipv4="manual" if has4 else "disabled", ipv6="manual" if has6 else "disabled",
    )
    return {name + KEYFILE_SUFFIX: ethernet_keyfile(cfg)}


# ---------------------------------------------------------------------------------------------------
# nmstate subset


def load_nmstate(path: Union[str, os.PathLike[str]]) -> dict[str, Any]:
    """Read an nmstate YAML or JSON file into a dict (InputError when unreadable or not a mapping)."""
    import yaml

    from .yamlfile import load_yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"opening nmstate file {p}: {getattr(e, 'strerror', None) or e}") from None
    try:
        data = loads_json(text) if text.lstrip().startswith("{") else load_yaml(text)
    except (ValueError, yaml.YAMLError) as e:
        raise InputError(f"parsing nmstate {p}: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise InputError(f"parsing nmstate {p}: expected a mapping at the top")
    return data


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "false", "no"):
        return value.lower() in ("true", "yes")
    raise InputError(f"{where}: expected true or false, got {value!r}")


def _unsupported(where: str, key: str, what: str = "") -> InputError:
    extra = f" ({what})" if what else ""
    return InputError(
        f"{where}.{key} is not supported{extra}: ignkit converts only static or DHCP ethernet interfaces "
        "with addresses, DNS and routes; write a NetworkManager keyfile and use --network-keyfile/keyfiles"
    )


def _check_keys(obj: Any, where: str, allowed: Sequence[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a mapping, got {type(obj).__name__}")
    for k in obj:
        if k not in allowed:
            raise _unsupported(where, str(k))
    return obj


_IFACE_KEYS = ("name", "type", "state", "mac-address", "identifier", "mtu", "description", "ipv4", "ipv6",
               "profile-name")
_IP_KEYS = ("enabled", "dhcp", "autoconf", "address", "auto-dns", "auto-gateway", "auto-routes")


@dataclass
class NetworkSummary:
    """Addresses, gateways and DNS servers found in a network config (for inventories and boot configs)."""

    addresses: list[IPInterface] = field(default_factory=list)
    gateway4: Optional[str] = None
    gateway6: Optional[str] = None
    dns: list[str] = field(default_factory=list)
    macs: dict[str, str] = field(default_factory=dict)    # interface name -> MAC given in the nmstate


def nmstate_to_keyfiles(
    state: Mapping[str, Any],
    *,
    where: str = "networkConfig",
    macs: Optional[Mapping[str, str]] = None,
    summary: Optional[NetworkSummary] = None,
) -> dict[str, str]:
    """Convert the supported nmstate subset to ``{<interface>.nmconnection: keyfile text}``.

    ``macs`` maps interface names to MAC addresses known from elsewhere (``interfaces[].macAddress``
    of nodes-config.yaml); a connection with a known MAC binds to the MAC rather than the name, as the
    agent installer does. When given, ``summary`` is filled with the addresses, gateways and DNS.
    Unsupported keys, interface types or states raise InputError naming them.
    """
    _check_keys(state, where, ("interfaces", "dns-resolver", "routes"))
    macs = dict(macs or {})
    ifaces = state.get("interfaces") or []
    if not isinstance(ifaces, list):
        raise InputError(f"{where}.interfaces: expected a list")
    configs: list[EthernetConfig] = []
    for i, raw in enumerate(ifaces):
        w = f"{where}.interfaces[{i}]"
        iface = _check_keys(raw, w, _IFACE_KEYS)
        name = iface.get("name")
        if not name or not isinstance(name, str):
            raise InputError(f"{w}.name: required")
        check_interface_name(name, where=f"{w}.name")
        typ = iface.get("type", "ethernet")
        if typ != "ethernet":
            raise InputError(f"{w}.type: {typ!r} is not supported (only ethernet): write a keyfile instead")
        st = iface.get("state", "up")
        if st != "up":
            raise InputError(f"{w}.state: {st!r} is not supported (only up)")
        mac = iface.get("mac-address")
        if mac is not None:
            mac = normalize_mac(mac, where=f"{w}.mac-address")
        elif name in macs:
            mac = normalize_mac(macs[name], where=f"{w} MAC")
        ident = iface.get("identifier", "name")
        if ident not in ("name", "mac-address"):
            raise InputError(f"{w}.identifier: {ident!r} is not supported (name or mac-address)")
        if ident == "mac-address" and not mac:
            raise InputError(f"{w}.identifier: mac-address needs {w}.mac-address")
        mtu = iface.get("mtu")
        if mtu is not None and (not isinstance(mtu, int) or isinstance(mtu, bool) or not 68 <= mtu <= 65535):
            raise InputError(f"{w}.mtu: {mtu!r} is not a valid MTU")
        cfg = EthernetConfig(name=name, mtu=mtu)
        # Bind by MAC when known (names can differ between the live and installed system).
        if mac:
            cfg.mac = mac
        else:
            cfg.interface = name
        if mac and summary is not None:
            summary.macs[name] = mac
        for version in (4, 6):
            key = f"ipv{version}"
            ipcfg = iface.get(key)
            if ipcfg is None:
                setattr(cfg, key, "disabled")
                continue
            wi = f"{w}.{key}"
            _check_keys(ipcfg, wi, _IP_KEYS)
            enabled = _bool(ipcfg.get("enabled", False), f"{wi}.enabled")
            dhcp = _bool(ipcfg.get("dhcp", False), f"{wi}.dhcp")
            autoconf = _bool(ipcfg.get("autoconf", False), f"{wi}.autoconf") if version == 6 else False
            if "autoconf" in ipcfg and version == 4:
                raise _unsupported(wi, "autoconf", "IPv6 only")
            addrs = ipcfg.get("address") or []
            if not isinstance(addrs, list):
                raise InputError(f"{wi}.address: expected a list")
            for j, a in enumerate(addrs):
                wa = f"{wi}.address[{j}]"
                _check_keys(a, wa, ("ip", "prefix-length"))
                if "ip" not in a or "prefix-length" not in a:
                    raise InputError(f"{wa}: needs ip and prefix-length")
                parsed = parse_address(f"{a['ip']}/{a['prefix-length']}", where=wa)
                if parsed.version != version:
                    raise InputError(f"{wa}: {a['ip']} is not an IPv{version} address")
                cfg.addresses.append(parsed)
                if summary is not None:
                    summary.addresses.append(parsed)
            if not enabled:
                if addrs or dhcp or autoconf:
                    raise InputError(f"{wi}: addresses or DHCP given but enabled is false")
                method = "disabled"
            elif dhcp or autoconf:
                method = "auto"
                extra = cfg.extra4 if version == 4 else cfg.extra6
                for auto, nm_key in (("auto-dns", "ignore-auto-dns"), ("auto-routes", "ignore-auto-routes"),
                                     ("auto-gateway", "never-default")):
                    if auto in ipcfg and not _bool(ipcfg[auto], f"{wi}.{auto}"):
                        extra[nm_key] = "true"
            elif addrs:
                method = "manual"
            else:
                method = "disabled"
            setattr(cfg, key, method)
        configs.append(cfg)
    if len({c.name for c in configs}) != len(configs):
        raise InputError(f"{where}.interfaces: an interface name appears twice")

    by_name = {c.name: c for c in configs}
    # DNS: global in nmstate; NetworkManager wants it on a connection of the server's family.
    dnsr = state.get("dns-resolver")
    if dnsr is not None:
        _check_keys(dnsr, f"{where}.dns-resolver", ("config",))
        dconf = _check_keys(dnsr.get("config") or {}, f"{where}.dns-resolver.config", ("server", "search"))
        servers = dconf.get("server") or []
        search = dconf.get("search") or []
        if not isinstance(servers, list) or not isinstance(search, list):
            raise InputError(f"{where}.dns-resolver.config: server and search must be lists")
        for s in servers:
            ip = parse_ip(s, where=f"{where}.dns-resolver.config.server")
            target = next((c for c in configs if getattr(c, f"ipv{ip.version}") != "disabled"), None)
            if target is None:
                raise InputError(f"{where}.dns-resolver: no interface has IPv{ip.version} enabled for {ip}")
            target.dns.append(str(ip))
            if summary is not None:
                summary.dns.append(str(ip))
        if search:
            if not configs:
                raise InputError(f"{where}.dns-resolver: no interface to carry the search domains")
            configs[0].dns_search.extend(str(s) for s in search)
    routes = state.get("routes")
    if routes is not None:
        _check_keys(routes, f"{where}.routes", ("config",))
        rlist = routes.get("config") or []
        if not isinstance(rlist, list):
            raise InputError(f"{where}.routes.config: expected a list")
        for j, r in enumerate(rlist):
            wr = f"{where}.routes.config[{j}]"
            _check_keys(r, wr, ("destination", "next-hop-address", "next-hop-interface", "metric", "table-id",
                                "state"))
            if r.get("state", "present") != "present":
                raise _unsupported(wr, "state", "only present routes")
            if r.get("table-id", 254) not in (0, 254):
                raise _unsupported(wr, "table-id", "only the main table")
            dest = r.get("destination")
            try:
                net = ipaddress.ip_network(str(dest), strict=False)
            except ValueError:
                raise InputError(f"{wr}.destination: {dest!r} is not a network") from None
            hop = r.get("next-hop-address")
            hop_s = str(parse_ip(hop, where=f"{wr}.next-hop-address")) if hop not in (None, "") else None
            if hop_s and ipaddress.ip_address(hop_s).version != net.version:
                raise InputError(f"{wr}: destination and next-hop-address are of different IP families")
            ifname = r.get("next-hop-interface")
            if ifname is None:
                if len(configs) != 1:
                    raise InputError(f"{wr}.next-hop-interface: required when there are several interfaces")
                target = configs[0]
            elif ifname not in by_name:
                raise InputError(f"{wr}.next-hop-interface: {ifname!r} is not among the interfaces")
            else:
                target = by_name[ifname]
            metric = r.get("metric")
            if metric is not None and (not isinstance(metric, int) or metric < 0):
                raise InputError(f"{wr}.metric: {metric!r} is not a valid metric")
            if net.prefixlen == 0 and hop_s:
                if net.version == 4 and target.gateway4 is None and metric is None:
                    target.gateway4 = hop_s
                elif net.version == 6 and target.gateway6 is None and metric is None:
                    target.gateway6 = hop_s
                else:
                    target.routes.append(Route(str(net), hop_s, metric))
                if summary is not None:
                    if net.version == 4 and summary.gateway4 is None:
                        summary.gateway4 = hop_s
                    elif net.version == 6 and summary.gateway6 is None:
                        summary.gateway6 = hop_s
            else:
                target.routes.append(Route(str(net), hop_s, metric))
    return {c.name + KEYFILE_SUFFIX: ethernet_keyfile(c) for c in configs}
