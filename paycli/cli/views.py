"""How each kind of object looks on the outside: its JSON keys and its CSV/table columns (design §5).

A `View`'s `row()` is the JSON shape scripts rely on (keys may be added, never renamed); `columns` is the
fixed CSV/table order. Declined transactions are shown through `view_for()`, so a view that should be
used for errors is listed in `BY_TYPE` under its class name (no import of the models needed here).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paycli.output import GENERIC, View

if TYPE_CHECKING:
    from paycli.config import Profile

REDACTED = "****"


@dataclass(frozen=True)
class ProfileEntry:
    """A profile as listed: `selected` marks the one this run would use."""

    profile: Profile
    selected: bool = False


def profile_row(entry: ProfileEntry | Profile) -> dict[str, Any]:
    profile, selected = (entry.profile, entry.selected) if isinstance(entry, ProfileEntry) else (entry, False)
    key = profile.private_key
    return {
        "name": profile.name,
        "selected": selected,
        "environment": profile.environment,
        "merchant_id": profile.merchant_id,
        "public_key": profile.public_key,
        "private_key": REDACTED if key else None,  # the key itself never leaves config.PrivateKey
        "private_key_source": key.describe() if key else None,
        "url": profile.url,
        "merchant_accounts": dict(profile.merchant_accounts),
        "default_merchant_account": profile.default_merchant_account,
        "timezone": profile.timezone,
        "search_cap": profile.search_cap,
        "origin": dict(profile.origin),
    }


def profile_detail(entry: ProfileEntry | Profile) -> Iterator[Mapping[str, Any]]:
    row = profile_row(entry)
    profile = entry.profile if isinstance(entry, ProfileEntry) else entry
    for field, value in row.items():
        if field in ("selected", "origin", "private_key_source"):
            continue
        if field == "private_key" and profile.private_key is not None:
            key = profile.private_key
            # an inline key's "where" is the config file, which the origin column already names
            value = f"{REDACTED} ({key.source})" if key.source == "inline" else f"{REDACTED} ({key.describe()})"
        where = row["origin"].get(field, "")
        if value in (None, {}) and not where:
            continue
        yield {"field": field, "value": value, "origin": where}


PROFILE = View(
    "profile",
    columns=(
        "name",
        "selected",
        "environment",
        "merchant_id",
        "public_key",
        "private_key",
        "private_key_source",
        "url",
        "timezone",
    ),
    row=profile_row,
    detail=profile_detail,
    detail_columns=("field", "value", "origin"),
)

PROFILE_CHECK = View(
    "profile_check",
    columns=("profile", "environment", "merchant_id", "ok", "ms", "error"),
)

NONCE = View("nonce", columns=("nonce", "sale", "verification", "description"))

# class name → view, for objects shown outside their command (a Declined error's transaction)
BY_TYPE: dict[str, View] = {}


def view_for(obj: Any) -> View:
    return BY_TYPE.get(type(obj).__name__, GENERIC)
