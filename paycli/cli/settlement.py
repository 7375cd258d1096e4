"""`paycli settlement summary|export`: the nightly settlement reports accounting reads, safe to run from cron.

Cron-safe means: dates default to yesterday in each profile's timezone; `-o` may name the file per date and
profile (`{date}`, `{profile}`); a file is written atomically, under a lock so two runs never write it at
once; a bar shows only on a terminal; and the exit code says whether the file can be trusted (7: written,
but it does not reconcile, or some profile of `--all-profiles` failed).
"""

import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from paycli.cli import views
from paycli.cli.runtime import Invocation, command
from paycli.errors import PaycliError, UsageError
from paycli.formats import Format
from paycli.tuning import EXPORT_PAGES_IN_FLIGHT, MAX_IN_FLIGHT

if TYPE_CHECKING:
    from paycli import export_targets
    from paycli.config import Profile
    from paycli.models import SettlementSummary
    from paycli.output import Output

app = typer.Typer(
    help="Settlement reports: Braintree's batch summary and a reconciled transaction export.", no_args_is_help=True
)

DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        metavar="DATE",
        show_default=False,
        help="Settlement date: YYYY-MM-DD, today or yesterday, in the profile's timezone. Default: yesterday.",
    ),
]
AllProfilesOpt = Annotated[
    bool,
    typer.Option(
        "--all-profiles",
        help="Run for every configured profile (one file each with {profile} in -o, else one file for all); "
        "the others still run and are written if one fails.",
    ),
]

_CUSTOM_FIELD = re.compile(r"[A-Za-z0-9_]{1,255}", re.ASCII)  # Braintree's custom field names


@command(app, "summary")
def summary(
    day: DateOpt = None,
    group_by_custom_field: Annotated[
        str | None,
        typer.Option(
            "--group-by-custom-field", metavar="FIELD", help="Split each record by this custom field's value."
        ),
    ] = None,
    all_profiles: AllProfilesOpt = False,
) -> None:
    """Braintree's settlement batch summary for a date, with totals per merchant account and kind.

    Records are per merchant account, card type and kind (sale or credit); totals give sales, credits and
    net per merchant account. -o FILE may contain {date} and {profile}. Exit 6: another run is writing the
    same file; 7: with --all-profiles, some profiles failed (the others are still written).
    """
    from paycli import export_targets, settlement
    from paycli.config import state_dir
    from paycli.profile_runs import ProfileRuns

    run = Invocation.current()
    field = _custom_field(group_by_custom_field)
    targets = _targets(run, all_profiles, lambda profile: (_one_day(profile, day),))
    runs = ProfileRuns(keep_going=all_profiles, broken=run.profiles.broken)

    def one(target: "export_targets.Target") -> "SettlementSummary":
        found = settlement.summary(run.gateway_for(target.profile), target.days[0], field)
        if not found.records:
            _nothing_settled(run, target, defaulted=day is None)
        return found

    for output, members in export_targets.by_output(targets).items():
        try:
            with export_targets.locked(output, state_dir(run.env)):
                outcomes = list(runs.each(members, one, name=lambda target: target.profile.name))
                summaries = tuple(o.result for o in outcomes if o.result is not None)
                if summaries:  # every profile of this file failed: leave no file behind
                    failed = tuple((o.item.profile.name, o.error) for o in outcomes if o.error is not None)
                    _emit_summaries(
                        run.output.to(output), views.SettlementReport(summaries, failed), field, all_profiles
                    )
        except PaycliError as err:  # the lock, or the file itself
            runs.fail_each((target.profile.name for target in members), err)
    runs.finish(len(targets), "summary")


def _emit_summaries(out: "Output", report: views.SettlementReport, field: str | None, all_profiles: bool) -> None:
    if out.fmt is Format.csv:  # one row per record: a CSV file has one set of columns
        pairs = [(summary, record) for summary in report.summaries for record in summary.records]
        out.stream(pairs, views.settlement_records_view(field))
    elif out.fmt is Format.ndjson:  # one summary document per line, per profile
        out.stream(report.summaries, views.SETTLEMENT_SUMMARY_TAGGED if all_profiles else views.SETTLEMENT_SUMMARY)
    elif all_profiles:
        out.emit(report, views.SETTLEMENT_REPORT)
    else:
        out.emit(report.summaries[0], views.SETTLEMENT_SUMMARY)


@command(app, "export")
def export(
    day: DateOpt = None,
    first: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="DATE", show_default=False, help="First settlement date of a range (with --to)."
        ),
    ] = None,
    last: Annotated[
        str | None,
        typer.Option("--to", metavar="DATE", show_default=False, help="Last settlement date of a range, included."),
    ] = None,
    all_profiles: AllProfilesOpt = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", metavar="N", min=1, max=MAX_IN_FLIGHT, help="Search pages fetched at once.")
    ] = EXPORT_PAGES_IN_FLIGHT,
) -> None:
    """Every sale and credit settled on a date, sorted by (settled_at, id) and reconciled with the summary.

    Columns: profile, id, type, status, amount, currency, merchant_account_id, order_id, card_type, last_4,
    customer_email, created_at, settled_at, settlement_batch_id, refunded_transaction_id. The same data gives
    the same bytes. -o FILE may contain {date} and {profile}; FILE's suffix picks the format. Exit 6: another
    run is writing the same file; 7: the file was written but does not match the summary, or with
    --all-profiles some profiles failed (the others are still written).
    """
    from paycli import export_targets, settlement
    from paycli.config import state_dir
    from paycli.profile_runs import ProfileRuns

    run = Invocation.current()
    if day and (first or last):
        raise UsageError("give --date or --from/--to, not both")
    if (first is None) != (last is None):
        raise UsageError("--from and --to go together; for one day use --date")
    targets = _targets(run, all_profiles, lambda profile: _export_days(profile, day, first, last))
    runs = ProfileRuns(keep_going=all_profiles, broken=run.profiles.broken)
    for output, members in export_targets.by_output(targets).items():
        out = run.output.to(output)
        profiles = settlement.ProfilesExport(members, run.gateway_for, runs, workers=concurrency, progress=out.progress)
        try:
            with export_targets.locked(output, state_dir(run.env)):
                written = out.stream(profiles.rows(), views.SETTLEMENT_EXPORT, drop_if_empty=profiles.all_failed)
        except PaycliError as err:  # the lock, or the file itself
            runs.fail_each((target.profile.name for target in members), err)
            continue
        if written is None:  # every profile of this file failed: no file was left behind
            continue
        if not written:
            for target in members:
                _nothing_settled(run, target, defaulted=day is None and first is None)
        # the file is in place: now say whether it can be trusted
        for warning in profiles.warnings():
            run.output.warn(warning)
        reconciled = profiles.reconcile(output)
        # cron reads the exit code; a person reads this
        if export_targets.is_file(output) and run.output.terminal.stderr:
            run.output.note(
                f"wrote {written} transaction{'' if written == 1 else 's'} to {output}"
                + (", reconciled with the settlement summary" if reconciled else "")
            )
    runs.finish(len(targets), "export")


# options ---------------------------------------------------------------------------------------------------


def _custom_field(name: str | None) -> str | None:
    if name is None:
        return None
    if not _CUSTOM_FIELD.fullmatch(name):
        raise UsageError(f"--group-by-custom-field '{name}' is not a custom field name (letters, digits, '_')")
    if name in (*views.SETTLEMENT_RECORD_KEYS, "date", "profile"):
        raise UsageError(f"--group-by-custom-field '{name}' would hide the record's own '{name}'; rename the field")
    return name


def _one_day(profile: "Profile", text: str | None, field: str = "--date") -> date:
    from paycli import dates

    return dates.parse_date(text, tz=profile.tz, field=field) if text else dates.yesterday(profile.tz)


def _export_days(profile: "Profile", day: str | None, first: str | None, last: str | None) -> tuple[date, ...]:
    from paycli import settlement

    if first is None or last is None:
        return (_one_day(profile, day),)
    start, end = _one_day(profile, first, "--from"), _one_day(profile, last, "--to")
    if start > end:
        raise UsageError(f"--from {start} is after --to {end}")
    return tuple(settlement.days_between(start, end))


def _targets(
    run: Invocation, all_profiles: bool, days_for: Callable[["Profile"], tuple[date, ...]]
) -> "list[export_targets.Target]":
    from paycli import export_targets, profile_runs

    if all_profiles and run.requested_profile:
        raise UsageError("give --profile or --all-profiles, not both")
    profiles = profile_runs.every_configured(run.profiles) if all_profiles else [run.profile]
    return export_targets.plan(profiles, run.output.path, days_for)


# writing and reporting -------------------------------------------------------------------------------------


def _nothing_settled(run: Invocation, target: "export_targets.Target", *, defaulted: bool) -> None:
    """An empty report says which day (and whose timezone) it looked at: "yesterday" is easy to misjudge."""
    days = target.days[0].isoformat() if len(target.days) == 1 else f"{target.days[0]} to {target.days[-1]}"
    hint = " (the default, yesterday there; what settled today: --date today)" if defaulted else ""
    run.output.note(
        f"nothing settled on {days}{hint} for profile {target.profile.name}, timezone {target.profile.timezone}"
    )
