"""The sandbox keeps no copy of a Braintree fact paycli's client also uses: status sets, page size, search cap.

Each lives once in paycli.braintree_facts; a sandbox module that retyped one could drift from the client
(the client would count a refund, or plan a search, differently from the gateway it talks to).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import paycli.sandbox
from paycli import braintree_facts as facts
from paycli.sandbox import rules, server
from paycli.sandbox.search import Searches

SANDBOX_MODULES = [
    importlib.import_module(f"paycli.sandbox.{info.name}") for info in pkgutil.iter_modules(paycli.sandbox.__path__)
]
FACTS = {name: value for name, value in vars(facts).items() if name.isupper()}
STATUSES = frozenset(facts.TRANSACTION_STATUSES)
# Sets of statuses with a meaning only the sandbox has (the client never decides from them).
SANDBOX_ONLY = {id(rules.SETTLEABLE)}  # where the testing endpoints may take a transaction from


def status_collections(module: ModuleType) -> dict[str, object]:
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, (set, frozenset, tuple))
        and value
        and all(isinstance(v, str) for v in value)
        and set(value) <= STATUSES
    }


@pytest.mark.parametrize("module", SANDBOX_MODULES, ids=lambda module: module.__name__)
def test_a_sandbox_module_uses_the_shared_facts_not_a_copy(module: ModuleType) -> None:
    for name, value in vars(module).items():
        if name in FACTS:  # a number can only drift in value; a collection must be the very object
            same = value == FACTS[name] if isinstance(value, int) else value is FACTS[name]
            assert same, f"{module.__name__}.{name} is a copy of braintree_facts.{name}"
    shared = {id(value) for value in FACTS.values()}
    for name, value in status_collections(module).items():
        assert id(value) in shared | SANDBOX_ONLY, f"{module.__name__}.{name} is a status set of its own"


def test_the_status_scan_sees_status_sets() -> None:
    assert "SETTLEABLE" in status_collections(rules)
    assert "IN_BATCH_STATUSES" in status_collections(importlib.import_module("paycli.sandbox.settlement"))


def test_the_testing_endpoints_reach_exactly_the_settlement_outcomes() -> None:
    assert sorted(server._TESTING.values()) == sorted(facts.SETTLEMENT_OUTCOMES) == sorted(rules.SETTLEMENT_RESPONSES)


def test_searches_are_capped_and_paged_by_the_shared_numbers(tmp_path) -> None:
    from paycli.sandbox.store import Store

    assert Searches(Store(tmp_path / "s.db"), lambda merchant: None).cap == facts.SEARCH_CAP
