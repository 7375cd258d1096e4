"""Customers: just enough vault for client tokens and sales with a customer_id."""

from __future__ import annotations

import braintree
import pytest
from gateway_calls import only_error


def test_create_then_find_a_customer(gateway, merchant) -> None:
    created = gateway.customer.create(
        {"id": "cust-1", "first_name": "Ann", "last_name": "Lee", "email": "ann@example.com", "company": "Acme"}
    )

    assert created.is_success
    found = gateway.customer.find("cust-1")
    assert (found.id, found.first_name, found.last_name, found.email, found.company) == (
        "cust-1",
        "Ann",
        "Lee",
        "ann@example.com",
        "Acme",
    )
    assert found.merchant_id == merchant.id
    assert found.created_at is not None


def test_create_without_an_id_assigns_one(gateway) -> None:
    created = gateway.customer.create({"first_name": "Bo"})

    assert created.is_success and created.customer.id
    assert gateway.customer.find(created.customer.id).first_name == "Bo"


def test_duplicate_customer_id_is_91609(gateway) -> None:
    gateway.customer.create({"id": "twice"})

    error = only_error(gateway.customer.create({"id": "twice"}))

    assert (error.code, error.message) == ("91609", "Customer ID has already been taken.")


def test_invalid_customer_email_is_81604(gateway) -> None:
    error = only_error(gateway.customer.create({"email": "nope"}))

    assert (error.code, error.message) == ("81604", "Email is an invalid format.")


def test_delete_removes_the_customer(gateway) -> None:
    gateway.customer.create({"id": "gone"})

    assert gateway.customer.delete("gone").is_success
    with pytest.raises(braintree.exceptions.NotFoundError):
        gateway.customer.find("gone")


def test_find_of_an_unknown_customer_raises_not_found(gateway) -> None:
    with pytest.raises(braintree.exceptions.NotFoundError):
        gateway.customer.find("nobody")


def test_delete_of_an_unknown_customer_raises_not_found(gateway) -> None:
    with pytest.raises(braintree.exceptions.NotFoundError):
        gateway.customer.delete("nobody")
