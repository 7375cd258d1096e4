"""Options shared by many commands, declared once.

The global options exist twice on purpose: before the command (the root callback) and after it (added by
`@command`), because people type `paycli refund ID --yes`, `settlement export -o out.csv` and `checkout … -q`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paycli import __version__
from paycli.formats import Format

OUTPUT_PANEL = "Output"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"paycli {__version__}")
        raise typer.Exit()


FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        show_default=False,
        help="table, json, ndjson or csv. Default: table on a terminal, else json; with -o, from the file's suffix.",
        rich_help_panel=OUTPUT_PANEL,
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        dir_okay=False,
        show_default=False,
        help="Write the data to FILE instead of stdout: atomically (temporary file, then rename; a symlink's "
        "target is replaced), or straight into a device, FIFO or /dev/stdout.",
        rich_help_panel=OUTPUT_PANEL,
    ),
]
YesOpt = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Answer yes to confirmations; needed to move money without a terminal."),
]


def complete_profile(incomplete: str) -> list[str]:
    """Profile names for shell completion of -p; nothing when the config cannot be read (no error mid-typing)."""
    import os

    try:
        from paycli.config import load_profiles

        names = load_profiles(None, os.environ).names
    except Exception:  # completion must never print a traceback into the shell
        return []
    return [name for name in names if name.startswith(incomplete)]


ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        metavar="NAME",
        show_default=False,
        autocompletion=complete_profile,
        help="Profile to use. Default: $PAYCLI_PROFILE, else the file's default_profile, else local.",
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="PATH",  # a directory is refused by the config loader: exit 4 in paycli's words, not Click's 2
        show_default=False,
        help="Config file. Default: $PAYCLI_CONFIG, else $XDG_CONFIG_HOME/paycli/config.yaml.",
    ),
]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="No colours (also NO_COLOR=1).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only data and errors: no notes, no progress bars.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Log HTTP requests (credentials redacted); a bug's traceback.")
]
VersionOpt = Annotated[
    bool,
    typer.Option("--version", callback=_show_version, is_eager=True, help="Show paycli's version and exit."),
]
