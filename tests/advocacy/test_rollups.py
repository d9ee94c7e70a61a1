"""The rollup tables: refreshed as of a moment, identical on re-run, hand-checked figures.

The `cases` fixture (conftest.py: four cases A–D and E after the as-of moment) and its
hand-worked KPIs are in test_kpis.py.
"""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from advocacy import rollups, selectors, services
from advocacy.models import (
    AdvocateCaseload,
    BottleneckSegment,
    Case,
    CaseFact,
    CaseTypeKpi,
)
from tests.advocacy.factories import AS_OF, T0, AdvocateFactory, at, case_with_history

pytestmark = pytest.mark.django_db
S = Case.Status


def table(model, *ordering):
    """The table's rows without surrogate ids (rows are replaced on each run)."""
    return [
        {name: value for name, value in row.items() if name != "id"}
        for row in model.objects.order_by(*ordering).values()
    ]


def test_refresh_fills_every_table_and_a_rerun_gives_the_same_rows(cases):
    counts = rollups.refresh(AS_OF)
    assert counts == {
        "case facts": 4,
        "KPIs by case type": 5,  # all types + the 4 types with cases
        "advocate caseload": 2,
        "bottleneck segments": BottleneckSegment.objects.count(),
    }
    before = [
        table(CaseFact, "case_id"),
        table(CaseTypeKpi, "as_of", "case_type"),
        table(AdvocateCaseload, "advocate_id"),
        table(BottleneckSegment, "dimension", "position"),
    ]
    rollups.refresh(AS_OF)
    after = [
        table(CaseFact, "case_id"),
        table(CaseTypeKpi, "as_of", "case_type"),
        table(AdvocateCaseload, "advocate_id"),
        table(BottleneckSegment, "dimension", "position"),
    ]
    assert before == after


def test_kpi_rows_by_case_type(cases):
    rollups.refresh(AS_OF)
    rows = {row.case_type: row for row in CaseTypeKpi.objects.filter(as_of=AS_OF)}
    assert set(rows) == {
        "",
        "billing_dispute",
        "prior_authorization",
        "provider_search",
        "claim_denial",
    }
    everything = rows[""]
    assert (everything.total_cases, everything.active_cases, everything.stale_cases) == (4, 3, 1)
    assert everything.sla_breach_rate == 50.0
    b = rows["prior_authorization"]  # B: escalated, resolved late, reopened, CSAT 2
    assert (b.total_cases, b.escalation_rate, b.reopen_rate, b.sla_breach_rate) == (
        1,
        100.0,
        100.0,
        100.0,
    )
    assert (b.avg_hours_to_first_response, b.avg_csat, b.avg_days_to_resolution) == (
        4.0,
        2.0,
        None,
    )


def test_kpi_sets_are_kept_per_moment_for_trends(cases):
    rollups.refresh(at(days=5))
    rollups.refresh(AS_OF)
    trend = selectors.kpi_trend("")
    assert [(row.as_of, row.total_cases, row.stale_cases) for row in trend] == [
        (at(days=5), 3, 2),
        (AS_OF, 4, 1),
    ]
    # The day-5 set (all types + the 3 types with cases then) is over 400 days old.
    assert rollups.prune_kpi_history(now=AS_OF + rollups.KPI_HISTORY - timedelta(days=4)) == 4
    assert set(CaseTypeKpi.objects.values_list("as_of", flat=True)) == {AS_OF}


def test_caseload_table(cases):
    rollups.refresh(AS_OF)
    rows = {
        row.advocate.name: (
            row.active_cases,
            row.utilization,
            row.weighted_caseload,
            row.stale_cases,
            row.breached_cases,
        )
        for row in AdvocateCaseload.objects.select_related("advocate")
    }
    # Xena: B (reopened, breached) and D (breached); Yuri: C (stale).
    assert rows == {"Xena": (2, 1.0, 3.5, 0, 2), "Yuri": (1, 1.0, 1.0, 1, 0)}


def test_bottleneck_segments_by_hand(cases):
    rollups.refresh(AS_OF)
    rows = {
        (row.dimension, row.segment): (row.cases, row.sla_breach_rate, row.avg_csat)
        for row in BottleneckSegment.objects.all()
    }
    assert rows[("escalation", "Escalated")] == (1, 100.0, 2.0)  # B
    assert rows[("escalation", "Not escalated")] == (3, 33.33, 5.0)  # A, C, D: D breached
    assert rows[("handoffs", "No handoff")] == (4, 50.0, 3.5)
    assert ("handoffs", "1 handoff") not in rows  # segments without cases are left out
    assert rows[("advocate_load", "Within capacity")] == (4, 50.0, 3.5)  # nobody over 1.0
    assert rows[("team", "No team")] == (4, 50.0, 3.5)


def test_a_case_write_refreshes_its_row_at_once():
    advocate = AdvocateFactory()
    case = case_with_history(advocate, steps=[(S.IN_PROGRESS, 2)])
    fact = CaseFact.objects.get(case=case)
    assert (fact.status, fact.hours_to_first_response, fact.is_active) == (S.IN_PROGRESS, 2.0, True)
    services.transition(case, S.RESOLVED, at=T0 + timedelta(days=2))
    fact.refresh_from_db()
    assert (fact.status, fact.days_to_resolution, fact.is_active, fact.ever_resolved) == (
        S.RESOLVED,
        2.0,
        False,
        True,
    )
    assert CaseFact.objects.count() == 1


@pytest.fixture
def waiting_case():
    """Opened at T0, documents requested on day 2 and received on day 5, then documents
    requested again on day 6 and still awaited; as of day 9 that is 3 + 3 days of waiting."""
    advocate = AdvocateFactory()
    return case_with_history(
        advocate,
        steps=[
            (S.IN_PROGRESS, 1),
            (S.PENDING_DOCS, 48),
            (S.IN_PROGRESS, 120),
            (S.PENDING_DOCS, 144),
        ],
    )


def test_the_sla_clock_runs_on_by_default(waiting_case):
    rollups.refresh_facts(T0 + timedelta(days=9))
    fact = CaseFact.objects.get()
    assert (fact.sla_deadline, fact.sla_paused_hours, fact.sla_breached) == (
        T0 + timedelta(days=7),
        0,
        True,
    )


def test_the_sla_clock_can_pause_while_waiting_on_the_patient(waiting_case, settings):
    settings.ADVOCACY_SLA_PAUSE_PENDING_DOCS = True
    rollups.refresh_facts(T0 + timedelta(days=9))
    fact = CaseFact.objects.get()
    assert fact.sla_paused_hours == 6 * 24  # days 2–5 and days 6–9 (still waiting)
    assert fact.sla_deadline == T0 + timedelta(days=13)
    assert fact.sla_breached is False
    # Received on day 10 and resolved on day 14: paused 3 + 4 days, deadline day 14, on time.
    case = services.transition(waiting_case, S.IN_PROGRESS, at=T0 + timedelta(days=10))
    services.transition(case, S.RESOLVED, at=T0 + timedelta(days=14))
    rollups.refresh_facts(T0 + timedelta(days=20))
    fact = CaseFact.objects.get()
    assert (fact.sla_paused_hours, fact.sla_deadline, fact.sla_breached) == (
        7 * 24,
        T0 + timedelta(days=14),
        False,
    )


def test_command_as_of_and_bad_input(cases, capsys):
    call_command("rollup_advocacy", "--as-of", AS_OF.isoformat())
    assert "case facts: 4 rows" in capsys.readouterr().out
    assert set(CaseFact.objects.values_list("as_of", flat=True)) == {AS_OF}
    with pytest.raises(CommandError, match="--as-of must be a date"):
        call_command("rollup_advocacy", "--as-of", "yesterday")
