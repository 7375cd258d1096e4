"""The fields every stored record shares: the sandbox clock, ids, and request text normalised."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def now() -> datetime:
    """The sandbox clock; read through datetime so freezegun reaches an in-process sandbox."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def new_numeric_id() -> str:
    return str(secrets.randbelow(10**9)).zfill(9)


def text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None
