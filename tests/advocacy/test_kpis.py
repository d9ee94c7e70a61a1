"""Every advocacy KPI and flag against a hand-worked fixture (tests run on SQLite and PG)."""

import pytest

from advocacy import rollups, selectors
from advocacy.models import Advocate, Case, CaseFact
from tests.advocacy.factories import AS_OF, at

pytestmark = pytest.mark.django_db

S = Case.Status


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
