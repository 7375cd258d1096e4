"""`paycli token`: a client token, the first of the two server-side calls of Braintree's integration."""

from typing import Annotated

import typer

from paycli.cli.runtime import Invocation, command
from paycli.errors import UsageError

app = typer.Typer()


@command(app, "token")
def token(
    customer_id: Annotated[
        str | None, typer.Option("--customer-id", help="Bind the token to a vault customer.")
    ] = None,
    merchant_account: Annotated[
        str | None, typer.Option("--merchant-account", help="Merchant account for the client's transactions.")
    ] = None,
    version: Annotated[int, typer.Option("--version", help="Token format: 2 (base64 JSON) or 1 (raw JSON).")] = 2,
    decode: Annotated[
        bool, typer.Option("--decode", help="Show the token and its fields (the fingerprint field cut short).")
    ] = False,
) -> None:
    """Generate a client token for the front end's Braintree client SDK."""
    from paycli import client_tokens

    if version not in (1, 2):
        raise UsageError(f"--version {version} is not a client token version; use 1 or 2")
    run = Invocation.current()
    made = client_tokens.generate(
        run.gateway(),
        customer_id=customer_id,
        merchant_account_id=merchant_account or run.profile.default_merchant_account,
        version=version,
    )
    if decode:  # the token itself first: it is what the front end needs, the fields are for reading
        run.output.emit({"token": made.token, **client_tokens.decode(made.token)})
    else:
        run.output.emit({"token": made.token, "version": made.version})
    if run.profile.embedded:
        run.output.note(
            "this token points at the sandbox paycli started for this command, which stopped when it "
            "ended: for a token another program can use, run `paycli sandbox serve` and a profile "
            "with its url"
        )
