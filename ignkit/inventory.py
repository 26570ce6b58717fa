"""The host inventory shared by ``embed --hosts``, ``pxe config --hosts`` and ``csr``.

Reads ignkit's own HOSTS.yaml fields and the ``nodes-config.yaml`` format of
``oc adm node-image create`` (and the ``hosts`` of ``agent-config.yaml``) into :class:`Host` objects.

Both forms are a mapping with a ``hosts`` list (a bare list of hosts is accepted too). Per host:

* nodes-config.yaml: ``hostname``, ``role``, ``interfaces[].name/macAddress``,
  ``rootDeviceHints.deviceName``, ``networkConfig`` (nmstate subset, see :mod:`ignkit.netconf`);
* ignkit short fields: ``hostname``, ``mac``, ``interface``, ``install_dev``, ``ip`` (``ADDR/PREFIX``,
  IPv4 or IPv6, one or a list), ``gateway``, ``dns``, ``console``, ``kargs``, ``keyfiles`` (paths
  relative to the inventory file, or a mapping of file name to keyfile text), ``arch``.

A top-level ``defaults`` mapping (ignkit fields) applies to every host that does not set the field.
Every generated NetworkManager keyfile is in :attr:`Host.keyfiles` after loading.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

from .arch import ARCHES, arch_name
from .errors import IgnkitError, InputError


@dataclass
class Interface:
    """One network interface of a host."""

    name: Optional[str] = None          # e.g. "eno1"
    mac: Optional[str] = None           # lower-case "aa:bb:cc:dd:ee:ff"


@dataclass
class Address:
    """A static address with its prefix length, e.g. ``Address("192.0.2.10", 24)``."""

    ip: str
    prefix: int


@dataclass
class Host:
    """One machine to provision."""

    hostname: str                                        # as given; may be short or fully qualified
    interfaces: list[Interface] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)   # static addresses (empty: DHCP)
    gateway: Optional[str] = None                        # IPv4 gateway
    gateway6: Optional[str] = None                       # IPv6 gateway
    dns: list[str] = field(default_factory=list)
    install_dev: Optional[str] = None                    # /dev/... (rootDeviceHints.deviceName)
    console: list[str] = field(default_factory=list)     # e.g. ["ttyS0,115200n8"]
    kargs: list[str] = field(default_factory=list)       # extra kernel arguments
    keyfiles: dict[str, str] = field(default_factory=dict)  # file name -> NM keyfile text
    arch: Optional[str] = None                           # cpuArchitecture when given
    role: Optional[str] = None                           # nodes-config role (informational)
    ssh_authorized_keys: list[str] = field(default_factory=list)  # nodes-config sshKey

    @property
    def macs(self) -> list[str]:
        return [i.mac for i in self.interfaces if i.mac]

    @property
    def ips(self) -> list[str]:
        return [a.ip for a in self.addresses]

    @property
    def short_name(self) -> str:
        return self.hostname.split(".", 1)[0]


_TOP_KEYS = ("hosts", "defaults", "cpuArchitecture", "sshKey", "bootArtifactsBaseURL",
             # agent-config.yaml wrappers and day-1 keys that do not concern single hosts
             "apiVersion", "kind", "metadata", "rendezvousIP", "additionalNTPSources", "minimalISO")
_NODE_KEYS = ("hostname", "role", "interfaces", "rootDeviceHints", "networkConfig")
_SHORT_KEYS = ("mac", "interface", "install_dev", "ip", "gateway", "dns", "console", "kargs", "keyfiles", "arch")
_HOST_KEYS = _NODE_KEYS + _SHORT_KEYS
_LABEL_RE = re.compile(r"\A[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z", re.IGNORECASE)


def _unknown(where: str, key: str, allowed: tuple[str, ...]) -> InputError:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return InputError(f"{where}: unknown key {key!r}{hint}")


def _strings(value: Any, where: str, *, split: bool = False) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).split() if split else [str(value)]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                       for v in value):
        return [str(v) for v in value]
    raise InputError(f"{where}: expected a string or a list of strings")


def _one(value: Any, where: str) -> Optional[str]:
    items = _strings(value, where)
    if len(items) > 1:
        raise InputError(f"{where}: expected one value, got {len(items)}")
    return items[0] if items else None


def check_hostname(name: Any, where: str = "hostname") -> str:
    """Return ``name`` if it is a valid (short or fully qualified) host name, else raise InputError."""
    if name is None or name == "":
        raise InputError(f"{where}: required (a host name)")
    if not isinstance(name, str):
        raise InputError(f"{where}: expected a host name, got {name!r} (quote it in YAML)")
    labels = name.rstrip(".").split(".")
    if len(name) > 253 or not all(_LABEL_RE.match(label) for label in labels):
        raise InputError(f"{where}: {name!r} is not a valid host name (letters, digits, '-' and '.')")
    return name


def _checked(check: Callable[[str, str], object], values: list[str], where: str) -> list[str]:
    """Run one of the customize options' checks on inventory values; its errors become InputError."""
    for v in values:
        try:
            check(v, where)
        except IgnkitError as e:
            raise InputError(e.message) from None
    return values


def _install_dev(value: Any, where: str) -> Optional[str]:
    from .live.installer import check_dest_device

    dev = _one(value, where)
    if dev is None:
        return None
    _checked(check_dest_device, [dev], where)
    return dev


def _keyfiles(value: Any, where: str, base: Path) -> dict[str, str]:
    from .netconf import KEYFILE_SUFFIX

    out: dict[str, str] = {}
    if value is None:
        return out
    if isinstance(value, Mapping):
        for name, text in value.items():
            if not isinstance(text, str) or "/" in str(name) or str(name) in ("", ".", ".."):
                raise InputError(f"{where}: {name!r}: expected a file name mapped to keyfile text")
            out[str(name)] = text
        return out
    for item in _strings(value, where):
        path = Path(item).expanduser()
        if not path.is_absolute():
            path = base / path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise InputError(f"{where}: {path}: {e.strerror or e}") from None
        name = path.name
        if not name.endswith(KEYFILE_SUFFIX):
            raise InputError(f"{where}: {path}: NetworkManager only reads keyfiles named *{KEYFILE_SUFFIX}")
        if name in out:
            raise InputError(f"{where}: multiple input files named {name!r}")
        out[name] = text
    return out


def _host(raw: Any, where: str, defaults: Mapping[str, Any], top: Mapping[str, Any], base: Path) -> Host:
    from . import netconf

    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: expected a mapping with at least a hostname")
    for k in raw:
        if k not in _HOST_KEYS:
            raise _unknown(where, str(k), _HOST_KEYS)
    entry: dict[str, Any] = dict(defaults)
    entry.update(raw)
    hostname = check_hostname(raw.get("hostname"), f"{where}.hostname")
    host = Host(hostname=hostname)
    host.role = _one(entry.get("role"), f"{where}.role")

    # Interfaces: nodes-config interfaces[] and/or the short mac/interface fields.
    macs_by_name: dict[str, str] = {}
    ifaces = entry.get("interfaces")
    if ifaces is not None:
        if not isinstance(ifaces, list):
            raise InputError(f"{where}.interfaces: expected a list of {{name, macAddress}}")
        for i, item in enumerate(ifaces):
            wi = f"{where}.interfaces[{i}]"
            if not isinstance(item, Mapping):
                raise InputError(f"{wi}: expected a mapping with name and macAddress")
            for k in item:
                if k not in ("name", "macAddress"):
                    raise _unknown(wi, str(k), ("name", "macAddress"))
            name = item.get("name")
            if name is not None:
                name = netconf.check_interface_name(str(name), where=f"{wi}.name")
            mac = item.get("macAddress")
            if mac is not None:
                mac = netconf.normalize_mac(str(mac), where=f"{wi}.macAddress")
            if name is None and mac is None:
                raise InputError(f"{wi}: needs name or macAddress")
            host.interfaces.append(Interface(name=name, mac=mac))
            if name and mac:
                macs_by_name[name] = mac
    short_ifname = _one(entry.get("interface"), f"{where}.interface")
    if short_ifname is not None:
        short_ifname = netconf.check_interface_name(short_ifname, where=f"{where}.interface")
    short_macs = [netconf.normalize_mac(m, where=f"{where}.mac") for m in _strings(entry.get("mac"), f"{where}.mac")]
    if short_macs or short_ifname:
        if short_macs:
            for j, m in enumerate(short_macs):
                host.interfaces.append(Interface(name=short_ifname if j == 0 else None, mac=m))
        else:
            host.interfaces.append(Interface(name=short_ifname))

    # Install device.
    hints = entry.get("rootDeviceHints")
    dev_from_hints: Optional[str] = None
    if hints is not None:
        if not isinstance(hints, Mapping):
            raise InputError(f"{where}.rootDeviceHints: expected a mapping")
        for k in hints:
            if k != "deviceName":
                raise InputError(
                    f"{where}.rootDeviceHints.{k} is not supported: a live ISO installs to a fixed device; "
                    "give rootDeviceHints.deviceName (or install_dev)"
                )
        dev_from_hints = _install_dev(hints.get("deviceName"), f"{where}.rootDeviceHints.deviceName")
    dev = _install_dev(entry.get("install_dev"), f"{where}.install_dev")
    if dev and dev_from_hints and dev != dev_from_hints and "install_dev" in raw and "rootDeviceHints" in raw:
        raise InputError(f"{where}: install_dev {dev} and rootDeviceHints.deviceName {dev_from_hints} differ")
    # The host's own field wins over one from defaults.
    host.install_dev = (dev_from_hints or dev) if "rootDeviceHints" in raw else (dev or dev_from_hints)

    from .live.console import parse_console
    from .live.kargs import check_karg

    host.console = _checked(parse_console, _strings(entry.get("console"), f"{where}.console"), f"{where}.console")
    host.kargs = _checked(check_karg, _strings(entry.get("kargs"), f"{where}.kargs", split=True), f"{where}.kargs")
    arch = entry.get("arch", top.get("cpuArchitecture"))
    if arch is not None:
        name = arch_name(str(arch))
        if name not in ARCHES:
            raise InputError(f"{where}.arch: {arch!r} is not one of {', '.join(ARCHES)}")
        host.arch = name
    if top.get("sshKey"):
        host.ssh_authorized_keys = [line.strip() for line in str(top["sshKey"]).splitlines() if line.strip()]

    # Network: explicit keyfiles, nmstate networkConfig, or the short ip/gateway/dns fields.
    host.keyfiles = _keyfiles(entry.get("keyfiles"), f"{where}.keyfiles", base)
    ips = _strings(entry.get("ip"), f"{where}.ip")
    gws = _strings(entry.get("gateway"), f"{where}.gateway")
    dns = _strings(entry.get("dns"), f"{where}.dns")
    netcfg = raw.get("networkConfig", defaults.get("networkConfig") if not ips else None)
    generated: dict[str, str] = {}
    if netcfg is not None:
        if ips or gws or dns:
            raise InputError(f"{where}: give either networkConfig or ip/gateway/dns, not both")
        summary = netconf.NetworkSummary()
        generated = netconf.nmstate_to_keyfiles(
            netcfg, where=f"{where}.networkConfig", macs=macs_by_name, summary=summary)
        host.addresses = [Address(str(a.ip), a.network.prefixlen) for a in summary.addresses]
        host.gateway, host.gateway6, host.dns = summary.gateway4, summary.gateway6, list(summary.dns)
        known = {i.mac for i in host.interfaces}
        for name, mac in summary.macs.items():
            if mac not in known:
                host.interfaces.append(Interface(name=name, mac=mac))
    elif ips:
        if len(short_macs) > 1 and not short_ifname:
            raise InputError(f"{where}: ip with several MAC addresses: say which one with interface")
        generated = netconf.static_keyfiles(
            addresses=ips, gateway=gws, dns=dns, interface=short_ifname,
            mac=short_macs[0] if short_macs else None, where=where)
        # static_keyfiles checked them all.
        parsed = [netconf.parse_address(a) for a in ips]
        host.addresses = [Address(str(a.ip), a.network.prefixlen) for a in parsed]
        for ip in map(netconf.parse_ip, gws):
            if ip.version == 4:
                host.gateway = str(ip)
            else:
                host.gateway6 = str(ip)
        host.dns = [str(netconf.parse_ip(d)) for d in dns]
    elif gws or dns:
        raise InputError(f"{where}: gateway and dns need ip (ADDR/PREFIX)")
    for name, text in generated.items():
        if name in host.keyfiles:
            raise InputError(f"{where}: config already specifies keyfile {name}")
        host.keyfiles[name] = text
    return host


def parse_inventory(data: Any, *, base_dir: Union[str, Path] = ".", source: str = "inventory") -> list[Host]:
    """Turn parsed HOSTS.yaml data (mapping with ``hosts``, or a list) into hosts; see the module doc."""
    base = Path(base_dir)
    if isinstance(data, list):
        data = {"hosts": data}
    if not isinstance(data, Mapping):
        raise InputError(f"{source}: expected a mapping with a 'hosts' list")
    for k in data:
        if k not in _TOP_KEYS:
            raise _unknown(source, str(k), _TOP_KEYS)
    hosts_raw = data.get("hosts")
    if not isinstance(hosts_raw, list) or not hosts_raw:
        raise InputError(f"{source}: 'hosts' must be a non-empty list")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise InputError(f"{source}: defaults: expected a mapping")
    for k in defaults:
        if k not in _SHORT_KEYS + ("rootDeviceHints", "networkConfig", "role", "interfaces"):
            raise _unknown(f"{source}: defaults", str(k), _SHORT_KEYS)
    hosts = [_host(h, f"{source}: hosts[{i}]", defaults, data, base) for i, h in enumerate(hosts_raw)]
    seen: dict[str, str] = {}
    seen_mac: dict[str, str] = {}
    for h in hosts:
        key = h.hostname.lower().rstrip(".")
        if key in seen or h.short_name.lower() in seen:
            raise InputError(f"{source}: host {h.hostname!r} appears twice")
        seen[key] = h.hostname
        seen[h.short_name.lower()] = h.hostname
        for m in h.macs:
            if m in seen_mac and seen_mac[m] != h.hostname:
                raise InputError(f"{source}: MAC {m} is given for both {seen_mac[m]} and {h.hostname}")
            seen_mac[m] = h.hostname
    return hosts


def load_inventory(source: Union[str, Path]) -> list[Host]:
    """Read HOSTS.yaml (ignkit fields or nodes-config.yaml); raises InputError on bad input.

    Unquoted MAC addresses made of decimal digits (``52:54:00:00:00:10``) are read as text, not as
    YAML 1.1 base-60 integers (see :mod:`ignkit.yamlfile`).
    """
    from .yamlfile import load_yaml_file

    path = Path(source)
    return parse_inventory(load_yaml_file(path), base_dir=path.parent, source=str(path))
