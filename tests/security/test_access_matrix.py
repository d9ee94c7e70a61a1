"""The access matrix: every URL the resolver knows, every persona, the expected answer.

The table is `tests/security/matrix.py`; this module builds one fixture world (per app, one
object inside the scoped personas' scope and one outside it), walks `get_resolver()` so a URL
without a row fails, then for each row checks:

- every persona's status on the URL (anonymous → login, no role in the app → 403, …);
- object-id guessing (IDOR): the scoped personas asking for the out-of-scope object's id get
  404 on every detail, export and action URL (POST for POST-only views) and nothing changes;
- list pages and API lists show the in-scope row and never the out-of-scope one;
- bearer tokens: expired, tampered and deactivated-after-issue tokens are refused.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from tests.security import matrix
from tests.security.matrix import ADMIN_LOGIN, KNOWN_FINDINGS, LOGIN, MATRIX, PERSONAS

# The world --------------------------------------------------------------------------------------


class World(dict):
    """Named fixture objects: `world["claim"]` is in scope for the scoped personas,
    `world["claim_out"]` is not. `world.users[persona]` is the persona's user (None: anonymous)."""

    users: dict


def _build_world():
    from advocacy.models import Advocate, Case
    from campaigns.models import Campaign, CampaignAssignment, Coordinator
    from engagement.models import (
        Appointment,
        AppointmentType,
        FollowUpTask,
        Report,
        TimeOff,
    )
    from leaderhub.models import LeaderAccess
    from opsintel.models import Notice
    from rcm.models import AssignmentRule, DocumentTemplate, FollowUp, GeneratedDocument
    from tests.advocacy.factories import PatientFactory as AdvocacyPatientFactory
    from tests.campaigns.factories import InterventionFactory, MeasureFactory, MemberFactory
    from tests.engagement.factories import LocationFactory, StaffFactory
    from tests.engagement.factories import PatientFactory as PharmacyPatientFactory
    from tests.factories import UserFactory
    from tests.leaderhub.factories import (
        MarketFactory,
        ProviderFactory,
        ProviderShiftFactory,
        VisitFactory,
    )
    from tests.rcm.factories import AgentFactory, ClaimFactory

    w = World()
    users = {None: None}
    for persona, roles in PERSONAS.items():
        if roles is None:
            users[persona] = None
            continue
        # Everyone is staff: the admin must still keep out all but the platform admin.
        users[persona] = UserFactory(
            username=persona.lower().replace(" ", "-"), roles=list(roles), is_staff=True
        )
    w.users = users
    nobody = UserFactory(username="someone-else")

    # campaigns: the coordinator works campaign "in"; campaign "out" is another coordinator's.
    coordinator = Coordinator.objects.create(user=users["Care coordinator"])
    other_coordinator = Coordinator.objects.create(
        user=UserFactory(username="other-coordinator", roles=["Care coordinator"])
    )
    w["measure"] = w["measure_out"] = MeasureFactory(code="HBA1C")
    for suffix, who in (("", coordinator), ("_out", other_coordinator)):
        member = MemberFactory(member_id=f"MBR-MATRIX{suffix.upper() or '-IN'}")
        intervention = InterventionFactory(member=member, measure=w["measure"])
        campaign = Campaign.objects.create(
            name=f"Matrix campaign{suffix}",
            created_by=users["Care manager"],
            coordinator_count=1,
            target_completion_date=date.today() + timedelta(days=60),
        )
        assignment = CampaignAssignment.objects.create(
            campaign=campaign, intervention=intervention, coordinator=who, reason="matrix"
        )
        w[f"member{suffix}"] = member
        w[f"intervention{suffix}"] = intervention
        w[f"campaign{suffix}"] = campaign
        w[f"assignment{suffix}"] = assignment

    # leaderhub: the market manager leads market "in"; market "out" is someone else's.
    for suffix in ("", "_out"):
        market = MarketFactory(name=f"Matrix market{suffix}", short_name=f"MX{suffix.upper()}")
        provider = ProviderFactory(last_name=f"Matrixprovider{suffix}", markets=[market])
        shift = ProviderShiftFactory(provider=provider, market=market)
        VisitFactory(provider=provider, market=market)
        w[f"market{suffix}"] = market
        w[f"provider{suffix}"] = provider
        w[f"shift{suffix}"] = shift
    LeaderAccess.objects.create(user=users["Market manager"]).markets.set([w["market"]])

    # advocacy: the advocate's own case, and another advocate's.
    mine = Advocate.objects.create(name="Matrix advocate", user=users["Advocate"], capacity=5)
    theirs = Advocate.objects.create(name="Other advocate", capacity=5)
    for suffix, advocate in (("", mine), ("_out", theirs)):
        w[f"case{suffix}"] = Case.objects.create(
            patient=AdvocacyPatientFactory(),
            advocate=advocate,
            case_type="billing_dispute",
            external_id=f"CASE-MATRIX{suffix.upper() or '-IN'}",
        )

    # rcm: the general agent's claim, and another agent's.
    w["assignment_rule"] = w["assignment_rule_out"] = AssignmentRule.objects.first()
    template = DocumentTemplate.objects.filter(active=True).first() or (
        DocumentTemplate.objects.create(doc_type="appeal_generic", name="Matrix", body="x")
    )
    my_agent = AgentFactory(name="Matrix agent", user=users["General agent"])
    other_agent = AgentFactory(name="Other agent")
    for suffix, agent in (("", my_agent), ("_out", other_agent)):
        claim = ClaimFactory(
            claim_number=f"CLM-MATRIX{suffix.upper() or '-IN'}", agent=agent, status="denied"
        )
        w[f"claim{suffix}"] = claim
        w[f"follow_up{suffix}"] = FollowUp.objects.create(
            claim=claim, agent=agent, scheduled_at=timezone.now(), priority="low"
        )
        w[f"document{suffix}"] = GeneratedDocument.objects.create(
            claim=claim, template=template, title=f"Matrix letter{suffix}", text="Dear payer"
        )

    # engagement: the pharmacy manager's and staff pharmacist's location, and another one.
    kind = AppointmentType.objects.first()
    w["appointment_type"] = w["appointment_type_out"] = kind
    for suffix in ("", "_out"):
        location = LocationFactory(name=f"Matrix pharmacy{suffix}")
        pharmacist = StaffFactory(
            name=f"Matrix pharmacist{suffix}",
            location=location,
            user=users["Staff pharmacist"] if not suffix else None,
        )
        patient = PharmacyPatientFactory(
            name=f"Matrixpatient{suffix.replace('_', '')}", location=location
        )
        starts = timezone.now() + timedelta(days=3)
        appointment = Appointment.objects.create(
            patient=patient,
            appointment_type=kind,
            staff=pharmacist,
            location=location,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            blocked_until=starts + timedelta(minutes=30),
            price=Decimal("0"),
        )
        w[f"location{suffix}"] = location
        w[f"pharmacist{suffix}"] = pharmacist
        w[f"pharmacy_patient{suffix}"] = patient
        w[f"appointment{suffix}"] = appointment
        w[f"task{suffix}"] = FollowUpTask.objects.create(
            patient=patient,
            reason=f"Matrix call{suffix}",
            due_date=date.today(),
            assignee=pharmacist,
        )
        w[f"time_off{suffix}"] = TimeOff.objects.create(
            staff=pharmacist, starts_at=starts, ends_at=starts + timedelta(hours=4)
        )
        w[f"report{suffix}"] = Report.objects.create(
            kind="daily", location=location, period_start=date.today(),
            period_end=date.today(), data={},
        )  # fmt: skip
    StaffFactory(
        name="Matrix manager",
        role="pharmacy_manager",
        location=w["location"],
        user=users["Pharmacy manager"],
    )

    # notices are private to their recipient: nobody here may touch someone else's.
    w["notice"] = w["notice_out"] = Notice.objects.create(recipient=nobody, title="Private")
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at the end; each
    test runs in a savepoint inside it (pytest-django's `db`), so requests that write (audit
    events) leave the world as it was."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


# The URL patterns -------------------------------------------------------------------------------


def named_patterns(resolver=None, namespace=""):
    """Every named URL pattern as "namespace:name", found by walking the resolver."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from named_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}:{entry.name}" if namespace else entry.name


def test_every_url_pattern_has_a_row():
    names = set(named_patterns())
    covered = {name for name in names if matrix.excluded(name)} | set(MATRIX)
    missing = sorted(names - covered)
    assert not missing, (
        "URL patterns without a row in tests/security/matrix.py (add one line each):\n  "
        + "\n  ".join(missing)
    )
    stale = sorted(set(MATRIX) - names)
    assert not stale, f"rows in matrix.py for URLs that no longer exist: {stale}"


def test_the_admin_exclusion_rule_keeps_the_admin_index_and_a_changelist_per_app():
    # The rule must not swallow what the matrix promises to cover.
    admin_rows = [name for name in MATRIX if name.startswith("admin:")]
    assert "admin:index" in admin_rows
    for app in ("campaigns", "leaderhub", "advocacy", "rcm", "engagement", "opsintel"):
        assert any(name.startswith(f"admin:{app}_") for name in admin_rows), app


# Requests ---------------------------------------------------------------------------------------


def client_as(world, persona):
    client = Client()
    user = world.users[persona]
    if user is not None:
        client.force_login(user)
    return client


def url_for(world, row, name, *, out=False):
    query = row.query.format(**{key: obj.pk for key, obj in world.items()})
    return reverse(name, kwargs=row.kwargs(world, out=out)) + query


def request(client, row, url):
    if row.post:
        if row.api:
            return client.post(url, row.data, content_type="application/json")
        return client.post(url, row.data)
    return client.get(url)


def outcome(response):
    """What a response means, in the table's words."""
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("login")):
            return LOGIN
    return response.status_code


ROWS = sorted(MATRIX)


@pytest.mark.parametrize("name", ROWS)
def test_each_persona_gets_the_expected_answer(name, world, db):
    row = MATRIX[name]
    url = url_for(world, row, name)
    cache.clear()  # the token endpoints are throttled per address
    wrong, known = [], []
    for persona in PERSONAS:
        got = outcome(client_as(world, persona).get(url))
        want = row.expected(persona)
        if got not in (want if isinstance(want, tuple) else (want,)):
            finding = KNOWN_FINDINGS.get((name, persona))
            (known if finding else wrong).append(f"{persona}: got {got}, expected {want}")
            if finding:
                known[-1] += f" [{finding}]"
    assert not wrong, f"GET {url}\n  " + "\n  ".join(wrong + known)
    still_listed = [p for (n, p) in KNOWN_FINDINGS if n == name and not any(
        line.startswith(f"{p}:") for line in known)]  # fmt: skip
    assert not still_listed, f"fixed, remove from KNOWN_FINDINGS: {name} {still_listed}"
    if known:
        pytest.xfail("known finding: " + "; ".join(known))


IDOR_ROWS = [name for name in ROWS if MATRIX[name].obj and not MATRIX[name].shared]


@pytest.mark.parametrize("name", IDOR_ROWS)
def test_guessing_an_out_of_scope_id_answers_404(name, world, db):
    row = MATRIX[name]
    url = url_for(world, row, name, out=True)
    missing = url_for(world, row, name).replace(f"/{row.kwargs(world)[row.kwarg]}", "/999999", 1)
    wrong = []
    for persona in row.scoped_personas():
        client = client_as(world, persona)
        got = request(client, row, url).status_code
        # 404; or, for an action the persona may not take on any object, the same refusal
        # as for an id that does not exist (the answer reveals nothing about the object).
        if got != 404 and not (row.post and got == request(client, row, missing).status_code):
            wrong.append(f"{persona}: got {got}")
    assert not wrong, f"{'POST' if row.post else 'GET'} {url} (out of scope)\n  " + "\n  ".join(
        wrong
    )


LIST_ROWS = [name for name in ROWS if MATRIX[name].lists or MATRIX[name].hides]


def shown(row, response, obj):
    """Whether a list answer shows `obj`: by id in an API list, by its text on a page."""
    if row.api:
        payload = response.json()
        rows = payload["results"] if isinstance(payload, dict) else payload
        return obj.pk in {item["id"] for item in rows}
    return matrix.marker(obj) in response.content.decode()


@pytest.mark.parametrize("name", LIST_ROWS)
def test_lists_show_in_scope_rows_only(name, world, db):
    row = MATRIX[name]
    url = url_for(world, row, name)
    for persona in row.scoped_personas():
        response = client_as(world, persona).get(url)
        assert response.status_code == 200, (persona, response.status_code)
        for key in row.lists:
            assert shown(row, response, world[key]), f"{persona} misses their {key} on {url}"
        for key in row.lists + row.hides:
            assert not shown(row, response, world[f"{key}_out"]), (
                f"{persona} sees another scope's {key} on {url}"
            )


# Tokens -----------------------------------------------------------------------------------------


@pytest.fixture
def token_user(make_user):
    cache.clear()  # the token endpoint is throttled per address
    return make_user("AR manager", username="token-user")


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def obtain(client, user):
    from tests.factories import PASSWORD

    response = client.post(
        reverse("api:token_obtain"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return response.json()["access"]


ME = "/api/me/"
CLAIMS = "/api/rcm/claims/"


def test_a_fresh_token_is_accepted(client, token_user):
    access = obtain(client, token_user)
    assert Client().get(reverse("api:me"), **bearer(access)).status_code == 200
    assert Client().get(reverse("rcm-api:claim-list"), **bearer(access)).status_code == 200


def test_an_expired_token_is_refused(client, token_user):
    access = AccessToken(obtain(client, token_user))
    access.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=1))
    response = Client().get(reverse("rcm-api:claim-list"), **bearer(str(access)))
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_tampered_token_is_refused(client, token_user):
    access = obtain(client, token_user)
    header, payload, signature = access.split(".")
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    for token in (
        f"{header}.{payload}.{flipped}",
        # A payload edited to another user, signature kept.
        f"{header}.{payload[:-2]}{'x' if payload[-2] != 'x' else 'y'}{payload[-1]}.{signature}",
    ):
        response = Client().get(reverse("rcm-api:claim-list"), **bearer(token))
        assert response.status_code == 401, token


def test_a_token_of_a_user_deactivated_after_issue_is_refused(client, token_user):
    access = obtain(client, token_user)
    token_user.is_active = False
    token_user.save(update_fields=["is_active"])
    response = Client().get(reverse("rcm-api:claim-list"), **bearer(access))
    assert response.status_code in (401, 403)


def test_a_token_of_a_user_who_lost_the_role_after_issue_is_refused(client, token_user):
    access = obtain(client, token_user)
    token_user.groups.clear()
    response = Client().get(reverse("rcm-api:claim-list"), **bearer(access))
    assert response.status_code == 403
