"""Injected faults for tests and benchmarks: `ROUTE=KIND@RATE,…` (docs/sandbox.md, "Faults and latency").

ROUTE is `*` or a route name; KIND is an HTTP status (429, 500, 503, 504), `drop-before` / `drop-after`
(close the connection without an answer, before or after the change is stored) or `slow:MS`.
Rules are tried in the order given and the first that fires wins; one seeded generator serves them
all, so a sequential client sees the same faults on every run with the same `--fault-seed`.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

ROUTES = ("token", "sale", "find", "submit", "void", "refund", "search", "summary", "testing", "customer")
STATUSES = (429, 500, 503, 504)


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class Fault:
    kind: str  # "status", "drop-before", "drop-after", "slow"
    status: int = 0
    delay_ms: int = 0


@dataclass(frozen=True)
class _Rule:
    route: str
    fault: Fault
    rate: float


class FaultPlan:
    def __init__(self, rules: list[_Rule], seed: int | None = None) -> None:
        self._rules = rules
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str | None, seed: int | None = None) -> FaultPlan:
        rules = [_parse_rule(part.strip()) for part in (spec or "").split(",") if part.strip()]
        return cls(rules, seed)

    def __bool__(self) -> bool:
        return bool(self._rules)

    def pick(self, route: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.route in ("*", route) and self._random.random() < rule.rate:
                    return rule.fault
        return None


def _parse_rule(text: str) -> _Rule:
    route, sep, rest = text.partition("=")
    kind, at, rate_text = rest.rpartition("@")
    if not sep or not at:
        raise FaultSpecError(f"fault {text!r} is not ROUTE=KIND@RATE (e.g. refund=drop-after@0.05)")
    route = route.strip()
    if route != "*" and route not in ROUTES:
        raise FaultSpecError(f"fault {text!r}: unknown route {route!r}; use * or one of {', '.join(ROUTES)}")
    try:
        rate = float(rate_text)
    except ValueError:
        raise FaultSpecError(f"fault {text!r}: rate {rate_text!r} is not a number in [0, 1]") from None
    if not 0 <= rate <= 1:
        raise FaultSpecError(f"fault {text!r}: rate {rate_text!r} is not in [0, 1]")
    kind = kind.strip()
    if kind in ("drop-before", "drop-after"):
        fault = Fault(kind)
    elif kind.startswith("slow:") and kind[5:].isdigit():
        fault = Fault("slow", delay_ms=int(kind[5:]))
    elif kind.isdigit() and int(kind) in STATUSES:
        fault = Fault("status", status=int(kind))
    else:
        raise FaultSpecError(
            f"fault {text!r}: unknown kind {kind!r}; use 429, 500, 503, 504, drop-before, drop-after or slow:MS"
        )
    return _Rule(route, fault, rate)
