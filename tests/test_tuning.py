"""Option defaults come from paycli/tuning.py, the one home the CLI, the domain and the sandbox share."""

from __future__ import annotations

import inspect

from paycli import batch_refunds, settlement, tuning
from paycli.cli import refund as refund_cli
from paycli.cli import sandbox as sandbox_cli
from paycli.cli import settlement as settlement_cli
from paycli.sandbox import server


def _default(function, name: str):
    return inspect.signature(function).parameters[name].default


def test_every_layer_takes_its_defaults_from_one_home() -> None:
    assert (
        _default(refund_cli.batch_refund, "concurrency")
        == batch_refunds.DEFAULT_CONCURRENCY
        == tuning.BATCH_ROWS_IN_FLIGHT
    )
    assert _default(settlement_cli.export, "concurrency") == settlement.DEFAULT_WORKERS == tuning.EXPORT_PAGES_IN_FLIGHT
    assert _default(sandbox_cli.serve, "idle_timeout") == server.IDLE_TIMEOUT_SECONDS == tuning.SANDBOX_IDLE_TIMEOUT_S
    assert _default(sandbox_cli.serve, "max_connections") == server.MAX_CONNECTIONS == tuning.SANDBOX_MAX_CONNECTIONS


def test_the_cli_modules_retype_no_tuning_number() -> None:
    for module in (refund_cli, settlement_cli, sandbox_cli):
        source = inspect.getsource(module)
        assert "] = 8," not in source and "max=32" not in source and "] = 128," not in source, module.__name__
