"""The bottleneck summary against cases whose figures are worked out by hand.

Cases are plain rows (CaseFactory) with a known creation and resolution moment; the rollup
turns them into facts, and the findings are read from those as the dashboards read them.
"""

from datetime import timedelta

import pytest

from advocacy import insights, rollups
from advocacy.models import CaseFact, PatientFeedback
from tests.advocacy.factories import T0, AdvocateFactory, CaseFactory

pytestmark = pytest.mark.django_db

AS_OF = T0 + timedelta(days=40)


def resolved_cases(count, days, **fields):
    """`count` cases opened at T0 and resolved `days` later."""
    return CaseFactory.create_batch(
        count, status="resolved", resolved_at=T0 + timedelta(days=days), **fields
    )


def findings():
    rollups.refresh(AS_OF)
    return insights.bottleneck_findings(CaseFact.objects.all())


def summary():
    rollups.refresh(AS_OF)
    return insights.bottleneck_summary(CaseFact.objects.all())


def test_missing_documents_slow_resolution():
    resolved_cases(10, 9.2, missing_docs=True)
    resolved_cases(10, 4.4)
    [finding] = findings()  # every other dimension has a single group
    assert finding.sentence == (
        "Cases missing documents take 9.2 days to resolve, 2.1× the 4.4 days of complete ones."
    )
    assert (finding.dimension, finding.segment, finding.baseline_segment) == (
        "missing_docs",
        "Missing documents",
        "Documents complete",
    )
    assert (finding.value, finding.baseline, finding.cases) == (9.2, 4.4, 10)
    assert finding.ratio == 2.09  # 9.2 / 4.4
    assert finding.action == (
        "Send the document checklist at intake and chase missing documents within 24 h."
    )
    assert finding.params == {"missing_docs": "1"}


def test_the_worst_group_is_chosen_by_the_data_not_assumed():
    # Here the complete cases are the slow ones: the sentence says so, with no canned advice.
    resolved_cases(10, 3, missing_docs=True)
    resolved_cases(10, 6)
    [finding] = findings()
    assert finding.sentence == (
        "Cases with complete documents take 6.0 days to resolve, 2.0× the 3.0 days of cases "
        "missing documents."
    )
    assert finding.action == insights.FALLBACK_ACTION
    assert finding.params == {}  # the case list has no "documents complete" filter


def test_handoffs_lower_csat_and_small_groups_are_skipped():
    def with_csat(cases, scores):
        for case, csat in zip(cases, scores, strict=True):
            PatientFeedback.objects.create(case=case, csat=csat, submitted_at=T0)

    # No handoff: 5 × 5 and 5 × 4 → 4.5. Three or more: 6 × 3 and 4 × 2 → 2.6.
    with_csat(resolved_cases(10, 2), [5] * 5 + [4] * 5)
    three_or_more = resolved_cases(6, 2, handoff_count=3) + resolved_cases(4, 2, handoff_count=5)
    with_csat(three_or_more, [3] * 6 + [2] * 4)
    # One handoff scores worst of all, but 4 cases are too few to tell anything.
    with_csat(resolved_cases(4, 2, handoff_count=1), [1] * 4)

    [finding] = findings()
    assert finding.sentence == (
        "Cases with 3+ handoffs average a CSAT of 2.6, 1.9 points below the 4.5 of cases with "
        "no handoff."
    )
    assert finding.segment == "3+ handoffs"
    assert finding.ratio == 1.73  # 4.5 / 2.6
    assert finding.action == "Keep cases with one advocate; hand off only with a written summary."
    assert finding.params == {"handoffs": "3"}


def test_findings_are_ordered_by_severity():
    # Provider search 4 days, prior authorization 12 days (past the 7-day SLA), claim denial
    # 30 days but only 3 cases (and those miss documents: too few to compare either).
    resolved_cases(10, 4, case_type="provider_search")
    resolved_cases(10, 12, case_type="prior_authorization", escalated=True)
    resolved_cases(3, 30, case_type="claim_denial", missing_docs=True)

    escalation, case_type = findings()
    # Escalated: the 10 prior authorizations, all breached → 100%. Never escalated: 3 of 13
    # breached → 23.08%; 100 / 23.08 = 4.33. Case type: 12 / 4 = 3.0.
    assert escalation.sentence == (
        "Escalated cases breach their SLA in 100% of cases, 4.3× the 23% of cases never escalated."
    )
    assert (escalation.value, escalation.baseline, escalation.ratio) == (100.0, 23.08, 4.33)
    assert escalation.params == {"escalated": "1"}
    assert case_type.sentence == (
        "Prior authorization cases take 12.0 days to resolve, 3.0× the 4.0 days of provider "
        "search cases."
    )
    assert case_type.action == "Give prior authorization cases a specialist queue or a longer SLA."
    assert case_type.params == {"case_type": "prior_authorization"}


def test_over_capacity_advocates_breach_more():
    # Busy has 10 active cases against a capacity of 5, all opened 30 days ago (past the SLA);
    # Calm has 10 of 20, opened yesterday: none breached, so the ratio is not defined.
    busy = AdvocateFactory(name="Busy", capacity=5)
    calm = AdvocateFactory(name="Calm", capacity=20)
    CaseFactory.create_batch(
        10, advocate=busy, status="in_progress", created_at=AS_OF - timedelta(days=30)
    )
    CaseFactory.create_batch(
        10, advocate=calm, status="in_progress", created_at=AS_OF - timedelta(days=1)
    )

    [finding] = findings()
    assert finding.sentence == (
        "Cases of over-capacity advocates breach their SLA in 100% of cases, against 0% of cases "
        "of advocates within capacity."
    )
    assert finding.ratio is None
    assert finding.action == "Move new cases away from over-capacity advocates."
    assert finding.params == {"overloaded": "1"}


def test_team_comparison_names_both_teams():
    north = AdvocateFactory(team="North")
    south = AdvocateFactory(team="South")
    resolved_cases(10, 2, advocate=north)
    resolved_cases(10, 5, advocate=south)
    [finding] = findings()
    assert finding.sentence == (
        "Cases of team South take 5.0 days to resolve, 2.5× the 2.0 days of cases of team North."
    )
    assert finding.params == {"team": "South"}
    assert "team South and team North" in finding.action


def test_when_nothing_stands_out_it_says_so():
    resolved_cases(10, 5, missing_docs=True)
    resolved_cases(10, 4.5)  # 5 / 4.5 = 1.11: within 25%
    assert summary() == {"findings": [], "message": insights.NOTHING_STANDS_OUT}


def test_a_breach_gap_of_five_points_counts():
    # Escalated: 1 of 10 breached (10%); never escalated: 1 of 20 (5%). 8 days > 7-day SLA.
    resolved_cases(1, 8, escalated=True)
    resolved_cases(9, 2, escalated=True)
    resolved_cases(1, 8)
    resolved_cases(19, 2)
    [finding] = summary()["findings"]
    assert finding.sentence == (
        "Escalated cases breach their SLA in 10% of cases, 2.0× the 5% of cases never escalated."
    )


def test_a_breach_gap_under_five_points_is_not_a_finding():
    # 1 of 10 (10%) against 1 of 16 (6.25%): 1.6× the rate, but 3.75 points is noise.
    resolved_cases(1, 8, escalated=True)
    resolved_cases(9, 2, escalated=True)
    resolved_cases(1, 8)
    resolved_cases(15, 2)
    assert summary() == {"findings": [], "message": insights.NOTHING_STANDS_OUT}


def test_too_few_cases_to_compare():
    resolved_cases(9, 9, missing_docs=True)
    resolved_cases(9, 2)
    assert summary() == {"findings": [], "message": insights.TOO_FEW_CASES}
