"""The words of output — formats and views — kept apart from the machinery that writes them.

Every command module names a `View` and the options name `Format` when they are imported, which happens on
every `paycli --help`; `paycli.output` (JSON, CSV, rich, atomic files) is loaded only when a command runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Format(str, Enum):
    table = "table"
    json = "json"
    ndjson = "ndjson"
    csv = "csv"


# `-o out.csv` with no --format means CSV: what a cron line like `settlement export -o out.csv` expects
SUFFIX_FORMATS = {".csv": Format.csv, ".json": Format.json, ".ndjson": Format.ndjson, ".jsonl": Format.ndjson}


def _default_row(obj: Any) -> Mapping[str, Any]:
    from paycli.output import jsonable

    value = jsonable(obj)
    return value if isinstance(value, dict) else {"value": value}


@dataclass(frozen=True)
class View:
    """How one kind of object is shown: `row()` is its JSON shape, `columns` the CSV/table columns in order.

    CSV and list tables show only `columns`, so adding a key to `row()` never reorders a cron job's file.
    `detail` optionally turns a single object into rows (`detail_columns`) for a table, e.g. a profile
    shown as field / value / origin.
    """

    name: str
    columns: tuple[str, ...] = ()  # empty: the keys of the first row
    row: Callable[[Any], Mapping[str, Any]] = _default_row
    detail: Callable[[Any], Iterable[Mapping[str, Any]]] | None = None
    detail_columns: tuple[str, ...] = ()
    # a list on a terminal: the columns that fit a screen (CSV and JSON keep everything)
    table_columns: tuple[str, ...] = ()
    # on a terminal too narrow for every column, these go first (in this order), then the others from the right
    drop_first: tuple[str, ...] = ()


GENERIC = View("object")
