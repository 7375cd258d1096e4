"""`paycli webhook kinds|sample|parse|send|listen`: Braintree webhook notifications on a developer's machine."""

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from paycli.cli import views
from paycli.cli.runtime import Invocation, command
from paycli.errors import GatewayRefused, UsageError

app = typer.Typer(help="Make, verify, send and receive Braintree webhook notifications.", no_args_is_help=True)

KindArg = Annotated[str, typer.Argument(metavar="KIND", help="A notification kind; `paycli webhook kinds` lists them.")]
IdOpt = Annotated[
    str, typer.Option("--id", metavar="ID", help="Id of the notification's subject (transaction, dispute…).")
]


@command(app, "kinds")
def kinds(
    pattern: Annotated[
        str | None, typer.Argument(metavar="FILTER", show_default=False, help="Only kinds whose name contains FILTER.")
    ] = None,
) -> None:
    """List the notification kinds the braintree SDK knows, one line each."""
    from paycli import webhooks

    run = Invocation.current()
    rows = webhooks.list_kinds(pattern)
    if not rows:
        run.output.note(f"no webhook kind contains '{pattern}'")
    run.output.emit(rows, views.WEBHOOK_KIND)


@command(app, "sample")
def sample(
    kind: KindArg,
    subject_id: IdOpt = "sample_id",
    form: Annotated[
        bool, typer.Option("--form", help="Print the form-encoded request body Braintree would POST, not JSON.")
    ] = False,
) -> None:
    """Make a signed sample notification (bt_signature, bt_payload) with the profile's keys."""
    from paycli import webhooks
    from paycli.output import Format

    run = Invocation.current()
    signed = webhooks.sample(run.gateway(offline=True), kind, subject_id)
    if form:
        # a bare string, printed as it is: the body is its own format
        run.output.in_format(Format.table).emit(signed.form_body())
        return
    run.output.emit(signed, views.WEBHOOK_SAMPLE)


@command(app, "parse")
def parse(
    signature: Annotated[str | None, typer.Option("--signature", metavar="S", help="The bt_signature value.")] = None,
    payload: Annotated[
        str | None, typer.Option("--payload", metavar="P", help="The bt_payload value (base64).")
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="FILE",
            dir_okay=False,
            help="A captured request body (bt_signature=…&bt_payload=…) or JSON with both; - for stdin.",
        ),
    ] = None,
) -> None:
    """Verify a notification against the profile's keys and decode it; exit 3 if it does not verify."""
    from paycli import webhooks

    run = Invocation.current()
    if source is not None:
        if signature is not None or payload is not None:
            raise UsageError("give --from FILE, or --signature and --payload, not both")
        signed = webhooks.read_captured(_read_source(source, run), source=f"--from {source}")
        signature, payload = signed.bt_signature, signed.bt_payload
    elif signature is None or payload is None:
        raise UsageError("give --signature and --payload, or --from FILE with a captured request body")
    run.output.emit(webhooks.parse(run.gateway(offline=True), signature, payload), views.WEBHOOK_NOTIFICATION)


def _read_source(source: Path, run: Invocation) -> str:
    if str(source) == "-":
        return run.output.stdin.read()
    try:
        return source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read --from {source}: {getattr(err, 'strerror', None) or err}") from None


@command(app, "send")
def send(
    kind: KindArg,
    to: Annotated[
        str, typer.Option("--to", metavar="URL", help="A loopback URL, e.g. http://127.0.0.1:3000/webhooks.")
    ],
    subject_id: IdOpt = "sample_id",
) -> None:
    """POST a signed sample to a local endpoint, form-encoded like Braintree; exit 3 unless it answers 2xx."""
    from paycli import webhooks

    run = Invocation.current()
    webhooks.check_loopback_url(to, option="--to")  # before connecting: a typo'd host fails fast
    run.output.emit(webhooks.send(run.gateway(offline=True), kind, to, subject_id), views.WEBHOOK_DELIVERY)


@command(app, "listen")
def listen(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")] = 4568,
    forward_to: Annotated[
        str | None,
        typer.Option(
            "--forward-to", metavar="URL", help="Also POST each request body, as received, to this loopback URL."
        ),
    ] = None,
    count: Annotated[
        int | None,
        typer.Option("--count", metavar="N", min=1, help="Exit after N notifications (default: run until Ctrl-C)."),
    ] = None,
) -> None:
    """Receive notifications on 127.0.0.1 and verify each with the profile's keys.

    One line per notification on a terminal; otherwise ndjson (-f json too: a stream has no end) or csv rows.
    Answers 200 to a notification that verifies, 403 to one that does not, 400 to a body without the pair;
    exits 3 at the end if any did not verify. Point `paycli sandbox serve --webhook-url` here.
    """
    from paycli import webhooks
    from paycli.output import Format

    run = Invocation.current()
    out = run.output
    if out.fmt is Format.json:  # a stream has no end, so no closing bracket: one document per line
        out = out.in_format(Format.ndjson)
    gateway = run.gateway(offline=True)
    rejected = received = 0
    with webhooks.Listener(gateway, port=port, forward_to=forward_to) as listener:
        out.note(f"listening on {listener.url}, verifying with profile {gateway.profile.name}'s keys; Ctrl-C stops")

        def counted() -> Iterator[webhooks.Received]:
            nonlocal rejected, received
            for record in listener.records(count):
                received += 1
                rejected += not record.verified
                yield record

        try:
            if out.fmt is Format.table and not out.to_file:
                for record in counted():
                    out.line(views.webhook_received_line(record), style="" if record.verified else "red")
            else:
                out.stream(counted(), views.WEBHOOK_RECEIVED)
        except KeyboardInterrupt:
            out.note("stopped")
    if rejected:
        raise GatewayRefused(
            f"{rejected} of {received} notification(s) did not verify with profile {gateway.profile.name}'s keys",
            rejected=rejected,
            received=received,
        )
