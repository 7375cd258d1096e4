"""Injected faults and latency (docs/sandbox.md, "Faults and latency"): the client sees real HTTP failures
and dropped connections."""

from __future__ import annotations

import time

import braintree
import pytest
from gateway_calls import gateway_for, new_merchant, sale

from paycli import sandbox
from paycli.sandbox.faults import FaultPlan, FaultSpecError

exceptions = braintree.exceptions


@pytest.mark.parametrize(
    "spec",
    [
        "sale",
        "sale=429",
        "=429@1",
        "nowhere=429@1",
        "sale=418@1",
        "sale=200@1",
        "sale=429@1.5",
        "sale=429@-0.1",
        "sale=429@often",
        "sale=slow:@1",
        "sale=slow:ten@1",
        "sale=drop@1",
        "sale=429@1,refund",
    ],
)
def test_bad_fault_specs_are_refused_with_a_message(spec) -> None:
    with pytest.raises(FaultSpecError, match="fault"):
        FaultPlan.parse(spec)


def test_bad_fault_spec_stops_the_server_from_starting(tmp_path) -> None:
    with pytest.raises(ValueError):
        sandbox.start(tmp_path / "s.db", merchants=[], faults="sale=999@1")


@pytest.mark.parametrize(
    "spec",
    [
        "refund=drop-after@0.05,*=503@0.03,*=429@0.02",
        "sale=slow:250@1",
        " find = 504 @ 0 ",
        "*=drop-before@1",
    ],
)
def test_good_fault_specs_parse(spec) -> None:
    assert FaultPlan.parse(spec)


def test_empty_spec_is_no_faults() -> None:
    assert not FaultPlan.parse("")
    assert not FaultPlan.parse(None)
    assert FaultPlan.parse(None).pick("sale") is None


def test_rate_zero_never_fires_and_rate_one_always_does() -> None:
    plan = FaultPlan.parse("sale=429@0,find=500@1", seed=1)

    assert all(plan.pick("sale") is None for _ in range(200))
    assert all(plan.pick("find").status == 500 for _ in range(20))


def test_star_applies_to_every_route(own_gateway) -> None:
    gateway = own_gateway(faults="*=503@1")

    with pytest.raises(exceptions.ServiceUnavailableError):
        sale(gateway)
    with pytest.raises(exceptions.ServiceUnavailableError):
        gateway.client_token.generate()


@pytest.fixture
def route_faults(own_gateway):
    """One server whose sale, find, void and customer routes each answer a different status."""
    return own_gateway(faults="sale=429@1,find=500@1,void=504@1,customer=503@1")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda g: sale(g), exceptions.TooManyRequestsError),
        (lambda g: g.transaction.find("abc123"), exceptions.ServerError),
        (lambda g: g.transaction.void("abc123"), exceptions.GatewayTimeoutError),
        (lambda g: g.customer.create({}), exceptions.ServiceUnavailableError),
    ],
)
def test_status_faults_raise_the_sdks_exception_for_that_status(route_faults, call, error) -> None:
    with pytest.raises(error):
        call(route_faults)


def test_a_route_fault_leaves_other_routes_alone(route_faults) -> None:
    assert route_faults.client_token.generate()
    assert route_faults.settlement_batch_summary.generate("2026-01-01").is_success


def test_status_fault_changes_nothing(start_sandbox) -> None:
    merchant = new_merchant()
    running = start_sandbox([merchant], faults="sale=503@1")

    with pytest.raises(exceptions.ServiceUnavailableError):
        sale(gateway_for(running, merchant))

    assert running.store.counts(merchant.id) == {}


@pytest.fixture
def settled_on(start_sandbox):
    """`settled_on(faults)`: (gateway, settled sale id) on a server with those faults on the refund route."""

    def make(faults: str):
        merchant = new_merchant()
        gateway = gateway_for(start_sandbox([merchant], faults=faults), merchant)
        txn = sale(gateway, "10.00", submit=True).transaction
        gateway.testing.settle_transaction(txn.id)
        return gateway, txn.id

    return make


def test_drop_after_loses_the_answer_but_keeps_the_refund(settled_on) -> None:
    gateway, txn_id = settled_on("refund=drop-after@1")

    with pytest.raises(exceptions.http.ConnectionError):
        gateway.transaction.refund(txn_id)

    refund_ids = gateway.transaction.find(txn_id).refund_ids
    assert len(refund_ids) == 1
    assert gateway.transaction.find(refund_ids[0]).refunded_transaction_id == txn_id


def test_drop_before_loses_the_answer_and_stores_nothing(settled_on) -> None:
    gateway, txn_id = settled_on("refund=drop-before@1")

    with pytest.raises(exceptions.http.ConnectionError):
        gateway.transaction.refund(txn_id)

    assert gateway.transaction.find(txn_id).refund_ids == []


def test_after_a_dropped_sale_a_retry_with_the_same_key_returns_the_stored_sale(start_sandbox, tmp_path) -> None:
    merchant = new_merchant()
    db = tmp_path / "shared.db"
    dropping = gateway_for(start_sandbox([merchant], db=db, faults="sale=drop-after@1"), merchant)
    healthy = gateway_for(start_sandbox([merchant], db=db), merchant)

    with pytest.raises(exceptions.http.ConnectionError):
        sale(dropping, "10.00", api_request_key="retry-me")
    retried = sale(healthy, "10.00", api_request_key="retry-me")

    assert retried.is_success
    stored = healthy.transaction.search(braintree.TransactionSearch.amount >= "0.01")
    assert [txn.id for txn in stored.items] == [retried.transaction.id]


def elapsed(call) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_slow_fault_delays_only_its_route(own_gateway) -> None:
    gateway = own_gateway(faults="sale=slow:300@1")
    token_time = elapsed(gateway.client_token.generate)

    sale_time = elapsed(lambda: sale(gateway))

    assert sale_time >= 0.3
    assert sale_time > token_time


def test_slow_fault_still_answers(own_gateway) -> None:
    gateway = own_gateway(faults="sale=slow:50@1")

    assert sale(gateway).is_success


def test_latency_delays_every_request(own_gateway) -> None:
    gateway = own_gateway(latency_ms=200)

    assert elapsed(gateway.client_token.generate) >= 0.2
    assert elapsed(lambda: gateway.settlement_batch_summary.generate("2026-01-01")) >= 0.2


def outcomes(gateway, count: int = 16) -> list[str]:
    seen = []
    for _ in range(count):
        try:
            seen.append("ok" if sale(gateway).is_success else "declined")
        except exceptions.ServiceUnavailableError:
            seen.append("503")
        except exceptions.TooManyRequestsError:
            seen.append("429")
    return seen


def test_fault_seed_makes_the_sequence_repeatable(own_gateway) -> None:
    spec = "sale=503@0.4,*=429@0.3"

    first = outcomes(own_gateway(faults=spec, fault_seed=7))
    second = outcomes(own_gateway(faults=spec, fault_seed=7))

    assert first == second
    assert {"ok", "503", "429"} <= set(first)


def test_fault_plan_with_the_same_seed_picks_the_same_faults() -> None:
    spec = "refund=drop-after@0.5,*=503@0.3"
    one, two, other = FaultPlan.parse(spec, 7), FaultPlan.parse(spec, 7), FaultPlan.parse(spec, 8)

    picks = [one.pick("refund") for _ in range(50)]

    assert picks == [two.pick("refund") for _ in range(50)]
    assert picks != [other.pick("refund") for _ in range(50)]
