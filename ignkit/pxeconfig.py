"""PXELINUX, iPXE and GRUB boot entries for a CoreOS live PXE install, as text (pure functions).

Builds the kernel command line the documented way (``coreos.live.rootfs_url``, ``coreos.inst.install_dev``,
``coreos.inst.ignition_url``, plus ``ignition.firstboot ignition.platform.id=metal`` for a customized
initramfs) and refuses what would only fail at boot time: PXELINUX on a non-BIOS architecture, a missing
rootfs URL, URL schemes the kernel arguments do not take, whitespace or quotes inside a value, a command
line the kernel would truncate.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Optional
from urllib.parse import SplitResult, urlsplit

from .arch import ARCHES, normalize_arch
from .errors import InputError, UsageError

if TYPE_CHECKING:
    from .inventory import Host

FORMATS = ("pxelinux", "ipxe", "grub")
#: Which loader formats make sense on which architecture.
SUPPORTED = {
    "pxelinux": ("x86_64",),               # BIOS only
    "ipxe": ("x86_64", "aarch64"),
    "grub": ("x86_64", "aarch64", "ppc64le"),  # UEFI (x86_64, aarch64), OpenFirmware/petitboot (ppc64le)
}
#: The kernel's COMMAND_LINE_SIZE on these architectures (including the terminating NUL).
CMDLINE_MAX = {"x86_64": 2048, "aarch64": 2048, "ppc64le": 2048, "s390x": 896}
#: Placeholders replaced per host in URLs (``--hosts``).
PLACEHOLDERS = ("{hostname}", "{short_name}", "{mac}")

_ALWAYS_BAD = re.compile(r"[\s\"'\\`\x00-\x1f\x7f]")
#: What iPXE's script language would interpret inside a word and has no quoting for: it expands ${...} and
#: splits commands on || and &&.
_LOADER_SPECIAL = {"ipxe": re.compile(r"\$\{|&&|\|\|")}
#: Characters GRUB's script parser interprets inside a word; such words are written single-quoted.
_GRUB_QUOTE = re.compile(r"[$;|&{}<>#]")


@dataclass
class BootParams:
    """Everything one boot entry needs. URLs may hold the :data:`PLACEHOLDERS` until :func:`for_host`."""

    kernel_url: str
    initramfs_url: str
    rootfs_url: Optional[str]
    ignition_url: Optional[str]
    install_dev: Optional[str]
    arch: str = "x86_64"
    console: list[str] = field(default_factory=list)      # values of console=, e.g. "ttyS0,115200n8"
    ip: list[str] = field(default_factory=list)           # values of ip= (dracut syntax)
    nameservers: list[str] = field(default_factory=list)  # values of nameserver=
    kargs: list[str] = field(default_factory=list)        # further kernel arguments, verbatim
    customized: bool = False   # initramfs made by `pxe customize`: Ignition must run on the live system
    label: str = "coreos"


def _strip_prefix(value: str, key: str) -> str:
    return value[len(key) + 1:] if value.startswith(key + "=") else value


def _check_value(what: str, value: str, fmt: str) -> None:
    m = _ALWAYS_BAD.search(value)
    if m:
        ch = m.group(0)
        kind = "whitespace" if ch.isspace() else ("a quote" if ch in "\"'`" else f"the character {ch!r}")
        raise UsageError(f"{what} {value!r} contains {kind}: the kernel command line would split or mangle it")
    special = _LOADER_SPECIAL.get(fmt)
    if special is not None:
        m = special.search(value)
        if m:
            raise UsageError(f"{what} {value!r} contains {m.group(0)!r}, which {fmt} interprets; "
                             f"percent-encode it or rename the file")


def split_url(what: str, url: str) -> SplitResult:
    """``url`` split into its parts, or UsageError for what no loader or live system could use.

    Refused: an unbalanced or invalid ``[IPv6]`` literal, a port that is not a number from 1 to 65535, a URL
    with a scheme but no host. (urllib itself raises ValueError for some of these, and only when ``.port``
    is read for others.)
    """
    scheme, sep, rest = url.partition("://")
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2] if sep and "/" not in scheme else ""
    if netloc.startswith("["):
        literal, closed, rest = netloc[1:].partition("]")
        if not closed:
            raise UsageError(f"{what} {url!r} is not a valid URL: '[' without ']'")
        try:
            ipaddress.IPv6Address(literal.split("%", 1)[0])
        except ValueError:
            raise UsageError(f"{what} {url!r}: [{literal}] is not an IPv6 address") from None
        if rest and not rest.startswith(":"):
            raise UsageError(f"{what} {url!r}: unexpected {rest!r} after the IPv6 address")
        port = rest[1:]
    elif "[" in netloc or "]" in netloc:
        raise UsageError(f"{what} {url!r}: brackets belong only around an IPv6 address")
    else:
        _, _, port = netloc.partition(":")
        if netloc.count(":") > 1:
            raise UsageError(f"{what} {url!r}: an IPv6 address in a URL must be in brackets, "
                             f"e.g. http://[2001:db8::1]:8080/")
    if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise UsageError(f"{what} {url!r}: port {port!r} is not a number from 1 to 65535")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - urllib checks the port only when it is read
    except ValueError as e:
        raise UsageError(f"{what} {url!r} is not a valid URL ({e})") from None
    if not parts.scheme:
        return parts
    if not parts.hostname and parts.scheme.lower() in ("http", "https", "tftp"):
        raise UsageError(f"{what} {url!r} has no host")
    return parts


def _check_http_url(what: str, url: str, fmt: str) -> None:
    _check_value(what, url, fmt)
    parts = split_url(what, url)
    if parts.scheme.lower() not in ("http", "https"):
        scheme = f"{parts.scheme}://" if parts.scheme else "a relative path"
        raise UsageError(f"{what} must be an http:// or https:// URL, not {scheme} ({url}): "
                         f"the live system fetches it itself and supports nothing else")


def _grub_word(word: str) -> str:
    """``word`` as one GRUB script word: single-quoted when it holds a character GRUB's shell interprets."""
    return f"'{word}'" if _GRUB_QUOTE.search(word) else word


def _loader_path(what: str, url: str, fmt: str) -> str:
    """Check a kernel/initramfs location for the loader and return it in the loader's own syntax.

    GRUB names a file on an HTTP server ``(http,SERVER)/path`` where SERVER is ``host``, ``host:port``,
    ``[v6addr]`` or ``[v6addr]:port`` (GRUB 2.06+; ``(http,host,port)`` is read as a host name). iPXE and
    PXELINUX (lpxelinux.0) take the URL as it is; PXELINUX has no IPv6 and no TLS.
    """
    _check_value(what, url, fmt)
    if fmt == "pxelinux" and "," in url:
        raise UsageError(f"{what} {url!r} contains a comma, which PXELINUX's initrd= list uses as a separator")
    parts = split_url(what, url)
    scheme = parts.scheme.lower()
    if not scheme:
        return url  # a path relative to the TFTP/HTTP root the loader came from
    if scheme not in ("http", "https", "tftp"):
        raise UsageError(f"{what}: {fmt} cannot load {scheme}:// URLs ({url})")
    if parts.fragment or url.endswith("#"):
        raise UsageError(f"{what} {url!r}: a #fragment is never sent to the server; remove it")
    host = parts.hostname or ""
    if fmt == "pxelinux":
        if scheme == "https":
            raise UsageError(f"{what}: PXELINUX (lpxelinux.0) cannot fetch https:// ({url}); use http://, "
                             f"tftp:// or a TFTP path")
        if ":" in host:
            raise UsageError(f"{what}: PXELINUX speaks IPv4 only and cannot reach [{host}] ({url}); use an IPv4 "
                             f"address or a host name, or --format ipxe / grub")
        return url
    if fmt == "ipxe":
        return url
    if fmt == "grub":
        if scheme == "https":
            raise UsageError(f"{what}: GRUB cannot fetch https:// ({url}); use http://, tftp:// or a TFTP path")
        if parts.username is not None or parts.password is not None:
            raise UsageError(f"{what}: GRUB cannot send credentials ({url})")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        server = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            server += f":{parts.port}"
        return _grub_word(f"({scheme},{server}){path}")
    return url


def kernel_args(p: BootParams) -> list[str]:
    """The kernel arguments of the entry (without PXELINUX's/iPXE's ``initrd=``), in a stable order."""
    args: list[str] = []
    if p.rootfs_url:
        args.append(f"coreos.live.rootfs_url={p.rootfs_url}")
    if p.customized:
        args += ["ignition.firstboot", "ignition.platform.id=metal"]
    if p.install_dev:
        args.append(f"coreos.inst.install_dev={p.install_dev}")
    if p.ignition_url:
        args.append(f"coreos.inst.ignition_url={p.ignition_url}")
    args += [f"ip={_strip_prefix(v, 'ip')}" for v in p.ip]
    args += [f"nameserver={_strip_prefix(v, 'nameserver')}" for v in p.nameservers]
    args += [f"console={_strip_prefix(v, 'console')}" for v in p.console]
    args += list(p.kargs)
    return args


def check(fmt: str, p: BootParams) -> list[str]:
    """Refuse (UsageError) an entry that could not boot as intended; return warnings worth printing."""
    warnings: list[str] = []
    if fmt not in FORMATS:
        raise UsageError(f"unknown boot config format {fmt!r} (use {', '.join(FORMATS)})")
    arch = p.arch
    if arch not in ARCHES:
        raise UsageError(f"unknown architecture {arch!r} (use {', '.join(ARCHES)})")
    if arch not in SUPPORTED[fmt]:
        if fmt == "pxelinux":
            raise UsageError(f"PXELINUX is BIOS-only and cannot boot {arch}; use --format grub (UEFI) "
                             f"or --format ipxe")
        if arch == "s390x":
            raise UsageError("s390x does not network-boot with PXE loaders; boot the kernel and initramfs "
                             "from a z/VM reader, an LPAR FTP/HMC load or a parm file instead")
        fits = " or ".join(f for f in FORMATS if arch in SUPPORTED[f])
        raise UsageError(f"{fmt} does not boot {arch}; use --format {fits}")
    if fmt == "ipxe" and arch == "aarch64":
        warnings.append("aarch64 kernels are gzip-compressed: the iPXE binary must be built with IMAGE_GZIP "
                        "(it is not in every distribution's build)")
    for v in (p.kernel_url, p.initramfs_url, p.rootfs_url, p.ignition_url):
        for ph in PLACEHOLDERS:
            if v and ph in v:
                raise UsageError(f"{ph} in {v!r} is only replaced per host (use --hosts)")
    if not p.kernel_url:
        raise UsageError("a kernel URL is required (--kernel-url)")
    if not p.initramfs_url:
        raise UsageError("an initramfs URL is required (--initramfs-url)")
    _loader_path("kernel URL", p.kernel_url, fmt)
    _loader_path("initramfs URL", p.initramfs_url, fmt)
    if fmt == "ipxe" and any(u.lower().startswith("https:") for u in (p.kernel_url, p.initramfs_url)):
        warnings.append("iPXE fetches https:// only when built with DOWNLOAD_PROTO_HTTPS and trusting the "
                        "server's CA (not the case for every distribution's or NIC's iPXE)")
    if not p.rootfs_url:
        raise UsageError("a rootfs URL is required (--rootfs-url): without coreos.live.rootfs_url the live "
                         "initramfs waits for a root filesystem that never comes")
    _check_http_url("rootfs URL (coreos.live.rootfs_url)", p.rootfs_url, fmt)
    if not p.ignition_url:
        raise UsageError("an Ignition config URL is required (--ignition-url): coreos.inst.ignition_url is what "
                         "the installed system boots with")
    _check_http_url("Ignition URL (coreos.inst.ignition_url)", p.ignition_url, fmt)
    if not p.install_dev:
        raise UsageError("an install device is required (--install-dev /dev/...)")
    _check_value("install device", p.install_dev, fmt)
    if not p.install_dev.startswith("/dev/"):
        raise UsageError(f"install device {p.install_dev!r} must be a full /dev/... path "
                         f"(bare names are deprecated by coreos-installer)")
    for v in p.console:
        _check_value("console", v, fmt)
    for v in p.ip:
        _check_value("ip", v, fmt)
    for v in p.nameservers:
        _check_value("nameserver", v, fmt)
    for v in p.kargs:
        if not v:
            raise UsageError("empty kernel argument")
        _check_value("kernel argument", v, fmt)
    cmdline = _cmdline(fmt, p)
    limit = CMDLINE_MAX[arch]
    if len(cmdline.encode()) >= limit:
        raise UsageError(f"the kernel command line is {len(cmdline.encode())} bytes; {arch} kernels keep only "
                         f"{limit - 1} and would silently drop the rest")
    return warnings


def _cmdline(fmt: str, p: BootParams) -> str:
    args = kernel_args(p)
    if fmt == "pxelinux":
        args = [f"initrd={_loader_path('initramfs URL', p.initramfs_url, fmt)}"] + args
    elif fmt == "ipxe":
        args = ["initrd=main"] + args
    return " ".join(args)


#: First lines of a PXELINUX config whose kernel or initramfs is fetched over HTTP.
LPXELINUX_NOTE = ("# http:// kernel/initramfs URLs need lpxelinux.0 (with ldlinux.c32) as the boot file;\n"
                  "# pxelinux.0 fetches over TFTP only.\n")

#: An iPXE script's network set-up: nothing when iPXE already has an address (it fetched this script, or was
#: chain-loaded by an iPXE that did), ``dhcp`` when it starts without one (a script embedded in the NIC ROM
#: or the iPXE binary, or typed at the iPXE shell).
IPXE_DHCP = "isset ${ip} || dhcp\n"


def render_pxelinux(p: BootParams) -> str:
    """A PXELINUX config (``pxelinux.cfg/default`` or a per-MAC file)."""
    kernel = _loader_path("kernel URL", p.kernel_url, "pxelinux")
    initramfs = _loader_path("initramfs URL", p.initramfs_url, "pxelinux")
    note = ""
    if any(urlsplit(u).scheme.lower() == "http" for u in (kernel, initramfs)):
        note = LPXELINUX_NOTE
    return (note +
            f"DEFAULT {p.label}\n"
            "TIMEOUT 20\n"
            "PROMPT 0\n"
            f"LABEL {p.label}\n"
            f"    KERNEL {kernel}\n"
            f"    APPEND {_cmdline('pxelinux', p)}\n"
            "IPAPPEND 2\n")


def render_ipxe(p: BootParams) -> str:
    """An iPXE script."""
    kernel = _loader_path("kernel URL", p.kernel_url, "ipxe")
    initramfs = _loader_path("initramfs URL", p.initramfs_url, "ipxe")
    return ("#!ipxe\n"
            + IPXE_DHCP +
            f"kernel {kernel} {_cmdline('ipxe', p)}\n"
            f"initrd --name main {initramfs}\n"
            "boot\n")


def render_grub(p: BootParams) -> str:
    """A GRUB config (``grub.cfg`` or ``grub.cfg-01-<mac>``) for UEFI network boot."""
    kernel = _loader_path("kernel URL", p.kernel_url, "grub")
    initramfs = _loader_path("initramfs URL", p.initramfs_url, "grub")
    args = " ".join(_grub_word(a) for a in kernel_args(p))
    # GRUB has an IPv6 address only if it was booted over IPv6: give it one (SLAAC) before an [IPv6] fetch.
    v6 = any(":" in (urlsplit(u).hostname or "") for u in (p.kernel_url, p.initramfs_url))
    return ("set default=0\n"
            "set timeout=5\n"
            f"menuentry {p.label} {{\n"
            + ("    net_ipv6_autoconf\n" if v6 else "") +
            f"    linux {kernel} {args}\n"
            f"    initrd {initramfs}\n"
            "}\n")


def render(fmt: str, p: BootParams) -> tuple[str, list[str]]:
    """Check ``p`` for ``fmt`` and return ``(config text, warnings)``; UsageError when it cannot boot."""
    warnings = check(fmt, p)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", p.label):
        raise UsageError(f"label {p.label!r}: use letters, digits, '.', '_' and '-' only")
    text = {"pxelinux": render_pxelinux, "ipxe": render_ipxe, "grub": render_grub}[fmt](p)
    return text, warnings


# --- per host -------------------------------------------------------------------------------------------------

def mac_hyphens(mac: str) -> str:
    """``aa:bb:cc:dd:ee:ff`` → ``aa-bb-cc-dd-ee-ff`` (iPXE's ``${mac:hexhyp}``)."""
    from .netconf import normalize_mac

    return normalize_mac(mac).replace(":", "-")


def file_name(fmt: str, mac: str) -> str:
    """The path (relative to the TFTP/HTTP root) where each loader looks for a host's own config."""
    hyp = mac_hyphens(mac)
    if fmt == "pxelinux":
        return f"pxelinux.cfg/01-{hyp}"   # ARP type 1 (Ethernet) + MAC
    if fmt == "grub":
        return f"grub.cfg-01-{hyp}"
    if fmt == "ipxe":
        return f"{hyp}.ipxe"
    raise UsageError(f"unknown boot config format {fmt!r}")


#: The iPXE script to boot first: it chains the per-host script named by the booting NIC's MAC.
IPXE_CHAIN = ("#!ipxe\n"
              + IPXE_DHCP +
              "# Chain this machine's own script, named after the MAC address of the NIC that booted.\n"
              "chain ${mac:hexhyp}.ipxe\n")


def ip_kargs(host: Host) -> list[str]:
    """dracut ``ip=`` values for a host's static addresses (empty for DHCP)."""
    out = []
    iface = next((i.name for i in host.interfaces if i.name), "") or ""
    for a in host.addresses:
        try:
            addr = ipaddress.ip_address(a.ip)
        except ValueError:
            raise InputError(f"host {host.hostname}: {a.ip!r} is not an IP address") from None
        if addr.version == 4:
            gw = host.gateway or ""
            out.append(f"{addr}::{gw}:{a.prefix}:{host.hostname}:{iface}:none")
        else:
            gw6 = f"[{host.gateway6}]" if host.gateway6 else ""
            out.append(f"[{addr}]::{gw6}:{a.prefix}:{host.hostname}:{iface}:none")
    return out


def _fill(value: Optional[str], host: Host, mac: str) -> Optional[str]:
    if value is None:
        return None
    return (value.replace("{hostname}", host.hostname).replace("{short_name}", host.short_name)
            .replace("{mac}", mac_hyphens(mac)))


def for_host(base: BootParams, host: Host, mac: str) -> BootParams:
    """``base`` specialised for ``host`` booting from ``mac``: its device, console, addresses, kargs, URLs."""
    return replace(
        base,
        kernel_url=_fill(base.kernel_url, host, mac) or "",
        initramfs_url=_fill(base.initramfs_url, host, mac) or "",
        rootfs_url=_fill(base.rootfs_url, host, mac),
        ignition_url=_fill(base.ignition_url, host, mac),
        install_dev=host.install_dev or base.install_dev,
        arch=normalize_arch(host.arch) if host.arch else base.arch,
        console=list(host.console) or list(base.console),
        ip=list(base.ip) + ip_kargs(host),
        nameservers=list(base.nameservers) + list(host.dns),
        kargs=list(base.kargs) + list(host.kargs),
    )


def render_hosts(fmt: str, base: BootParams, hosts: list[Host]) -> tuple[dict[str, str], list[str]]:
    """One config per MAC of every host, keyed by the relative path the loader looks up.

    For iPXE a ``boot.ipxe`` that chains ``${mac:hexhyp}.ipxe`` is included. Returns ``(files, warnings)``;
    raises when a host has no MAC, two hosts share one, or any entry would not boot.
    """
    files: dict[str, str] = {}
    warnings: list[str] = []
    owner: dict[str, str] = {}
    if not hosts:
        raise InputError("the inventory lists no hosts")
    for host in hosts:
        macs = host.macs
        if not macs:
            raise InputError(f"host {host.hostname}: no MAC address (boot files are looked up by MAC)")
        for mac in macs:
            norm = mac_hyphens(mac).replace("-", ":")
            if norm in owner:
                raise InputError(f"MAC {norm} is listed for both {owner[norm]} and {host.hostname}")
            owner[norm] = host.hostname
            params = for_host(base, host, norm)
            try:
                text, warns = render(fmt, params)
            except UsageError as e:
                raise UsageError(f"host {host.hostname}: {e.message}") from None
            for w in warns:
                if w not in warnings:
                    warnings.append(w)
            files[file_name(fmt, norm)] = text
    if fmt == "ipxe":
        files["boot.ipxe"] = IPXE_CHAIN
    return files, warnings
