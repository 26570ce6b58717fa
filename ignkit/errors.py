"""One exception hierarchy: every error ignkit raises knows its one-line message and exit status."""

from __future__ import annotations

import re

# ``scheme://user:password@``: the password part of a URL's userinfo.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/@\s:'\"]*):[^/@\s'\"]*@")


def redact_credentials(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` URL replaced by ``***``."""
    return _URL_PASSWORD.sub(r"\1:***@", text)


class IgnkitError(Exception):
    """Base class of every error meant for the user.

    ``str(err)`` is the one-line message (no ``ignkit: error:`` prefix, no trailing period needed);
    ``exit_code`` is the process exit status the CLI uses.
    """

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        # Messages often echo a URL: never with its password.
        super().__init__(redact_credentials(message) if isinstance(message, str) else message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class UsageError(IgnkitError):
    """Bad usage: an option combination that cannot work (exit 2)."""

    exit_code = 2


class InputError(IgnkitError):
    """An input that cannot be read: missing file, a directory, unreachable URL, not an ISO (exit 2).

    A config that is read but is not JSON is an invalid config (:class:`InvalidConfig`, exit 1), as
    with ``ignition-validate``.
    """

    exit_code = 2


class CheckFailed(IgnkitError):
    """Input was read and checked and found wrong: invalid config, digest mismatch, refused CSR (exit 1)."""

    exit_code = 1


class InvalidConfig(CheckFailed):
    """An Ignition config failed validation. ``report`` holds the full report when there is one."""

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class DigestMismatch(CheckFailed):
    """A computed digest differs from the expected one."""


class ImageError(IgnkitError):
    """A live ISO or initramfs that is not what ignkit can work on (not CoreOS, corrupt, full, ...)."""

    exit_code = 2


class FetchError(IgnkitError):
    """A download failed (network, HTTP status, TLS)."""

    exit_code = 2
