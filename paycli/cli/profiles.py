"""`paycli profiles list|show|check`: what profiles exist, where each value came from, and whether they work."""

from typing import TYPE_CHECKING, Annotated

import typer

from paycli.cli import views
from paycli.cli.runtime import Invocation, command
from paycli.errors import ConfigError, PartialFailure, UsageError

if TYPE_CHECKING:
    from paycli.config import Profile

app = typer.Typer(help="List, show and check merchant profiles.", no_args_is_help=True)

NameArg = Annotated[
    str | None,
    typer.Argument(metavar="NAME", show_default=False, help="Profile name. Default: the selected profile."),
]


@command(app, "list")
def list_profiles() -> None:
    """List profiles from the config file, the BRAINTREE_* variables and the built-in local profile."""
    run = Invocation.current()
    # no validation of the selected name here: listing is how a user finds the right one
    selected = run.selected_name()
    entries = [_entry(run, profile, selected) for profile in run.profiles]
    run.output.emit(entries, views.PROFILE)
    for err in run.profiles.broken.values():  # listed nowhere else: say why it is missing from the list
        run.output.warn(f"not usable, left out: {err.message}")


@command(app, "show")
def show(name: NameArg = None) -> None:
    """Show one profile with its private key redacted and where each value comes from, and the journal it uses."""
    run = Invocation.current()
    profile = run.profiles.get(name, why="argument") if name else run.profile
    run.output.emit(_entry(run, profile, run.selected_name(), journal=True), views.PROFILE)


def _entry(run: Invocation, profile: "Profile", selected: str, *, journal: bool = False) -> views.ProfileEntry:
    key = profile.private_key
    return views.ProfileEntry(
        profile,
        profile.name == selected,
        key_missing=key is not None and key.missing(run.env),
        journal=run.profiles.journal if journal else None,
    )


@command(app, "check")
def check(
    name: NameArg = None,
    all_profiles: Annotated[bool, typer.Option("--all", help="Check every profile.")] = False,
) -> None:
    """Prove credentials work by generating a client token, and that the journal is reachable.

    Exit 4: bad credentials, or a journal refused or newer than this paycli; 6: gateway or journal
    unreachable; 7: some profiles of --all failed.
    """
    from paycli import credentials
    from paycli.profile_runs import ProfileRuns

    run = Invocation.current()
    if name and all_profiles:
        raise UsageError("give a profile NAME or --all, not both")
    targets = list(run.profiles) if all_profiles else [run.profiles.get(name, why="argument") if name else run.profile]

    # with --all, a profile that does not validate fails its check and the others are still checked; one
    # profile's failure is raised with its own error and exit code (4 or 6)
    runs = ProfileRuns(keep_going=all_profiles, broken=run.profiles.broken)
    results = credentials.unusable(runs)
    with run.output.progress("Checking profiles", total=len(targets)) as bar:
        for result in credentials.check_profiles(targets, run.gateway_for, runs):
            results.append(result)
            bar.advance()
    failed = [result for result in results if not result.ok]
    journal_line = _check_journal(run)
    if not failed and run.profiles.journal.origin != "default":  # a failure stays one line; the default is no news
        run.output.note(journal_line)
    run.output.emit(results, views.PROFILE_CHECK)
    if failed:
        names = ", ".join(result.profile for result in failed)
        raise PartialFailure(
            f"{len(failed)} of {len(results)} profiles failed the check: {names}",
            failed=[result.profile for result in failed],
        )


def _check_journal(run: Invocation) -> str:
    """The journal every money-moving command will need: reachable, and a schema this paycli understands."""
    from paycli import journal

    found = journal.status(run.profiles.journal.target)  # JournalUnavailable (6) or ConfigError (4) propagate
    if found.too_new:
        raise ConfigError(
            f"journal {found.location}: schema version {found.schema_version} is newer than this "
            f"paycli understands ({found.supported_version}); upgrade paycli",
            journal=found.location,
        )
    version = f"schema version {found.schema_version}" if found.schema_version else "no entries yet"
    server = f", PostgreSQL {found.server}" if found.server else ""
    return f"journal {found.location} ({found.backend}{server}): reachable, {version}, {found.ms} ms"
