"""`paycli audit`: the local journal of money-moving operations."""


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
) -> None:
    """Show who moved money, when, on which profile, and with what result."""
    from paycli import dates

    if kind is not None and kind not in KINDS:
        raise UsageError(f"--kind '{kind}' is not one of {', '.join(KINDS)}")
    run = Invocation.current()
    tz = run.profile.tz if (since or until) else None
    entries = run.journal().entries(
        since=dates.parse_instant(since, tz=tz, field="--since") if since else None,
        until=dates.parse_instant(until, tz=tz, field="--until", end=True) if until else None,
        kind=kind,
        transaction_id=txn,
    )
    if run.requested_profile:  # `-p NAME`: that profile's entries (the journal holds every profile's)
        entries = (entry for entry in entries if entry.profile == run.requested_profile)
    run.output.stream(entries, views.AUDIT)
