"""Property-based robustness: random and mutated bodies against every route never get a 500, never hang,
and the server answers a normal request after each.

Each example takes a valid document for a route and mutates it (fields dropped, retyped, duplicated,
nested, oversized), then encodes it in one of several encodings — or sends random bytes instead.
Hypothesis runs derandomized, so CI sees the same examples on every run.
"""

from __future__ import annotations

import copy
import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import pytest
from gateway_calls import gateway_for, new_merchant, sale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_server import auth_headers

from paycli import sandbox
from paycli.sandbox import server as sandbox_server

ADDRESS = {
    "first_name": "Ann",
    "last_name": "Lee",
    "street_address": "1 Main St",
    "locality": "Chicago",
    "region": "IL",
    "postal_code": "60601",
    "country_code_alpha2": "US",
}
CUSTOMER = {"first_name": "Ann", "email": "ann@example.com", "phone": "312-555-0100", "website": "example.com"}
SALE = {
    "amount": "10.00",
    "type": "sale",
    "payment_method_nonce": "fake-valid-nonce",
    "order_id": "o-1",
    "customer": CUSTOMER,
    "billing": ADDRESS,
    "shipping": ADDRESS,
    "custom_fields": {"store": "north"},
    "descriptor": {"name": "ACME*SHOP", "phone": "3125550100"},
    "line_items": [{"name": "tee", "kind": "debit", "quantity": "1", "unit_amount": "10.00", "total_amount": "10.00"}],
    "options": {"submit_for_settlement": True, "store_in_vault_on_success": False},
    "api_request_key": "robust-1",
}
SEARCH = {
    "amount": {"min": "1.00", "max": "100.00"},
    "created_at": {"min": "2020-01-01T00:00:00Z"},
    "status": ["settled", "authorized"],
    "order_id": {"starts_with": "o-"},
    "ids": ["abc", "def"],
}
CARD = {
    "number": "4111111111111111",
    "expiration_date": "12/2030",
    "cvv": "123",
    "cardholder_name": "Ann Lee",
    "billing_address": ADDRESS,
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # under /merchants/<id>/, with {txn}, {settled}, {customer}, {address}, {token}
    root: str
    seed: Any


CASES = [
    Case(
        "POST", "client_token", "client_token", {"version": 2, "customer_id": "{customer}", "domains": ["example.com"]}
    ),
    Case("POST", "transactions/advanced_search_ids", "search", SEARCH),
    Case("POST", "transactions/advanced_search", "search", SEARCH),
    Case("POST", "transactions", "transaction", SALE),
    Case(
        "POST",
        "transactions",
        "transaction",
        {**SALE, "payment_method_nonce": None, "credit_card": CARD, "options": {"store_in_vault": True}},
    ),
    Case("GET", "transactions/{txn}", "transaction", {}),
    Case("PUT", "transactions/{txn}/submit_for_settlement", "transaction", {"amount": "5.00", "order_id": "o-2"}),
    Case("PUT", "transactions/{txn}/void", "transaction", {}),
    Case(
        "POST",
        "transactions/{settled}/refund",
        "transaction",
        {"amount": "1.00", "order_id": "r-1", "api_request_key": "robust-r"},
    ),
    Case(
        "POST",
        "transactions/{txn}/submit_for_partial_settlement",
        "transaction",
        {"amount": "1.00", "final_capture": False},
    ),
    Case("GET", "transactions/{txn}/line_items", "transaction", {}),
    Case("PUT", "transactions/{txn}/settle", "transaction", {}),
    Case("PUT", "transactions/{txn}/settlement_decline", "transaction", {}),
    Case(
        "POST",
        "settlement_batch_summary",
        "settlement_batch_summary",
        {"settlement_date": "2026-01-01", "group_by_custom_field": "store"},
    ),
    Case("POST", "customers", "customer", {**CUSTOMER, "custom_fields": {"tier": "gold"}, "credit_card": CARD}),
    Case("GET", "customers/{customer}", "customer", {}),
    Case("DELETE", "customers/nobody", "customer", {}),
    Case("POST", "customers/{customer}/addresses", "address", ADDRESS),
    Case("GET", "customers/{customer}/addresses/{address}", "address", {}),
    Case("GET", "payment_methods/credit_card/{token}", "credit_card", {}),
    Case("GET", "paycli_sandbox/status", "x", {}),
    Case("POST", "paycli_sandbox/reset", "x", {}),  # sent as the scratch merchant: the seeds stay
]

# values a field may be retyped to: wrong types, non-numbers, out-of-range instants, non-ASCII digits, long text
ODD_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=12),
    st.sampled_from(
        [
            "NaN",
            "sNaN",
            "-Infinity",
            "1e9999",
            "-0",
            "١٠.٠٠",
            "５",
            "10.001",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "2026-02-30",
            "\u202e",
            "x" * 300,
            "y" * 5000,
        ]
    ),
)


@dataclass(frozen=True)
class Typed:
    """An element with a `type` hint that may not fit its text: <amount type="integer">abc</amount>."""

    kind: str
    text: str


@dataclass(frozen=True)
class Twice:
    """The same element twice."""

    value: Any


def element(tag: str, value: Any) -> str:
    tag = tag.replace("_", "-")
    if isinstance(value, Twice):
        return element(tag, value.value) * 2
    if value is None:
        return f'<{tag} nil="true"/>'
    if isinstance(value, Typed):
        return f'<{tag} type="{value.kind}">{escape(value.text)}</{tag}>'
    if isinstance(value, bool):
        return f'<{tag} type="boolean">{str(value).lower()}</{tag}>'
    if isinstance(value, int):
        return f'<{tag} type="integer">{value}</{tag}>'
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(element(k, v) for k, v in value.items()) + f"</{tag}>"
    if isinstance(value, list):
        return f'<{tag} type="array">' + "".join(element("item", v) for v in value) + f"</{tag}>"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def containers(tree: Any) -> Iterator[Any]:
    """Every dict and list in the tree, the tree first."""
    if isinstance(tree, (dict, list)):
        yield tree
        for child in tree.values() if isinstance(tree, dict) else tree:
            yield from containers(child)


@st.composite
def mutated(draw: Any, seed: Any) -> Any:
    tree = copy.deepcopy(seed)
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        places = [c for c in containers(tree) if c]
        if not places:
            break
        place = draw(st.sampled_from(places))
        key = draw(st.sampled_from(list(place) if isinstance(place, dict) else range(len(place))))
        how = draw(st.sampled_from(["drop", "retype", "typed", "duplicate", "nest", "oversize", "listify"]))
        if how == "drop":
            del place[key]
        elif how == "retype":
            place[key] = draw(ODD_SCALARS)
        elif how == "typed":
            place[key] = Typed(
                draw(st.sampled_from(["integer", "boolean", "datetime", "array", "date", "bogus"])),
                draw(st.sampled_from(["abc", "", "12", "true", "2026-13-45", "-1"])),
            )
        elif how == "duplicate":
            place[key] = Twice(place[key])
        elif how == "nest":
            place[key] = {draw(st.sampled_from(["a", "min", "is", "item", "amount"])): place[key]}
        elif how == "oversize":
            place[key] = "Z" * draw(st.sampled_from([256, 4096, 100_000]))
        elif how == "listify":
            place[key] = [place[key], place[key]]
    return tree


ENCODINGS = ["plain", "utf-8", "utf-16", "utf-16-be-no-bom", "latin-1", "ascii-declared", "bogus-declared"]


def encode(root: str, tree: Any, how: str) -> bytes:
    text = element(root, tree)
    if how == "plain":
        return text.encode()
    if how == "utf-16":
        return ('<?xml version="1.0" encoding="UTF-16"?>' + text).encode("utf-16")
    if how == "utf-16-be-no-bom":
        return ('<?xml version="1.0" encoding="UTF-16-BE"?>' + text).encode("utf-16-be")
    if how == "latin-1":
        return ('<?xml version="1.0" encoding="ISO-8859-1"?>' + text).encode("latin-1", "replace")
    if how == "ascii-declared":
        return ('<?xml version="1.0" encoding="US-ASCII"?>' + text).encode()  # may hold non-ASCII bytes
    if how == "bogus-declared":
        return ('<?xml version="1.0" encoding="x-bogus"?>' + text).encode()
    return ('<?xml version="1.0" encoding="UTF-8"?>' + text).encode()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    merchant, scratch = new_merchant(), new_merchant()
    running = sandbox.start(tmp_path_factory.mktemp("robust") / "sandbox.db", [merchant, scratch])
    gateway = gateway_for(running, merchant)
    txn = sale(gateway, "20.00").transaction.id
    settled = sale(gateway, "50.00", submit=True).transaction.id
    gateway.testing.settle_transaction(settled)
    customer = gateway.customer.create(
        {
            "first_name": "Ann",
            "credit_card": {"number": "4111111111111111", "expiration_date": "12/2030", "billing_address": ADDRESS},
        }
    ).customer
    values = {
        "txn": txn,
        "settled": settled,
        "customer": customer.id,
        "address": customer.addresses[0].id,
        "token": customer.credit_cards[0].token,
    }
    yield {"running": running, "merchant": merchant, "scratch": scratch, "values": values}
    gateway.close()
    running.stop()


def request(world: dict[str, Any], method: str, path: str, body: bytes, merchant: Any = None) -> int:
    merchant = merchant or world["merchant"]
    conn = http.client.HTTPConnection("127.0.0.1", world["running"].port, timeout=10)  # a hang fails the test
    try:
        conn.request(method, f"/merchants/{merchant.id}/{path}", body=body, headers=auth_headers(merchant))
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_the_cases_cover_every_route() -> None:
    sample = {name: "x1" for name in ("txn", "settled", "customer", "address", "token")}
    paths = [f"/merchants/m/{case.path.format(**sample)}" for case in CASES]
    xml_routes = [route for route in sandbox_server.ROUTES if route.decode is sandbox_server.xml_params]
    uncovered = [route.pattern.pattern for route in xml_routes if not any(route.pattern.match(path) for path in paths)]
    assert uncovered == []


@pytest.mark.slow  # hundreds of generated requests
@settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_mutated_and_random_bodies_never_get_a_500_or_a_hang(world, data) -> None:
    case = data.draw(st.sampled_from(CASES), label="case")
    if data.draw(st.integers(min_value=0, max_value=9), label="random bytes?") == 0:
        body = data.draw(st.binary(max_size=300), label="body")
    else:
        tree = data.draw(mutated(case.seed), label="tree")
        body = encode(case.root, tree, data.draw(st.sampled_from(ENCODINGS), label="encoding"))
    path = case.path.format(**world["values"])
    merchant = world["scratch"] if "reset" in case.path else None

    status = request(world, case.method, path, body, merchant)

    assert status < 500, (case.method, path, body[:300])
    assert request(world, "GET", f"transactions/{world['values']['txn']}", b"") == 200
