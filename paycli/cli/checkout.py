"""`paycli checkout`: a sale from a test nonce, as the seed's checkout controller makes it."""


from typing import Annotated

import typer

from paycli.cli import views
from paycli.cli.runtime import Invocation, command
from paycli.errors import UsageError

app = typer.Typer()


def _custom_fields(pairs: list[str]) -> dict[str, str]:
    from paycli.wire_text import plain_text

    fields = {}
    for pair in pairs:
        key, sep, value = plain_text(pair, "--custom-field").partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--custom-field '{pair}' is not KEY=VALUE; e.g. --custom-field store=42")
        fields[key.strip()] = value
    return fields


@command(app, "checkout")
def checkout(
    amount: Annotated[str, typer.Option("--amount", help="Amount like 10.00; Braintree's test amounts apply.")],
    nonce: Annotated[str, typer.Option("--nonce", help="A test nonce (see `paycli nonces`).")] = "fake-valid-nonce",
    no_submit: Annotated[bool, typer.Option("--no-submit", help="Only authorize; do not submit for settlement.")] = False,
    order_id: Annotated[str | None, typer.Option("--order-id", help="Your order reference.")] = None,
    merchant_account: Annotated[str | None, typer.Option("--merchant-account", help="Merchant account id.")] = None,
    customer_email: Annotated[str | None, typer.Option("--customer-email", help="Customer e-mail.")] = None,
    custom_field: Annotated[
        list[str] | None, typer.Option("--custom-field", metavar="KEY=VALUE", help="A custom field; repeatable.")
    ] = None,
) -> None:
    """Create a sale from a payment method nonce (refused on production). A decline prints it and exits 3."""
    from paycli import checkout as domain
    from paycli.money import parse_amount
    from paycli.wire_text import optional_text, plain_text

    request = domain.CheckoutRequest(
        amount=parse_amount(amount),
        nonce=plain_text(nonce, "--nonce"),
        submit_for_settlement=not no_submit,
        order_id=optional_text(order_id, "--order-id"),
        merchant_account_id=optional_text(merchant_account, "--merchant-account"),
        customer_email=optional_text(customer_email, "--customer-email"),
        custom_fields=_custom_fields(custom_field or []),
    )
    run = Invocation.current()
    run.output.emit(domain.checkout(run.gateway(), request), views.TRANSACTION)
