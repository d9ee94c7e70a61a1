"""The AR pages: who may open them, scope (404 outside it), the work queue's order, the claim
list's filters, recording a call through HTTP, running automation from the dashboard, and
query counts that do not grow with the rows."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opsintel.models import AuditEvent
from rcm.models import (
    Assignment,
    AutomationRun,
    Claim,
    DocumentTemplate,
    FollowUp,
    GeneratedDocument,
)
from tests.factories import UserFactory
from tests.rcm.factories import AgentFactory, AgentUserFactory, ClaimFactory, payer, queue

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def at(day, hh_mm):
    return timezone.make_aware(datetime.combine(day, datetime.strptime(hh_mm, "%H:%M").time()))


def aged(days, **fields):
    """A claim submitted `days` ago."""
    submitted = today() - timedelta(days=days)
    return ClaimFactory(
        submission_date=submitted, service_date=submitted - timedelta(days=1), **fields
    )


def call(claim, when, **fields):
    fields.setdefault("agent", claim.agent)
    fields.setdefault("priority", "low")
    return FollowUp.objects.create(claim=claim, scheduled_at=when, **fields)


def signed_in(user):
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def ann():
    return AgentUserFactory(name="Ann", user__username="ann")


@pytest.fixture
def ben():
    return AgentUserFactory(name="Ben", user__username="ben")


@pytest.fixture
def manager():
    return signed_in(UserFactory(username="boss", roles=["AR manager"]))


# Who may open what -------------------------------------------------------------------------------

PAGES = ["index", "work_queue", "claim_list", "claim_detail", "dashboard"]


def url(name, claim=None):
    if name == "claim_detail":
        return reverse("rcm:claim_detail", args=[claim.pk])
    return reverse(f"rcm:{name}")


@pytest.mark.parametrize("name", PAGES)
def test_each_page_for_manager_agent_other_role_and_anonymous(name, ann, manager):
    claim = aged(10, agent=ann, queue=ann.queue)

    response = manager.get(url(name, claim))
    if name == "index":
        assert response["Location"] == reverse("rcm:dashboard")
    else:
        assert response.status_code == 200

    response = signed_in(ann.user).get(url(name, claim))
    if name == "index":
        assert response["Location"] == reverse("rcm:work_queue")
    elif name == "dashboard":
        assert response.status_code == 403
    else:
        assert response.status_code == 200

    other = signed_in(UserFactory(roles=["Care manager"]))
    assert other.get(url(name, claim)).status_code == 403

    response = Client().get(url(name, claim))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_posts_refuse_other_roles_agents_and_anonymous(ann):
    claim = aged(10, agent=ann, queue=ann.queue)
    follow_up = call(claim, at(today(), "09:00"))
    complete = reverse("rcm:complete_follow_up", args=[follow_up.pk])
    run = reverse("rcm:run_automation")
    other = signed_in(UserFactory(roles=["Care manager"]))
    for target in (complete, run):
        assert other.post(target, {"outcome": "x", "action": "assign"}).status_code == 403
        response = Client().post(target, {"outcome": "x", "action": "assign"})
        assert response["Location"].startswith(reverse("login"))
    # An agent may record their calls but not run the automation.
    assert signed_in(ann.user).post(run, {"action": "assign"}).status_code == 403
    follow_up.refresh_from_db()
    assert follow_up.status == "scheduled"
    assert not AutomationRun.objects.exists()


def test_someone_with_an_agent_role_but_no_agent_record_sees_the_landing_page():
    client = signed_in(UserFactory(roles=["General agent"]))
    response = client.get(reverse("rcm:index"))
    assert response.status_code == 200
    assert response.context["my_roles"] == ["General agent"]
    response = client.get(reverse("rcm:work_queue"))
    assert "not set up as an AR agent" in response.content.decode()


def test_a_manager_without_a_queue_is_pointed_to_the_claims(manager):
    html = manager.get(reverse("rcm:work_queue")).content.decode()
    assert "You have no work queue of your own" in html
    assert reverse("rcm:claim_list") in html


def test_an_agent_cannot_see_or_touch_anothers_claims(ann, ben):
    theirs = aged(10, agent=ben, queue=ben.queue)
    follow_up = call(theirs, at(today(), "09:00"))
    client = signed_in(ann.user)
    assert client.get(url("claim_detail", theirs)).status_code == 404
    response = client.post(
        reverse("rcm:complete_follow_up", args=[follow_up.pk]), {"outcome": "Paid soon"}
    )
    assert response.status_code == 404
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome) == ("scheduled", "")
    assert client.get(reverse("rcm:claim_list")).context["page"].paginator.count == 0
    assert not AuditEvent.objects.filter(action="view").exists()


def test_viewing_a_claim_is_audited(ann, manager):
    claim = aged(10, agent=ann, queue=ann.queue)
    manager.get(url("claim_detail", claim))
    event = AuditEvent.objects.get(action="view")
    assert (event.actor, event.object_type, event.object_ids) == (
        manager.user,
        "rcm.claim",
        [str(claim.pk)],
    )


# The work queue ----------------------------------------------------------------------------------


def test_work_queue_order(ann, ben):
    """Calls due today first, by time; then claims past 80% of the filing window (Aetna: 180
    days, so past 144), then priority high → low, then the oldest first."""
    day = today()
    mine = {"agent": ann, "queue": ann.queue}
    later_call = aged(5, claim_number="Q-1400", priority="low", **mine)
    call(later_call, at(day, "14:00"))
    early_call = aged(6, claim_number="Q-0900", priority="low", **mine)
    call(early_call, at(day, "09:00"))
    flagged = aged(145, claim_number="Q-FLAG", priority="low", **mine)
    at_the_limit = aged(144, claim_number="Q-144", priority="low", **mine)  # not past 144
    high_young = aged(10, claim_number="Q-HIGH-10", priority="high", **mine)
    high_old = aged(50, claim_number="Q-HIGH-50", priority="high", **mine)
    call(high_old, at(day + timedelta(days=1), "08:00"))  # tomorrow: not today's
    medium_old = aged(70, claim_number="Q-MED-70", priority="medium", **mine)
    medium_young = aged(20, claim_number="Q-MED-20", priority="medium", **mine)
    aged(30, priority="high", status="paid", **mine)  # settled
    aged(30, priority="high", agent=ben, queue=ben.queue)  # Ben's

    response = signed_in(ann.user).get(reverse("rcm:work_queue"))
    numbers = [claim.claim_number for claim in response.context["page"].object_list]
    assert numbers == [
        early_call.claim_number,
        later_call.claim_number,
        flagged.claim_number,
        high_old.claim_number,
        high_young.claim_number,
        medium_old.claim_number,
        medium_young.claim_number,
        at_the_limit.claim_number,
    ]
    assert [c.claim_number for c in response.context["due_today"]] == ["Q-0900", "Q-1400"]
    html = response.content.decode()
    assert "Calls due today" in html
    assert html.count(">Filing window<") == 1
    assert reverse("rcm:claim_detail", args=[flagged.pk]) in html


def test_work_queue_paginates(ann, monkeypatch):
    monkeypatch.setattr("rcm.views.PAGE_SIZE", 2)
    for days in (1, 2, 3):
        aged(days, agent=ann, queue=ann.queue, priority="low")
    client = signed_in(ann.user)
    first = client.get(reverse("rcm:work_queue"))
    assert [c.aging_days for c in first.context["page"].object_list] == [3, 2]
    second = client.get(reverse("rcm:work_queue"), {"page": 2})
    assert [c.aging_days for c in second.context["page"].object_list] == [1]


# The claim list ----------------------------------------------------------------------------------


@pytest.fixture
def claims(ann, ben, settings):
    settings.RCM_FILING_WINDOW_DAYS = 100
    senior = queue("senior_agent")
    return {
        "a": aged(10, agent=ann, queue=ann.queue, priority="low"),
        "b": aged(45, agent=ann, queue=ann.queue, priority="high", status="denied"),
        "c": aged(300, agent=ben, queue=senior, payer=payer("Medicare"), priority="medium"),
        "d": aged(150, agent=ben, queue=senior, status="paid"),
        "e": aged(100, payer=payer("Medicare")),  # not routed
    }


def listed(client, claims, **params):
    response = client.get(reverse("rcm:claim_list"), params)
    assert response.status_code == 200
    names = {claim.pk: name for name, claim in claims.items()}
    return sorted(names[claim.pk] for claim in response.context["page"].object_list)


def test_claim_list_filters(manager, claims, ann, ben):
    assert listed(manager, claims) == ["a", "b", "c", "e"]  # open only by default
    assert listed(manager, claims, open="0") == ["a", "b", "c", "d", "e"]
    assert listed(manager, claims, status="paid") == ["d"]  # a status implies all claims
    assert listed(manager, claims, payer=payer("Medicare").pk) == ["c", "e"]
    assert listed(manager, claims, aging="31-60") == ["b"]
    assert listed(manager, claims, aging="120+") == ["c"]
    assert listed(manager, claims, aging="120+", open="0") == ["c", "d"]
    assert listed(manager, claims, queue=queue("senior_agent").pk) == ["c"]
    assert listed(manager, claims, agent=ann.pk) == ["a", "b"]
    assert listed(manager, claims, priority="high") == ["b"]
    # Medicare 365 → past 292: c (300); Aetna 180 → past 144: d (150, paid). e: 100 ≤ 292.
    assert listed(manager, claims, flagged="1") == ["c"]
    assert listed(manager, claims, flagged="1", open="0") == ["c", "d"]
    assert listed(signed_in(ann.user), claims, open="0") == ["a", "b"]


def test_claim_list_ignores_bad_filters_and_says_so(manager, claims):
    response = manager.get(reverse("rcm:claim_list"), {"aging": "old", "priority": "high"})
    assert [c.pk for c in response.context["page"].object_list] == [claims["b"].pk]
    assert any(m.startswith("Ignored the aging filter") for m in messages_of(response))


def test_an_agent_cannot_filter_by_another_agent(ann, ben, claims):
    response = signed_in(ann.user).get(reverse("rcm:claim_list"), {"agent": ben.pk})
    assert any(m.startswith("Ignored the agent filter") for m in messages_of(response))
    assert {c.agent_id for c in response.context["page"].object_list} == {ann.pk}


# The claim page and recording a call -------------------------------------------------------------


def test_claim_page_shows_history_calls_and_documents(ann, manager):
    claim = aged(150, agent=ann, queue=ann.queue, denial_reason="medical_necessity")
    Assignment.objects.create(
        claim=claim, queue=ann.queue, agent=ann, reason="Default Rule: no other rule matched"
    )
    call(claim, at(today(), "09:00"))
    response = manager.get(url("claim_detail", claim))
    html = response.content.decode()
    assert claim.patient.member_id in html
    assert "Default Rule: no other rule matched" in html
    assert "Record the call" in html
    assert "past 144 days, 80% of Aetna" in html
    assert f'action="{reverse("rcm:generate_appeal", args=[claim.pk])}"' in html
    assert reverse("rcm:generate_document", args=[claim.pk]) in html
    assert len(response.context["complete_forms"]) == 1


def next_aetna_day(day):
    """Aetna: 14 days after the last call, on the next Tuesday, Wednesday or Thursday."""
    day += timedelta(days=14)
    while day.weekday() not in (1, 2, 3):
        day += timedelta(days=1)
    return day


def test_recording_a_call_books_the_next_one(ann):
    claim = aged(20, agent=ann, queue=ann.queue)
    follow_up = call(claim, at(today(), "09:00"))
    client = signed_in(ann.user)
    response = client.post(
        reverse("rcm:complete_follow_up", args=[follow_up.pk]),
        {"outcome": "  Payer says it is in process  ", "claim_status": "pending"},
    )
    assert response["Location"] == reverse("rcm:claim_detail", args=[claim.pk])
    follow_up.refresh_from_db()
    claim.refresh_from_db()
    assert (follow_up.status, follow_up.outcome) == ("done", "Payer says it is in process")
    assert claim.status == "pending"
    booked = follow_up.next_follow_up
    assert booked.status == "scheduled"
    assert booked.scheduled_at == at(next_aetna_day(today()), "09:00")
    (message,) = messages_of(response)
    assert message.startswith("Call recorded. Next call booked for")


def test_a_settled_claim_gets_no_next_call(ann):
    claim = aged(20, agent=ann, queue=ann.queue)
    follow_up = call(claim, at(today(), "09:00"))
    response = signed_in(ann.user).post(
        reverse("rcm:complete_follow_up", args=[follow_up.pk]),
        {"outcome": "Paid in full", "claim_status": "paid"},
    )
    assert messages_of(response) == ["Call recorded. The claim is settled: no next call."]
    assert list(claim.follow_ups.values_list("status", flat=True)) == ["done"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"outcome": "   "}, "Say what came of the call."),
        ({"outcome": "ok", "claim_status": "lost"}, "Select a valid choice."),
    ],
)
def test_a_bad_call_record_is_refused_with_the_reason(ann, data, error):
    claim = aged(20, agent=ann, queue=ann.queue)
    follow_up = call(claim, at(today(), "09:00"))
    response = signed_in(ann.user).post(
        reverse("rcm:complete_follow_up", args=[follow_up.pk]), data
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.status == "scheduled"
    assert FollowUp.objects.count() == 1


def test_recording_a_call_twice_says_it_is_done(ann):
    claim = aged(20, agent=ann, queue=ann.queue)
    follow_up = call(claim, at(today(), "09:00"), status="done", outcome="Called")
    response = signed_in(ann.user).post(
        reverse("rcm:complete_follow_up", args=[follow_up.pk]), {"outcome": "Again"}
    )
    assert response.status_code == 400
    assert "This follow-up is already done." in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.outcome == "Called"


# The dashboard and running the automation --------------------------------------------------------


def test_dashboard_shows_the_figures_and_recent_runs(manager, ann):
    aged(10, agent=ann, queue=ann.queue)
    AutomationRun.objects.create(kind="assign_claims", items=4, succeeded=3, failed=1)
    response = manager.get(reverse("rcm:dashboard"))
    html = response.content.decode()
    metrics = response.context["metrics"]
    assert metrics["tasks_automated"]["today"] == 3
    assert "75.0%" in html  # 3 of 4 items this week
    assert "$75.00" in html  # 3 tasks × $25
    assert html.count("<svg") >= 3
    assert "Claim assignment" in html
    assert "Run now" in html


def test_run_assignment_from_the_dashboard(manager):
    AgentFactory(name="Gen", queue=queue("general_agent"))
    claim = aged(10, amount=Decimal("100"))
    response = manager.post(reverse("rcm:run_automation"), {"action": "assign"})
    assert response["Location"] == reverse("rcm:dashboard")
    assert messages_of(response) == ["Assigned 1 of 1 claims (General agents: 1)."]
    claim.refresh_from_db()
    assert claim.agent.name == "Gen"
    assert AutomationRun.objects.get().kind == "assign_claims"


def run_now(client, **data):
    """Post to "Run now" and return its messages (reading them, as the next page would)."""
    response = client.post(reverse("rcm:run_automation"), data, follow=True)
    assert response.redirect_chain == [(reverse("rcm:dashboard"), 302)]
    return [str(m) for m in response.context["messages"]]


def test_run_reassignment_and_scheduling_from_the_dashboard(manager):
    first = AgentFactory(name="First", queue=queue("general_agent"))
    claim = aged(10, agent=first, queue=first.queue)
    # Without reassign, a claim with an agent stays; with it, it is routed again.
    assert run_now(manager, action="assign") == ["Assigned 0 of 0 claims."]
    assert not Assignment.objects.exists()
    assert run_now(manager, action="assign", reassign="on") == [
        "Assigned 1 of 1 claims (General agents: 1)."
    ]
    (message,) = run_now(manager, action="schedule")
    assert message == "Booked 1 of 1 follow-up calls (low: 1)."
    assert claim.follow_ups.get().status == "scheduled"


def test_run_mark_missed_from_the_dashboard(manager, ann):
    claim = aged(20, agent=ann, queue=ann.queue)
    call(claim, at(today() - timedelta(days=1), "09:00"))
    response = manager.post(reverse("rcm:run_automation"), {"action": "mark_missed"})
    assert messages_of(response) == ["Marked 1 follow-up calls missed."]
    assert claim.follow_ups.get().status == "missed"


def test_run_with_a_bad_choice_is_refused(manager):
    response = manager.post(reverse("rcm:run_automation"), {"action": "everything"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not AutomationRun.objects.exists()


# Query counts ------------------------------------------------------------------------------------


def count_queries(client, target):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(target)
    assert response.status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_rows(ann, manager):
    client = signed_in(ann.user)

    def make(n):
        for i in range(n):
            claim = aged(10 + i, agent=ann, queue=ann.queue, priority="high")
            call(claim, at(today(), "09:00"))
            Assignment.objects.create(claim=claim, queue=ann.queue, agent=ann, reason="r")

    make(2)
    detail = url("claim_detail", Claim.objects.first())
    pages = [reverse("rcm:work_queue"), reverse("rcm:claim_list")]
    before = [count_queries(client, p) for p in pages]
    before.append(count_queries(manager, reverse("rcm:dashboard")))
    before.append(count_queries(manager, detail))
    make(6)
    detailed = Claim.objects.first()
    template = DocumentTemplate.objects.create(
        doc_type="payment_inquiry", name="Test inquiry", body="Dear payer", active=False
    )
    for day in range(1, 4):
        call(detailed, at(today() - timedelta(days=day), "09:00"), status="done")
        Assignment.objects.create(claim=detailed, queue=ann.queue, agent=ann, reason="again")
        GeneratedDocument.objects.create(
            claim=detailed, template=template, title="Inquiry", text="...", created_by=ann.user
        )
    after = [count_queries(client, p) for p in pages]
    after.append(count_queries(manager, reverse("rcm:dashboard")))
    after.append(count_queries(manager, detail))
    assert after == before
