"""`paycli sandbox serve|settle|reset|status`: the offline Braintree gateway, for paycli and any other SDK."""

from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from paycli.braintree_facts import SEARCH_CAP, SETTLEMENT_OUTCOMES
from paycli.cli import views
from paycli.cli.runtime import Invocation, command, serve_until_stopped
from paycli.errors import Cancelled, ConfigError, UsageError
from paycli.tuning import SANDBOX_IDLE_TIMEOUT_S, SANDBOX_MAX_CONNECTIONS

app = typer.Typer(help="Run and drive the offline Braintree-compatible sandbox.", no_args_is_help=True)


class ClientHosts(str, Enum):
    """Where the client tokens a served sandbox makes send a browser (see docs/sandbox.md)."""

    local = "local"  # this server; braintree-web's relative paths reach it through `paycli serve`
    braintree = "braintree"  # Braintree's sandbox host names, for a browser that routes them here


_MERCHANT_FORMS = "ID:PUBLIC_KEY:PRIVATE_KEY[:ACCT=CUR,…] or ID:PUBLIC_KEY:env:VAR[:ACCT=CUR,…]"


def _merchant(spec: str, env: Mapping[str, str]):  # -> paycli.sandbox.store.Merchant, imported lazily
    """A `--merchant` spec; with `env:VAR` in the key's place the private key is read from $VAR, so it is
    never in the process's argv (visible to every user through `ps`)."""
    from paycli.sandbox.store import Merchant, default_accounts

    parts = spec.split(":")
    from_env = len(parts) >= 4 and parts[2] == "env"
    fields = 4 if from_env else 3
    if len(parts) not in (fields, fields + 1) or not all(parts[:fields]):
        raise UsageError(f"--merchant '{spec.split(':')[0]}:…' must be {_MERCHANT_FORMS}")
    merchant_id, public_key = parts[:2]
    private_key = parts[2]
    if from_env:
        private_key = env.get(parts[3], "")
        if not private_key:
            raise ConfigError(
                f"--merchant {merchant_id}: the environment variable {parts[3]} (its private key) is not set or empty"
            )
    accounts = default_accounts(merchant_id)
    if len(parts) == fields + 1:
        accounts = {}
        for item in parts[fields].split(","):
            account, _, currency = item.partition("=")
            if not account:
                raise UsageError(f"--merchant {merchant_id}: empty merchant account in '{parts[fields]}'")
            accounts[account] = (currency or "USD").upper()
    return Merchant(merchant_id, public_key, private_key, accounts)


def _http_url(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@command(app, "serve", data=False)
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; loopback unless you mean otherwise.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")] = 4567,
    db: Annotated[
        Path | None, typer.Option("--db", dir_okay=False, help="State database. Default: the state dir's sandbox.db.")
    ] = None,
    merchant: Annotated[
        list[str] | None,
        typer.Option(
            "--merchant",
            metavar="ID:PUB:env:VAR[:ACCT=CUR,…]",
            help="A merchant and its keys; repeatable. `ID:PUB:env:VAR` reads the private key from the "
            "environment variable VAR, keeping it out of process listings; `ID:PUB:PRIV` (the key itself "
            "in argv, visible to every local user through ps) is for throwaway keys. "
            "Default: the built-in local merchant.",
        ),
    ] = None,
    latency: Annotated[int, typer.Option("--latency", metavar="MS", min=0, help="Delay every request by MS.")] = 0,
    faults: Annotated[
        str | None,
        typer.Option("--faults", metavar="SPEC", help="ROUTE=KIND@RATE,… e.g. refund=drop-after@0.05,*=503@0.03"),
    ] = None,
    fault_seed: Annotated[
        int | None, typer.Option("--fault-seed", metavar="N", help="Make the fault sequence repeatable.")
    ] = None,
    search_cap: Annotated[
        int,
        typer.Option(
            "--search-cap", metavar="N", min=1, help=f"Most ids one search returns (Braintree: {SEARCH_CAP})."
        ),
    ] = SEARCH_CAP,
    timezone: Annotated[str, typer.Option("--timezone", help="Merchants' timezone for settlement dates.")] = "UTC",
    nightly_settlement: Annotated[
        str | None,
        typer.Option(
            "--nightly-settlement", metavar="HH:MM", help="Settle what was submitted before this local time, nightly."
        ),
    ] = None,
    idle_timeout: Annotated[
        float,
        typer.Option(
            "--idle-timeout",
            metavar="SECONDS",
            min=0.1,
            help="Close a connection after this long without a byte from the client.",
        ),
    ] = SANDBOX_IDLE_TIMEOUT_S,
    max_connections: Annotated[
        int,
        typer.Option(
            "--max-connections",
            metavar="N",
            min=1,
            help="Open connections served at once (a thread each); more are answered 503.",
        ),
    ] = SANDBOX_MAX_CONNECTIONS,
    client_hosts: Annotated[
        ClientHosts,
        typer.Option(
            "--client-hosts",
            help="Host names in client tokens: `local` (this server) or `braintree` "
            "(Braintree's sandbox hosts, for a browser that routes them here: GraphQL tokenization, "
            "tokencc_ nonces).",
        ),
    ] = ClientHosts.local,
    webhook_url: Annotated[
        str | None,
        typer.Option(
            "--webhook-url",
            metavar="URL",
            help="POST signed transaction_settled, transaction_settlement_declined "
            "and transaction_disbursed notifications here as transactions settle (for every payment method; "
            "Braintree's own sandbox sends them only for ACH/SEPA), e.g. to `paycli webhook listen`.",
        ),
    ] = None,
) -> None:
    """Serve the offline gateway until Ctrl-C; prints how to point an SDK at it."""
    import dataclasses
    import re
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from paycli import sandbox
    from paycli.config import state_dir
    from paycli.sandbox.faults import FaultPlan, FaultSpecError

    run = Invocation.current()
    try:
        FaultPlan.parse(faults, fault_seed)
    except FaultSpecError as err:
        raise UsageError(f"--faults: {err}") from None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--timezone '{timezone}' is not an IANA timezone such as America/New_York") from None
    if webhook_url and not _http_url(webhook_url):
        raise UsageError(f"--webhook-url '{webhook_url}' is not an http(s) URL such as http://127.0.0.1:4568/")
    if nightly_settlement and not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", nightly_settlement):
        raise UsageError(f"--nightly-settlement '{nightly_settlement}' is not a time like 02:00")
    merchants = [_merchant(spec, run.env) for spec in merchant or []] or [sandbox.local_merchant()]
    merchants = [dataclasses.replace(m, timezone=timezone, nightly_settlement=nightly_settlement) for m in merchants]
    path = db or state_dir(run.env) / "sandbox.db"
    try:
        running = sandbox.start(
            path,
            merchants,
            host=host,
            port=port,
            search_cap=search_cap,
            latency_ms=latency,
            faults=faults,
            fault_seed=fault_seed,
            log=run.output.log if run.verbose else None,
            webhook_url=webhook_url,
            webhook_log=run.output.note,
            idle_timeout=idle_timeout,
            max_connections=max_connections,
            client_hosts=client_hosts.value,
        )
    except OSError as err:
        raise UsageError(f"cannot serve on {host}:{port}: {err.strerror or err}") from None
    out = run.output
    out.note(f"paycli sandbox listening on {running.url} (state: {path})")
    for m in merchants:
        out.note(f"  merchant {m.id}: public key {m.public_key}, accounts {', '.join(m.accounts)}")
    bound = f"{running.server.server_address[0]!s}"  # an AF_INET address: a str
    out.note(
        f'  Python SDK: braintree.Environment("local", "{bound}", "{running.port}", '
        f'"{running.url}", False, None, "{bound}", "{running.port}")'
    )
    out.note(f"  paycli profile: environment: local, url: {running.url}, merchant_id, public_key, private_key_env")
    if webhook_url:
        out.note(f"  webhooks: settlements are posted to {webhook_url}, signed with each merchant's keys")
    serve_until_stopped(out, running.stop)


@command(app, "settle")
def settle(
    ids: Annotated[list[str] | None, typer.Argument(metavar="ID…", help="Transactions to settle.")] = None,
    all_waiting: Annotated[bool, typer.Option("--all", help="Settle everything submitted for settlement.")] = False,
    outcome: Annotated[
        str, typer.Option("--outcome", help="settled, settlement_confirmed, settlement_declined or settlement_pending.")
    ] = "settled",
) -> None:
    """Settle transactions now, through the profile's gateway (a served sandbox fires its webhooks)."""
    from paycli import sandbox_admin

    if outcome not in SETTLEMENT_OUTCOMES:
        raise UsageError(f"--outcome '{outcome}' is not one of {', '.join(SETTLEMENT_OUTCOMES)}")
    if ids and all_waiting:
        raise UsageError("give transaction IDs or --all, not both")
    if not ids and not all_waiting:
        raise UsageError("name the transaction IDs to settle, or --all for every one waiting")
    run = Invocation.current()
    gateway = run.gateway()
    targets = sandbox_admin.waiting_ids(gateway) if all_waiting else list(ids or [])
    count = run.output.stream(sandbox_admin.settle(gateway, targets, outcome), views.TRANSACTION)
    run.output.note(f"{count} transaction(s) {outcome}")


@command(app, "reset", confirms=True)
def reset() -> None:
    """Forget every transaction and customer of the profile's sandbox merchant.

    A served sandbox (a profile with a url) is shared: paycli asks first on a terminal, and without one
    refuses (exit 2) unless --yes is given. The built-in local profile's own sandbox is reset without asking.
    """
    from paycli import sandbox_admin

    run = Invocation.current()
    profile = run.profile
    if profile.url and not run.confirm(
        f"Forget every transaction and customer of merchant {profile.merchant_id} "
        f"on the sandbox at {profile.url}, for everyone using it?"
    ):
        raise Cancelled("cancelled: nothing was reset")
    run.output.emit(sandbox_admin.reset(run.gateway()))


@command(app, "status")
def status() -> None:
    """Show the sandbox merchant's accounts, settings and transaction counts by status."""
    from paycli import sandbox_admin

    run = Invocation.current()
    run.output.emit(sandbox_admin.status(run.gateway()))
