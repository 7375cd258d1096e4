"""`paycli refund`, `paycli void`, `paycli batch-refund`: giving money back, exactly once."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from paycli.cli import views
from paycli.cli.runtime import Invocation, TerminationRequested, command
from paycli.errors import Cancelled, Interrupted, PartialFailure, PaycliError, Terminated, UsageError
from paycli.tuning import BATCH_ROWS_IN_FLIGHT, MAX_IN_FLIGHT

if TYPE_CHECKING:
    from paycli.refunds import Plan

app = typer.Typer()

DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would happen; touch nothing.")]


def _context(run: Invocation, gateway: Any) -> Any:
    from paycli.journal import Context

    return Context.current(run.profile.name, run.profile.environment, gateway.merchant_id)


def _confirm(run: Invocation, gateway: Any, what: str, details: list[tuple[str, str]]) -> None:
    """Production (or `confirm: true`) asks on a terminal; --yes answers; no terminal and no --yes refuses (2).

    On a terminal the plan is a small block (profile, merchant, then `details`) above a short question.
    """
    profile = run.profile
    if not profile.confirms:
        return
    kind = "production" if profile.production else f"{profile.environment}, confirm: true"
    block = [("profile", f"{profile.name} ({kind})"), ("merchant", gateway.merchant_id), *details]
    width = max(len(label) for label, _ in block)
    if run.output.terminal.interactive and not run.yes:
        run.output.plan_block("\n".join(f"  {label:<{width}}  {value}" for label, value in block))
        prompt = f"{what}?"
    else:  # the refusal without a terminal (or the --yes log) is one line
        prompt = f"{what} on profile {profile.name} ({kind}, merchant {gateway.merchant_id})?"
    if not run.confirm(prompt):
        raise Cancelled("cancelled at the confirmation: no money moved")


def _describe(plan: "Plan") -> str:
    txn = plan.transaction
    currency = f" {txn.currency}" if txn.currency else ""
    if plan.action == "void":
        return f"Void {txn.id} ({txn.status}, {txn.amount}{currency}): the whole sale is cancelled"
    return (
        f"Refund {plan.amount}{currency} of {txn.id} ({txn.status}, {txn.amount}{currency}); "
        f"{plan.remaining_after}{currency} left to refund afterwards"
    )


def _plan_details(plan: "Plan") -> tuple[str, list[tuple[str, str]]]:
    """The question and the block's lines for one refund or void."""
    txn = plan.transaction
    currency = f" {txn.currency}" if txn.currency else ""
    details = [("transaction", f"{txn.id} ({txn.status}, sale of {txn.amount}{currency})")]
    if plan.action == "void":
        return f"Void {txn.id}", [*details, ("action", "void: the whole sale is cancelled before it settles")]
    return (
        f"Refund {plan.amount}{currency} of {txn.id}",
        [*details, ("refund", f"{plan.amount}{currency}"), ("left after", f"{plan.remaining_after}{currency}")],
    )


def _check_repeat(run: Invocation, gateway: Any, journal: Any, plan: "Plan") -> None:
    """A `done` refund of the same transaction and amount minutes ago: ask on a terminal, refuse without one."""
    from paycli import refunds

    earlier = refunds.recent_repeat(journal, _context(run, gateway), plan)
    if earlier is None:
        return
    currency = f" {plan.transaction.currency}" if plan.transaction.currency else ""
    minutes = int(refunds.REPEAT_WINDOW.total_seconds() // 60)
    said = (
        f"{plan.transaction.id} was already refunded {earlier.amount}{currency} at "
        f"{earlier.created_at:%H:%M:%S}Z by {earlier.who} (journal #{earlier.id}, {earlier.result_id}), "
        f"less than {minutes} minutes ago"
    )
    if not run.output.confirm(f"{said}: refund another {plan.amount}{currency}?", answer_option="--again"):
        raise Cancelled("cancelled: no second refund was made")


@contextmanager
def _held(run: Invocation, gateway: Any, txn_id: str, dry_run: bool) -> Iterator[bool]:
    """On a team's journal, the transaction's lock from the lookup to the `done` write: a colleague refunding
    the same sale finishes first, and this plan is made from what the gateway says after that."""
    from paycli import refunds

    if dry_run:
        yield False
        return
    with ExitStack() as stack:
        with refunds.before_any_call():  # the journal is opened (exit 6 if it cannot be) before any lookup
            waited = stack.enter_context(run.journal().hold(gateway.merchant_id, txn_id))
        yield waited


def _carry_out(
    run: Invocation, gateway: Any, plan: "Plan", dry_run: bool, *, again: bool = False, asked_to_void: bool = False
) -> None:
    from paycli import refunds

    if dry_run:
        run.output.note(f"dry run: {_describe(plan)}")
        run.output.emit(plan, views.REFUND_PLAN)
        return
    with refunds.before_any_call():
        journal = run.journal()
        if not again:
            _check_repeat(run, gateway, journal, plan)
    _confirm(run, gateway, *_plan_details(plan))
    outcome = refunds.execute(gateway, journal, _context(run, gateway), plan)
    if outcome.resumed:
        run.output.note(
            f"resumed an unfinished {plan.action} from the journal (entry #{outcome.journal_id}): the "
            "gateway answered with its original result, so no money moved twice"
        )
    try:
        outcome = refunds.with_sale(gateway, outcome)
    except PaycliError as err:  # the money moved; only the figure of what is left is missing
        run.output.warn(f"could not look {plan.transaction.id} up again to show what is left: {err.message}")
    moved = outcome.result
    currency = f" {moved.currency}" if moved.currency else ""
    left = (
        f"; {outcome.sale.refundable_amount}{currency} left to refund"
        if outcome.sale is not None and outcome.sale.refundable_amount is not None
        else ""
    )
    if plan.action == "void":
        # nothing was captured: the sale is cancelled before settlement and the card's hold released
        what = (
            f"voided {moved.id}"
            if asked_to_void
            else f"{moved.id} was not settled yet, so it was voided instead of refunded"
        )
        run.output.note(
            f"{what}: the {moved.amount}{currency} sale ({plan.transaction.status}) was cancelled "
            "before it settled, so no money moved; the hold on the customer's card is released"
        )
    else:
        run.output.note(f"refunded {moved.amount}{currency} of {plan.transaction.id} as {moved.id}{left}")
    run.output.emit(outcome, views.REFUND_OUTCOME)


@command(app, "refund", confirms=True)
def refund(
    txn_id: Annotated[str, typer.Argument(metavar="ID", help="The sale to refund.")],
    amount: Annotated[str | None, typer.Option("--amount", help="Partial amount. Default: everything left.")] = None,
    order_id: Annotated[
        str | None, typer.Option("--order-id", help="The refund's own order id (set on the new credit).")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the journal).")] = None,
    dry_run: DryRunOpt = False,
    no_void: Annotated[bool, typer.Option("--no-void", help="Refuse instead of voiding an unsettled sale.")] = False,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Meant as a second refund: skip the question asked when the same amount of the same "
            "sale was refunded in the last 10 minutes (--yes does not answer it).",
        ),
    ] = False,
) -> None:
    """Refund a settled or settling sale; an unsettled sale refunded in full is voided instead.

    The same amount of the same sale refunded (done) in the last 10 minutes looks like a double submit:
    paycli asks on a terminal and, without one, refuses (exit 2) unless --again says it is meant.
    """
    from paycli import refunds
    from paycli.money import parse_amount
    from paycli.wire_text import optional_text

    value = parse_amount(amount) if amount is not None else None
    order_id, reason = optional_text(order_id, "--order-id"), optional_text(reason, "--reason")
    run = Invocation.current()
    gateway = run.gateway()
    with _held(run, gateway, txn_id, dry_run):
        plan = refunds.plan_refund(
            gateway, txn_id, amount=value, order_id=order_id, reason=reason, allow_void=not no_void
        )
        _carry_out(run, gateway, plan, dry_run, again=again)


@command(app, "void", confirms=True)
def void(
    txn_id: Annotated[str, typer.Argument(metavar="ID", help="An authorized or submitted_for_settlement sale.")],
    dry_run: DryRunOpt = False,
) -> None:
    """Void a sale that has not settled yet (authorized or submitted_for_settlement)."""
    from paycli import refunds

    run = Invocation.current()
    gateway = run.gateway()
    with _held(run, gateway, txn_id, dry_run):
        _carry_out(run, gateway, refunds.plan_void(gateway, txn_id), dry_run, asked_to_void=True)


@command(app, "batch-refund", confirms=True)
def batch_refund(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.csv", dir_okay=False, help="CSV with a header: transaction_id[,amount][,order_id][,reason]."
        ),
    ],
    dry_run: DryRunOpt = False,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            min=1,
            max=MAX_IN_FLIGHT,
            help="Refunds in flight at most; halved while the gateway answers 429/503, grown back while it is healthy.",
        ),
    ] = BATCH_ROWS_IN_FLIGHT,
    results: Annotated[
        Path | None,
        typer.Option("--results", dir_okay=False, metavar="FILE", help="Also write the results as CSV (atomically)."),
    ] = None,
) -> None:
    """Refund every row of a CSV; validated first, safe to rerun (done rows are never refunded again).

    A row is known by its transaction and amount, so correcting its order_id or reason after it is done
    refunds nothing more. order_id is the refund's own order id (set on the new credit), not the sale's.
    """
    from paycli import batch_refunds, refunds
    from paycli.money import describe_totals
    from paycli.output import same_file

    run = Invocation.current()
    for option, written in (("--results", results), ("--output", run.output.path)):
        if written is not None and same_file(file, written):  # also through a symlink or a hard link
            raise UsageError(
                f"{option} {written} is the input file {file}: writing it would destroy the rows; name another file"
            )
    rows = batch_refunds.read_rows(file)
    gateway = run.gateway()
    with refunds.before_any_call(), run.output.progress("Looking up", total=len(rows)) as bar:
        journal, context = run.journal(), _context(run, gateway)
        batch = batch_refunds.plan(
            gateway, journal, context, file, rows, concurrency=concurrency, on_progress=bar.advance
        )
    counts = batch.counts()
    summary = (
        f"{len(rows)} rows: {counts['refund']} to refund, {counts['void']} to void, "
        f"{counts['already_done']} already done, {counts['refused']} refused; "
        f"total {describe_totals(batch.totals())}"
    )
    run.output.note(summary)
    if dry_run:
        planned = [_planned(item) for item in batch.items]
        run.output.emit(planned, views.BATCH_RESULT)
        failing = [r for r in planned if r.outcome == batch_refunds.FAILED]
        if failing:  # the exit code a real run would have: a script's dry run must see it
            raise PartialFailure(
                f"dry run: {len(failing)} of {len(planned)} rows would fail (first: line "
                f"{failing[0].row}: {failing[0].message}); nothing was refunded"
            )
        return
    if batch.to_execute:
        _confirm(
            run,
            gateway,
            f"Batch refund of {len(batch.to_execute)} rows from {file.name}",
            [
                ("file", str(file)),
                (
                    "rows",
                    f"{counts['refund']} to refund, {counts['void']} to void, "
                    f"{counts['already_done']} already done, {counts['refused']} refused",
                ),
                ("total", describe_totals(batch.totals())),
            ],
        )
    finished: list[Any] = []

    def finish(result: Any) -> None:
        finished.append(result)
        bar.advance()

    try:
        with run.output.progress("Refunding", total=len(batch.items)) as bar:
            outcome = batch_refunds.execute(
                gateway,
                journal,
                context,
                batch,
                concurrency=concurrency,
                on_result=finish,
                on_pace=lambda now, before: _paced(run, now, before),
            )
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM: say what was done and what is left, keep the results
        said = _stopped(run, batch, finished, results)
        raise (Terminated if isinstance(stop, TerminationRequested) else Interrupted)(said) from None
    except batch_refunds.JournalLost as lost:  # every row's outcome first, then why the run stopped (exit 6)
        run.output.emit(lost.results, views.BATCH_RESULT)
        raise
    if results is not None:
        _write_results(run, results, outcome)
    run.output.emit(outcome, views.BATCH_RESULT)
    failed = [r for r in outcome if r.outcome == batch_refunds.FAILED]
    given_back = batch_refunds.moved(outcome)
    run.output.note(
        f"refunded {describe_totals(given_back['refund'])}; voided {describe_totals(given_back['void'])}; "
        f"{len(failed)} of {len(outcome)} rows failed"
    )
    if failed:
        raise PartialFailure(
            f"{len(failed)} of {len(outcome)} rows failed (first: line {failed[0].row}: "
            f"{failed[0].message}); fix them and rerun the same file: done rows are skipped"
        )


def _paced(run: Invocation, now: int, before: int) -> None:
    if now < before:  # growing back is the normal case and not worth a line
        run.output.note(
            f"the gateway is pushing back (429/503): slowing down to {now} refunds in flight "
            f"(from {before}); speeding up again while it answers"
        )


def _stopped(run: Invocation, batch: Any, finished: list[Any], results: Path | None) -> str:
    """An interrupted batch: the rows finished (on stdout and in --results); returns what to tell."""
    from paycli import batch_refunds
    from paycli.money import describe_totals

    ordered = sorted(finished, key=lambda result: result.row)
    given_back = batch_refunds.moved(ordered)
    left = len(batch.items) - len(ordered)
    with suppress(Exception):  # reporting must not hide the interrupt
        if results is not None:
            _write_results(run, results, ordered)
            run.output.note(f"results of the {len(ordered)} finished rows written to {results}")
        run.output.emit(ordered, views.BATCH_RESULT)
    return (
        f"interrupted after {len(ordered)} of {len(batch.items)} rows: refunded "
        f"{describe_totals(given_back['refund'])}, voided {describe_totals(given_back['void'])}; {left} rows "
        "left (any in flight may have moved money): rerun the same file to finish them, done rows are skipped"
    )


def _planned(item: Any) -> Any:
    from paycli.batch_refunds import Result

    if item.result is not None:
        return item.result
    plan = item.plan
    return Result(
        item.row.line,
        item.row.transaction_id,
        plan.amount,
        plan.action,
        "skipped",
        None,
        f"dry run: would {plan.action} {plan.amount}",
        plan.transaction.currency,
    )


def _write_results(run: Invocation, path: Path, outcome: list[Any]) -> None:
    """--results: the rows as CSV, by the same writer as `-o rows.csv` (same columns, same atomic file)."""
    from paycli.formats import Format

    if path.suffix.lower() not in ("", ".csv"):
        raise UsageError(f"--results {path}: results are written as CSV; name the file .csv")
    run.output.to(path, Format.csv, option="--results").stream(outcome, views.BATCH_RESULT)
