"""`paycli settlement summary|export`: the nightly settlement reports accounting reads, safe to run from cron.

Cron-safe means: dates default to yesterday in each profile's timezone; `-o` may name the file per date and
profile (`{date}`, `{profile}`); a file is written atomically, under a lock so two runs never write it at
once; a bar shows only on a terminal; and the exit code says whether the file can be trusted (7: written,
but it does not reconcile, or some profile of `--all-profiles` failed).
"""


import re
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from paycli.cli import views
from paycli.cli.runtime import Invocation, command
from paycli.errors import PaycliError, PartialFailure, UsageError
from paycli.formats import Format

if TYPE_CHECKING:
    from paycli.config import Profile
    from paycli.models import Mismatch

app = typer.Typer(help="Settlement reports: Braintree's batch summary and a reconciled transaction export.",
                  no_args_is_help=True)

DateOpt = Annotated[str | None, typer.Option(
    "--date", metavar="DATE", show_default=False,
    help="Settlement date: YYYY-MM-DD, today or yesterday, in the profile's timezone. Default: yesterday.")]
AllProfilesOpt = Annotated[bool, typer.Option(
    "--all-profiles",
    help="Run for every configured profile (one file each with {profile} in -o, else one file for all); "
         "the others still run and are written if one fails.")]

PLACEHOLDERS = ("date", "profile")
_CUSTOM_FIELD = re.compile(r"[A-Za-z0-9_]{1,255}", re.ASCII)  # Braintree's custom field names


class _NothingToWrite(Exception):
    """Raised from inside a write to abandon it: the temporary file goes, the destination stays as it was."""


@dataclass(frozen=True)
class _Target:
    profile: "Profile"
    days: tuple[date, ...]
    output: Path | None  # None: stdout


@command(app, "summary")
def summary(
    day: DateOpt = None,
    group_by_custom_field: Annotated[str | None, typer.Option(
        "--group-by-custom-field", metavar="FIELD", help="Split each record by this custom field's value.")] = None,
    all_profiles: AllProfilesOpt = False,
) -> None:
    """Braintree's settlement batch summary for a date, with totals per merchant account and kind.

    Records are per merchant account, card type and kind (sale or credit); totals give sales, credits and
    net per merchant account. -o FILE may contain {date} and {profile}. Exit 6: another run is writing the
    same file; 7: with --all-profiles, some profiles failed (the others are still written).
    """
    from paycli import settlement

    run = Invocation.current()
    field = _custom_field(group_by_custom_field)
    targets = _targets(run, all_profiles, lambda profile: (_one_day(profile, day),))
    failures: list[tuple[str, PaycliError]] = []
    for output, members in _by_output(targets).items():
        summaries, failed = [], []
        try:
            with _writing_to(run, output):
                for target in members:
                    try:
                        gateway = run.gateway_for(target.profile)
                        summaries.append(settlement.summary(gateway, target.days[0], field))
                        if not summaries[-1].records:
                            _nothing_settled(run, target, defaulted=day is None)
                    except PaycliError as err:
                        if not all_profiles:
                            raise
                        failed.append((target.profile.name, err))
                if summaries:  # every profile of this file failed: leave no file behind
                    _emit_summaries(run, views.SettlementReport(tuple(summaries), tuple(failed)), field,
                                    all_profiles)
        except PaycliError as err:  # the lock, or the file itself
            if not all_profiles:
                raise
            failed = [(target.profile.name, err) for target in members]
        failures += failed
    _finish(failures, len(targets), all_profiles, "summary")


def _emit_summaries(run: Invocation, report: views.SettlementReport, field: str | None, all_profiles: bool) -> None:
    out = run.output
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
    first: Annotated[str | None, typer.Option(
        "--from", metavar="DATE", show_default=False, help="First settlement date of a range (with --to).")] = None,
    last: Annotated[str | None, typer.Option(
        "--to", metavar="DATE", show_default=False, help="Last settlement date of a range, included.")] = None,
    all_profiles: AllProfilesOpt = False,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", metavar="N", min=1, max=32, help="Search pages fetched at once.")] = 8,
) -> None:
    """Every sale and credit settled on a date, sorted by (settled_at, id) and reconciled with the summary.

    Columns: profile, id, type, status, amount, currency, merchant_account_id, order_id, card_type, last_4,
    customer_email, created_at, settled_at, settlement_batch_id, refunded_transaction_id. The same data gives
    the same bytes. -o FILE may contain {date} and {profile}; FILE's suffix picks the format. Exit 6: another
    run is writing the same file; 7: the file was written but does not match the summary, or with
    --all-profiles some profiles failed (the others are still written).
    """
    from paycli import settlement

    run = Invocation.current()
    if day and (first or last):
        raise UsageError("give --date or --from/--to, not both")
    if (first is None) != (last is None):
        raise UsageError("--from and --to go together; for one day use --date")
    targets = _targets(run, all_profiles, lambda profile: _export_days(profile, day, first, last))
    failures: list[tuple[str, PaycliError]] = []
    for output, members in _by_output(targets).items():
        jobs: list[Any] = []

        def rows(members: list[_Target] = members, jobs: list[Any] = jobs) -> Iterator[Any]:
            for target in members:
                name = target.profile.name
                try:
                    with run.output.progress(f"Exporting {name}") as bar:
                        job = settlement.export(run.gateway_for(target.profile), target.days,
                                                workers=concurrency, progress=bar)
                        yield from job
                except PaycliError as err:  # rows of a profile come only once all were fetched: none written
                    if not all_profiles:
                        raise
                    failures.append((name, err))
                    continue
                jobs.append(job)
            if not jobs:
                raise _NothingToWrite()  # every profile of this file failed: leave no file behind

        try:
            with _writing_to(run, output):
                written = run.output.stream(rows(), views.SETTLEMENT_EXPORT)
        except _NothingToWrite:
            continue
        except PaycliError as err:  # the lock, or the file itself
            if not all_profiles:
                raise
            failed = {name for name, _ in failures}
            failures += [(target.profile.name, err) for target in members if target.profile.name not in failed]
            continue
        if not written:
            for target in members:
                _nothing_settled(run, target, defaulted=day is None and first is None)
        # the file is in place: now say whether it can be trusted
        for job in jobs:
            for warning in job.warnings:
                run.output.warn(f"{job.profile}: {warning}")
            try:
                mismatches = job.reconcile()
            except PaycliError as err:
                if not all_profiles:
                    raise
                failures.append((job.profile, err))
                continue
            if mismatches:
                cap = next(t.profile.search_cap for t in members if t.profile.name == job.profile)
                failures.append((job.profile, _mismatch_error(job.profile, mismatches, output, cap)))
        to_file = output is not None and str(output) != "-"
        if to_file and run.output.terminal.stderr:  # cron reads the exit code; a person reads this
            reconciled = not any(name == job.profile for job in jobs for name, _ in failures)
            run.output.note(f"wrote {written} transaction{'' if written == 1 else 's'} to {output}"
                            + (", reconciled with the settlement summary" if reconciled and jobs else ""))
    _finish(failures, len(targets), all_profiles, "export")


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


def _targets(run: Invocation, all_profiles: bool, days_for: Callable[["Profile"], tuple[date, ...]]) -> list[_Target]:
    if all_profiles and run.requested_profile:
        raise UsageError("give --profile or --all-profiles, not both")
    profiles = [run.profile]
    if all_profiles:
        # the built-in `local` (an embedded sandbox) is no merchant of anyone's: only when nothing else exists
        profiles = [p for p in run.profiles if p.origin.get("environment") != "built-in"] or list(run.profiles)
    template = run.output.path
    targets = []
    for profile in profiles:
        days = days_for(profile)
        targets.append(_Target(profile, days, _output_for(template, profile, days)))
    return targets


def _output_for(template: Path | None, profile: "Profile", days: tuple[date, ...]) -> Path | None:
    """`-o` with its placeholders filled in: {date} is the date, or FIRST_LAST for a range."""
    if template is None or str(template) == "-":
        return template
    text = str(template)
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        raise UsageError(f"--output '{text}': unbalanced braces; placeholders are {{date}} and {{profile}}") from None
    unknown = [name for name in fields if name not in PLACEHOLDERS]
    if unknown:
        raise UsageError(f"--output '{text}': unknown placeholder {{{unknown[0]}}}; use {{date}} and {{profile}}")
    label = days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()}_{days[-1].isoformat()}"
    return Path(text.format(date=label, profile=profile.name))


def _by_output(targets: list[_Target]) -> dict[Path | None, list[_Target]]:
    """Profiles grouped by the file they write, in profile order: without {profile}, they share one file."""
    groups: dict[Path | None, list[_Target]] = {}
    for target in targets:
        groups.setdefault(target.output, []).append(target)
    return groups


# writing and reporting -------------------------------------------------------------------------------------


@contextmanager
def _writing_to(run: Invocation, output: Path | None) -> Iterator[None]:
    """Point the run's Output at one file, holding that file's lock while it is written."""
    from paycli import locks
    from paycli.config import state_dir

    out = run.output
    saved = out.path
    out.path = output
    try:
        if out.to_file:
            with locks.exclusive(Path(output), state_dir(run.env)):  # type: ignore[arg-type]
                yield
        else:
            yield
    finally:
        out.path = saved


def _nothing_settled(run: Invocation, target: _Target, *, defaulted: bool) -> None:
    """An empty report says which day (and whose timezone) it looked at: "yesterday" is easy to misjudge."""
    days = target.days[0].isoformat() if len(target.days) == 1 else f"{target.days[0]} to {target.days[-1]}"
    hint = " (the default, yesterday there; what settled today: --date today)" if defaulted else ""
    run.output.note(f"nothing settled on {days}{hint} for profile {target.profile.name}, "
                    f"timezone {target.profile.timezone}")


def _mismatch_error(profile: str, mismatches: "list[Mismatch]", output: Path | None,
                    search_cap: int) -> PartialFailure:
    first = mismatches[0]
    more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
    where = f"{output} was written but " if output is not None and str(output) != "-" else ""
    # rows missing from the export: a gateway that stops searches below the profile's cap hides them silently
    short = any(m.export_count < m.summary_count for m in mismatches)
    cause = (f"; likely cause: the gateway caps a search below search_cap ({search_cap}) — set the profile's "
             "search_cap to the gateway's cap") if short else ""
    return PartialFailure(
        f"{where}the export of {profile} does not reconcile with the settlement summary: {first.date} "
        f"{first.merchant_account_id} {first.kind}: export {first.export_count} for {first.export_amount}, "
        f"summary {first.summary_count} for {first.summary_amount}{more}{cause}",
        profile=profile, mismatches=mismatches,
    )


def _finish(failures: list[tuple[str, PaycliError]], profiles: int, all_profiles: bool, what: str) -> None:
    if not failures:
        return
    if not all_profiles:
        raise failures[0][1]
    names = sorted({name for name, _ in failures})
    detail = "; ".join(f"{name}: {err.message}" for name, err in failures)
    raise PartialFailure(
        f"{what} failed for {len(names)} of {profiles} profiles ({', '.join(names)}); the others were written. "
        f"{detail}",
        failures=[{"profile": name, **err.to_json()} for name, err in failures],
    )
