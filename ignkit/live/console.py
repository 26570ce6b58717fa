"""Console specs of the installed system (``--dest-console``, an inventory host's ``console``).

The accepted forms and their limits are coreos-installer's: a serial port ``ttyS<n>`` or
``ttyAMA<n>`` with an optional ``,<speed>[n|o|e[5-8]]`` (port 0-255, speed 0-4294967295, default
9600 baud, no parity, 8 data bits), or one of the graphical consoles ``tty0``, ``hvc0``,
``ttysclp0``. Everything else is refused when the option is read, not at install time on the machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from ..errors import UsageError

KARG_PREFIX = "console="
GRAPHICAL = ("tty0", "hvc0", "ttysclp0")
MAX_PORT = 0xFF              # coreos-installer keeps the port in a u8 ...
MAX_SPEED = 0xFFFF_FFFF      # ... and the speed in a u32
EXPECTED = "expected ttyS<n>[,<speed>[n|o|e[5-8]]], ttyAMA<n>..., tty0, hvc0 or ttysclp0"

_SERIAL_RE = re.compile(r"(?P<prefix>ttyS|ttyAMA)(?P<port>[0-9]+)"
                        r"(?:,(?P<speed>[0-9]+)(?:(?P<parity>[noe])(?P<bits>[5-8])?)?)?")
_PARITY_WORDS = {"n": "no", "o": "odd", "e": "even"}


@dataclass(frozen=True)
class Console:
    """A parsed console: ``device`` alone for a graphical one, all fields for a serial port."""

    device: str                       # "tty0", "hvc0", "ttysclp0", or the serial prefix "ttyS" / "ttyAMA"
    port: Optional[int] = None
    speed: int = 9600
    parity: str = "n"                 # n, o or e
    data_bits: int = 8

    @property
    def serial(self) -> bool:
        return self.port is not None

    def __str__(self) -> str:
        if self.port is None:
            return self.device
        return f"{self.device}{self.port},{self.speed}{self.parity}{self.data_bits}"

    @property
    def karg(self) -> str:
        """The kernel argument, e.g. ``console=ttyS0,115200n8``."""
        return KARG_PREFIX + str(self)

    @property
    def grub_command(self) -> Optional[str]:
        """GRUB's ``serial`` command for a serial console (None for a graphical one)."""
        if self.port is None:
            return None
        return (f"serial --unit={self.port} --speed={self.speed} --word={self.data_bits} "
                f"--parity={_PARITY_WORDS[self.parity]}")


def _number(text: str, limit: int, what: str, where: str, spec: str) -> int:
    value = int(text)
    if value > limit:
        raise UsageError(f"{where} {spec!r}: couldn't parse {what}: number too large to fit in target type "
                         f"(at most {limit})")
    return value


def parse_console(spec: str, where: str = "--dest-console") -> Console:
    """Parse a console spec; UsageError (naming ``where`` and the spec) for anything coreos-installer refuses."""
    for prefix in (KARG_PREFIX, "/dev/"):
        if spec.startswith(prefix):
            raise UsageError(f"{where} {spec!r}: spec should not start with {prefix!r}")
    m = _SERIAL_RE.fullmatch(spec)
    if m:
        return Console(
            device=m["prefix"],
            port=_number(m["port"], MAX_PORT, "port", where, spec),
            speed=_number(m["speed"], MAX_SPEED, "speed", where, spec) if m["speed"] is not None else 9600,
            parity=m["parity"] or "n",
            data_bits=int(m["bits"]) if m["bits"] else 8,
        )
    if spec in GRAPHICAL:
        return Console(spec)
    raise UsageError(f"{where} {spec!r}: invalid or unsupported console argument ({EXPECTED})")


def normalize_console(spec: str, where: str = "--dest-console") -> str:
    """A console spec in its full form: ``ttyS0`` → ``ttyS0,9600n8`` (graphical consoles unchanged)."""
    return str(parse_console(spec, where))
