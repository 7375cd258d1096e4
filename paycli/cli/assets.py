"""`paycli assets fetch`: braintree-web's browser files for `paycli serve` and `checkout --browser`, from npm."""

import typer

from paycli.cli.runtime import Invocation, command

app = typer.Typer(help="braintree-web's browser files (fetched with npm, pinned, verified).", no_args_is_help=True)


@command(app, "fetch")
def fetch() -> None:
    """Fetch the pinned braintree-web with `npm pack`, check its integrity, keep its two browser files."""
    from paycli import browser_assets

    run = Invocation.current()
    folder = browser_assets.fetch(run.env)
    run.output.emit(
        {
            "package": browser_assets.PACKAGE,
            "version": browser_assets.VERSION,
            "integrity": browser_assets.INTEGRITY,
            "path": str(folder),
            "files": sorted(browser_assets.FILES),
        }
    )


@command(app, "status")
def status() -> None:
    """Where the pinned files are, if they are there and intact (exit 4 otherwise, naming the fix)."""
    from paycli import browser_assets

    run = Invocation.current()
    folder = browser_assets.locate(run.env)
    run.output.emit(
        {
            "package": browser_assets.PACKAGE,
            "version": browser_assets.VERSION,
            "path": str(folder),
            "files": sorted(browser_assets.FILES),
        }
    )
