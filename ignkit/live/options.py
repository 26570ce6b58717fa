"""The customize options, defined once: one table drives the CLI, the library's options type and messages.

Each :class:`Option` row says everything about one option of ``ignkit embed`` / ``iso customize`` /
``pxe customize`` (and of the commands that reuse them): the :class:`CustomizeOptions` field it
fills, its command-line flag(s), metavar and help, whether it repeats, how its values are checked,
which image kinds take it, and whether ``--hosts`` takes it from the inventory instead. The click
options are generated from :data:`OPTIONS` (``ignkit.cli.options.customize_options``), the
dataclass is checked against it when this module loads, and messages name options through
:func:`flag` rather than spelling the flag again.

The value checks run when the options are read (:func:`check_values`, called by the CLI before
any input is opened, and again by :func:`ignkit.live.customize.compose` for library callers): a
console coreos-installer would refuse at install time, a kernel argument with a newline or a device
path with a space never reaches an image.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from ..errors import IgnkitError, UsageError
from .installer import check_dest_device, check_ignition_url
from .kinds import ImageKind

PathLike = Union[str, "os.PathLike[str]"]

IMAGE_KINDS = frozenset(ImageKind)

#: ``check(value, flag)`` raises an IgnkitError naming ``flag`` when ``value`` is refused.
Check = Callable[[Any, str], object]


@dataclass(frozen=True)
class Option:
    """One customize option: where its value goes, how it is spelled, checked and documented."""

    field: str                          # the CustomizeOptions attribute
    flags: tuple[str, ...]              # command-line spellings; the first names the option in messages
    help: str
    metavar: Optional[str] = None       # None for an on/off flag
    multiple: bool = False              # repeatable: the field is a list
    check: Optional[Check] = None       # per value (each item of a repeatable option)
    images: frozenset[ImageKind] = IMAGE_KINDS  # the image kinds that take it
    per_host: bool = False              # with --hosts, it comes from the inventory (refused on the command line)
    invert: bool = False                # an on/off flag that turns the field off (--no-validate)
    group: str = ""                     # "dest": directs the installer (named in installer-config messages)

    @property
    def flag(self) -> str:
        return self.flags[0]

    @property
    def is_flag(self) -> bool:
        return self.metavar is None

    def default(self) -> Any:
        if self.multiple:
            return []
        if self.is_flag:
            return self.invert
        return None

    def value_from_cli(self, raw: Any) -> Any:
        """The field value for what the command line gave (a tuple, a string, None, a flag's bool)."""
        if self.multiple:
            return list(raw or ())
        if self.is_flag:
            return not raw if self.invert else bool(raw)
        return raw

    def is_set(self, value: Any) -> bool:
        """Whether ``value`` (the field's) differs from the default, i.e. the option was given."""
        if self.is_flag:
            return bool(value) != self.invert
        return value is not None and value != []


# ---------------------------------------------------------------------------------------------------
# Value checks (each raises an IgnkitError whose message starts with the option's name)

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{where}: expected a string, got {value!r}")
    return value


def _check_digest(value: Any, where: str) -> None:
    from ..digests import parse_digest

    text = _string(value, where)
    if _CONTROL_RE.search(text):
        raise UsageError(f"{where} {text!r}: must not contain control characters")
    try:
        parse_digest(text)
    except IgnkitError as e:
        raise type(e)(f"{where}: {e.message}") from None


def _check_console(value: Any, where: str) -> None:
    from .console import parse_console

    parse_console(_string(value, where), where)


def _check_karg(value: Any, where: str) -> None:
    from .kargs import check_karg

    check_karg(value, where)


def _check_replace(value: Any, where: str) -> None:
    from .kargs import KargsError, check_karg

    check_karg(value, where)
    if not re.fullmatch(r"[^=]+=[^=]+=[^=]+", value.strip()):
        raise KargsError(f"{where} {value!r}: Wrong input, format should be: KEY=OLD=NEW")


def _check_hostname(value: Any, where: str) -> None:
    from ..inventory import check_hostname

    check_hostname(value, where)


def _check_address(value: Any, where: str) -> None:
    from ..netconf import parse_address

    parse_address(_string(value, where), where=where)


def _check_ip(value: Any, where: str) -> None:
    from ..netconf import parse_ip

    if _CONTROL_RE.search(_string(value, where)):
        raise UsageError(f"{where} {value!r}: is not an IPv4 or IPv6 address")
    parse_ip(value, where=where)


def _check_interface(value: Any, where: str) -> None:
    from ..netconf import check_interface_name

    check_interface_name(_string(value, where), where=where)


def _check_mac(value: Any, where: str) -> None:
    from ..netconf import normalize_mac

    normalize_mac(_string(value, where), where=where)


# ---------------------------------------------------------------------------------------------------
# The table

_ISO_ONLY = frozenset({ImageKind.ISO})

OPTIONS: tuple[Option, ...] = (
    Option("dest_ignition", ("--dest-ignition",), "Ignition config for the installed system (repeatable: "
           "merged statically, then validated).", "FILE", multiple=True, group="dest"),
    Option("dest_ignition_url", ("--dest-ignition-url",), "Installed system fetches its config from URL.", "URL",
           check=check_ignition_url, group="dest"),
    Option("dest_ignition_hash", ("--dest-ignition-hash",), "sha512-/sha256- digest of the URL's config "
           "(computed by fetching it when omitted).", "DIGEST", check=_check_digest),
    Option("insecure_ignition", ("--insecure-ignition",), "Use --dest-ignition-url without any digest."),
    Option("dest_device", ("--dest-device",), "Install to DEV (e.g. /dev/sda) without confirmation.", "DEV",
           check=check_dest_device, group="dest"),
    Option("dest_console", ("--dest-console",), "Console of the installed system, e.g. ttyS0,115200n8.", "SPEC",
           multiple=True, check=_check_console, group="dest"),
    Option("dest_karg_append", ("--dest-karg-append",), "Kernel argument to add to the installed system.", "ARG",
           multiple=True, check=_check_karg, group="dest"),
    Option("dest_karg_delete", ("--dest-karg-delete",), "Kernel argument to remove from the installed system.",
           "ARG", multiple=True, check=_check_karg, group="dest"),
    Option("network_keyfile", ("--network-keyfile",), "NetworkManager keyfile for the live and installed system.",
           "FILE", multiple=True),
    Option("network_nmstate", ("--network-nmstate",), "nmstate YAML/JSON (static or DHCP ethernet) to convert "
           "to keyfiles.", "FILE", multiple=True),
    Option("hostname", ("--hostname",), "Host name of the live and installed system.", "NAME",
           check=_check_hostname, per_host=True),
    Option("ip", ("--ip",), "Static address (IPv4 or IPv6; repeatable).", "ADDR/PREFIX", multiple=True,
           check=_check_address, per_host=True),
    Option("gateway", ("--gateway",), "Default gateway (one per IP family).", "ADDR", multiple=True,
           check=_check_ip, per_host=True),
    Option("dns", ("--dns",), "DNS server (repeatable).", "ADDR", multiple=True, check=_check_ip, per_host=True),
    Option("interface", ("--interface",), "Bind the static connection to this interface.", "NAME",
           check=_check_interface, per_host=True),
    Option("mac", ("--mac",), "Bind the static connection to this MAC address.", "MAC", check=_check_mac,
           per_host=True),
    Option("ignition_ca", ("--ignition-ca",), "CA certificate for fetching remote Ignition resources.", "FILE",
           multiple=True),
    Option("pre_install", ("--pre-install",), "Script to run before installing.", "FILE", multiple=True),
    Option("post_install", ("--post-install",), "Script to run after installing.", "FILE", multiple=True),
    Option("installer_config", ("--installer-config",), "coreos-installer config file (YAML).", "FILE",
           multiple=True),
    Option("live_ignition", ("--live-ignition",), "Ignition config for the live system (repeatable: merged).",
           "FILE", multiple=True),
    Option("live_karg_append", ("--live-karg-append",), "Kernel argument to add to the live system.", "ARG",
           multiple=True, check=_check_karg, images=_ISO_ONLY),
    Option("live_karg_delete", ("--live-karg-delete",), "Kernel argument to remove from the live system.", "ARG",
           multiple=True, check=_check_karg, images=_ISO_ONLY),
    Option("live_karg_replace", ("--live-karg-replace",), "Kernel argument of the live system to change.",
           "K=OLD=NEW", multiple=True, check=_check_replace, images=_ISO_ONLY),
    Option("validate", ("--no-validate",), "Do not validate the composed Ignition configs.", invert=True),
)

_BY_FIELD = {o.field: o for o in OPTIONS}

#: Fields of CustomizeOptions that no option sets: library callers and the inventory fill them.
LIBRARY_FIELDS = ("keyfiles", "ssh_authorized_keys")


def option(name: str) -> Option:
    """The table row of a CustomizeOptions field."""
    return _BY_FIELD[name]


def flag(name: str) -> str:
    """The flag of a CustomizeOptions field, as messages name it (``dest_console`` → ``--dest-console``)."""
    return _BY_FIELD[name].flag


def options_for(image: Union[ImageKind, str]) -> tuple[Option, ...]:
    """The table rows an image kind (``"iso"`` or ``"pxe"``) takes, in table order."""
    kind = ImageKind(image)
    return tuple(o for o in OPTIONS if kind in o.images)


# ---------------------------------------------------------------------------------------------------
# The options type


@dataclass
class CustomizeOptions:
    """Everything ``ignkit embed`` / ``pxe customize`` can put into an image for one host.

    One field per row of :data:`OPTIONS` (see there for each option's meaning), plus
    :data:`LIBRARY_FIELDS`. File options are paths (read when composing); ``keyfiles`` holds keyfiles
    already generated (an inventory host, a library caller) as name → text.
    """

    dest_ignition: list[PathLike] = field(default_factory=list)
    dest_ignition_url: Optional[str] = None
    dest_ignition_hash: Optional[str] = None
    insecure_ignition: bool = False
    dest_device: Optional[str] = None
    dest_console: list[str] = field(default_factory=list)
    dest_karg_append: list[str] = field(default_factory=list)
    dest_karg_delete: list[str] = field(default_factory=list)
    network_keyfile: list[PathLike] = field(default_factory=list)
    network_nmstate: list[PathLike] = field(default_factory=list)
    keyfiles: dict[str, Union[str, bytes]] = field(default_factory=dict)
    hostname: Optional[str] = None
    ip: list[str] = field(default_factory=list)
    gateway: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    interface: Optional[str] = None
    mac: Optional[str] = None
    ssh_authorized_keys: list[str] = field(default_factory=list)   # for user core of the installed system
    ignition_ca: list[PathLike] = field(default_factory=list)
    pre_install: list[PathLike] = field(default_factory=list)
    post_install: list[PathLike] = field(default_factory=list)
    installer_config: list[PathLike] = field(default_factory=list)
    live_ignition: list[PathLike] = field(default_factory=list)
    live_karg_append: list[str] = field(default_factory=list)
    live_karg_delete: list[str] = field(default_factory=list)
    live_karg_replace: list[str] = field(default_factory=list)
    validate: bool = True

    @property
    def has_live_kargs(self) -> bool:
        return bool(self.live_karg_append or self.live_karg_delete or self.live_karg_replace)

    @property
    def has_short_network(self) -> bool:
        return bool(self.ip or self.gateway or self.dns or self.interface or self.mac)

    @property
    def has_network(self) -> bool:
        return bool(self.network_keyfile or self.network_nmstate or self.keyfiles or self.has_short_network)

    def given(self, *, group: Optional[str] = None, per_host: Optional[bool] = None) -> list[Option]:
        """The table rows set on these options (in table order), optionally only of ``group`` / ``per_host``."""
        return [o for o in OPTIONS if o.is_set(getattr(self, o.field))
                and (group is None or o.group == group) and (per_host is None or o.per_host == per_host)]


def _check_table() -> None:
    """The dataclass and the table agree: every row is a field with the row's default, every field a row."""
    fields = {f.name: f for f in dataclasses.fields(CustomizeOptions)}
    blank = CustomizeOptions()
    for o in OPTIONS:
        if o.field not in fields:
            raise AssertionError(f"option {o.flag}: CustomizeOptions has no field {o.field!r}")
        if getattr(blank, o.field) != o.default():
            raise AssertionError(f"option {o.flag}: default differs from CustomizeOptions.{o.field}")
    extra = set(fields) - set(_BY_FIELD) - set(LIBRARY_FIELDS)
    if extra:
        raise AssertionError(f"CustomizeOptions fields without an option row: {sorted(extra)}")


_check_table()


def options_from_cli(values: Mapping[str, Any]) -> CustomizeOptions:
    """CustomizeOptions from command-line values keyed by field name (tuples, strings, None, flags)."""
    return CustomizeOptions(**{o.field: o.value_from_cli(values[o.field]) for o in OPTIONS if o.field in values})


def check_values(options: CustomizeOptions) -> None:
    """Check every given value with its row's check; the error names the option (see the module docstring)."""
    for o in OPTIONS:
        if o.check is None:
            continue
        value = getattr(options, o.field)
        for item in (value if o.multiple else [value] if value is not None else []):
            o.check(item, o.flag)


def short_network_keyfiles(options: CustomizeOptions) -> dict[str, str]:
    """The keyfile of ``--ip/--gateway/--dns/--interface/--mac`` (``{file name: text}``; empty without them)."""
    if not options.has_short_network:
        return {}
    from ..netconf import static_keyfiles

    return static_keyfiles(addresses=options.ip, gateway=options.gateway, dns=options.dns,
                           interface=options.interface, mac=options.mac)


def check_options(options: CustomizeOptions) -> None:
    """Every check that needs no input file: each value (:func:`check_values`), then the short network form."""
    check_values(options)
    short_network_keyfiles(options)


def check_hosts_base(options: CustomizeOptions, hosts_source: str = "the inventory") -> None:
    """Refuse, for a ``--hosts`` run, options the inventory gives per host (``--hostname is per host: ...``)."""
    per_host = options.given(per_host=True)
    if per_host:
        raise UsageError(f"{per_host[0].flag} is per host: put it in {hosts_source}, not on the command line")


def flags_of(rows: Sequence[Option]) -> str:
    """``--a/--b`` for messages about several options."""
    return "/".join(o.flag for o in rows)
