"""`paycli checkout`: a sale from a test nonce, as the seed's checkout controller makes it — or, with
`--browser`, from a card typed into braintree-web's Hosted Fields in a headless Chromium."""

from pathlib import Path
from typing import Annotated

import typer

from paycli.cli import views
from paycli.cli.runtime import Invocation, command
from paycli.cli.serve import AssetsDirOpt
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
    nonce: Annotated[
        str | None, typer.Option("--nonce", help="A test nonce (see `paycli nonces`). Default: fake-valid-nonce.")
    ] = None,
    no_submit: Annotated[
        bool, typer.Option("--no-submit", help="Only authorize; do not submit for settlement.")
    ] = False,
    order_id: Annotated[str | None, typer.Option("--order-id", help="Your order reference.")] = None,
    merchant_account: Annotated[str | None, typer.Option("--merchant-account", help="Merchant account id.")] = None,
    customer_email: Annotated[str | None, typer.Option("--customer-email", help="Customer e-mail.")] = None,
    custom_field: Annotated[
        list[str] | None, typer.Option("--custom-field", metavar="KEY=VALUE", help="A custom field; repeatable.")
    ] = None,
    browser: Annotated[
        bool,
        typer.Option(
            "--browser",
            help="Pay through braintree-web Hosted Fields in a headless Chromium "
            "(needs `pip install 'paycli[browser]'`).",
        ),
    ] = False,
    card: Annotated[
        str, typer.Option("--card", help="With --browser: the card number typed into the page.")
    ] = "4111111111111111",
    expiry: Annotated[str, typer.Option("--expiry", help="With --browser: the expiry typed, MM/YY.")] = "12/30",
    cvv: Annotated[str, typer.Option("--cvv", help="With --browser: the CVV typed.")] = "123",
    chromium: Annotated[
        Path | None,
        typer.Option(
            "--chromium",
            dir_okay=False,
            metavar="PATH",
            help="With --browser: Chromium to drive. Default: $PAYCLI_CHROMIUM, else /usr/bin/chromium.",
        ),
    ] = None,
    assets_dir: AssetsDirOpt = None,
) -> None:
    """Create a sale from a payment method nonce (refused on production). A decline prints it and exits 3."""
    from paycli import checkout as domain
    from paycli.money import parse_amount
    from paycli.wire_text import optional_text, plain_text

    if browser:
        given = [
            name
            for name, value in (
                ("--nonce", nonce),
                ("--order-id", order_id),
                ("--merchant-account", merchant_account),
                ("--customer-email", customer_email),
                ("--custom-field", custom_field),
            )
            if value
        ]
        if given:
            raise UsageError(
                f"{', '.join(given)} cannot be combined with --browser: the page sends only a nonce and an amount"
            )
        _browser_checkout(parse_amount(amount), not no_submit, card, expiry, cvv, chromium, assets_dir)
        return
    request = domain.CheckoutRequest(
        amount=parse_amount(amount),
        nonce=plain_text(nonce or domain.DEFAULT_NONCE, "--nonce"),
        submit_for_settlement=not no_submit,
        order_id=optional_text(order_id, "--order-id"),
        merchant_account_id=optional_text(merchant_account, "--merchant-account"),
        customer_email=optional_text(customer_email, "--customer-email"),
        custom_fields=_custom_fields(custom_field or []),
    )
    run = Invocation.current()
    run.output.emit(domain.checkout(run.gateway(), request), views.TRANSACTION)


def _browser_checkout(
    amount, submit: bool, card: str, expiry: str, cvv: str, chromium: Path | None, assets_dir: Path | None
) -> None:
    from paycli import browser_checkout
    from paycli.checkout import refuse_production
    from paycli.cli.serve import open_storefront

    run = Invocation.current()
    refuse_production(run.profile)  # before a browser starts: the page would only report it
    path = browser_checkout.chromium_path(run.env, chromium)
    front = open_storefront(run, assets_dir=assets_dir, submit=submit)
    txn = browser_checkout.pay(
        front, amount, browser_checkout.Card(card, expiry, cvv), chromium=path, sandbox_url=run.profile.url
    )
    run.output.emit(txn, views.TRANSACTION)
