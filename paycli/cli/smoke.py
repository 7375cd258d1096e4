"""`paycli smoke`: prove a profile works end to end, one PASS/FAIL row per step."""


from typing import Annotated

import typer

from paycli.cli import views
from paycli.cli.runtime import Invocation, command
from paycli.formats import Format

app = typer.Typer()


@command(app, "smoke")
def smoke(
    amount: Annotated[str, typer.Option("--amount", help="Sale amount; test amounts apply (2000.00 declines).")] = "10.00",
    keep: Annotated[bool, typer.Option("--keep", help="Keep going after a failed step instead of skipping the rest.")] = False,
) -> None:
    """Run token → checkout → find → search → settle → refund → void → summary (read-only on production)."""
    from paycli import smoke as domain
    from paycli.money import parse_amount

    run = Invocation.current()
    value = parse_amount(amount)
    report = domain.run(run.gateway(), amount=value, keep_going=keep)
    if run.output.fmt in (Format.table, Format.csv):
        run.output.emit(list(report.steps), views.SMOKE_STEP)
    else:
        run.output.emit(report, views.SMOKE)
    failure = report.first_failure
    if failure is not None:
        run.output.error(f"smoke failed on profile {report.profile}: {failure.message}")
        raise typer.Exit(int(failure.exit_code))
    run.output.note(f"smoke passed: {len(report.steps)} steps on profile {report.profile}")
