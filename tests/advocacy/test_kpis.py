"""Every advocacy KPI and flag against a hand-worked fixture (tests run on SQLite and PG)."""

from datetime import UTC, datetime, timedelta

import pytest

from advocacy import rollups, selectors, services
from advocacy.models import Advocate, Case, CaseFact, Patient

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
AS_OF = T0 + timedelta(days=10)
S = Case.Status


def at(days=0, hours=0):
    return T0 + timedelta(days=days, hours=hours)


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


def kpis_as_of(moment):
    rollups.refresh_facts(moment)
    return selectors.kpis(CaseFact.objects.all())


def test_kpis_by_hand(cases):
    assert kpis_as_of(AS_OF) == {
        "total_cases": 4,  # E is after the as-of moment
        "active_cases": 3,  # B reopened, C open, D in progress
        "avg_hours_to_first_response": 4.0,  # A 2 h, B 4 h, D 6 h; C none yet
        "avg_days_to_resolution": 3.0,  # only A is resolved now (B was reopened)
        "escalation_rate": 25.0,  # B of 4
        "reopen_rate": 50.0,  # B of the 2 ever resolved
        "sla_breach_rate": 50.0,  # B and D
        "avg_interactions_per_case": 1.0,  # 2 + 1 + 0 + 1 over 4
        "avg_csat": 3.5,  # 5 and 2
        "stale_cases": 1,  # C
    }


def test_flags_per_case(cases):
    rollups.refresh_facts(AS_OF)
    rows = {fact.case_id: fact for fact in CaseFact.objects.all()}
    assert len(rows) == 4  # E was opened after the as-of moment
    flags = {
        name: (rows[cases[name].pk].sla_breached, rows[cases[name].pk].stale) for name in "abcd"
    }
    assert flags == {
        "a": (False, False),
        "b": (True, False),
        "c": (False, True),
        "d": (True, False),
    }
    d = rows[cases["d"].pk]
    assert d.last_touch == at(days=9)
    assert d.sla_deadline == at(days=7, hours=1)
    assert d.hours_to_first_response == 6.0
    assert d.age_days == pytest.approx(10 - 1 / 24)
    assert d.interaction_count == 1
    b = rows[cases["b"].pk]
    assert (b.ever_resolved, b.reopened, b.escalated, b.is_active, b.csat) == (
        True,
        True,
        True,
        True,
        2,
    )
    assert b.resolved_at is None  # reopened
    assert b.days_to_resolution is None
    assert rows[cases["a"].pk].days_to_resolution == 3.0


def test_kpis_as_of_an_earlier_moment(cases):
    # On day 5: A resolved, B escalated and within SLA, C and E not yet opened, D in
    # progress within SLA; nothing stale (B escalated on day 1, 4 days ago, is stale).
    figures = kpis_as_of(at(days=5))
    assert figures["total_cases"] == 3
    assert figures["sla_breach_rate"] == 0.0
    assert figures["stale_cases"] == 2  # B (last touch day 1) and D (last touch hour 7)
    assert figures["avg_csat"] == 5.0  # B's feedback came on day 9


def test_sla_can_be_set_per_case_type(cases, settings):
    settings.ADVOCACY_SLA_DAYS = {"claim_denial": 10}
    assert kpis_as_of(AS_OF)["sla_breach_rate"] == 25.0  # B only


def test_caseload_against_capacity_weighted_by_complexity(cases):
    rollups.refresh_facts(AS_OF)
    rows = {
        row.name: (
            row.active_cases,
            row.utilization,
            row.weighted_caseload,
            row.weighted_utilization,
        )
        for row in selectors.caseload(Advocate.objects.all())
    }
    # Xena: B (high, 2.0) and D (medium, 1.5) active of capacity 2; A is resolved.
    # Yuri: C (low, 1.0) of capacity 1.
    assert rows == {"Xena": (2, 1.0, 3.5, 1.75), "Yuri": (1, 1.0, 1.0, 1.0)}
