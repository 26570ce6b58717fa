"""The host inventory shared by ``embed --hosts``, ``pxe config --hosts`` and ``csr``.

Reads ignkit's own HOSTS.yaml fields and the ``nodes-config.yaml`` format of
``oc adm node-image create`` into :class:`Host` objects.

STATUS: the data model below is the agreed interface; ``load_inventory`` is being implemented
in the `embed` work (issue 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union


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

    @property
    def macs(self) -> list[str]:
        return [i.mac for i in self.interfaces if i.mac]

    @property
    def ips(self) -> list[str]:
        return [a.ip for a in self.addresses]

    @property
    def short_name(self) -> str:
        return self.hostname.split(".", 1)[0]


def load_inventory(source: Union[str, Path]) -> list[Host]:
    """Read HOSTS.yaml (ignkit fields or nodes-config.yaml); raises InputError on bad input."""
    raise NotImplementedError("load_inventory is being implemented (issue 4)")
