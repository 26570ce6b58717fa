"""ignkit.gpg: detached signatures checked with a throw-away keyring (coreos-installer's signed fixtures)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import CI_FIXTURES

from ignkit.errors import CheckFailed, InputError
from ignkit.gpg import verify_detached

VERIFY = CI_FIXTURES / "verify"
KEY = VERIFY / "test-key.pub.asc"


@pytest.fixture(scope="module")
def other_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The public half of a freshly made key that signed none of the fixtures."""
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(home, 0o700)
    env = dict(os.environ, GNUPGHOME=str(home))
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Other <other@example.com>",
                    "ed25519", "sign", "never"], env=env, check=True, capture_output=True)
    out = home / "other.asc"
    out.write_bytes(subprocess.run(["gpg", "--armor", "--export", "other@example.com"], env=env, check=True,
                                   capture_output=True).stdout)
    subprocess.run(["gpgconf", "--kill", "all"], env=env, capture_output=True)
    return out


@pytest.mark.parametrize("name", ["1M.xz", "1M.gz", "1M.zst"])
def test_good_signatures(name: str) -> None:
    sig = VERIFY / f"{name}.sig"
    fpr = verify_detached(VERIFY / name, sig, KEY)
    assert len(fpr) == 40 and all(c in "0123456789ABCDEF" for c in fpr)
    assert verify_detached(VERIFY / name, sig.read_bytes(), KEY) == fpr  # signature given as bytes


def test_refusals(other_key: Path, tmp_path: Path) -> None:
    with pytest.raises(CheckFailed, match=f"not signed by a key in {other_key}"):
        verify_detached(VERIFY / "1M.xz", VERIFY / "1M.xz.sig", other_key)
    with pytest.raises(CheckFailed, match="1M.gz: bad signature"):
        verify_detached(VERIFY / "1M.gz", VERIFY / "1M.xz.sig", KEY)
    with pytest.raises(CheckFailed, match="not an OpenPGP signature"):
        verify_detached(VERIFY / "1M.xz", b"not a signature", KEY)
    garbage = tmp_path / "garbage.asc"
    garbage.write_text("not a key\n")
    with pytest.raises(InputError, match="no OpenPGP public key could be imported"):
        verify_detached(VERIFY / "1M.xz", VERIFY / "1M.xz.sig", garbage)
    with pytest.raises(InputError, match="no such key file"):
        verify_detached(VERIFY / "1M.xz", VERIFY / "1M.xz.sig", tmp_path / "missing.asc")


def test_names_that_look_like_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("1M.xz", "1M.xz.sig"):
        (tmp_path / f"-{name}").write_bytes((VERIFY / name).read_bytes())
    (tmp_path / "-key.asc").write_bytes(KEY.read_bytes())
    monkeypatch.chdir(tmp_path)
    assert verify_detached("-1M.xz", "-1M.xz.sig", "-key.asc") == verify_detached(VERIFY / "1M.xz",
                                                                                VERIFY / "1M.xz.sig", KEY)


def test_users_keyring_untouched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home-gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    verify_detached(VERIFY / "1M.xz", VERIFY / "1M.xz.sig", KEY)
    assert list(home.iterdir()) == []
