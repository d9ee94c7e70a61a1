from datetime import timedelta
from itertools import groupby, pairwise
from statistics import mean

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q

from advocacy.demo import anchor, status_from_events
from advocacy.models import Advocate, Case, CaseEvent, Interaction, Patient, PatientFeedback
from advocacy.services import TRANSITIONS

pytestmark = pytest.mark.django_db

MODELS = [Patient, Advocate, Case, CaseEvent, Interaction, PatientFeedback]


def seed():
    call_command("seed_demo", "--force", "--only", "advocacy")


def snapshot():
    """Every column except ids, foreign keys by the other row's external id."""
    rows = {}
    for model in MODELS:
        names = []
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            if field.is_relation and field.related_model in MODELS:
                names.append(f"{field.name}__external_id")
            elif field.is_relation:
                names.append(f"{field.name}__username")
            else:
                names.append(field.name)
        rows[model._meta.label] = sorted(model.objects.values_list(*names), key=repr)
    return rows


def resolution_days(queryset):
    return mean(
        (resolved - created).total_seconds() / 86_400
        for created, resolved in queryset.filter(resolved_at__isnull=False).values_list(
            "created_at", "resolved_at"
        )
    )


def test_seeding_twice_leaves_identical_rows(capsys):
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first
    assert Advocate.objects.count() == 60
    assert 2_500 <= Case.objects.count() <= 3_500
    assert Case.objects.filter(advocate__user__username="advocate").active().exists()


def test_demo_data_tells_a_story(capsys):
    seed()
    cases = Case.objects.all()
    assert resolution_days(cases.filter(case_type="prior_authorization")) > resolution_days(
        cases.filter(case_type="provider_search")
    )
    assert resolution_days(cases.filter(case_type="claim_denial")) > resolution_days(
        cases.filter(case_type="billing_dispute")
    )
    assert resolution_days(cases.filter(missing_docs=True)) > resolution_days(
        cases.filter(missing_docs=False)
    )

    def csat(**filters):
        return mean(PatientFeedback.objects.filter(**filters).values_list("csat", flat=True))

    assert csat(case__handoff_count__gte=3) < csat(case__handoff_count=0)

    def breach_rate(escalated):
        days = [
            (resolved - created).days >= 7
            for created, resolved in cases.filter(
                escalated=escalated, resolved_at__isnull=False
            ).values_list("created_at", "resolved_at")
        ]
        return sum(days) / len(days)

    assert breach_rate(True) > breach_rate(False) + 0.2

    overloaded = Advocate.objects.annotate(
        active_cases=Count("cases", filter=Q(cases__status__in=Case.ACTIVE_STATUSES))
    ).filter(active_cases__gt=F("capacity"))
    assert overloaded.exists()
    assert not Advocate.objects.filter(user__username="operations-leader").exists()

    active = cases.active().count()
    assert 0.07 * cases.count() <= active <= 0.14 * cases.count()
    # A few stale: active, nothing in the 48 hours before the anchor.
    cutoff = anchor() - timedelta(hours=48)
    touched = set(CaseEvent.objects.filter(at__gte=cutoff).values_list("case", flat=True)) | set(
        Interaction.objects.filter(started_at__gte=cutoff).values_list("case", flat=True)
    )
    stale = cases.active().exclude(pk__in=touched).count()
    assert 1 <= stale <= 0.05 * cases.count()
    assert Interaction.objects.values("case").annotate(n=Count("id")).count() >= 1
    counts = Interaction.objects.values_list("case").annotate(n=Count("id"))
    assert {n for _, n in counts} <= set(range(1, 9))
    assert len(counts) == cases.count()
    assert set(PatientFeedback.objects.values_list("csat", flat=True)) == {1, 2, 3, 4, 5}


def test_every_case_follows_the_lifecycle(capsys):
    seed()
    moment = anchor()
    events = CaseEvent.objects.order_by("case", "at", "pk").values_list("case", "type", "at")
    by_case = {
        case: [(t, at) for _, t, at in rows] for case, rows in groupby(events, lambda r: r[0])
    }
    cases = Case.objects.values_list("pk", "status", "resolved_at", "escalated", "created_at")
    for pk, status, resolved_at, escalated, created_at in cases:
        story = by_case[pk]
        types = [t for t, _ in story]
        times = [at for _, at in story]
        assert types[0] == "opened"
        assert times[0] == created_at
        assert times == sorted(times)
        assert times[-1] < moment
        assert status == status_from_events(types), pk
        # Each status change is one the service allows.
        statuses = [status_from_events(types[: i + 1]) for i in range(len(types))]
        for before, after in pairwise(statuses):
            assert before == after or after in TRANSITIONS[before], (pk, types)
        resolved = [at for t, at in story if t == "resolved"]
        if status in ("resolved", "closed"):
            assert resolved_at == resolved[-1]
        else:
            assert resolved_at is None
        assert escalated == ("escalated" in types)
    assert {status for _, status, *_ in cases} == set(Case.Status.values)
