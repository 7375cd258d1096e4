from __future__ import annotations

import pytest

from paycli.errors import (
    ConfigError,
    Declined,
    ExitCode,
    GatewayRefused,
    InternalError,
    Interrupted,
    NotFound,
    PartialFailure,
    PaycliError,
    Terminated,
    Unavailable,
    UsageError,
)


def test_exit_codes_match_the_design_table() -> None:
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "INTERNAL": 1,
        "USAGE": 2,
        "REFUSED": 3,
        "CONFIG": 4,
        "NOT_FOUND": 5,
        "UNAVAILABLE": 6,
        "PARTIAL": 7,
        "INTERRUPTED": 130,
        "CLOSED_PIPE": 141,
        "TERMINATED": 143,
    }


@pytest.mark.parametrize(
    ("cls", "code", "kind"),
    [
        (UsageError, 2, "usage"),
        (GatewayRefused, 3, "refused"),
        (ConfigError, 4, "config"),
        (NotFound, 5, "not_found"),
        (Unavailable, 6, "unavailable"),
        (PartialFailure, 7, "partial"),
        (Interrupted, 130, "interrupted"),
        (Terminated, 143, "terminated"),
        (InternalError, 1, "internal"),
    ],
)
def test_each_error_class_carries_its_exit_code_and_json_type(cls: type[PaycliError], code: int, kind: str) -> None:
    err = cls("something went wrong", id="abc")
    assert err.exit_code == code
    assert err.to_json() == {"type": kind, "message": "something went wrong", "id": "abc"}
    assert str(err) == "something went wrong"
    assert isinstance(err, PaycliError)


def test_declined_is_a_refusal_that_holds_the_transaction() -> None:
    transaction = {"id": "t1", "status": "processor_declined"}
    err = Declined("processor declined the sale: 2000 Do Not Honor", transaction, code="2000")
    assert isinstance(err, GatewayRefused)
    assert err.exit_code == ExitCode.REFUSED
    assert err.transaction is transaction
    assert err.to_json()["type"] == "declined"


def test_a_bug_becomes_an_internal_error_that_keeps_the_original_for_tracebacks() -> None:
    bug = KeyError("status_history")
    err = InternalError.from_bug(bug)
    assert err.exit_code == ExitCode.INTERNAL
    assert err.__cause__ is bug
    assert "KeyError" in err.message and "status_history" in err.message
    assert "\n" not in err.message


def test_a_bug_with_a_multiline_message_still_reports_one_line() -> None:
    err = InternalError.from_bug(ValueError("first line\nsecond line"))
    assert "first line" in err.message and "second line" not in err.message
