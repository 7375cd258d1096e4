"""Dates and instants from the command line, always timezone-aware.

"Yesterday" and a bare date mean a day in the profile's timezone (a settlement date in New York is not the
UTC date); a time without an offset is read in that zone too. The clock is `datetime.now(timezone.utc)`,
so freezegun can pin it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from paycli.errors import UsageError

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_FORMS = "use YYYY-MM-DD, an ISO-8601 time like 2026-03-01T09:30:00Z, today or yesterday"


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def today(tz: tzinfo, now: datetime | None = None) -> date:
    return (now or now_utc()).astimezone(tz).date()


def yesterday(tz: tzinfo, now: datetime | None = None) -> date:
    """The calendar day before today in `tz`: at 04:30Z on 2 March it is still 1 March in New York."""
    return today(tz, now) - timedelta(days=1)


def parse_date(text: str, *, tz: tzinfo, field: str = "--date", now: datetime | None = None) -> date:
    """A calendar day: YYYY-MM-DD, `today` or `yesterday` (in `tz`)."""
    raw = text.strip()
    word = raw.lower()
    if word == "today":
        return today(tz, now)
    if word == "yesterday":
        return yesterday(tz, now)
    if not _ISO_DATE.fullmatch(raw):
        raise UsageError(f"{field} '{raw}' is not a date; use YYYY-MM-DD, today or yesterday", field=field, value=raw)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise UsageError(f"{field} '{raw}' is not a calendar date; use YYYY-MM-DD", field=field, value=raw) from None


def parse_instant(
    text: str, *, tz: tzinfo, field: str = "--since", end: bool = False, now: datetime | None = None
) -> datetime:
    """An aware datetime from an ISO date or datetime, `today` or `yesterday`.

    A day stands for its first instant, or with `end=True` (upper bounds such as `--until`) its last
    microsecond, so `--until 2026-03-01` includes all of 1 March. A time without an offset is in `tz`.
    """
    raw = text.strip()
    if raw.lower() in ("today", "yesterday") or _ISO_DATE.fullmatch(raw):
        day = parse_date(raw, tz=tz, field=field, now=now)
        return day_end(day, tz) if end else day_start(day, tz)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(f"{field} '{raw}' is not a date or time; {_FORMS}", field=field, value=raw) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def day_end(day: date, tz: tzinfo) -> datetime:
    """The last microsecond of `day` in `tz`; computed from the next midnight so a DST day stays 23 or 25 hours."""
    next_midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return (next_midnight.astimezone(timezone.utc) - timedelta(microseconds=1)).astimezone(tz)


def isoformat_z(moment: datetime) -> str:
    """ISO-8601 with an offset; a zero offset is written `Z`. Naive datetimes are a bug, not a format."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: paycli datetimes are always timezone-aware")
    text = moment.isoformat()
    if moment.utcoffset() == timedelta(0):
        return text.removesuffix("+00:00") + "Z"
    return text
