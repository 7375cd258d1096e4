from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from paycli.dates import day_end, day_start, isoformat_z, parse_date, parse_instant, today, yesterday
from paycli.errors import UsageError

NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


@freeze_time("2026-03-02T04:30:00Z")
def test_yesterday_is_the_day_before_today_in_the_profiles_timezone() -> None:
    # 04:30Z on 2 March is 23:30 on 1 March in New York: yesterday there is 28 February
    assert today(NEW_YORK) == date(2026, 3, 1)
    assert yesterday(NEW_YORK) == date(2026, 2, 28)
    assert yesterday(UTC) == date(2026, 3, 1)


@freeze_time("2026-03-09T03:30:00Z")
def test_yesterday_across_the_spring_dst_change() -> None:
    # US clocks go forward on 8 March 2026 at 02:00 EST; 03:30Z is 23:30 EDT on the 8th
    assert today(NEW_YORK) == date(2026, 3, 8)
    assert yesterday(NEW_YORK) == date(2026, 3, 7)


def test_a_dst_day_is_23_hours_long() -> None:
    spring = date(2026, 3, 8)
    # same-zone subtraction in Python is wall-clock arithmetic; elapsed time needs UTC
    start, end = (
        moment.astimezone(timezone.utc) for moment in (day_start(spring, NEW_YORK), day_end(spring, NEW_YORK))
    )
    length = end - start + timedelta(microseconds=1)
    assert length == timedelta(hours=23)
    assert day_end(spring, NEW_YORK).utcoffset() == timedelta(hours=-4)
    assert day_start(spring, NEW_YORK).utcoffset() == timedelta(hours=-5)


def test_yesterday_takes_an_explicit_now() -> None:
    now = datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc)
    assert yesterday(NEW_YORK, now) == date(2025, 12, 30)


@freeze_time("2026-03-02T04:30:00Z")
@pytest.mark.parametrize(
    ("text", "expected"),
    [("today", date(2026, 3, 1)), ("Yesterday", date(2026, 2, 28)), ("2026-02-14", date(2026, 2, 14))],
)
def test_dates_parse_in_the_profiles_timezone(text: str, expected: date) -> None:
    assert parse_date(text, tz=NEW_YORK) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-02-30", "not a calendar date"),
        ("last tuesday", "not a date"),
        ("2026/02/14", "not a date"),
        ("", "not a date"),
        ("7d", "not a date"),
    ],
)
def test_bad_dates_are_usage_errors(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_date(text, tz=UTC, field="--date")
    assert caught.value.message.startswith("--date ")
    assert says in caught.value.message


def test_a_bare_date_is_the_start_of_that_day_in_the_zone() -> None:
    since = parse_instant("2026-03-01", tz=NEW_YORK)
    assert since == datetime(2026, 3, 1, tzinfo=NEW_YORK)
    assert isoformat_z(since) == "2026-03-01T00:00:00-05:00"


def test_an_upper_bound_date_includes_the_whole_day() -> None:
    until = parse_instant("2026-03-01", tz=UTC, field="--until", end=True)
    assert until == datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)


def test_a_time_without_offset_is_read_in_the_zone_and_one_with_offset_is_kept() -> None:
    assert parse_instant("2026-03-01T09:30", tz=NEW_YORK).utcoffset() == timedelta(hours=-5)
    moment = parse_instant("2026-03-01T09:30:00Z", tz=NEW_YORK)
    assert moment == datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
    assert parse_instant("2026-03-01T09:30:00+01:00", tz=UTC).utcoffset() == timedelta(hours=1)


@freeze_time("2026-03-02T04:30:00Z")
def test_today_as_an_instant_is_midnight_in_the_zone() -> None:
    assert isoformat_z(parse_instant("today", tz=NEW_YORK)) == "2026-03-01T00:00:00-05:00"


def test_bad_instants_say_which_forms_work() -> None:
    with pytest.raises(UsageError) as caught:
        parse_instant("soon", tz=UTC, field="--since")
    assert "--since 'soon'" in caught.value.message and "YYYY-MM-DD" in caught.value.message


def test_iso_output_uses_z_for_utc_and_an_offset_otherwise() -> None:
    assert isoformat_z(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "2026-01-02T03:04:05Z"
    assert isoformat_z(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert isoformat_z(datetime(2026, 1, 2, 3, 4, 5, tzinfo=NEW_YORK)) == "2026-01-02T03:04:05-05:00"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        isoformat_z(datetime(2026, 1, 2))
