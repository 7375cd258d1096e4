"""Free text bound for the gateway: control characters are a usage error naming the option."""

from __future__ import annotations

import pytest

from paycli.errors import UsageError
from paycli.wire_text import optional_text, plain_text


@pytest.mark.parametrize("text", ["order-42", "Zoë's café №7", "a b", "🙂", ""])
def test_printable_text_passes_unchanged(text: str) -> None:
    assert plain_text(text, "--order-id") == text


@pytest.mark.parametrize(("text", "says"), [
    ("a\x00", "U+0000 at position 2"), ("\x1b[31m", "U+001B at position 1"), ("a\tb", "U+0009"),
    ("a\nb", "U+000A"), ("x\x7f", "U+007F"), ("x\x85", "U+0085"),
])
def test_control_characters_are_refused_naming_the_option(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        plain_text(text, "--reason")
    assert caught.value.message.startswith("--reason contains a control character") and says in caught.value.message


def test_undecodable_argv_bytes_are_refused() -> None:
    with pytest.raises(UsageError, match="--order-id is not valid UTF-8"):
        plain_text(b"ord\xff".decode("utf-8", "surrogateescape"), "--order-id")


def test_no_value_stays_none() -> None:
    assert optional_text(None, "--order-id") is None


@pytest.mark.parametrize(("args", "option"), [
    (["checkout", "--amount", "5.00", "--order-id", "o\x01"], "--order-id"),
    (["checkout", "--amount", "5.00", "--customer-email", "a@b.c\r\n"], "--customer-email"),
    (["checkout", "--amount", "5.00", "--custom-field", "store=4\x002"], "--custom-field"),
    (["checkout", "--amount", "5.00", "--merchant-account", "acct\x07"], "--merchant-account"),
    (["refund", "abc123", "--order-id", "o\x01"], "--order-id"),
    (["refund", "abc123", "--reason", "oops\x1b[2J"], "--reason"),
])
def test_the_cli_refuses_control_characters_before_any_call(invoke, sandbox, args, option) -> None:
    run = invoke(*args, code=2)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option} contains a control character"), run.stderr
    assert sandbox.running.store.counts(sandbox.merchant.id) == {}  # refused before any call
