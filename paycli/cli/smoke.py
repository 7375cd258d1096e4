"""`paycli smoke`: prove a profile works end to end, one PASS/FAIL row per step."""

from typing import Annotated

import typer

from paycli.cli import views
from paycli.cli.runtime import Invocation, command
from paycli.formats import Format

app = typer.Typer()


@command(app, "smoke")
def smoke(
    amount: Annotated[
        str, typer.Option("--amount", help="Sale amount; test amounts apply (2000.00 declines).")
    ] = "10.00",
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep going after a failed step instead of skipping the rest.")
    ] = False,
    browser: Annotated[
        bool,
        typer.Option(
            "--browser",
            help="Add a sale through braintree-web Hosted Fields in a headless Chromium (like `checkout --browser`).",
        ),
    ] = False,
) -> None:
    """Run token → checkout → find → search → settle → refund → void → summary (read-only on production)."""
    from paycli import smoke as domain
    from paycli.money import parse_amount

    run = Invocation.current()
    value = parse_amount(amount)
    extra = (("browser", lambda: _browser_step(run, value)),) if browser else ()
    report = domain.run(run.gateway(), amount=value, keep_going=keep, extra=extra)
    if run.output.fmt in (Format.table, Format.csv):
        run.output.emit(list(report.steps), views.SMOKE_STEP)
    else:
        run.output.emit(report, views.SMOKE)
    failure = report.first_failure
    if failure is not None:
        run.output.error(f"smoke failed on profile {report.profile}: {failure.message}")
        raise typer.Exit(int(failure.exit_code))
    run.output.note(f"smoke passed: {len(report.steps)} steps on profile {report.profile}")


def _browser_step(run: Invocation, amount) -> str:
    from paycli import browser_checkout
    from paycli.cli.serve import open_storefront

    chromium = browser_checkout.chromium_path(run.env)
    txn = browser_checkout.pay(
        open_storefront(run, assets_dir=None),
        amount,
        browser_checkout.Card(),
        chromium=chromium,
        sandbox_url=run.profile.url,
    )
    return f"{txn.id} {txn.status} {txn.amount} via braintree-web Hosted Fields"
