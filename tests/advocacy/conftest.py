"""The hand-worked case set behind the KPI and rollup tests (the figures are in test_kpis.py)."""

import pytest

from advocacy import services
from advocacy.models import Advocate, Case, Patient
from tests.advocacy.factories import at

S = Case.Status


@pytest.fixture
def cases():
    """A: billing, answered after 2 h, resolved after 3 days, 2 interactions, CSAT 5.
    B: prior auth (high complexity), answered after 4 h, escalated, resolved on day 9 (late),
       CSAT 2, reopened on day 9.5: active again and past its 7-day SLA.
    C: provider search opened day 7 + 23 h, untouched since: stale at day 10, within SLA.
    D: claim denial opened at 1 h, answered 6 h later, in progress past its SLA (day 7 + 1 h),
       touched on day 9 (not stale).
    E: opened after the as-of moment: not counted."""
    x = Advocate.objects.create(name="Xena", capacity=2)
    y = Advocate.objects.create(name="Yuri", capacity=1)

    def open_case(case_type, when, complexity="medium"):
        return services.open_case(
            patient=Patient.objects.create(),
            case_type=case_type,
            metadata={"complexity": complexity},
            at=when,
        )

    a = open_case("billing_dispute", at())
    services.assign(a, x, at=at(hours=1))
    services.transition(a, S.IN_PROGRESS, at=at(hours=2))
    services.log_interaction(a, advocate=x, channel="phone", started_at=at(hours=2))
    services.log_interaction(a, advocate=x, channel="email", started_at=at(days=1))
    services.transition(a, S.RESOLVED, at=at(days=3))
    services.submit_feedback(Case.objects.get(pk=a.pk), csat=5, at=at(days=3, hours=1))

    b = open_case("prior_authorization", at(), complexity="high")
    services.assign(b, x, at=at(hours=1))
    services.transition(b, S.IN_PROGRESS, at=at(hours=4))
    services.log_interaction(b, advocate=x, channel="portal", started_at=at(hours=5))
    services.transition(b, S.ESCALATED, at=at(days=1))
    services.transition(b, S.RESOLVED, at=at(days=9))
    services.submit_feedback(Case.objects.get(pk=b.pk), csat=2, at=at(days=9, hours=1))
    services.transition(b, S.REOPENED, at=at(days=9, hours=12))

    c = open_case("provider_search", at(days=7, hours=23), complexity="low")
    services.assign(c, y, at=at(days=7, hours=23))

    d = open_case("claim_denial", at(hours=1))
    services.assign(d, x, at=at(hours=1))
    services.transition(d, S.IN_PROGRESS, at=at(hours=7))
    services.log_interaction(d, advocate=x, channel="sms", started_at=at(days=9))

    open_case("billing_dispute", at(days=11))  # E
    return {"a": a, "b": b, "c": c, "d": d, "x": x, "y": y}
