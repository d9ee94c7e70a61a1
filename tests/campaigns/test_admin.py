"""The campaign admin: changelists without N+1 queries, audited import and export through
django-import-export, read-only campaigns, and import/export bound to model permissions."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import (
    Campaign,
    CampaignAssignment,
    CampaignProgress,
    Intervention,
    Member,
)
from opsintel.models import AuditEvent
from tests.campaigns.factories import (
    CoordinatorFactory,
    InterventionFactory,
    MeasureFactory,
    MemberFactory,
)

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action
CHANGELISTS = [
    "measure",
    "member",
    "intervention",
    "coordinator",
    "campaign",
    "campaignassignment",
    "campaignprogress",
]


@pytest.fixture
def admin_client(client, make_user):
    user = make_user("Platform admin", is_staff=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def campaign_data(make_user):
    """Enough rows of everything that one query per row would show in the counts."""
    measures = [MeasureFactory(code=code) for code in ("GSD", "CBP", "BCS")]
    coordinators = [CoordinatorFactory(measures=measures[:2]) for _ in range(3)]
    manager = make_user("Care manager")
    campaign = Campaign.objects.create(
        name="Autumn outreach",
        created_by=manager,
        coordinator_count=3,
        target_completion_date=date(2030, 1, 31),
    )
    for n in range(24):
        intervention = InterventionFactory(measure=measures[n % 3], external_id=f"X{n}")
        CampaignAssignment.objects.create(
            campaign=campaign,
            intervention=intervention,
            coordinator=coordinators[n % 3],
            reason="test",
        )
    for day in range(1, 6):
        CampaignProgress.objects.create(
            campaign=campaign, day=date(2029, 12, day), total=24, finished=day, closures=1
        )
    return campaign


def format_index(formats, title="csv"):
    return str([fmt().get_title() for fmt in formats].index(title))


@pytest.mark.parametrize("model", CHANGELISTS)
def test_platform_admin_opens_each_changelist_with_a_bounded_number_of_queries(
    admin_client, campaign_data, django_assert_max_num_queries, model
):
    url = reverse(f"admin:campaigns_{model}_changelist")
    with django_assert_max_num_queries(16):
        response = admin_client.get(url)
    assert response.status_code == 200


def test_campaign_links_to_its_assignments_and_cannot_be_added_or_deleted(
    admin_client, campaign_data
):
    response = admin_client.get(reverse("admin:campaigns_campaign_changelist"))
    link = f"?campaign__id__exact={campaign_data.pk}"
    assert link in response.content.decode()
    assignments = admin_client.get(reverse("admin:campaigns_campaignassignment_changelist") + link)
    assert assignments.status_code == 200
    assert assignments.context["cl"].result_count == 24
    assert admin_client.get(reverse("admin:campaigns_campaign_add")).status_code == 403
    change = reverse("admin:campaigns_campaign_change", args=[campaign_data.pk])
    assert admin_client.get(change).status_code == 200  # view only for platform admins
    delete = reverse("admin:campaigns_campaign_delete", args=[campaign_data.pk])
    assert admin_client.get(delete).status_code == 403


def test_assignments_are_searched_by_member_id(admin_client, campaign_data):
    assignment = campaign_data.assignments.select_related("intervention__member").first()
    member_id = assignment.intervention.member.member_id
    response = admin_client.get(
        reverse("admin:campaigns_campaignassignment_changelist"), {"q": member_id}
    )
    assert [row.pk for row in response.context["cl"].result_list] == [assignment.pk]


def test_opening_a_member_in_the_admin_is_audited_as_a_view(admin_client):
    member = MemberFactory()
    response = admin_client.get(reverse("admin:campaigns_member_change", args=[member.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=Action.VIEW)
    assert (event.actor, event.object_type, event.object_ids) == (
        admin_client.user,
        "campaigns.member",
        [str(member.pk)],
    )


def test_admin_import_of_interventions_previews_then_writes_and_audits(admin_client):
    gsd = MeasureFactory(code="GSD")
    MeasureFactory(code="CBP")
    MemberFactory(member_id="M1")
    MemberFactory(member_id="M2")
    existing = InterventionFactory(external_id="E2", measure=gsd, cost=Decimal("5.00"))
    body = (
        "external_id,member_id,measure_code,status,intervention_date,cost,outcome,outcome_date,"
        "notes\r\n"
        "E1,M1,GSD,pending,2030-01-15,25.50,,,first call\r\n"
        "E2,M2,CBP,closed,2024-10-01,40.00,Gap closed,2024-10-01,\r\n"
    )
    model_admin = admin.site._registry[Intervention]
    import_url = reverse("admin:campaigns_intervention_import")

    preview = admin_client.post(
        import_url,
        {
            "resource": "0",
            "format": format_index(model_admin.get_import_formats()),
            "import_file": SimpleUploadedFile("interventions.csv", body.encode(), "text/csv"),
        },
    )

    assert preview.status_code == 200
    result = preview.context["result"]
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert Intervention.objects.count() == 1  # the preview is a dry run
    confirm = preview.context["confirm_form"]
    response = admin_client.post(
        reverse("admin:campaigns_intervention_process_import"), confirm.initial
    )

    assert response.status_code == 302
    first = Intervention.objects.select_related("member", "measure").get(external_id="E1")
    assert (first.member.member_id, first.measure.code, first.status) == ("M1", "GSD", "pending")
    assert (first.intervention_date, first.cost, first.notes) == (
        date(2030, 1, 15),
        Decimal("25.50"),
        "first call",
    )
    existing.refresh_from_db()
    assert (existing.member.member_id, existing.measure.code) == ("M2", "CBP")
    assert (existing.status, existing.outcome, existing.cost) == (
        "closed",
        "Gap closed",
        Decimal("40.00"),
    )
    event = AuditEvent.objects.get(action=Action.IMPORT)
    assert event.actor == admin_client.user
    assert event.object_type == "campaigns.intervention"
    assert sorted(event.object_ids) == sorted([str(first.pk), str(existing.pk)])


def test_admin_import_shows_row_errors_and_writes_nothing(admin_client):
    MeasureFactory(code="GSD")
    MemberFactory(member_id="M1")
    body = (
        "external_id,member_id,measure_code,status,intervention_date,cost\r\n"
        "E1,M1,GSD,pending,2030-01-15,25.50\r\n"
        "E2,NOBODY,GSD,pending,2030-01-15,1\r\n"
        "E3,M1,GSD,someday,2030-01-15,-4\r\n"
        ",M1,GSD,pending,2030-01-15,1\r\n"
    )
    model_admin = admin.site._registry[Intervention]
    preview = admin_client.post(
        reverse("admin:campaigns_intervention_import"),
        {
            "resource": "0",
            "format": format_index(model_admin.get_import_formats()),
            "import_file": SimpleUploadedFile("bad.csv", body.encode(), "text/csv"),
        },
    )
    assert preview.status_code == 200
    result = preview.context["result"]
    assert "confirm_form" not in preview.context
    # Spreadsheet rows (the header is row 1): unknown member; no id
    assert [number for number, _ in result.row_errors()] == [3, 5]
    assert [row.number for row in result.invalid_rows] == [4]  # bad status and cost
    assert set(result.invalid_rows[0].error_dict) == {"status", "cost"}
    assert not Intervention.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.IMPORT).exists()


def test_admin_export_of_members_neutralises_formulas_and_is_audited(admin_client):
    MemberFactory(member_id="M1", first_name="=cmd|' /C calc'!A0", last_name="Doe")
    MemberFactory(member_id="M2", first_name="Ann", last_name="+1-555")
    model_admin = admin.site._registry[Member]
    response = admin_client.post(
        reverse("admin:campaigns_member_export"),
        {
            "format": format_index(model_admin.get_export_formats()),
            "resource": "0",
            **{f"memberresource_{f}": "on" for f in ("member_id", "first_name", "last_name")},
        },
    )
    assert response.status_code == 200, response.content[:500]
    rows = {row["member_id"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows["M1"]["first_name"] == "'=cmd|' /C calc'!A0"
    assert rows["M2"]["last_name"] == "'+1-555"
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert (event.object_type, event.object_count) == ("campaigns.member", 2)


def test_import_and_export_need_the_model_permissions(client, make_user, admin_open_to_staff):
    # A care manager may view interventions but not add or change them in the admin.
    client.force_login(make_user("Care manager", is_staff=True))
    assert client.get(reverse("admin:campaigns_intervention_changelist")).status_code == 200
    assert client.get(reverse("admin:campaigns_intervention_import")).status_code == 403
    assert client.get(reverse("admin:campaigns_intervention_export")).status_code == 200
    # Staff of another app see no campaign data and cannot export it.
    client.force_login(make_user("AR manager", is_staff=True))
    assert client.get(reverse("admin:campaigns_member_export")).status_code == 403
    assert client.get(reverse("admin:campaigns_member_changelist")).status_code == 403
