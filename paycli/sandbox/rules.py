"""Braintree's sandbox rules as pure data and functions: test amounts, cards, statuses, codes.

They follow Braintree's published sandbox behaviour: the testing page
(https://developer.paypal.com/braintree/docs/reference/general/testing), processor responses and validation
errors. docs/sandbox.md says what paycli's sandbox does with them. The governing rule: in a sale the
*amount* decides the outcome; the nonce (nonces.py) decides the instrument and verifications.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from paycli.braintree_facts import REFUNDABLE_STATUSES, VOIDABLE_STATUSES
from paycli.sandbox.instruments import CREDIT_CARD, INDICATOR_NAMES, PAYPAL, indicator_card

# --- cards --------------------------------------------------------------------------------------------------


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


_CARD_PREFIXES = (  # longest prefixes first; brand names as the SDK's CreditCard.CardType
    ("6062", "Hipercard"),
    ("637095", "Hiper"),
    ("506699", "Elo"),
    ("4", "Visa"),
    ("34", "American Express"),
    ("37", "American Express"),
    ("6011", "Discover"),
    ("65", "Discover"),
    ("644", "Discover"),
    ("36", "Diners Club"),
    ("38", "Diners Club"),
    ("300", "Diners Club"),
    ("35", "JCB"),
    ("62", "China UnionPay"),
    ("6304", "Maestro"),
    ("50", "Maestro"),
    ("56", "Maestro"),
    ("57", "Maestro"),
    ("58", "Maestro"),
    ("67", "Maestro"),
    ("51", "MasterCard"),
    ("52", "MasterCard"),
    ("53", "MasterCard"),
    ("54", "MasterCard"),
    ("55", "MasterCard"),
    ("2", "MasterCard"),
)


def card_type(number: str) -> str:
    for prefix, brand in sorted(_CARD_PREFIXES, key=lambda item: -len(item[0])):
        if number.startswith(prefix):
            return brand
    return "Unknown"


# Braintree's test numbers that get special treatment: a sale with the fraud or risk-threshold card is
# gateway-rejected; the chargeback card is Braintree's card for a sale that gets disputed (accepted here).
FRAUD_CARD = "4000111111111511"
RISK_THRESHOLD_CARD = "4111130000000003"
CHARGEBACK_CARD = "4023898493988028"
_CARD_INDICATORS = {
    "4500600000000061": "prepaid",
    "4009040000000009": "commercial",
    "4005519200000004": "durbin-regulated",
    "4012000033330026": "healthcare",
    "4012000033330125": "debit",
    "4012000033330224": "payroll",
    "4012000033330422": "no-indicators",
    "4012000033330323": "unknown-indicators",
    "4012000033330620": "country-of-issuance-usa",
    "4012000033330729": "country-of-issuance-cad",
    "4012000033330521": "issuing-bank-network-only",
    # the SDK's CardTypeIndicators (Braintree's development gateway values)
    "4111111111111210": "prepaid",
    "4111111111131010": "commercial",
    "4111161010101010": "durbin-regulated",
    "4117101010101010": "debit",
    "4111111510101010": "healthcare",
    "4111111114101010": "payroll",
    "4111111111310101": "no-indicators",
    "4111111111112101": "unknown-indicators",
    "4111111111121102": "country-of-issuance-usa",
    "4111111141010101": "issuing-bank-network-only",
    "4229989900000002": "prepaid-reloadable",
    "4229989800000003": "business",
    "4229989700000004": "consumer",
    "4229989100000000": "corporate",
    "4229989500000006": "purchase",
}


# Braintree's sandbox takes only its test numbers; any other gets 81717. These are the ones Braintree's testing
# page documents and the ones the SDK's own test suite uses (`braintree.test.credit_card_numbers`).
TEST_CARD_NUMBERS = frozenset(
    {
        "378282246310005",
        "371449635398431",
        "36259600000004",
        "6011000991300009",
        "6011111111111117",
        "3530111333300000",
        "6304000000000000",
        "5555555555554444",
        "2223000048400011",
        "4111111111111111",
        "4005519200000004",
        "4009348888881881",
        "4012000033330026",
        "4012000077777777",
        "4012888888881881",
        "4217651111111119",
        "4500600000000061",
        "6243030000000001",
        "6221261111117766",
        "6223164991230014",
        "4000111111111115",
        "5105105105105100",
        "378734493671000",
        "6011000990139424",
        "38520000009814",
        "3566002020360505",
        CHARGEBACK_CARD,
        FRAUD_CARD,
        RISK_THRESHOLD_CARD,
        "4009040000000009",
        "371260714673002",
        "378267515471109",
        "371544868764018",
        "5066991111111118",
        "6370950000000005",
        "6062820524845321",
        *_CARD_INDICATORS,
    }
)


def is_test_number(number: str) -> bool:
    return number in TEST_CARD_NUMBERS


def card_indicators(number: str) -> dict[str, str]:
    name = _CARD_INDICATORS.get(number)
    if name:
        return dict(indicator_card(name).indicators)
    return {key: "Unknown" for key in (*INDICATOR_NAMES, "issuing_bank", "country_of_issuance")}


# --- processor responses (Braintree: "Authorization responses") ---------------------------------------------

APPROVED = ("1000", "Approved", "approved")
PROCESSOR_RESPONSES: dict[int, tuple[str, str]] = {  # code → (text, S|H)
    2000: ("Do Not Honor", "S"),
    2001: ("Insufficient Funds", "S"),
    2002: ("Limit Exceeded", "S"),
    2003: ("Cardholder's Activity Limit Exceeded", "S"),
    2004: ("Expired Card", "H"),
    2005: ("Invalid Credit Card Number", "H"),
    2006: ("Invalid Expiration Date", "H"),
    2007: ("No Account", "H"),
    2008: ("Card Account Length Error", "H"),
    2009: ("No Such Issuer", "H"),
    2010: ("Card Issuer Declined CVV", "H"),
    2011: ("Voice Authorization Required", "H"),
    2012: ("Processor Declined - Possible Lost Card", "H"),
    2013: ("Processor Declined - Possible Stolen Card", "H"),
    2014: ("Processor Declined - Fraud Suspected", "H"),
    2015: ("Transaction Not Allowed", "H"),
    2016: ("Duplicate Transaction", "S"),
    2017: ("Cardholder Stopped Billing", "H"),
    2018: ("Cardholder Stopped All Billing", "H"),
    2019: ("Invalid Transaction", "H"),
    2020: ("Violation", "H"),
    2021: ("Security Violation", "H"),
    2022: ("Declined - Updated Cardholder Available", "H"),
    2023: ("Processor Does Not Support This Feature", "H"),
    2024: ("Card Type Not Enabled", "H"),
    2025: ("Set Up Error - Merchant", "S"),
    2026: ("Invalid Merchant ID", "S"),
    2027: ("Set Up Error - Amount", "H"),
    2028: ("Set Up Error - Hierarchy", "H"),
    2029: ("Set Up Error - Card", "H"),
    2030: ("Set Up Error - Terminal", "H"),
    2031: ("Encryption Error", "H"),
    2032: ("Surcharge Not Permitted", "H"),
    2033: ("Inconsistent Data", "H"),
    2034: ("No Action Taken", "S"),
    2035: ("Partial Approval For Amount In Group III Version", "S"),
    2036: ("Authorization could not be found", "H"),
    2037: ("Already Reversed", "H"),
    2038: ("Processor Declined", "S"),
    2039: ("Invalid Authorization Code", "H"),
    2040: ("Invalid Store", "S"),
    2041: ("Declined - Call For Approval", "H"),
    2042: ("Invalid Client ID", "S"),
    2043: ("Error - Do Not Retry, Call Issuer", "H"),
    2044: ("Declined - Call Issuer", "H"),
    2045: ("Invalid Merchant Number", "H"),
    2046: ("Declined", "S"),
    2047: ("Call Issuer. Pick Up Card.", "H"),
    2048: ("Invalid Amount", "S"),
    2049: ("Invalid SKU Number", "H"),
    2050: ("Invalid Credit Plan", "H"),
    2051: ("Credit Card Number does not match method of payment", "H"),
    2052: ("Invalid level III Purchase", "H"),
    2053: ("Card reported as lost or stolen", "H"),
    2054: ("Reversal amount does not match authorization amount", "H"),
    2055: ("Invalid Transaction Division Number", "H"),
    2056: ("Transaction amount exceeds the transaction division limit", "H"),
    2057: ("Issuer or Cardholder has put a restriction on the card", "S"),
    2058: ("Merchant not Mastercard SecureCode enabled", "H"),
    2059: ("Address Verification Failed", "H"),
    2060: ("Address Verification and Card Security Code Failed", "H"),
    2061: ("Invalid Transaction Data", "H"),
    2062: ("Invalid Tax Amount", "S"),
    2063: ("PayPal Business Account preference resulted in the transaction failing", "H"),
    2064: ("Invalid Currency Code", "H"),
    2065: ("Refund Time Limit Exceeded", "H"),
    2066: ("PayPal Business Account Restricted", "H"),
    2067: ("Authorization Expired", "H"),
    2068: ("PayPal Business Account Locked or Closed", "H"),
    2069: ("PayPal Blocking Duplicate Order IDs", "H"),
    2070: ("PayPal Buyer Revoked Pre-Approved Payment Authorization", "H"),
    2071: ("PayPal Payee Account Invalid Or Does Not Have a Confirmed Email", "H"),
    2072: ("PayPal Payee Email Incorrectly Formatted", "H"),
    2073: ("PayPal Validation Error", "H"),
    2074: (
        "Funding Instrument In The PayPal Account Was Declined By The Processor Or Bank, "
        "Or It Can't Be Used For This Payment",
        "H",
    ),
    2075: ("Payer Account Is Locked Or Closed", "H"),
    2076: ("Payer Cannot Pay For This Transaction With PayPal", "H"),
    2077: ("Transaction Refused Due To PayPal Risk Model", "H"),
    2078: ("Invalid Secure Payment Data", "S"),
    2079: ("PayPal Merchant Account Configuration Error", "H"),
    2080: ("Invalid user credentials", "S"),
    2081: ("PayPal pending payments are not supported", "H"),
    2082: ("PayPal Domestic Transaction Required", "H"),
    2083: ("PayPal Phone Number Required", "H"),
    2084: ("PayPal Tax Info Required", "H"),
    2085: ("PayPal Payee Blocked Transaction", "H"),
    2086: ("PayPal Transaction Limit Exceeded", "H"),
    2087: ("PayPal reference transactions not enabled for your account", "H"),
    2088: ("Currency not enabled for your PayPal seller account", "H"),
    2089: ("PayPal payee email permission denied for this request", "H"),
    2090: ("PayPal account not configured to refund more than settled amount", "H"),
    2091: ("Currency of this transaction must match currency of your PayPal account", "H"),
    2092: ("No Data Found - Try Another Verification Method", "S"),
    2093: ("PayPal payment method is invalid", "H"),
    2094: ("PayPal payment has already been completed", "H"),
    2095: ("PayPal refund is not allowed after partial refund", "H"),
    2096: ("PayPal buyer account can't be the same as the seller account", "H"),
    2097: ("PayPal authorization amount limit exceeded", "H"),
    2098: ("PayPal authorization count limit exceeded", "H"),
    2099: ("Cardholder Authentication Required", "S"),
    2100: ("PayPal channel initiated billing not enabled for your account", "H"),
    2101: ("Additional authorization required", "S"),
    2102: ("Incorrect PIN", "S"),
    2103: ("PIN try exceeded", "S"),
    2104: ("Offline Issuer Declined", "S"),
    2105: ("Cannot Authorize at this time (Life cycle)", "S"),
    2106: ("Cannot Authorize at this time (Policy)", "S"),
    2107: ("Card Not Activated", "H"),
    2108: ("Closed Card", "H"),
    3000: ("Processor Network Unavailable - Try Again", "S"),
}
_TYPES = {"S": "soft_declined", "H": "hard_declined"}
SETTLEMENT_RESPONSES = {
    "settled": ("4000", "Settled"),
    "settlement_confirmed": ("4000", "Settled"),
    "settlement_declined": ("4001", "Settlement Declined"),
    "settlement_pending": ("4002", "Settlement Pending"),
}


@dataclass(frozen=True)
class Authorization:
    """The processor's (or gateway's) answer to an authorization request."""

    status: str  # authorized | processor_declined | failed | gateway_rejected
    code: str | None
    text: str | None
    response_type: str | None
    rejection: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "authorized"

    @property
    def additional(self) -> str | None:
        return f"{self.code} : {self.text}" if self.code and not self.ok and self.code != "1000" else None


def processor_response(code: int) -> tuple[str, str, str]:
    """(code, text, type) for a decline code; Braintree answers 2109–2999 all as "Processor Declined"."""
    text, kind = PROCESSOR_RESPONSES.get(code, ("Processor Declined", "S"))
    return str(code), text, _TYPES[kind]


def authorize(
    amount: Decimal, *, rejection: str | None = None, partial_ok: bool = False, instrument_kind: str = CREDIT_CARD
) -> Authorization:
    """Braintree's test-amount table: the integer part of a sale's amount picks the processor response
    (2000.00–2999.99 declined with that code, 3000.xx failed, 5001.00 gateway-rejected; docs/sandbox.md)."""
    if rejection:
        return Authorization("gateway_rejected", None, None, None, rejection)
    if amount == Decimal("5001.00"):
        return Authorization("gateway_rejected", None, None, None, "application_incomplete")
    if amount == Decimal("5001.01") and instrument_kind == PAYPAL:  # 2038 in the mocked PayPal flow only
        return Authorization("processor_declined", *processor_response(2038))
    whole = int(amount)
    if 2000 <= whole <= 2999:
        return Authorization("processor_declined", *processor_response(whole))
    if whole == 3000:
        return Authorization("failed", *processor_response(3000))
    if amount == Decimal("1004.00") and partial_ok:
        return Authorization("authorized", "1004", "Approved for Partial Amount", "approved")
    return Authorization("authorized", *APPROVED)


def refund_authorization(amount: Decimal) -> Authorization:
    """Refunds of 2004.00 are declined; 2046.00 settles anyway with code 1005, as Braintree's sandbox does."""
    if amount == Decimal("2004.00"):
        return Authorization("processor_declined", *processor_response(2004))
    if amount == Decimal("2046.00"):
        return Authorization("authorized", "1005", "Auth Declined but Settlement Captured", "approved")
    return Authorization("authorized", *APPROVED)


def settles_as(amount: Decimal, instrument_kind: str) -> str:
    """Final settlement status: 4001.xx sales are declined at settlement, 4002.xx PayPal sales stay
    settlement_pending, the rest settle (Braintree's test amounts)."""
    if int(amount) == 4001:
        return "settlement_declined"
    if int(amount) == 4002 and instrument_kind == PAYPAL:
        return "settlement_pending"
    return "settled"


def cvv_response(cvv: str | None) -> str:
    """Braintree's test CVVs: 200/2000 → N (no match), 201/2011 → U, 301/3011 → S, none → I, else M."""
    if not cvv:
        return "I"
    return {"200": "N", "2000": "N", "201": "U", "2011": "U", "301": "S", "3011": "S"}.get(cvv, "M")


def avs_responses(postal_code: str | None, street: str | None) -> tuple[str | None, str, str]:
    """(avs_error_response_code, postal, street) from Braintree's test postal codes (20000 N, 20001 U,
    30000 error E, 30001 error S) and street numbers (200 N, 201 U); anything else matches (M)."""
    error = {"30000": "E", "30001": "S"}.get(postal_code or "")
    postal = "I" if not postal_code else {"20000": "N", "20001": "U"}.get(postal_code, "M")
    number = (street or "").split(" ", 1)[0]
    street_code = "I" if not street else {"200": "N", "201": "U"}.get(number, "M")
    return error, postal, street_code


# --- amounts ------------------------------------------------------------------------------------------------

MAX_AMOUNT = Decimal("99999999.99")
_AMOUNT = re.compile(r"^-?[0-9]+(\.[0-9]{1,2})?$")  # ASCII digits only: Decimal would read "١٠" as 10


def amount_error(raw: object) -> str | None:
    """The 815xx code for a bad amount, or None (the first check of a sale)."""
    if raw is None or raw == "":
        return "81502"
    text = str(raw).strip()
    if not _AMOUNT.match(text):
        return "81503"
    value = Decimal(text)
    if value < 0:
        return "81501"
    if value == 0:
        return "81531"
    if value > MAX_AMOUNT:
        return "81528"
    return None


def to_amount(raw: object) -> Decimal:
    try:
        return Decimal(str(raw).strip()).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(raw) from None


# --- lifecycle (docs/sandbox.md, "Lifecycle") ---------------------------------------------------------------

SETTLEABLE = {"submitted_for_settlement", "settling", "settlement_pending"}


def can_void(status: str, kind: str) -> bool:
    return status in VOIDABLE_STATUSES or (kind == PAYPAL and status == "settlement_pending")


def can_refund(status: str, kind: str) -> bool:
    return status in REFUNDABLE_STATUSES or (kind == PAYPAL and status == "settlement_pending")


# --- validation messages (Braintree: "Validation errors") ---------------------------------------------------

MESSAGES: dict[str, str] = {
    "81501": "Amount cannot be negative.",
    "81502": "Amount is required.",
    "81503": "Amount is an invalid format.",
    "81528": "Amount is too large.",
    "81531": "Amount must be greater than zero.",
    "81527": "Custom field is too long: {names}.",
    "91526": "Custom field is invalid: {names}.",
    "91501": "Order ID is too long.",
    "91504": "Transaction can only be voided if status is authorized, submitted_for_settlement, "
    "or - for PayPal - settlement_pending.",
    "91505": "Credit transactions cannot be refunded.",
    "91506": "Cannot refund transaction unless it is settled.",
    "91507": "Cannot submit for settlement unless status is authorized.",
    "91508": "Cannot determine payment method.",
    "91510": "Customer ID is invalid.",
    "91512": "Transaction has already been fully refunded.",
    "91513": "Merchant account ID is invalid.",
    "91515": "Cannot provide both payment_method_token and credit_card attributes.",
    "91518": "Payment method token is invalid.",
    "91521": "Refund amount is too large.",
    "91522": "Settlement amount is too large.",
    "91523": "Transaction type is invalid.",
    "91524": "Transaction type is required.",
    "91537": "Purchase order number is too long.",
    "91549": "Cannot provide more than one of payment_method_token, payment_method_nonce, credit_card, "
    "and venmo_sdk_payment_method_code attributes.",
    "91564": "Cannot use a payment_method_nonce more than once.",
    "91565": "Unknown or expired payment_method_nonce.",
    "91575": "Cannot transition transaction to settled, settlement_confirmed, or settlement_declined",
    "91577": "Merchant account does not support payment instrument.",
    "915230": "API request key is too long.",
    "915232": "API request key can be reused only with the same request.",
    "81709": "Expiration date is required.",
    "81710": "Expiration date is invalid.",
    "81714": "Credit card number is required.",
    "81715": "Credit card number is invalid.",
    "81716": "Credit card number must be 12-19 digits.",
    "81717": "Credit card number is not an accepted test number.",
    "81707": "CVV must be 4 digits for American Express and 3 digits for other card types.",
    "81736": "CVV verification failed.",
    "81724": "Duplicate card exists in the vault.",
    "81604": "Email is an invalid format.",
    "91609": "Customer ID has already been taken.",
    "91610": "Customer ID is invalid.",
    "91611": "Customer ID is not allowed.",
    "91612": "Customer ID is too long.",
    "82301": "Settlement Date is required",
    "82302": "Settlement Date is invalid",
    "82303": "Group By Custom Field is not a valid custom field",
    "92804": "Customer specified by customer_id does not exist",
    "92807": "Merchant Account specified by merchant_account_id does not exist",
    "92806": "Unsupported client token version",
    "92810": "Cannot specify more than 5 client token domains",
    "92011": "Client token domains must be valid domain names (RFC 1035), e.g. example.com",
    "91602": "Custom field is invalid: {names}.",
    "81603": "Custom field is too long: {names}.",
    "81601": "Company is too long.",
    "81605": "Email is too long.",
    "81607": "Fax is too long.",
    "81608": "First name is too long.",
    "81613": "Last name is too long.",
    "81614": "Phone is too long.",
    "81615": "Website is too long.",
    "81802": "Company is too long.",
    "81804": "Extended address is too long.",
    "81805": "First name is too long.",
    "81806": "Last name is too long.",
    "81807": "Locality is too long.",
    "81809": "Postal code is too long.",
    "81810": "Region is too long.",
    "81812": "Street address is too long.",
    "81723": "Cardholder name is too long.",
    "91550": "Channel is too long.",
}


def message(code: str, **values: str) -> str:
    return MESSAGES.get(code, "Validation error.").format(**values)
