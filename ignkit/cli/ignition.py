"""``ignkit ignition``: Ignition config helpers (``from-secret``: worker.ign from the cluster's Secret)."""

from __future__ import annotations

from typing import Optional

import click


@click.group("ignition")
def ignition() -> None:
    """Ignition config helpers."""


@ignition.command("from-secret")
@click.argument("source", metavar="FILE|URL|-")
@click.option("-o", "--output", default="-", show_default=True, help="Where to write the config.")
@click.option("--key", default="userData", show_default=True, help="The Secret key holding the config.")
@click.option("--no-validate", is_flag=True, help="Print the config without validating it.")
@click.option("--ca-cert", type=click.Path(dir_okay=False), help="PEM CA certificates for an https SOURCE.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates of an https SOURCE.")
def from_secret(source: str, output: str, key: str, no_validate: bool, ca_cert: Optional[str],
                insecure: bool) -> None:
    """Print worker.ign from the worker-user-data-managed Secret.

    FILE is the output of `oc get secret worker-user-data-managed -n
    openshift-machine-api -o json` (or -o yaml), the userData file `oc extract`
    writes, an http(s) URL serving either, or - for stdin. userData is decoded, validated and written unchanged
    (byte for byte, so its sha512 is the one the cluster serves).
    """
    from ..errors import InvalidConfig
    from ..fetch import is_url, read_source
    from ..outfile import refuse_input_as_output, write_output
    from ..secret import user_data_from_secret

    if not is_url(source):
        refuse_input_as_output(output, [source])
    name = "standard input" if source == "-" else source
    config = user_data_from_secret(read_source(source, ca_cert=ca_cert, insecure=insecure), key=key, source=name)
    if not no_validate:
        from ..ignition.validate import validate

        report = validate(config)
        if not report.ok:
            errors = report.errors
            more = (f" (and {len(errors) - 1} more; see them with --no-validate | ignkit validate -)"
                    if len(errors) > 1 else "")
            raise InvalidConfig(f"{name}: {key} is not a valid Ignition config: "
                                f"{errors[0] if errors else 'invalid'}{more}", report)
        for entry in report.entries:  # warnings
            click.echo(f"{name}: {key}: {entry}", err=True)
    write_output(output, config)
