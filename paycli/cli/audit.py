"""`paycli audit`: the journal of money-moving operations (this machine's, or the whole team's)."""

from typing import Annotated

import typer

from paycli.cli import views
from paycli.cli.runtime import Invocation, command
from paycli.errors import UsageError

app = typer.Typer()
KINDS = ("refund", "void")


@command(app, "audit")
def audit(
    since: Annotated[str | None, typer.Option("--since", help="From this date or ISO time.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this date (inclusive) or ISO time.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="refund or void.")] = None,
    txn: Annotated[str | None, typer.Option("--txn", metavar="ID", help="Entries about this transaction.")] = None,
    by: Annotated[str | None, typer.Option("--by", metavar="USER", help="Entries by this user.")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Entries made on this machine.")] = None,
) -> None:
    """Show who moved money, when, on which profile, and with what result.

    With -p/--profile NAME (before or after the command): the entries made with that profile only.
    """
    from paycli import dates

    if kind is not None and kind not in KINDS:
        raise UsageError(f"--kind '{kind}' is not one of {', '.join(KINDS)}")
    run = Invocation.current()
    # the profile's timezone only when a date needs it: listing everything works without a valid profile
    entries = run.journal().entries(
        since=dates.parse_instant(since, tz=run.profile.tz, field="--since") if since else None,
        until=dates.parse_instant(until, tz=run.profile.tz, field="--until", end=True) if until else None,
        kind=kind,
        transaction_id=txn,
        operator=by,
        host=host,
        profile=run.requested_profile,  # `-p NAME`: that profile's entries (the journal holds every profile's)
    )
    run.output.stream(entries, views.AUDIT)
