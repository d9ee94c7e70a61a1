"""The advocacy work pages: who may open them, scope (404 outside it), My cases' SLA sections,
the case list's filters (every parameter the dashboards link with), the case's lifecycle
through HTTP, the risk queue's order, and bounded query counts."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advocacy import rollups, services
from advocacy.models import Case, CaseEvent, CaseRisk, Interaction, SlaRiskModel
from opsintel.models import AuditEvent
from tests.advocacy.factories import AdvocateFactory, AdvocateUserFactory, case_with_history
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

S = Case.Status


@pytest.fixture(autouse=True)
def seven_day_sla(settings):
    # Every expected deadline below is created + 7 days.
    settings.ADVOCACY_DEFAULT_SLA_DAYS = 7
    settings.ADVOCACY_SLA_DAYS = {}
    settings.ADVOCACY_SLA_PAUSE_PENDING_DOCS = False


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def signed_in(user):
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def rita():
    return AdvocateUserFactory(name="Rita Moss", user__username="rita", team="North")


@pytest.fixture
def sam():
    return AdvocateUserFactory(name="Sam Lee", user__username="sam", team="South")


@pytest.fixture
def leader():
    return signed_in(UserFactory(username="lead", roles=["Operations leader"]))


def case_ids(response):
    return [case.pk for case in response.context["page"].object_list]


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# Who may open what ----------------------------------------------------------------------------

PAGES = ["index", "my_cases", "case_list", "case_detail", "risk_queue"]
POSTS = ["log_interaction", "change_status", "assign_case"]


def url(name, case):
    if name in ("case_detail", *POSTS):
        return reverse(f"advocacy:{name}", args=[case.pk])
    return reverse(f"advocacy:{name}")


@pytest.mark.parametrize("name", PAGES)
def test_each_page_for_advocate_leader_other_role_and_anonymous(name, rita, leader):
    case = case_with_history(rita, opened=ago(hours=2))
    advocate = signed_in(rita.user)
    response = advocate.get(url(name, case))
    if name == "index":
        assert response["Location"] == reverse("advocacy:my_cases")
    else:
        assert response.status_code == 200

    response = leader.get(url(name, case))
    if name == "index":
        assert response["Location"] == reverse("advocacy:executive")
    else:
        assert response.status_code == 200

    other = signed_in(UserFactory(roles=["Care manager"]))
    assert other.get(url(name, case)).status_code == 403

    response = Client().get(url(name, case))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", POSTS)
def test_posts_refuse_other_roles_and_anonymous(name, rita):
    case = case_with_history(rita, opened=ago(hours=2))
    other = signed_in(UserFactory(roles=["Care manager"]))
    assert other.post(url(name, case), {}).status_code == 403
    response = Client().post(url(name, case), {})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert [e.type for e in case.events.all()] == ["opened", "assigned"]


def test_someone_with_the_role_but_no_advocate_record_sees_the_landing_page():
    client = signed_in(UserFactory(roles=["Advocate"]))
    response = client.get(reverse("advocacy:index"))
    assert response.status_code == 200
    assert response.context["my_roles"] == ["Advocate"]


def test_an_advocate_cannot_see_or_change_anothers_case(rita, sam):
    case = case_with_history(sam, opened=ago(hours=2))
    client = signed_in(rita.user)
    assert client.get(url("case_detail", case)).status_code == 404
    posts = {
        "log_interaction": {"channel": "phone", "direction": "outbound", "duration_minutes": 5},
        "change_status": {"status": "in_progress"},
        "assign_case": {"advocate": rita.pk},
    }
    for name, data in posts.items():
        assert client.post(url(name, case), data).status_code == 404, name
    case.refresh_from_db()
    assert (case.status, case.advocate) == (S.OPEN, sam)
    assert [e.type for e in case.events.all()] == ["opened", "assigned"]
    assert not Interaction.objects.exists()
    assert not AuditEvent.objects.filter(action="view").exists()


def test_only_leaders_assign(rita, sam):
    case = case_with_history(rita, opened=ago(hours=2))
    client = signed_in(rita.user)
    page = client.get(url("case_detail", case))
    assert page.context["assign_form"] is None
    assert url("assign_case", case) not in page.content.decode()
    assert client.post(url("assign_case", case), {"advocate": sam.pk}).status_code == 403
    case.refresh_from_db()
    assert case.advocate == rita


def test_viewing_a_case_is_audited(rita, leader):
    case = case_with_history(rita, opened=ago(hours=2))
    leader.get(url("case_detail", case))
    event = AuditEvent.objects.get(action="view")
    assert (event.actor, event.object_type, event.object_ids) == (
        leader.user,
        "advocacy.case",
        [str(case.pk)],
    )


# My cases -------------------------------------------------------------------------------------


def test_my_cases_sections_by_sla_deadline_then_urgency(rita, sam):
    """Deadlines are created + 7 days: 8 days ago → breached a day ago; 6.5 days ago → due
    in 12 hours; the rest are due in 4 to 7 days and grouped urgent → high → low."""
    breached = case_with_history(rita, opened=ago(days=8), urgency="low")
    near = case_with_history(rita, opened=ago(days=6, hours=12), urgency="medium")
    low = case_with_history(rita, opened=ago(days=3), urgency="low")
    urgent = case_with_history(rita, opened=ago(days=1), urgency="urgent")
    high = case_with_history(rita, opened=ago(hours=3), urgency="high")
    high_older = case_with_history(rita, opened=ago(hours=5), urgency="high")
    case_with_history(rita, opened=ago(days=2), steps=[("resolved", 1)])  # not active
    case_with_history(sam, opened=ago(days=9))  # not hers

    response = signed_in(rita.user).get(reverse("advocacy:my_cases"))
    context = response.context
    assert [c.pk for c in context["breached"]] == [breached.pk]
    assert [c.pk for c in context["near"]] == [near.pk]
    assert [(label, [c.pk for c in rows]) for label, rows in context["by_urgency"]] == [
        ("Urgent", [urgent.pk]),
        ("High", [high_older.pk, high.pk]),  # soonest deadline first
        ("Low", [low.pk]),
    ]
    html = response.content.decode()
    assert "Breached (1)" in html
    assert "Near breach (1)" in html
    assert "By urgency (4)" in html
    assert "High (2)" in html
    # Untouched for more than 48 hours: the breached and near cases are stale, the others not.
    assert [c.fact.stale for c in (breached, near, urgent, high)] == [True, True, False, False]
    assert html.count(">Stale<") == 3  # breached, near, and the low case opened 3 days ago


def test_the_hourly_refresh_and_now_agree_on_breach(rita):
    """A case whose deadline passed after its fact row was written counts as breached at once."""
    case = case_with_history(rita, opened=ago(days=7, hours=1))
    rollups.refresh_case_facts([case.pk], as_of=ago(hours=2))
    case.fact.refresh_from_db()
    assert case.fact.sla_breached is False
    response = signed_in(rita.user).get(reverse("advocacy:my_cases"))
    assert [c.pk for c in response.context["breached"]] == [case.pk]


def test_my_cases_for_a_leader_without_cases_explains_where_to_look(leader):
    response = leader.get(reverse("advocacy:my_cases"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "not linked to an advocate record" in html
    assert reverse("advocacy:case_list") in html


# The case list --------------------------------------------------------------------------------


@pytest.fixture
def world(rita, sam):
    """rita (North, capacity 10), sam (South, capacity 1 → 2 active cases: over capacity).
    c1: billing, high, rita, in progress, opened a day ago;
    c2: prior auth, urgent, sam, pending docs, missing docs, opened 10 days ago: breached, stale;
    c3: provider search, low, rita, escalated then resolved within 5 days (closed work);
    c4: claim denial, open, unassigned, 3 handoffs, opened 2 hours ago;
    c5: care coordination, sam, 1 handoff, opened 3 days ago, touched a minute ago."""
    sam.capacity = 1
    sam.save()
    c1 = case_with_history(rita, opened=ago(days=1), urgency="high", steps=[("in_progress", 1)])
    c2 = case_with_history(
        sam,
        case_type="prior_authorization",
        opened=ago(days=10),
        urgency="urgent",
        metadata={"missing_docs": True},
        steps=[("pending_docs", 1)],
    )
    c3 = case_with_history(
        rita,
        case_type="provider_search",
        opened=ago(days=20),
        urgency="low",
        steps=[("escalated", 2), ("resolved", 5 * 24)],
    )
    c4 = case_with_history(
        None, case_type="claim_denial", opened=ago(hours=2), metadata={"handoff_count": 3}
    )
    c5 = case_with_history(
        sam, case_type="care_coordination", opened=ago(days=3), metadata={"handoff_count": 1}
    )
    # A minute ago: a write's own fact refresh is as of the whole second before it.
    services.log_interaction(c5, advocate=sam, channel="phone", started_at=ago(minutes=1))
    rollups.refresh()  # the caseload table the "over capacity" filter reads
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5, "rita": rita, "sam": sam}


def listed(client, world, **params):
    response = client.get(reverse("advocacy:case_list"), params)
    assert response.status_code == 200
    names = {case.pk: name for name, case in world.items() if name.startswith("c")}
    return sorted(names[pk] for pk in case_ids(response))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["c1", "c2", "c4", "c5"]),  # active only by default
        ({"active": "1"}, ["c1", "c2", "c4", "c5"]),
        ({"active": "0"}, ["c1", "c2", "c3", "c4", "c5"]),
        ({"status": "resolved"}, ["c3"]),  # a status filter lifts the active default
        ({"status": "open"}, ["c4", "c5"]),
        ({"status": "in_progress"}, ["c1"]),
        ({"status": "resolved", "active": "1"}, []),
        ({"case_type": "prior_authorization"}, ["c2"]),
        ({"urgency": "urgent"}, ["c2"]),
        ({"urgency": "low", "active": "0"}, ["c3"]),
        ({"team": "South"}, ["c2", "c5"]),
        ({"stale": "1"}, ["c2"]),
        ({"stale": "0"}, ["c1", "c2", "c4", "c5"]),  # 0 means no filter, not "not stale"
        ({"breached": "1"}, ["c2"]),
        ({"missing_docs": "1"}, ["c2"]),
        ({"escalated": "1", "active": "0"}, ["c3"]),
        ({"handoffs": "0"}, ["c1", "c2"]),
        ({"handoffs": "1"}, ["c5"]),
        ({"handoffs": "2"}, []),
        ({"handoffs": "3"}, ["c4"]),
        ({"overloaded": "1"}, ["c2", "c5"]),
        ({"start": "__5_days_ago__", "end": "__today__"}, ["c1", "c4", "c5"]),
        ({"end": "__5_days_ago__", "active": "0"}, ["c2", "c3"]),
    ],
)
def test_case_list_filters_as_the_dashboards_link(leader, world, params, expected):
    today = timezone.localdate()
    dates = {"__today__": today, "__5_days_ago__": today - timedelta(days=5)}
    params = {k: dates.get(v, v) for k, v in params.items()}
    assert listed(leader, world, **params) == expected


def test_case_list_advocate_filter(leader, world):
    assert listed(leader, world, advocate=world["rita"].pk, active="0") == ["c1", "c3"]
    assert listed(leader, world, advocate=world["sam"].pk) == ["c2", "c5"]


def test_case_list_sorts(leader, world):
    url_ = reverse("advocacy:case_list")
    by = {case.pk: name for name, case in world.items() if name.startswith("c")}
    # Deadlines: c2 three days ago, c5 in 4 days, c1 in 6 days, c4 in 6 days 22 hours.
    response = leader.get(url_, {"sort": "deadline"})
    assert [by[pk] for pk in case_ids(response)] == ["c2", "c5", "c1", "c4"]
    # Last touch: c2 (pending docs since 10 days ago), c1 (a day ago), c4 (2 h), c5 (now).
    response = leader.get(url_, {"sort": "last_touch"})
    assert [by[pk] for pk in case_ids(response)] == ["c2", "c1", "c4", "c5"]
    response = leader.get(url_)
    assert [by[pk] for pk in case_ids(response)] == ["c4", "c1", "c5", "c2"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"case_type": "x"}, "case type"),
        ({"handoffs": "7"}, "handoffs"),
        ({"stale": "yes"}, "stale only"),
        ({"start": "2026-13-45"}, "created from"),
        ({"start": "2000-01-02", "end": "2000-01-01"}, "created to"),
        ({"team": "Nowhere"}, "team"),
        ({"advocate": "999999"}, "advocate"),
        ({"sort": "patient"}, "sort"),
    ],
)
def test_bad_filter_values_are_ignored_with_a_message(leader, world, params, field):
    response = leader.get(reverse("advocacy:case_list"), params)
    assert response.status_code == 200
    assert listed(leader, world, **params) == ["c1", "c2", "c4", "c5"]
    assert any(m.startswith(f"Ignored the {field} filter") for m in messages_of(response))


def test_an_advocate_lists_only_own_cases_and_cannot_filter_by_another(world):
    client = signed_in(world["rita"].user)
    assert listed(client, world) == ["c1"]
    assert listed(client, world, active="0") == ["c1", "c3"]
    response = client.get(reverse("advocacy:case_list"), {"advocate": world["sam"].pk})
    assert case_ids(response) == [world["c1"].pk]
    assert any("Ignored the advocate filter" in m for m in messages_of(response))


def test_empty_case_list_says_what_to_do(rita):
    response = signed_in(rita.user).get(reverse("advocacy:case_list"))
    assert "appear here when an operations leader assigns them to you" in (
        response.content.decode()
    )
    response = signed_in(rita.user).get(reverse("advocacy:case_list"), {"stale": "1"})
    assert "No case matches these filters" in response.content.decode()


def test_case_list_query_count_does_not_grow_with_rows(leader):
    advocates = AdvocateFactory.create_batch(3)

    def make(n):
        for i in range(n):
            case_with_history(advocates[i % 3], opened=ago(hours=10 + i))

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = leader.get(reverse("advocacy:case_list"))
        assert response.status_code == 200
        return len(response.context["page"].object_list), len(queries)

    make(5)
    rows, five = count()
    assert rows == 5
    make(20)
    rows, twenty_five = count()
    assert rows == 25
    assert twenty_five == five


def test_pagination_keeps_the_filters(leader, rita, monkeypatch):
    monkeypatch.setattr("advocacy.views.PAGE_SIZE", 2)
    for hours in (1, 2, 3):
        case_with_history(rita, opened=ago(hours=hours), urgency="high")
    response = leader.get(reverse("advocacy:case_list"), {"urgency": "high"})
    assert "?urgency=high&amp;page=2" in response.content.decode()


# The case: its timeline and lifecycle through HTTP --------------------------------------------


def test_the_work_flow_through_the_pages(rita):
    case = case_with_history(rita, opened=ago(hours=3))
    client = signed_in(rita.user)
    detail = url("case_detail", case)

    response = client.post(
        url("log_interaction", case),
        {"channel": "phone", "direction": "outbound", "duration_minutes": "15", "note": "Called"},
    )
    assert response["Location"] == detail
    interaction = Interaction.objects.get(case=case)
    assert (interaction.advocate, interaction.channel, interaction.duration_minutes) == (
        rita,
        "phone",
        15,
    )

    page = client.get(detail)
    actions = [label for _, label in page.context["status_form"].actions]
    assert actions == ["Start work", "Request documents", "Escalate", "Resolve", "Close"]

    for status, note in [("pending_docs", "Need the EOB"), ("resolved", ""), ("reopened", "")]:
        response = client.post(url("change_status", case), {"status": status, "note": note})
        assert response["Location"] == detail, status
    case.refresh_from_db()
    assert case.status == S.REOPENED
    assert [(e.type, e.note, e.actor) for e in case.events.all()] == [
        ("opened", "", None),
        ("assigned", "", None),
        ("docs_requested", "Need the EOB", rita.user),
        ("docs_received", "", rita.user),  # leaving pending documents
        ("resolved", "", rita.user),
        ("reopened", "", rita.user),
    ]
    assert case.fact.status == S.REOPENED  # the fact row follows at once

    page = client.get(detail)
    assert "The case is now reopened." in page.content.decode()
    titles = [entry["title"] for entry in page.context["timeline"]]
    assert titles == [
        "Opened",
        "Assigned",
        "Phone, outbound, 15 min",
        "Documents requested",
        "Documents received",
        "Resolved",
        "Reopened",
    ]
    assert [label for _, label in page.context["status_form"].actions] == [
        "Resume work",
        "Request documents",
        "Escalate",
        "Resolve",
    ]


def test_an_illegal_move_is_refused_and_nothing_written(rita):
    case = case_with_history(rita, opened=ago(hours=3))
    client = signed_in(rita.user)
    response = client.post(url("change_status", case), {"status": "reopened"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "A case that is open cannot become reopened" in html
    assert "Status:" in html
    response = client.post(url("change_status", case), {"status": "bogus"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    case.refresh_from_db()
    assert case.status == S.OPEN
    assert [e.type for e in case.events.all()] == ["opened", "assigned"]


def test_a_closed_case_takes_no_moves_and_no_interactions(rita):
    case = case_with_history(rita, opened=ago(hours=3), steps=[("closed", 1)])
    client = signed_in(rita.user)
    page = client.get(url("case_detail", case))
    assert page.context["status_form"].actions == []
    assert "nothing more can change" in page.content.decode()
    response = client.post(url("change_status", case), {"status": "reopened"})
    assert response.status_code == 400
    assert "the moves allowed now: nothing" in response.content.decode()
    response = client.post(url("log_interaction", case), {"channel": "email",
                           "direction": "inbound", "duration_minutes": "0"})  # fmt: skip
    assert response.status_code == 400
    assert "reopen it first" in response.content.decode()
    assert not Interaction.objects.exists()
    assert [e.type for e in case.events.all()] == ["opened", "assigned", "closed"]


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"channel": "fax", "direction": "outbound", "duration_minutes": "5"}, "channel", "valid"),
        ({"channel": "phone", "direction": "outbound", "duration_minutes": "-5"},
         "duration_minutes", "greater than or equal to 0"),
        ({"channel": "phone", "direction": "sideways", "duration_minutes": "5"}, "direction",
         "valid"),
    ],
)  # fmt: skip
def test_bad_interactions_name_the_field(rita, data, field, words):
    case = case_with_history(rita, opened=ago(hours=3))
    response = signed_in(rita.user).post(url("log_interaction", case), data)
    assert response.status_code == 400
    assert words in " ".join(response.context["interaction_form"].errors[field])
    assert f'id="interaction_{field}-errors"' in response.content.decode()
    assert not Interaction.objects.exists()


def test_a_leader_assigns_to_an_eligible_advocate(leader, rita, sam):
    sam.case_types = ["claim_denial"]
    sam.save()
    eve = AdvocateFactory(name="Eve Park")
    AdvocateFactory(name="Gone", active=False)
    case = case_with_history(rita, opened=ago(hours=3))
    page = leader.get(url("case_detail", case))
    choices = [label for _, label in page.context["assign_form"].fields["advocate"].choices]
    # Not her own advocate, not Sam (no billing disputes), not the inactive one.
    assert choices == ["Eve Park, North: 0 of 10 active"]

    response = leader.post(url("assign_case", case), {"advocate": sam.pk})
    assert response.status_code == 400
    assert "Choose an active advocate who handles this case type" in response.content.decode()
    response = leader.post(url("assign_case", case), {"advocate": eve.pk, "reason": "cover"})
    assert response["Location"] == url("case_detail", case)
    case.refresh_from_db()
    assert case.advocate == eve
    assigned = case.events.filter(type=CaseEvent.Type.ASSIGNED).last()
    assert (assigned.actor, assigned.note) == (leader.user, "cover")
    assert case.fact.advocate == eve


# The SLA-risk queue ---------------------------------------------------------------------------


def test_risk_queue_without_a_model_says_when_it_comes(leader):
    response = leader.get(reverse("advocacy:risk_queue"))
    assert "The risk model trains weekly" in response.content.decode()


def test_risk_queue_orders_by_probability_and_scopes(leader, rita, sam):
    model = SlaRiskModel.objects.create(
        parameters={}, auc=0.8123, train_cases=3000, test_cases=750, breach_share=0.2
    )
    low = case_with_history(rita, opened=ago(hours=3))
    top = case_with_history(sam, opened=ago(days=6))
    mid = case_with_history(rita, opened=ago(days=2))
    done = case_with_history(rita, opened=ago(days=2), steps=[("resolved", 1)])
    for case, probability, reasons in [
        (low, 0.2, []),
        (top, 0.9, [{"label": "3+ handoffs", "weight": 0.4}, "Missing documents"]),
        (mid, 0.55, ["Urgent"]),
        (done, 0.99, ["Resolved since scoring"]),
    ]:
        CaseRisk.objects.create(case=case, model=model, probability=probability, reasons=reasons)

    response = leader.get(reverse("advocacy:risk_queue"))
    assert [r.case_id for r in response.context["page"].object_list] == [top.pk, mid.pk, low.pk]
    html = response.content.decode()
    assert "AUC 0.81 on 750 held-out cases" in html
    assert ">90%<" in html
    assert "<li>3+ handoffs</li><li>Missing documents</li>" in html
    assert "Resolved since scoring" not in html

    response = signed_in(rita.user).get(reverse("advocacy:risk_queue"))
    assert [r.case_id for r in response.context["page"].object_list] == [mid.pk, low.pk]


def test_a_paused_sla_clock_shows_on_the_case(rita, settings):
    settings.ADVOCACY_SLA_PAUSE_PENDING_DOCS = True
    case = case_with_history(rita, opened=ago(days=3), steps=[("pending_docs", 24)])
    # Waiting since day 1: two days (48 h, give or take the seconds the test takes) paused.
    response = signed_in(rita.user).get(url("case_detail", case))
    assert "Clock paused 48.0 h while waiting on the patient" in response.content.decode()
    fact = response.context["fact"]
    expected = case.created_at + timedelta(days=7, hours=fact.sla_paused_hours)
    assert abs((fact.sla_deadline - expected).total_seconds()) < 0.01  # SQLite keeps ms
