"""`paycli nonces`: Braintree's test nonces, so nobody has to look them up while testing a checkout."""

from typing import Annotated

import typer

from paycli.cli import views
from paycli.cli.runtime import Invocation, command

app = typer.Typer()


@command(app, "nonces")
def nonces(
    pattern: Annotated[
        str | None,
        typer.Argument(metavar="FILTER", show_default=False, help="Only nonces whose text contains FILTER (any case)."),
    ] = None,
) -> None:
    """List Braintree's test nonces and what each does in a sale and in a verification."""
    from paycli.sandbox.nonces import TEST_NONCES  # the table a sandbox sale reads, so list and behaviour agree

    run = Invocation.current()
    needle = (pattern or "").casefold()
    rows = [
        {
            "nonce": item.nonce,
            "description": item.description,
            "sale": item.in_sale,
            "verification": item.in_verification,
        }
        for item in TEST_NONCES
        if needle in " ".join((item.nonce, item.description, item.in_sale, item.in_verification)).casefold()
    ]
    if not rows:
        run.output.note(f"no test nonce matches '{pattern}'")
    run.output.emit(rows, views.NONCE)
