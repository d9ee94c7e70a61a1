"""Assignment rules as data: checking a rule's conditions and evaluating them against a claim.

A rule holds when every condition it sets holds (conditions left empty are not checked):
amount greater than, payer type in, payer name in, aging greater than, procedure code in
(single codes or ranges like "33200-33249"), denial reason in. The engine (rcm.services) and
the admin's "test this rule against a claim" preview both call `evaluate`, so they agree.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from rcm.models import DenialReason, PayerType


@dataclass(frozen=True)
class ClaimFacts:
    """What the rules look at, for one claim (built from a row of values, no queries)."""

    amount: Decimal
    payer_name: str
    payer_type: str
    aging_days: int
    procedure_code: str
    denial_reason: str

    @classmethod
    def of(cls, claim, today):
        return cls(
            amount=claim.amount,
            payer_name=claim.payer.name,
            payer_type=claim.payer.payer_type,
            aging_days=aging_days(claim.submission_date, today),
            procedure_code=claim.procedure_code,
            denial_reason=claim.denial_reason,
        )


def aging_days(submission_date, today):
    return max((today - submission_date).days, 0)


# Aging buckets: (label, first day, last day or None)
AGING_BUCKETS = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("120+", 121, None),
)


def aging_bucket(days):
    for label, first, last in AGING_BUCKETS:
        if days >= first and (last is None or days <= last):
            return label
    return AGING_BUCKETS[0][0]


def money(value):
    value = Decimal(value)
    return f"${value:,.0f}" if value == value.to_integral() else f"${value:,.2f}"


def _code_range(entry):
    """("33200", "33249") for "33200-33249"; (code, code) for a single code."""
    low, _, high = str(entry).strip().upper().partition("-")
    return low.strip(), (high or low).strip()


def _in_codes(code, entries):
    code = code.strip().upper()
    for entry in entries:
        low, high = _code_range(entry)
        # CPT codes are five characters, so comparing them as text orders them correctly.
        if len(code) == len(low) == len(high) and low <= code <= high:
            return True
    return False


def _list_of_text(value, allowed=None):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return "must be a list of text"
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            return f"has unknown values: {', '.join(unknown)}"
    return None


def check_conditions(rule):
    """ValidationError naming each bad condition of an AssignmentRule (used by its clean())."""
    errors = {}
    for field, allowed in (
        ("payer_types", PayerType.values),
        ("payer_names", None),
        ("procedure_codes", None),
        ("denial_reasons", DenialReason.values),
    ):
        problem = _list_of_text(getattr(rule, field), allowed)
        if problem:
            errors[field] = f"{field.replace('_', ' ').capitalize()} {problem}."
    if "procedure_codes" not in errors:
        for entry in rule.procedure_codes:
            low, high = _code_range(entry)
            if not (low.isalnum() and high.isalnum() and len(low) == len(high) and low <= high):
                errors["procedure_codes"] = (
                    f"{entry!r} is not a code or a range like 33200-33249 (low to high)."
                )
                break
    if rule.amount_greater_than is not None and rule.amount_greater_than < 0:
        errors["amount_greater_than"] = "Amount must not be negative."
    if errors:
        raise ValidationError(errors)


def evaluate(rule, facts):
    """The reason text when `rule` holds for the claim ("High Value Rule: amount $7,500 >
    $5,000"), else None. A rule with no condition at all is the catch-all default."""
    reasons = []
    if rule.amount_greater_than is not None:
        if not facts.amount > rule.amount_greater_than:
            return None
        reasons.append(f"amount {money(facts.amount)} > {money(rule.amount_greater_than)}")
    if rule.payer_types:
        if facts.payer_type not in rule.payer_types:
            return None
        reasons.append(f"payer type {PayerType(facts.payer_type).label}")
    if rule.payer_names:
        if facts.payer_name not in rule.payer_names:
            return None
        reasons.append(f"payer {facts.payer_name}")
    if rule.aging_greater_than is not None:
        if not facts.aging_days > rule.aging_greater_than:
            return None
        reasons.append(f"aging {facts.aging_days} days > {rule.aging_greater_than}")
    if rule.procedure_codes:
        if not _in_codes(facts.procedure_code, rule.procedure_codes):
            return None
        reasons.append(f"procedure {facts.procedure_code} is a listed complex code")
    if rule.denial_reasons:
        if facts.denial_reason not in rule.denial_reasons:
            return None
        reasons.append(f"denial reason {DenialReason(facts.denial_reason).label.lower()}")
    return f"{rule.name}: {', '.join(reasons) if reasons else 'no other rule matched'}"


def first_match(rules, facts):
    """(rule, reason) of the first active rule, in priority order, that holds; else (None,
    None). `rules` must be sorted by priority."""
    for rule in rules:
        if rule.active:
            reason = evaluate(rule, facts)
            if reason is not None:
                return rule, reason
    return None, None
