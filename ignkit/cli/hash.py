"""``ignkit hash``: print or check the ``sha512-``/``sha256-`` digest of a file, URL or standard input."""

from __future__ import annotations

from typing import Optional

import click


@click.command("hash")
@click.option("--algo", type=click.Choice(["sha512", "sha256"]), default=None,
              help="Digest algorithm (default sha512, or the one of --check).")
@click.option("--check", "expected", metavar="DIGEST",
              help="Compare with DIGEST (sha512-<hex> or sha256-<hex>); exit 1 when it differs.")
@click.option("--ca-cert", type=click.Path(dir_okay=False), help="PEM CA certificates to trust for https.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates (only when you must).")
@click.argument("source", metavar="SOURCE")
def hash_cmd(algo: Optional[str], expected: Optional[str], ca_cert: Optional[str], insecure: bool,
             source: str) -> None:
    """Print the digest of SOURCE (a file, - for stdin, or an http(s) URL).

    The output, e.g. sha512-<hex>, is what `coreos-installer install --ignition-hash`
    and Ignition's verification.hash take.
    """
    from ..digests import check, digest, parse_digest
    from ..errors import UsageError

    if expected is not None:
        want_algo, _ = parse_digest(expected)
        if algo is not None and algo != want_algo:
            raise UsageError(f"--algo {algo} does not match the {want_algo} digest given to --check")
        click.echo(check(source, expected, ca_cert=ca_cert, insecure=insecure))
        return
    click.echo(digest(source, algo or "sha512", ca_cert=ca_cert, insecure=insecure))
