"""Free text bound for the gateway: control characters are a usage error naming the option."""

from __future__ import annotations

import pytest

from paycli.errors import UsageError
from paycli.wire_text import optional_text, plain_text


@pytest.mark.parametrize("text", ["order-42", "Zoë's café №7", "a b", "🙂", ""])
def test_printable_text_passes_unchanged(text: str) -> None:
    assert plain_text(text, "--order-id") == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a\x00", "U+0000 at position 2"),
        ("\x1b[31m", "U+001B at position 1"),
        ("a\tb", "U+0009"),
        ("a\nb", "U+000A"),
        ("x\x7f", "U+007F"),
        ("x\x85", "U+0085"),
    ],
)
def test_control_characters_are_refused_naming_the_option(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        plain_text(text, "--reason")
    assert caught.value.message.startswith("--reason contains a control character") and says in caught.value.message


def test_undecodable_argv_bytes_are_refused() -> None:
    with pytest.raises(UsageError, match="--order-id is not valid UTF-8"):
        plain_text(b"ord\xff".decode("utf-8", "surrogateescape"), "--order-id")


def test_no_value_stays_none() -> None:
    assert optional_text(None, "--order-id") is None


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["checkout", "--amount", "5.00", "--order-id", "o\x01"], "--order-id"),
        (["checkout", "--amount", "5.00", "--customer-email", "a@b.c\r\n"], "--customer-email"),
        (["checkout", "--amount", "5.00", "--custom-field", "store=4\x002"], "--custom-field"),
        (["checkout", "--amount", "5.00", "--merchant-account", "acct\x07"], "--merchant-account"),
        (["refund", "abc123", "--order-id", "o\x01"], "--order-id"),
        (["refund", "abc123", "--reason", "oops\x1b[2J"], "--reason"),
    ],
)
def test_the_cli_refuses_control_characters_before_any_call(invoke, sandbox, args, option) -> None:
    run = invoke(*args, code=2)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option} contains a control character"), run.stderr
    assert sandbox.running.store.counts(sandbox.merchant.id) == {}  # refused before any call


def test_a_batch_row_with_a_control_character_is_reported_by_line(invoke, sandbox, tmp_path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "transaction_id,amount,order_id,reason\nabc123,1.00,ok,fine\ndef456,1.00,o\x01,fine\n"
        "ghi789,1.00,ok,bad\x1b[2J\n",
        encoding="utf-8",
    )
    run = invoke("batch-refund", rows, code=2)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and "2 bad row(s), nothing was refunded" in lines[0], run.stderr
    assert "line 3: order_id contains a control character (U+0001" in lines[0]
    assert "line 4: reason contains a control character (U+001B" in lines[0]
