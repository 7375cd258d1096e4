"""Hostile request bodies: no namespaced names, no DTD in any encoding, bounded depth, and a 4xx (never a 500)
for values Braintree refuses — each through real HTTP, the server answering a normal request afterwards."""

from __future__ import annotations

import sys
import threading
from decimal import Decimal

import braintree
import pytest
from gateway_calls import error_codes, gateway_for, new_merchant, only_error, sale
from test_server import post

SALE = b"<amount>10.00</amount><type>sale</type><payment-method-nonce>fake-valid-nonce</payment-method-nonce>"


def test_a_namespaced_custom_field_is_refused_at_the_door(gateway, shared_sandbox, merchant) -> None:
    body = (
        b'<transaction xmlns:n="urn:x">' + SALE + b"<custom-fields><n:store>1</n:store></custom-fields></transaction>"
    )

    status, _ = post(shared_sandbox, merchant, "transactions", body)

    assert status == 400
    assert gateway.transaction.search(braintree.TransactionSearch.amount == "10.00").maximum_size == 0


def test_a_default_namespace_is_refused_too(shared_sandbox, merchant) -> None:
    body = b'<transaction xmlns="urn:x">' + SALE + b"</transaction>"
    status, _ = post(shared_sandbox, merchant, "transactions", body)

    assert status == 400


@pytest.mark.parametrize("name", ["_store", "a" * 100_000, "store.name", "café"])
def test_a_custom_field_name_braintree_would_not_have_is_91526(gateway, name) -> None:
    result = sale(gateway, custom_fields={name: "1"})

    assert only_error(result).code == "91526"


def test_a_stored_name_that_cannot_be_an_element_never_makes_a_reply_unparseable(
    gateway, shared_sandbox, merchant
) -> None:
    """A row written before names were checked at the door keeps rendering (without the bad name)."""
    txn_id = sale(gateway, custom_fields={"store": "1"}).transaction.id
    store = shared_sandbox.store
    with store.write() as db:
        doc = store.transaction(db, merchant.id, txn_id)
        doc["custom_fields"] = {"{urn:x}store": "1", "_x": "2", "store": "3\x01"}
        store.update_transaction(db, merchant.id, doc)

    found = gateway.transaction.find(txn_id)
    page = list(gateway.transaction.search(braintree.TransactionSearch.id == txn_id).items)

    assert found.custom_fields == {"store": "3"}
    assert [t.id for t in page] == [txn_id]


UTF16_BOMB = (
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaaaaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><transaction><order-id>&b;</order-id>'
    "<amount>10.00</amount><type>sale</type><payment-method-nonce>fake-valid-nonce</payment-method-nonce>"
    "</transaction>"
)


@pytest.mark.parametrize(
    "body",
    [
        UTF16_BOMB.encode("utf-16"),
        UTF16_BOMB.replace("UTF-16", "UTF-16-LE").encode("utf-16-le"),
        UTF16_BOMB.replace("UTF-16", "UTF-32").encode("utf-32"),
        b'<?xml version="1.0" encoding="UTF-16-BE"?><transaction>' + SALE + b"</transaction>",
        '<?xml version="1.0" encoding="UTF-16-BE"?><transaction><amount>1</amount></transaction>'.encode("utf-16-be"),
        b'<?xml version="1.0" encoding="EBCDIC"?><transaction>' + SALE + b"</transaction>",
        b'<?xml version="1.0" encoding="x-unknown"?><transaction>' + SALE + b"</transaction>",
    ],
    ids=["utf16-dtd", "utf16le-dtd", "utf32-dtd", "utf16be-declared-ascii", "utf16be-no-bom", "ebcdic", "unknown"],
)
def test_dtds_in_any_encoding_and_unsupported_encodings_are_400(gateway, shared_sandbox, merchant, body) -> None:
    status, _ = post(shared_sandbox, merchant, "transactions", body)

    assert status == 400
    assert sale(gateway).is_success


def test_a_utf16_document_with_its_bom_is_still_understood(shared_sandbox, merchant) -> None:
    body = ('<?xml version="1.0" encoding="UTF-16"?><transaction>' + SALE.decode() + "</transaction>").encode("utf-16")

    status, reply = post(shared_sandbox, merchant, "transactions", body)

    assert status == 201, reply


@pytest.mark.parametrize("depth", [33, 1000, 5000])
def test_nesting_past_the_depth_limit_is_400(gateway, shared_sandbox, merchant, depth) -> None:
    body = b"<transaction>" + SALE + b"<descriptor>" + b"<a>" * depth + b"</a>" * depth + b"</descriptor></transaction>"

    status, _ = post(shared_sandbox, merchant, "transactions", body)

    assert status == 400
    assert sale(gateway).is_success


def test_nesting_within_the_limit_is_served(shared_sandbox, merchant) -> None:
    depth = 29  # transaction > descriptor > 29 levels + a leaf: 32 in all
    nested = b"<a>" * depth + b"1" + b"</a>" * depth
    body = b"<transaction>" + SALE + b"<descriptor>" + nested + b"</descriptor></transaction>"

    status, _ = post(shared_sandbox, merchant, "transactions", body)

    assert status == 201


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("transactions/advanced_search_ids", b"<search><amount><min>NaN</min></amount></search>"),
        ("transactions/advanced_search_ids", b"<search><amount><max>sNaN</max></amount></search>"),
        ("transactions/advanced_search_ids", b"<search><amount><is>Infinity</is></amount></search>"),
        ("transactions/advanced_search_ids", "<search><amount><min>١٠</min></amount></search>".encode()),
        (
            "transactions/advanced_search_ids",
            b"<search><created-at><min>0001-01-01T00:00:00+14:00</min></created-at></search>",
        ),
        (
            "transactions/advanced_search_ids",
            b"<search><created-at><max>9999-12-31T23:59:59-14:00</max></created-at></search>",
        ),
        (
            "transactions/advanced_search_ids",
            b'<search><created-at><min type="datetime">0001-01-01T00:00:00+14:00</min></created-at></search>',
        ),
        (
            "transactions/advanced_search_ids",
            b'<search><created-at><max type="datetime">9999-12-31T23:59:59-14:00</max></created-at></search>',
        ),
        ("transactions/advanced_search", b'<search><ids type="integer">5</ids></search>'),
        ("transactions/advanced_search_ids", b"<search><ids>abc</ids></search>"),
    ],
    ids=[
        "nan",
        "snan",
        "infinity",
        "arabic-digits",
        "year-1",
        "year-9999",
        "typed-year-1",
        "typed-year-9999",
        "scalar-ids",
        "text-ids",
    ],
)
def test_unusable_search_criteria_are_400(gateway, shared_sandbox, merchant, path, body) -> None:
    status, _ = post(shared_sandbox, merchant, path, body)

    assert status == 400
    assert sale(gateway).is_success


def test_client_token_domains_that_are_not_a_list_are_92011(shared_sandbox, merchant) -> None:
    status, reply = post(
        shared_sandbox, merchant, "client_token", b'<client-token><domains type="integer">5</domains></client-token>'
    )

    assert status == 422
    assert b"<code>92011</code>" in reply


def test_scalar_customer_custom_fields_are_91602(shared_sandbox, merchant) -> None:
    status, reply = post(
        shared_sandbox, merchant, "customers", b"<customer><custom-fields>abc</custom-fields></customer>"
    )

    assert status == 422
    assert b"<code>91602</code>" in reply


def test_scalar_custom_fields_in_a_vaulting_sale_never_poison_the_customer(gateway, shared_sandbox, merchant) -> None:
    body = (
        b"<transaction>" + SALE + b"<customer><custom-fields>abc</custom-fields></customer>"
        b"<options><store-in-vault>true</store-in-vault></options></transaction>"
    )

    status, _ = post(shared_sandbox, merchant, "transactions", body)

    assert status == 422


@pytest.mark.parametrize("amount", ["١٠.٠٠", "５", "1０.00", "10.0٠"])
def test_amounts_with_non_ascii_digits_are_81503(gateway, amount) -> None:
    assert only_error(sale(gateway, amount)).code == "81503"


def test_a_refund_amount_with_non_ascii_digits_is_81503(gateway, settled_sale) -> None:
    txn_id = settled_sale("10.00").id

    assert only_error(gateway.transaction.refund(txn_id, "５")).code == "81503"
    assert gateway.transaction.find(txn_id).refund_ids == []


def test_over_long_customer_fields_get_braintrees_codes(gateway) -> None:
    result = gateway.customer.create(
        {
            "email": "a" * 100_000 + "@example.com",
            "first_name": "f" * 256,
            "website": "w" * 255,
            "custom_fields": {"store": "s" * 256},
        }
    )

    assert sorted(error_codes(result)) == ["81603", "81605", "81608"]


def test_over_long_fields_in_a_sale_get_braintrees_codes(gateway) -> None:
    result = sale(
        gateway,
        customer={"email": "a" * 100_000 + "@example.com"},
        billing={"street_address": "s" * 256, "postal_code": "1" * 256},
        credit_card={"cardholder_name": "c" * 176},
        channel="c" * 256,
    )

    assert sorted(error_codes(result)) == ["81605", "81723", "81809", "81812", "91550"]


def test_an_over_long_address_field_is_81812(gateway) -> None:
    customer = gateway.customer.create({}).customer

    result = gateway.address.create({"customer_id": customer.id, "street_address": "s" * 256})

    assert error_codes(result) == ["81812"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"descriptor": {"url": "u" * 100_000}}, "descriptor.url"),
        ({"billing": {"country_name": "c" * 5000}}, "billing.country_name"),
        (
            {
                "line_items": [
                    {
                        "name": "n",
                        "kind": "debit",
                        "quantity": "1",
                        "unit_amount": "1.00",
                        "total_amount": "1.00",
                        "url": "u" * 5000,
                    }
                ]
            },
            "line_items.0.url",
        ),
    ],
)
def test_a_huge_value_in_a_field_without_its_own_limit_is_a_422_naming_it(gateway, params, field) -> None:
    result = sale(gateway, **params)

    assert not result.is_success and result.transaction is None
    assert result.message == f"{field} is too long (at most 4096 characters)."


def test_a_huge_refund_order_id_is_a_422_and_refunds_nothing(gateway, settled_sale) -> None:
    txn_id = settled_sale("10.00").id

    result = gateway.transaction.refund(txn_id, {"amount": "1.00", "order_id": "o" * 100_000})

    assert not result.is_success and "order_id is too long" in result.message
    assert gateway.transaction.find(txn_id).refund_ids == []


def test_fields_at_their_maximum_length_are_kept(gateway) -> None:
    result = sale(gateway, customer={"first_name": "f" * 255}, custom_fields={"store": "s" * 255})

    assert result.is_success
    assert result.transaction.customer_details.first_name == "f" * 255


@pytest.mark.slow  # many threads of finds
def test_concurrent_finds_share_the_render_cache_safely(start_sandbox) -> None:
    """Eviction from the shared cache is a read-then-delete: unlocked, two threads evict one key → 500."""
    merchant = new_merchant()
    running = start_sandbox([merchant])
    running.sandbox.transactions.rendered.size = 2
    ids = [sale(gateway_for(running, merchant), f"{n}.00").transaction.id for n in range(1, 7)]
    failures: list[BaseException] = []

    def find_all(offset: int) -> None:
        client = gateway_for(running, merchant)
        try:
            for n in range(120):
                txn_id = ids[(n + offset) % len(ids)]
                assert client.transaction.find(txn_id).amount == Decimal(f"{ids.index(txn_id) + 1}.00")
        except BaseException as err:
            failures.append(err)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to make the race likely
    try:
        threads = [threading.Thread(target=find_all, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)

    assert failures == []


def test_two_finds_evicting_the_same_entry_at_once_both_succeed(start_sandbox) -> None:
    """Force the interleaving: one find stops right before it evicts the oldest entry, a second find evicts
    that same entry meanwhile; the first then resumes. Unlocked, its eviction fails (KeyError → 500)."""
    merchant = new_merchant()
    running = start_sandbox([merchant])
    running.sandbox.transactions.rendered.size = 1
    first, second, third = (sale(gateway_for(running, merchant), f"{n}.00").transaction.id for n in (1, 2, 3))
    cache_owner = running.sandbox.transactions
    cache_owner.find(merchant, first)  # the cache holds `first`: the next miss evicts it
    at_eviction, other_done = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def pause_before_evicting(frame, event, arg) -> None:
        if (
            event == "c_call"
            and getattr(arg, "__name__", "") == "pop"
            and getattr(arg, "__self__", None) is cache_owner.rendered.entries
            and not at_eviction.is_set()
        ):
            at_eviction.set()
            other_done.wait(timeout=1)  # with a lock, the other find waits for us instead: go on after 1 s

    def evicting_find() -> None:
        sys.setprofile(pause_before_evicting)
        try:
            outcomes["paused"] = cache_owner.find(merchant, second).status
        except Exception as err:
            outcomes["paused"] = err
        finally:
            sys.setprofile(None)

    def other_find() -> None:
        at_eviction.wait(timeout=5)
        try:
            outcomes["other"] = cache_owner.find(merchant, third).status
        except Exception as err:
            outcomes["other"] = err
        other_done.set()

    threads = [threading.Thread(target=evicting_find), threading.Thread(target=other_find)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert at_eviction.is_set()
    assert outcomes == {"paused": 200, "other": 200}
