from __future__ import annotations

from decimal import Decimal

import pytest

from paycli.errors import UsageError
from paycli.money import format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", "10.00"),
        ("10.5", "10.50"),
        ("10.00", "10.00"),
        ("0.01", "0.01"),
        (" 2000.00 ", "2000.00"),
        ("007", "7.00"),
    ],
)
def test_plain_amounts_parse_to_cents(text: str, expected: str) -> None:
    amount = parse_amount(text)
    assert isinstance(amount, Decimal)
    assert str(amount) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("10.001", "more than 2 decimal places"),
        ("-5", "is negative"),
        ("1e3", "not a plain amount"),
        ("abc", "not a plain amount"),
        ("0", "is zero"),
        ("0.00", "is zero"),
        ("nan", "not a plain amount"),
        ("inf", "not a plain amount"),
        ("Infinity", "not a plain amount"),
        (" ", "is empty"),
        ("", "is empty"),
        ("1,000", "not a plain amount"),
        ("+5", "not a plain amount"),
        ("$5", "not a plain amount"),
        ("10.", "not a plain amount"),
        (".5", "not a plain amount"),
        ("١٠", "not a plain amount"),  # Arabic-Indic digits: Decimal() would accept them
        ("10 00", "not a plain amount"),
    ],
)
def test_malformed_amounts_are_usage_errors_that_say_how_to_fix_them(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_amount(text)
    message = caught.value.message
    assert says in message
    assert "--amount" in message and "like 10.00" in message
    assert "\n" not in message


def test_the_field_name_is_the_option_the_user_typed() -> None:
    with pytest.raises(UsageError, match="^--amount-min 'x'"):
        parse_amount("x", field="--amount-min")


@pytest.mark.parametrize(
    ("amount", "text"),
    [(Decimal("10"), "10.00"), (Decimal("10.5"), "10.50"), (Decimal("0.01"), "0.01"), (Decimal("1E+3"), "1000.00")],
)
def test_amounts_format_as_two_decimal_strings(amount: Decimal, text: str) -> None:
    assert format_amount(amount) == text


def test_sub_cent_values_are_not_rounded_away() -> None:
    assert format_amount(Decimal("0.125")) == "0.125"


def test_non_finite_amounts_cannot_be_formatted() -> None:
    with pytest.raises(ValueError):
        format_amount(Decimal("NaN"))


HUGE = ["1" * 27, "9" * 27 + ".00", "1" * 10_000, "1" * 16, "0.0" + "1" * 10_000]


@pytest.mark.parametrize("text", HUGE)
def test_absurdly_large_or_long_amounts_are_refused_without_echoing_them_whole(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_amount(text, field="--amount-max")
    message = caught.value.message
    assert message.startswith("--amount-max '") and len(message) < 200
    assert "too large" in message or "decimal places" in message


def test_the_largest_accepted_amount_stays_exact() -> None:
    assert str(parse_amount("9" * 15 + ".99")) == "9" * 15 + ".99"
    assert str(parse_amount("0" * 40 + "5")) == "5.00"  # leading zeros are not digits of the amount


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["checkout", "--amount"], "--amount"),
        (["refund", "someid", "--amount"], "--amount"),
        (["txn", "search", "--amount-min"], "--amount-min"),
        (["txn", "search", "--amount-max"], "--amount-max"),
        (["smoke", "--amount"], "--amount"),
    ],
)
@pytest.mark.parametrize("text", ["1" * 27, "1" * 10_000])
def test_a_huge_amount_on_the_command_line_exits_2_naming_the_option(invoke, args, option, text) -> None:
    run = invoke(*args, text, code=2)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option} '") and "too large" in lines[0], run.stderr
    assert "Traceback" not in run.stderr + run.stdout and "InvalidOperation" not in run.stdout


def test_a_huge_amount_in_a_batch_file_is_reported_as_that_row(invoke, tmp_path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(f"transaction_id,amount\nabc123,5.00\ndef456,{'1' * 30}\n", encoding="utf-8")
    run = invoke("batch-refund", rows, code=2)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and "line 3: amount '111" in lines[0] and "too large" in lines[0], run.stderr
    assert "nothing was refunded" in lines[0]
