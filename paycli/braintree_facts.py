"""Facts of Braintree's transaction API that paycli and its offline sandbox must agree on.

Transaction status sets, the search page size and the search cap each live here once: the client decides
what it shows and plans from them, the sandbox decides what it allows from them, so the two can never count
a refund differently. Nothing is imported here: the sandbox may use this module without pulling in paycli's
domain, and the CLI may use it without importing anything heavy.
"""

from __future__ import annotations

# Every status a Braintree transaction can have (what `txn search --status` accepts).
TRANSACTION_STATUSES = (
    "authorization_expired",
    "authorized",
    "authorizing",
    "failed",
    "gateway_rejected",
    "processor_declined",
    "settled",
    "settlement_confirmed",
    "settlement_declined",
    "settlement_failed",
    "settlement_pending",
    "settling",
    "submitted_for_settlement",
    "voided",
)
# A sale's money has reached the merchant, or is on its way: it is given back by a refund, not a void.
SETTLED_STATUSES = frozenset({"settled", "settling", "settlement_confirmed", "settlement_pending"})
# A sale not settled yet: it can be voided (given back whole, nothing reaches the merchant).
VOIDABLE_STATUSES = frozenset({"authorized", "submitted_for_settlement"})
# A sale that can be refunded (91506 otherwise). settlement_pending is PayPal's limbo, refundable only by
# the sandbox's PayPal rule, so the client plans a void-or-wait for it rather than a refund.
REFUNDABLE_STATUSES = frozenset({"settled", "settling", "settlement_confirmed"})
# A credit in one of these gave nothing back, so it does not count against its sale: declined or rejected
# at once, voided, or declined at settlement (the bank refused it after it was accepted).
NOT_REFUNDED_STATUSES = frozenset({"processor_declined", "gateway_rejected", "failed", "voided", "settlement_declined"})
# Settled into a batch: these carry a settlement_batch_id and are what the settlement batch summary counts.
IN_BATCH_STATUSES = ("settled", "settlement_confirmed")
# Where the testing settle endpoints can take a submitted transaction.
SETTLEMENT_OUTCOMES = ("settled", "settlement_confirmed", "settlement_declined", "settlement_pending")

SEARCH_PAGE_SIZE = 50  # transactions per advanced_search page (and ids per page request)
SEARCH_CAP = 50_000  # ids one search returns at most, silently: a client that gets this many must narrow
