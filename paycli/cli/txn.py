"""`paycli txn show|search`: find a customer's transactions."""

from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer

from paycli.braintree_facts import TRANSACTION_STATUSES
from paycli.cli import views
from paycli.cli.runtime import Invocation, command
from paycli.errors import UsageError

app = typer.Typer(help="Find and inspect transactions.", no_args_is_help=True)


@command(app, "show")
def show(txn_id: Annotated[str, typer.Argument(metavar="ID", help="Transaction id.")]) -> None:
    """Show one transaction with its status history, refunds and refundable amount."""
    from paycli import lookup

    run = Invocation.current()
    run.output.emit(lookup.find_transaction(run.gateway(), txn_id), views.TRANSACTION)


@command(app, "search")
def search(
    order_id: Annotated[str | None, typer.Option("--order-id", help="Exact order id.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Customer e-mail.")] = None,
    last4: Annotated[str | None, typer.Option("--last4", help="Last 4 digits of the card.")] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="A status; repeatable.",
            autocompletion=lambda incomplete: [s for s in TRANSACTION_STATUSES if s.startswith(incomplete)],
        ),
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Created at or after (date or ISO time).")] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Created at or before (a date includes the day).")
    ] = None,
    settled_on: Annotated[
        str | None, typer.Option("--settled-on", help="Settled on this day (profile timezone).")
    ] = None,
    amount_min: Annotated[str | None, typer.Option("--amount-min", help="Smallest amount.")] = None,
    amount_max: Annotated[str | None, typer.Option("--amount-max", help="Largest amount.")] = None,
    customer_id: Annotated[str | None, typer.Option("--customer-id", help="Vault customer id.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Stop after N transactions.")] = None,
) -> None:
    """Search transactions; results stream as they arrive."""
    from paycli import dates, lookup
    from paycli.models import TransactionQuery
    from paycli.money import parse_amount
    from paycli.wire_text import optional_text

    run = Invocation.current()
    tz = run.profile.tz
    unknown = [s for s in status or [] if s not in TRANSACTION_STATUSES]
    if unknown:
        raise UsageError(
            f"--status {unknown[0]} is not a transaction status; use one of: {', '.join(TRANSACTION_STATUSES)}"
        )
    if last4 is not None and not (len(last4) == 4 and last4.isdigit()):
        raise UsageError(f"--last4 '{last4}' must be exactly 4 digits")
    settled_from = settled_to = None
    if settled_on:
        day = dates.parse_date(settled_on, tz=tz, field="--settled-on")
        settled_from, settled_to = dates.day_start(day, tz), dates.day_end(day, tz)
    query = TransactionQuery(
        order_id=optional_text(order_id, "--order-id"),
        customer_email=optional_text(email, "--email"),
        customer_id=optional_text(customer_id, "--customer-id"),
        last_4=last4,
        statuses=tuple(status or ()),
        created_from=dates.parse_instant(since, tz=tz, field="--since") if since else None,
        created_to=dates.parse_instant(until, tz=tz, field="--until", end=True) if until else None,
        settled_from=settled_from,
        settled_to=settled_to,
        amount_min=parse_amount(amount_min, field="--amount-min") if amount_min else None,
        amount_max=parse_amount(amount_max, field="--amount-max") if amount_max else None,
    )
    if query.created_from and query.created_to and query.created_from > query.created_to:
        raise UsageError(f"--since {since} is after --until {until}: nothing can match; swap them")
    if query.amount_min and query.amount_max and query.amount_min > query.amount_max:
        raise UsageError(f"--amount-min {query.amount_min} is larger than --amount-max {query.amount_max}")
    profile = run.profile

    def capped(count: int) -> None:
        run.output.warn(
            f"the search stopped at {count} transactions, profile {profile.name}'s search_cap: there "
            "may be more; narrow it (--since/--until, --status, …)"
        )

    found = run.output.stream(
        _counted(
            run,
            lambda on_total: lookup.search_transactions(
                run.gateway(), query, limit=limit, on_total=on_total, on_capped=capped
            ),
        ),
        views.TRANSACTION,
    )
    if not found:
        given = [
            ("--order-id", order_id),
            ("--email", email),
            ("--last4", last4),
            ("--customer-id", customer_id),
            ("--status", ",".join(status or ()) or None),
            ("--since", since),
            ("--until", until),
            ("--settled-on", settled_on),
            ("--amount-min", amount_min),
            ("--amount-max", amount_max),
        ]
        filters = " ".join(f"{option} {value}" for option, value in given if value)
        run.output.note(f"no transactions matched {filters or '(no filters)'} on profile {run.profile.name}")


def _counted(run: Invocation, search: Callable[[Callable[[int], None]], Iterator[Any]]) -> Iterator[Any]:
    """The search's results, counted on stderr as they arrive when a table is being collected for a terminal
    (the table is drawn once the count is gone); pipes and files get each row as it comes, as before."""
    with run.output.progress("found") as progress:
        for item in search(lambda total: progress.update(total=total)):
            progress.advance()
            yield item
