"""Detached OpenPGP signature checks with the ``gpg`` binary and a throw-away keyring."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Union

from .errors import CheckFailed, InputError

PathLike = Union[str, "os.PathLike[str]"]


def _gpg() -> str:
    exe = shutil.which("gpg") or shutil.which("gpg2")
    if exe is None:
        raise InputError("gpg not found: install GnuPG to verify signatures")
    return exe


def verify_detached(data: PathLike, signature: Union[bytes, PathLike], keyfile: PathLike) -> str:
    """Check that ``signature`` (bytes or a file) is a good signature of the file ``data`` by a key in ``keyfile``.

    ``keyfile`` holds one or more public keys (armored or binary). A fresh GnuPG home (mode 0700) is used
    and removed afterwards; the user's keyring is never read or changed. Returns the signing key's
    fingerprint; raises :class:`CheckFailed` ("GPG verification failure: ...") when the signature is bad,
    made by another key, or expired, and :class:`InputError` when the key file cannot be used.
    """
    gpg = _gpg()
    keyfile = os.fspath(keyfile)
    if not os.path.isfile(keyfile):
        raise InputError(f"{keyfile}: no such key file")
    with tempfile.TemporaryDirectory(prefix="ignkit-gpg-") as home:
        os.chmod(home, 0o700)
        env = dict(os.environ, GNUPGHOME=home, LC_ALL="C")
        try:
            imp = subprocess.run([gpg, "--batch", "--no-tty", "--homedir", home, "--status-fd", "1", "--import",
                                  os.path.abspath(keyfile)], capture_output=True, env=env, timeout=60)
            if b"[GNUPG:] IMPORT_OK" not in imp.stdout:
                raise InputError(f"{keyfile}: no OpenPGP public key could be imported")
            if isinstance(signature, (bytes, bytearray)):
                sigpath = Path(home) / "detached.sig"
                sigpath.write_bytes(signature)
            else:
                sigpath = Path(signature)
            ver = subprocess.run([gpg, "--batch", "--no-tty", "--homedir", home, "--status-fd", "1",
                                  "--verify", os.path.abspath(sigpath), os.path.abspath(data)],
                                 capture_output=True, env=env, timeout=3600)
        finally:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True, env=env,
                               timeout=10)
    status = ver.stdout.decode("utf-8", "replace").splitlines()
    fingerprint = ""
    good = False
    for line in status:
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "[GNUPG:]":
            if parts[1] == "GOODSIG":
                good = True
            elif parts[1] == "VALIDSIG":
                fingerprint = parts[2]
    if ver.returncode != 0 or not good or not fingerprint:
        reason = "bad signature"
        for line in status:
            if " BADSIG " in line:
                reason = "bad signature"
                break
            if " ERRSIG " in line or " NO_PUBKEY " in line:
                reason = "not signed by a key in " + keyfile
                break
            if " EXPKEYSIG " in line or " EXPSIG " in line or " REVKEYSIG " in line:
                reason = "signature by an expired or revoked key"
                break
            if " NODATA " in line:
                reason = "not an OpenPGP signature"
                break
        raise CheckFailed(f"GPG verification failure: {os.fspath(data)}: {reason}")
    return fingerprint
