"""The Leader Hub admin: changelists without N+1 queries for a platform admin, audited visit
views, read-only source data and rollups, and a user's markets edited on the user's page."""

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leaderhub.models import LeaderAccess, Market, MarketGroup, Provider, ProviderMetrics
from leaderhub.rollups import refresh_rollups
from opsintel.models import AuditEvent
from tests.leaderhub.factories import (
    DAY,
    LeaderAccessFactory,
    MarketFactory,
    ProviderFactory,
    ProviderShiftFactory,
    ShiftBreakdownFactory,
    VisitFactory,
    at,
)

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "marketgroup",
    "market",
    "provider",
    "marketactiveprovider",
    "leaderaccess",
    "visit",
    "providershift",
    "shiftbreakdown",
    "providermetrics",
    "marketprovidermetrics",
    "marketmetrics",
]


@pytest.fixture
def admin_client(client, make_user):
    user = make_user("Platform admin", is_staff=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def leaderhub_data(make_user):
    """Enough rows of everything that one query per row would show in the counts."""
    markets = [MarketFactory(short_name=f"MK{n}") for n in range(3)]
    providers = [ProviderFactory(markets=[markets[n % 3]]) for n in range(6)]
    for n in range(24):
        VisitFactory(provider=providers[n % 6], market=markets[n % 3])
    for n in range(6):
        shift = ProviderShiftFactory(provider=providers[n], market=markets[n % 3])
        for hour in (8, 9, 10):
            ShiftBreakdownFactory(shift=shift, start=at(DAY, hour))
    for n in range(4):
        LeaderAccessFactory(user=make_user("Market manager"), markets=markets[: n % 3 + 1])
    refresh_rollups(as_of=DAY)
    return markets, providers


@pytest.mark.parametrize("model", CHANGELISTS)
def test_platform_admin_opens_each_changelist_with_a_bounded_number_of_queries(
    admin_client, leaderhub_data, django_assert_max_num_queries, model
):
    with django_assert_max_num_queries(16):
        response = admin_client.get(reverse(f"admin:leaderhub_{model}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count > 0


def test_visits_are_searched_by_source_ids_and_opening_one_is_audited(admin_client):
    visit = VisitFactory(care_request_id=777001, patient_athena_id="ATH42")
    VisitFactory(care_request_id=777002)
    changelist = reverse("admin:leaderhub_visit_changelist")
    for term in ("777001", "ATH42"):
        response = admin_client.get(changelist, {"q": term})
        assert [row.pk for row in response.context["cl"].result_list] == [visit.pk]
    assert admin_client.get(changelist, {"q": "Smith"}).status_code == 200

    response = admin_client.get(reverse("admin:leaderhub_visit_change", args=[visit.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)
    assert (event.actor, event.object_type, event.object_ids) == (
        admin_client.user,
        "leaderhub.visit",
        [str(visit.pk)],
    )


def test_source_data_and_rollups_cannot_be_added_or_changed(admin_client, leaderhub_data):
    assert admin_client.get(reverse("admin:leaderhub_visit_add")).status_code == 403
    assert admin_client.get(reverse("admin:leaderhub_providershift_add")).status_code == 403
    metrics = ProviderMetrics.objects.first()
    change = reverse("admin:leaderhub_providermetrics_change", args=[metrics.pk])
    response = admin_client.get(change)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False


def test_user_page_shows_and_saves_the_users_markets(admin_client, make_user):
    denver = MarketFactory(name="Denver", short_name="DEN")
    MarketFactory(name="Phoenix", short_name="PHX")
    leader = make_user("Market manager")
    url = reverse("admin:opsintel_user_change", args=[leader.pk])

    response = admin_client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Leader Hub markets" in page
    assert 'name="leader_access-0-markets"' in page
    assert "Denver" in page
    assert "Phoenix" in page

    form = response.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields
        and value is not None
        and name not in ("groups", "user_permissions", "password")
    }
    data.update(
        {
            "groups": [group.pk for group in leader.groups.all()],
            "date_joined_0": leader.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": leader.date_joined.strftime("%H:%M:%S"),
            "is_active": "on",
            "leader_access-TOTAL_FORMS": "1",
            "leader_access-INITIAL_FORMS": "0",
            "leader_access-MIN_NUM_FORMS": "0",
            "leader_access-MAX_NUM_FORMS": "1",
            "leader_access-0-markets": [denver.pk],
        }
    )
    data.pop("last_login", None)
    data.pop("date_joined", None)
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(LeaderAccess.objects.get(user=leader).markets.all()) == [denver]


def test_admin_import_page_shows_progress_while_a_file_is_checked(admin_client):
    page = admin_client.get(reverse("admin:leaderhub_market_import"))
    assert b'data-progress="Checking the file' in page.content
    assert b"opsintel/js/behaviour" in page.content


def test_admin_import_of_markets_matches_short_names(admin_client):
    MarketFactory(name="Denver", short_name="DEN")
    body = "short_name,name,market_group\r\nDEN,Denver Metro,MTN\r\n"
    MarketGroup.objects.create(name="Mountain", short_name="MTN")
    model_admin = admin.site._registry[Market]
    formats = [fmt().get_title() for fmt in model_admin.get_import_formats()]
    preview = admin_client.post(
        reverse("admin:leaderhub_market_import"),
        {
            "resource": "0",
            "format": str(formats.index("csv")),
            "import_file": SimpleUploadedFile("markets.csv", body.encode(), "text/csv"),
        },
    )
    assert preview.status_code == 200
    assert not preview.context["result"].has_errors()
    # Both steps say they are busy while a big file is checked, then written.
    assert preview.content.count(b"data-progress=") == 1
    assert b"Importing the rows" in preview.content
    assert b"opsintel/js/behaviour" in preview.content
    response = admin_client.post(
        reverse("admin:leaderhub_market_process_import"), preview.context["confirm_form"].initial
    )
    assert response.status_code == 302
    market = Market.objects.get(short_name="DEN")
    assert (market.name, market.market_group.short_name) == ("Denver Metro", "MTN")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).count() == 1


def test_other_staff_see_no_leaderhub_admin(client, make_user):
    client.force_login(make_user("Market manager", is_staff=True))
    # Staff without the platform-admin role are sent to the admin login.
    assert client.get(reverse("admin:leaderhub_visit_changelist")).status_code == 302
    assert not Provider.objects.exists()
