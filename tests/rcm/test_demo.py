"""The rcm demo data: deterministic, idempotent, the promised sizes and the patterns the pages
and metrics show (appeal success differing by denial reason, aged work, queues and calls)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from rcm.demo import APPEALED_NOTE, CLAIM_PREFIX, anchor
from rcm.models import (
    OPEN_STATUSES,
    Agent,
    Assignment,
    AutomationRun,
    Claim,
    DocumentTemplate,
    FollowUp,
    FollowUpRule,
    Holiday,
    Patient,
    Payer,
)

pytestmark = pytest.mark.django_db

WON = ("paid", "partially_paid")


def seed():
    call_command("seed_demo", "--force", "--only", "rcm")


def snapshot():
    """Every demo row by natural keys (no ids, no auto-now columns)."""
    return {
        "payers": sorted(Payer.objects.values_list("name", "payer_type", "filing_window_days")),
        "rules": sorted(
            FollowUpRule.objects.values_list(
                "payer__name", "initial_days", "subsequent_days", "best_call_times"
            ),
            key=repr,
        ),
        "agents": sorted(
            Agent.objects.values_list("name", "queue__kind", "user__username", "daily_capacity")
        ),
        "holidays": sorted(Holiday.objects.values_list("date", "name")),
        "patients": sorted(Patient.objects.values_list("member_id", "name", "date_of_birth")),
        "claims": sorted(
            Claim.objects.values_list(
                "claim_number",
                "patient__member_id",
                "payer__name",
                "amount",
                "balance",
                "service_date",
                "submission_date",
                "procedure_code",
                "diagnosis_code",
                "status",
                "denial_reason",
                "notes",
                "queue__kind",
                "agent__name",
                "priority",
                "created_at",
                "updated_at",
            )
        ),
        "assignments": sorted(
            Assignment.objects.values_list(
                "claim__claim_number", "agent__name", "rule__name", "reason", "at"
            )
        ),
        "follow_ups": sorted(
            FollowUp.objects.values_list(
                "claim__claim_number",
                "agent__name",
                "scheduled_at",
                "status",
                "priority",
                "outcome",
                "created_at",
                "next_follow_up__scheduled_at",
            ),
            key=repr,
        ),
        "runs": sorted(
            AutomationRun.objects.values_list(
                "kind", "started_at", "finished_at", "items", "succeeded", "failed", "details"
            ),
            key=repr,
        ),
        "templates": sorted(DocumentTemplate.objects.values_list("doc_type", "success_rate")),
    }


def success_rate(reason):
    appealed = Claim.objects.filter(denial_reason=reason, notes__contains=APPEALED_NOTE).exclude(
        status="appealed"
    )
    return appealed.filter(status__in=WON).count() / appealed.count()


def test_seeding_twice_leaves_identical_rows_of_the_promised_sizes(capsys):
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first

    assert Payer.objects.count() == 10
    assert Claim.objects.filter(claim_number__startswith=CLAIM_PREFIX).count() == 5_000
    assert Patient.objects.count() == 3_000
    assert list(
        Agent.objects.values_list("queue__kind").annotate(n=Count("id")).order_by("queue__kind")
    ) == [
        ("escalation_team", 3),
        ("general_agent", 3),
        ("government_specialist", 3),
        ("senior_agent", 3),
        ("specialist", 3),
    ]
    # Each agent demo login is the first agent of its queue.
    linked = Agent.objects.filter(user__isnull=False).values_list("user__username", "queue__kind")
    assert dict(linked) == {
        "senior-agent": "senior_agent",
        "government-specialist": "government_specialist",
        "escalation-team": "escalation_team",
        "specialist": "specialist",
        "general-agent": "general_agent",
    }  # fmt: skip


def test_demo_claims_cover_statuses_and_reasons_appeals_differ_and_the_engine_ran(capsys):
    seed()
    claims = Claim.objects.all()
    assert set(claims.values_list("status", flat=True)) == {
        "submitted", "pending", "denied", "appealed", "paid", "partially_paid", "written_off",
        "closed",
    }  # fmt: skip
    assert set(claims.exclude(denial_reason="").values_list("denial_reason", flat=True)) == {
        "authorization_required", "medical_necessity", "not_covered", "incorrect_coding",
        "timely_filing", "duplicate", "other",
    }  # fmt: skip
    assert not claims.filter(status__in=("submitted", "pending")).exclude(denial_reason="").exists()
    assert not claims.filter(status__in=("denied", "appealed"), denial_reason="").exists()
    assert not claims.filter(submission_date__gte=anchor().date()).exists()
    assert claims.filter(amount__gt=10_000).exists()
    assert claims.filter(procedure_code__in=["27447", "27130", "22612"]).exists()
    assert claims.open().filter(submission_date__lt=anchor().date() - timedelta(days=120)).exists()

    coding = success_rate("incorrect_coding")
    necessity = success_rate("medical_necessity")
    timely = success_rate("timely_filing")
    assert coding > necessity + 0.15 > timely + 0.15
    template = DocumentTemplate.objects.get(doc_type="appeal_coding", active=True)
    assert float(template.success_rate) == pytest.approx(100 * coding, abs=0.01)
    _the_engine_has_run_as_of_the_anchor()


def _the_engine_has_run_as_of_the_anchor():
    day = anchor().date()
    open_claims = Claim.objects.filter(status__in=OPEN_STATUSES)
    assert not open_claims.filter(agent__isnull=True).exists()
    assert not Claim.objects.exclude(status__in=OPEN_STATUSES).filter(agent__isnull=False).exists()
    per_queue = dict(open_claims.values_list("queue__kind").annotate(n=Count("id")))
    assert set(per_queue) == {
        "senior_agent", "government_specialist", "escalation_team", "specialist", "general_agent",
    }  # fmt: skip
    assert Assignment.objects.count() == open_claims.count()
    # Every open claim has one call waiting, none before the anchor; some calls were made.
    scheduled = FollowUp.objects.filter(status="scheduled")
    assert scheduled.count() == open_claims.count()
    assert not scheduled.filter(scheduled_at__lt=anchor()).exists()
    past = FollowUp.objects.filter(scheduled_at__lt=anchor())
    assert past.filter(status="done").count() > past.filter(status="missed").count() > 0
    runs = AutomationRun.objects.values_list("kind").annotate(n=Count("id"))
    assert dict(runs) == {"assign_claims": 30, "schedule_follow_ups": 30, "mark_missed": 29}
    assert not AutomationRun.objects.filter(started_at__gte=anchor()).exists()
    last = AutomationRun.objects.filter(kind="assign_claims").latest("started_at")
    assert (last.started_at, last.items) == (
        anchor() - timedelta(hours=22),
        open_claims.count(),
    )
    assert Agent.objects.filter(
        Q(claims__status__in=OPEN_STATUSES), user__username="general-agent"
    ).exists()
    assert day.day == 1
