"""Schemathesis over the whole API, in process, against /api/schema/.

Every operation of the OpenAPI schema that drf-spectacular serves is called with generated
requests (a bounded number per operation, derandomized so CI sees the same cases every run)
as a platform admin holding a bearer token. Each response must not be a server error and must
match the schema: status code documented, body conforming to the documented shape.

Path ids are pointed at real rows (one small world per run), so the generated bodies reach
the serializers and services instead of stopping at a 404.

The operations are driven with schemathesis' Python API (`APIOperation.as_strategy` under
Hypothesis' `@given`) and pytest's own `subtests`, one subtest per operation and mode, rather
than schemathesis' lazy `from_fixture` pytest integration, which in 4.32 still reaches for a
pytest node attribute (`_nodeid`) that pytest 9.2 no longer has.
"""

from datetime import date, timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from opsintel.roles import PLATFORM_ADMIN
from tests.factories import UserFactory

MAX_EXAMPLES = 5
# A platform admin alone only reads the apps; with each app's managing role the generated
# writes reach the serializers and services instead of stopping at a 403.
FUZZ_ROLES = [
    PLATFORM_ADMIN,
    "Care manager",
    "RDO",
    "Operations leader",
    "AR manager",
    "Pharmacy manager",
]


def build_world(admin):
    """One of every object the API addresses by id, made through the apps' own services where a
    plain row would not be valid. Returns {path-parameter-name or resource: id}."""
    from advocacy import services as advocacy_services
    from campaigns import services as campaign_services
    from engagement import booking
    from engagement import services as engagement_services
    from rcm import documents
    from rcm import services as rcm_services
    from rcm.models import FollowUp
    from tests.advocacy.factories import AdvocateUserFactory
    from tests.advocacy.factories import PatientFactory as AdvocacyPatientFactory
    from tests.campaigns.factories import (
        CoordinatorFactory,
        InterventionFactory,
        MeasureFactory,
    )
    from tests.engagement.factories import LocationFactory, StaffFactory, kind
    from tests.engagement.factories import PatientFactory as EngagementPatientFactory
    from tests.leaderhub.factories import (
        MarketFactory,
        ProviderFactory,
        ProviderShiftFactory,
        ShiftBreakdownFactory,
        VisitFactory,
    )
    from tests.rcm.factories import AgentUserFactory, ClaimFactory
    from tests.rcm.factories import PatientFactory as RcmPatientFactory

    ids = {}
    today = timezone.localdate()

    # campaigns
    measure = MeasureFactory(code="CBP")
    interventions = [
        InterventionFactory(measure=measure, intervention_date=today + timedelta(days=5))
        for _ in range(4)
    ]
    CoordinatorFactory(measures=[measure])
    CoordinatorFactory(measures=[measure])
    campaign = campaign_services.create_campaign(
        created_by=admin,
        name="Fuzz",
        coordinator_count=2,
        target_completion_date=today + timedelta(days=60),
        intervention_ids=[i.pk for i in interventions[:3]],
    )
    ids["campaign"] = campaign.pk
    ids["assignment"] = campaign.assignments.first().pk
    ids["measure"] = measure.pk
    ids["member"] = interventions[0].member_id

    # advocacy
    advocate = AdvocateUserFactory()
    case = advocacy_services.open_case(
        patient=AdvocacyPatientFactory(), case_type="billing_dispute"
    )
    case = advocacy_services.assign(case, advocate)
    ids["case"] = case.pk
    ids["advocate"] = advocate.pk
    ids["advocacy_patient"] = AdvocacyPatientFactory().pk

    # rcm
    claim = ClaimFactory(
        status="denied",
        denial_reason="medical_necessity",
        patient=RcmPatientFactory(date_of_birth=date(1970, 5, 1)),
    )
    open_claim = ClaimFactory(submission_date=today - timedelta(days=40))
    AgentUserFactory()
    rcm_services.assign_claims(today=today)
    rcm_services.schedule_follow_ups(today=today)
    ids["claim"] = open_claim.pk
    ids["rcm_patient"] = open_claim.patient_id
    ids["payer"] = open_claim.payer_id
    follow_up = FollowUp.objects.filter(status=FollowUp.Status.SCHEDULED).first()
    ids["follow_up"] = follow_up.pk if follow_up else 0
    ids["document"] = documents.generate_appeal(claim, notes="Medically necessary.", user=admin).pk

    # engagement
    location = LocationFactory()
    staff = StaffFactory(location=location)
    patient = EngagementPatientFactory(location=location)
    ids["patient"] = patient.pk
    appointment_type = kind("mtm_session")
    ids["appointment_type"] = appointment_type.pk
    day = today + timedelta(days=7 - today.weekday())  # next Monday
    slot, free_slot = booking.find_slots(appointment_type, location, day, day + timedelta(days=4))[
        :2
    ]
    appointment = booking.book(
        patient=patient,
        appointment_type=appointment_type,
        staff=slot.staff,
        location=location,
        starts_at=slot.starts_at,
        booked_by=admin,
    )
    ids["appointment"] = appointment.pk
    task = engagement_services.create_task(
        patient=patient, reason="Check in", due_date=today + timedelta(days=3), by=admin
    )
    ids["task"] = task.pk
    ids["staff"] = staff.pk
    ids["location"] = location.pk
    ids["free_slot_staff"] = free_slot.staff.pk
    ids["free_slot_starts_at"] = free_slot.starts_at.isoformat()
    ids["coordinators"] = list(
        campaign.assignments.values_list("coordinator_id", flat=True).distinct()
    )
    ids["free_intervention"] = interventions[3].pk

    # leader hub
    market = MarketFactory()
    provider = ProviderFactory(markets=[market])
    shift = ProviderShiftFactory(provider=provider, market=market, service_date=today)
    ShiftBreakdownFactory(shift=shift)
    VisitFactory(provider=provider, market=market, service_date=today)
    ids["market_id"] = market.pk
    ids["provider_id"] = provider.pk
    ids["provider_shift_id"] = shift.pk
    return ids


# Which row an `{id}` in a path means, by the path's first segments.
ID_BY_PREFIX = {
    "/api/campaigns/campaigns/": "campaign",
    "/api/campaigns/assignments/": "assignment",
    "/api/campaigns/measures/": "measure",
    "/api/campaigns/members/": "member",
    "/api/advocacy/cases/": "case",
    "/api/rcm/claims/": "claim",
    "/api/rcm/follow-ups/": "follow_up",
    "/api/rcm/documents/": "document",
    "/api/engagement/appointments/": "appointment",
    "/api/engagement/appointment-types/": "appointment_type",
    "/api/engagement/patients/": "patient",
    "/api/engagement/tasks/": "task",
}


def real_ids(path, world):
    values = {}
    for prefix, name in ID_BY_PREFIX.items():
        if path.startswith(prefix):
            values["id"] = world[name]
    for name in ("market_id", "provider_id", "provider_shift_id"):
        if "{" + name + "}" in path:
            values[name] = world[name]
    return values


@pytest.fixture
def wsgi_app():
    # The WSGI handler closes "old" connections at each request's start and end, which inside
    # the test's transaction would break it; Django's own test client disconnects them too.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def test_api_conforms_and_never_fails(db, wsgi_app, subtests):
    """Every operation, positive and negative data: no 5xx, documented status, valid body."""
    admin = UserFactory(username="fuzz-admin", roles=FUZZ_ROLES)
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(admin).access_token}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app, headers=headers)
    world = build_world(admin)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 60, "the schema lost its operations"
    for operation in operations:
        # Negative data needs something to break: a query string or a body (path ids are
        # pinned to real rows above, and an operation with nothing to negate is unsatisfiable).
        modes = [GenerationMode.POSITIVE]
        if len(operation.query) or len(operation.body):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            strategy = operation.as_strategy(
                mode, path_parameters=real_ids(operation.path, world) or None, headers=headers
            )

            @given(case=strategy)
            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                case.call_and_validate(checks=CHECKS)

            with subtests.test(msg=f"{operation.label} {mode.value}"):
                run()
