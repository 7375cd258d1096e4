"""`paycli journal status|import`: where the money-moving journal is, and bringing local history into a team's."""

from pathlib import Path
from typing import Annotated

import typer

from paycli.cli.runtime import Invocation, command
from paycli.errors import UsageError

app = typer.Typer(help="The journal of money-moving operations: status, import.", no_args_is_help=True)


@command(app, "status")
def status() -> None:
    """Where the journal is, whether it is reachable, and its schema version (the password never shown)."""
    from paycli import journal

    run = Invocation.current()
    run.output.emit(journal.status(run.profiles.journal.target))


@command(app, "import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="A SQLite journal, e.g. ~/.local/state/paycli/journal.db.", show_default=False
        ),
    ],
) -> None:
    """Copy a local SQLite journal's entries into this run's journal (the team's); running it twice adds nothing."""
    from paycli import journal
    from paycli.errors import ConfigError
    from paycli.journal import Journal

    run = Invocation.current()
    source_path = file.expanduser()
    if not source_path.is_file():
        raise UsageError(f"FILE {file}: no such journal file")
    try:
        found = journal.status(source_path)  # reads only: a file that is not a journal stays untouched
    except ConfigError as err:
        raise UsageError(f"FILE {file} is not a paycli journal: {err.message}") from None
    if found.schema_version == 0 or found.too_new:
        raise UsageError(
            f"FILE {file} is not a paycli journal this paycli can read (schema version {found.schema_version})"
        )
    target = run.journal()
    if target.path is not None and target.path.resolve() == source_path.resolve():
        raise UsageError(
            f"FILE {file} is this run's journal already; set `journal:` or $PAYCLI_JOURNAL to the shared one first"
        )
    source = Journal(source_path)
    try:
        added, present = target.import_entries(source)
    finally:
        source.close()
    run.output.note(f"imported {added} entries from {file} into {target.location}; {present} were there already")
    run.output.emit({"source": str(source_path), "journal": target.location, "added": added, "already_there": present})
