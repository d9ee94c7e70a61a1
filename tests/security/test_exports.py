"""Hostile input, exports: a spreadsheet-formula payload in every text field comes out
neutralised in every CSV the platform writes, and still reads back as the stored value.

Every CSV download is covered: the campaign CRM export and call list (pages and API), the
engagement report CSV, and every admin export (django-import-export). The admin part walks
the admin registry, so an export added later without an entry here fails the test.

The rule (opsintel.exports.neutralise): a text cell that starts with "=", "+", "-", "@", tab,
CR or LF is written with a leading "'"; nothing else is changed, so stripping that one quote
gives the stored text back.
"""

import csv
import io
import itertools
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import models
from django.urls import reverse
from import_export.admin import ExportMixin
from rest_framework.test import APIClient

from campaigns.models import Campaign, CampaignAssignment
from engagement import reports
from engagement.models import Appointment, Report
from opsintel.audit import Action, record_event
from opsintel.exports import FORMULA_TRIGGERS, neutralise
from tests.advocacy import factories as advocacy_f
from tests.campaigns import factories as campaigns_f
from tests.engagement import factories as engagement_f
from tests.leaderhub import factories as leaderhub_f
from tests.rcm import factories as rcm_f

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")  # a number (a Decimal, an int) is written as it is
PAYLOADS = ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\n=1")


def read_csv(response):
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("text/csv")
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body, newline="")))


def assert_neutralised(rows, stored):
    """No cell can start a formula; each cell holding a stored payload holds it behind one
    guard quote. Returns the number of such cells."""
    unsafe = [
        cell
        for row in rows
        for cell in row
        if cell.startswith(FORMULA_TRIGGERS) and not NUMBER.fullmatch(cell)
    ]
    assert unsafe == []
    raw = [cell for row in rows for cell in row if cell in stored and cell[:1] != "'"]
    assert raw == [], "a stored formula came out as it is"
    guarded = [cell for row in rows for cell in row if cell[:1] == "'" and cell[1:] in stored]
    for cell in guarded:
        assert cell == neutralise(cell[1:])  # one quote, the rest untouched
    return len(guarded)


# Campaign CRM export and call list ------------------------------------------------------------


@pytest.fixture
def poisoned_campaign(make_user):
    manager = make_user("Care manager", username="manager")
    coordinators = [
        campaigns_f.CoordinatorFactory(
            user__first_name=payload, user__last_name="", user__username=f"coord{n}"
        )
        for n, payload in enumerate(PAYLOADS[:2])
    ]
    measure = campaigns_f.MeasureFactory(code="=M+1", name="=HYPERLINK(1)")
    plan = []
    for n, payload in enumerate(PAYLOADS):
        member = campaigns_f.MemberFactory(
            member_id=f"{payload}{n}",
            first_name=payload,
            last_name=payload,
            phone=PAYLOADS[(n + 1) % len(PAYLOADS)],
            email=PAYLOADS[(n + 2) % len(PAYLOADS)],
        )
        plan.append(
            (coordinators[n % 2], campaigns_f.InterventionFactory(member=member, measure=measure))
        )
    campaign = Campaign.objects.create(
        name="=Winter",
        created_by=manager,
        coordinator_count=2,
        target_completion_date=engagement_f.MONDAY + timedelta(days=30),
        metrics={"total_interventions": len(plan)},
    )
    for coordinator, intervention in plan:
        CampaignAssignment.objects.create(
            campaign=campaign, intervention=intervention, coordinator=coordinator, reason="t"
        )
    stored = {f"{p}{n}" for n, p in enumerate(PAYLOADS)} | set(PAYLOADS) | {"=M+1"}
    # "Member Name" is first and last name joined and stripped: " \t=1" reads "=1" there.
    stored |= {f"{p} {p}".strip() for p in PAYLOADS}
    return manager, campaign, stored


@pytest.mark.parametrize(
    ("how", "kind"),
    [
        ("page", "export_crm"),
        ("page", "export_call_list"),
        ("api", "campaign-export-crm"),
        ("api", "campaign-export-call-list"),
    ],
)
def test_campaign_exports_neutralise_every_text_field(client, poisoned_campaign, how, kind):
    manager, campaign, stored = poisoned_campaign
    if how == "page":
        client.force_login(manager)
        response = client.get(reverse(f"campaigns:{kind}", args=[campaign.pk]))
    else:
        api = APIClient()
        api.force_authenticate(manager)
        response = api.get(reverse(f"campaigns-api:{kind}", args=[campaign.pk]))
    rows = read_csv(response)
    assert len(rows) == 1 + len(PAYLOADS)
    # Member ID, name, phone (and email, measure, coordinator on the CRM export): all guarded.
    guarded_per_row = 7 if "crm" in kind else 4
    assert assert_neutralised(rows, stored) >= len(PAYLOADS) * (guarded_per_row - 2)
    member_ids = sorted(row[0] for row in rows[1:])
    assert member_ids == sorted(neutralise(f"{p}{n}") for n, p in enumerate(PAYLOADS))


# Engagement report CSV ------------------------------------------------------------------------


def test_engagement_report_csv_neutralises_staff_service_and_location_names(client):
    location = engagement_f.LocationFactory(name="=Main")
    manager = engagement_f.StaffFactory(
        role="pharmacy_manager",
        location=location,
        shifts=[],
        user=engagement_f.UserFactory(roles=["Pharmacy manager"]),
    )
    appointment_type = engagement_f.kind("mtm_session")
    appointment_type.name = "@SUM(A1)"
    appointment_type.save()
    patient = engagement_f.PatientFactory(location=location, name="-2+3")
    for n, payload in enumerate(PAYLOADS):
        staff = engagement_f.StaffFactory(name=f"{payload}{n}", location=location)
        starts_at = engagement_f.at(engagement_f.MONDAY, f"{9 + n:02d}:00")
        Appointment.objects.create(
            patient=patient, appointment_type=appointment_type, staff=staff, location=location,
            starts_at=starts_at, ends_at=starts_at + timedelta(minutes=45),
            blocked_until=starts_at + timedelta(minutes=55), status="completed",
            price=Decimal("85"),
        )  # fmt: skip
    report = reports.generate(Report.Kind.DAILY, location, engagement_f.MONDAY)
    client.force_login(manager.user)

    rows = read_csv(client.get(reverse("engagement:report_csv", args=[report.pk])))

    stored = {f"{p}{n}" for n, p in enumerate(PAYLOADS)} | {"@SUM(A1)"}
    assert assert_neutralised(rows, stored) >= len(PAYLOADS)
    staff_names = {row[1] for row in rows if row[0] == "staff"}
    assert staff_names >= {neutralise(f"{p}{n}") for n, p in enumerate(PAYLOADS)}


def test_a_report_row_built_from_stored_json_is_neutralised_too(client):
    """Report data is stored JSON: a label or key that starts a formula is guarded as well."""
    location = engagement_f.LocationFactory()
    manager = engagement_f.StaffFactory(
        role="pharmacy_manager",
        location=location,
        shifts=[],
        user=engagement_f.UserFactory(roles=["Pharmacy manager"]),
    )
    report = reports.generate(Report.Kind.DAILY, location, engagement_f.MONDAY)
    report.data["figures"] = [{"label": p, "value": -1, "status": p} for p in PAYLOADS]
    report.data["counts"] = dict.fromkeys(PAYLOADS, 1)
    report.save()
    client.force_login(manager.user)

    rows = read_csv(client.get(reverse("engagement:report_csv", args=[report.pk])))

    assert assert_neutralised(rows, set(PAYLOADS)) >= 3 * len(PAYLOADS)
    assert ["kpi", "'=1+1", "value", "-1"] in rows  # a number is written as it is


# Admin exports (django-import-export) ---------------------------------------------------------


def _appointment():
    location = engagement_f.LocationFactory()
    staff = engagement_f.StaffFactory(location=location)
    starts_at = engagement_f.at(engagement_f.MONDAY, "09:00")
    return Appointment.objects.create(
        patient=engagement_f.PatientFactory(location=location),
        appointment_type=engagement_f.kind("mtm_session"),
        staff=staff,
        location=location,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        blocked_until=starts_at + timedelta(minutes=55),
        status="booked",
        price=Decimal("85"),
    )


def _coordinator():
    return campaigns_f.CoordinatorFactory(measures=[campaigns_f.MeasureFactory()])


def _leader_access():
    return leaderhub_f.LeaderAccessFactory(markets=[leaderhub_f.MarketFactory()])


BUILDERS = {
    "campaigns.measure": campaigns_f.MeasureFactory,
    "campaigns.member": campaigns_f.MemberFactory,
    "campaigns.intervention": campaigns_f.InterventionFactory,
    "campaigns.coordinator": _coordinator,
    "leaderhub.marketgroup": leaderhub_f.MarketGroupFactory,
    "leaderhub.market": leaderhub_f.MarketFactory,
    "leaderhub.provider": leaderhub_f.ProviderFactory,
    "leaderhub.marketactiveprovider": leaderhub_f.MarketActiveProviderFactory,
    "leaderhub.leaderaccess": _leader_access,
    "advocacy.patient": advocacy_f.PatientFactory,
    "advocacy.advocate": advocacy_f.AdvocateFactory,
    "advocacy.case": advocacy_f.CaseFactory,
    "rcm.claim": rcm_f.ClaimFactory,
    "engagement.appointmenttype": lambda: engagement_f.kind("mtm_session"),  # seeded
    "engagement.patient": lambda: engagement_f.PatientFactory(
        location=engagement_f.LocationFactory()
    ),
    "engagement.appointment": _appointment,
    "opsintel.auditevent": lambda: record_event(Action.VIEW, description="x"),
}

EXPORT_ADMINS = sorted(
    (model._meta.label_lower, model_admin)
    for model, model_admin in admin.site._registry.items()
    if isinstance(model_admin, ExportMixin)
)


def _text_fields(model):
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not f.primary_key
        and not f.choices  # a choice is checked on the way in: no free text there
        and f.name != "password"
    ]


def poison(obj, counter):
    """Set every free-text field of `obj` and of the rows it points at (foreign keys and
    many-to-many, one step) to a formula payload, unique per field. Returns the values."""
    targets = [obj]
    for f in obj._meta.concrete_fields:
        if f.is_relation and getattr(obj, f.attname) is not None:
            targets.append(getattr(obj, f.name))
    for f in obj._meta.many_to_many:
        targets.extend(getattr(obj, f.name).all())
    stored = set()
    for target in targets:
        values = {}
        for f in _text_fields(type(target)):
            n = next(counter)
            value = f"{PAYLOADS[n % len(PAYLOADS)]}{n}"[: f.max_length or None]
            values[f.attname] = value
            stored.add(value)
        type(target)._default_manager.filter(pk=target.pk).update(**values)
    return stored


@pytest.fixture
def superuser_client(client, make_user):
    user = make_user(is_staff=True, is_superuser=True, username="root")
    client.force_login(user)
    return client


def test_every_admin_export_has_a_builder_here():
    assert {label for label, _ in EXPORT_ADMINS} == set(BUILDERS)


@pytest.mark.parametrize(("label", "model_admin"), EXPORT_ADMINS, ids=[x for x, _ in EXPORT_ADMINS])
def test_admin_export_neutralises_every_text_field(superuser_client, label, model_admin):
    counter = itertools.count()
    stored = set()
    built = [BUILDERS[label]() for _ in range(2)]  # first: builders look seeded rows up by name
    for obj in built:
        stored |= poison(obj, counter)
    formats = [fmt().get_title() for fmt in model_admin.get_export_formats()]
    resource = model_admin.get_export_resource_classes(None)[0]
    url = reverse(f"admin:{label.replace('.', '_')}_export")

    response = superuser_client.post(
        url,
        {
            "format": str(formats.index("csv")),
            "resource": "0",
            **{
                f"{resource.__name__.lower()}_{name}": "on"
                for name in resource().get_export_order()
            },
        },
    )

    rows = read_csv(response)
    assert len(rows) >= 3, rows
    assert assert_neutralised(rows, stored) >= 2
