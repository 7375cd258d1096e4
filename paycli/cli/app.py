"""The root of the command tree: global options, and the lines that mount each command module."""

import os
import sys

import typer

from paycli.cli import (
    assets,
    audit,
    checkout,
    journal,
    nonces,
    profiles,
    refund,
    sandbox,
    serve,
    settlement,
    smoke,
    token,
    txn,
    webhook,
)
from paycli.cli.options import (
    ConfigOpt,
    FormatOpt,
    NoColorOpt,
    OutputOpt,
    ProfileOpt,
    QuietOpt,
    VerboseOpt,
    VersionOpt,
    YesOpt,
)
from paycli.cli.runtime import Invocation, RootGroup

app = typer.Typer(
    name="paycli",
    cls=RootGroup,  # Click's usage errors in paycli's words
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals could hold a private key
    # plain help: rich-formatted help imports rich.markdown & co., doubling the cost of `paycli --help`
    rich_markup_mode=None,
    # help as wide as the terminal (Click stops at 80 otherwise); subcommands inherit it
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 200},
)


@app.callback()
def configure(
    ctx: typer.Context,
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    yes: YesOpt = False,
    version: VersionOpt = False,
) -> None:
    """Braintree payment operations: tokens, checkouts, lookups, refunds, settlement reports, and an offline sandbox."""
    run = Invocation(
        profile=profile,
        config=config,
        fmt=fmt,
        output=output,
        no_color=no_color,
        quiet=quiet,
        verbose=verbose,
        yes=yes,
    ).activate()
    ctx.call_on_close(run.close)


# groups are mounted with a name, single-command modules without one
app.add_typer(profiles.app, name="profiles")
app.add_typer(txn.app, name="txn")
app.add_typer(settlement.app, name="settlement")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(webhook.app, name="webhook")
app.add_typer(assets.app, name="assets")
app.add_typer(journal.app, name="journal")
app.add_typer(smoke.app)
app.add_typer(token.app)
app.add_typer(checkout.app)
app.add_typer(serve.app)
app.add_typer(nonces.app)
app.add_typer(refund.app)
app.add_typer(audit.app)


def main() -> None:
    try:
        app(prog_name="paycli")
    except Exception as err:  # escaped every command's boundary: a bug in the wiring itself
        if os.environ.get("PAYCLI_DEBUG", "") not in ("", "0") or {"-v", "--verbose"} & set(sys.argv):
            raise
        print(f"error: unexpected {type(err).__name__}: {err} (a bug in paycli; rerun with --verbose)", file=sys.stderr)
        sys.exit(1)
