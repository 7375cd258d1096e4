from __future__ import annotations

from decimal import Decimal

import pytest

from paycli.errors import UsageError
from paycli.money import format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10", "10.00"), ("10.5", "10.50"), ("10.00", "10.00"), ("0.01", "0.01"), (" 2000.00 ", "2000.00"), ("007", "7.00")],
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
