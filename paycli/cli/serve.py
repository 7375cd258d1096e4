"""`paycli serve`: the two checkout controllers and a Hosted Fields page, for a front end to point at."""

from pathlib import Path
from typing import Annotated

import typer

from paycli.cli.runtime import Invocation, command, serve_until_stopped
from paycli.errors import UsageError

app = typer.Typer()

AssetsDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--assets-dir",
        file_okay=False,
        metavar="DIR",
        help="braintree-web's client.js and hosted-fields.js (pinned version) for machines without npm. "
        "Default: paycli's cache, filled by `paycli assets fetch`.",
    ),
]


def open_storefront(
    run: Invocation, *, assets_dir: Path | None, cors_origin: str | None = None, submit: bool = True
):  # -> paycli.storefront.Storefront
    """The storefront for the run's profile; a local profile needs braintree-web's files (exit 4 if missing)."""
    from paycli import browser_assets
    from paycli.storefront import Storefront

    gateway = run.gateway()
    offline = gateway.profile.environment == "local"
    assets = browser_assets.locate(run.env, assets_dir) if offline or assets_dir else None
    return Storefront(gateway, assets=assets, cors_origin=cors_origin, submit_for_settlement=submit)


@command(app, "serve", data=False)
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; loopback unless you mean otherwise.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")] = 8765,
    cors_origin: Annotated[
        str | None,
        typer.Option(
            "--cors-origin",
            metavar="ORIGIN",
            help="Let a page on this origin (your dev server, e.g. http://localhost:3000) call the controllers.",
        ),
    ] = None,
    assets_dir: AssetsDirOpt = None,
    no_submit: Annotated[
        bool, typer.Option("--no-submit", help="Only authorize; do not submit for settlement.")
    ] = False,
) -> None:
    """Serve POST /client_token, POST /checkout {nonce, amount} and a checkout page at / until Ctrl-C."""
    from urllib.parse import urlsplit

    from paycli import storefront

    if cors_origin is not None:
        parts = urlsplit(cors_origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise UsageError(f"--cors-origin '{cors_origin}' is not an origin such as http://localhost:3000")
        cors_origin = f"{parts.scheme}://{parts.netloc}"
    run = Invocation.current()
    front = open_storefront(run, assets_dir=assets_dir, cors_origin=cors_origin, submit=not no_submit)
    try:
        running = storefront.start(front, host=host, port=port, log=run.output.log if run.verbose else None)
    except OSError as err:
        raise UsageError(f"--port {port}: cannot serve on {host}:{port}: {err.strerror or err}") from None
    out = run.output
    out.note(f"paycli checkout for profile {front.gateway.profile.name} at {running.url}/")
    out.note(f"  POST {running.url}/client_token → {{clientToken}}")
    out.note(f'  POST {running.url}/checkout {{"nonce": "…", "amount": "10.00"}} → the transaction, or the decline')
    if cors_origin:
        out.note(f"  pages on {cors_origin} may call them (CORS)")
    serve_until_stopped(out, running.stop)
