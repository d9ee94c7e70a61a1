from datetime import timedelta
from fractions import Fraction

import pytest
from django.core import mail
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from advocacy.assignment import assign_case, assign_new_cases
from advocacy.models import CaseEvent
from opsintel.models import AuditEvent, Notice
from tests.advocacy.factories import T0, AdvocateFactory, CaseFactory

pytestmark = pytest.mark.django_db

AT = T0 + timedelta(days=1)
# settings.ADVOCACY_COMPLEXITY_WEIGHTS, as exact fractions for the hand-worked figures.
WEIGHTS = {"low": Fraction(1), "medium": Fraction(3, 2), "high": Fraction(2)}


@pytest.fixture(autouse=True)
def weights(settings):
    settings.ADVOCACY_COMPLEXITY_WEIGHTS = {"low": 1.0, "medium": 1.5, "high": 2.0}


@pytest.fixture
def leader(make_user):
    return make_user("Operations leader", username="lee", email="lee@example.org")


def carrying(advocate, *complexities, status="in_progress", case_type="billing_dispute"):
    """Cases the advocate already holds."""
    for complexity in complexities:
        CaseFactory(advocate=advocate, complexity=complexity, status=status, case_type=case_type)


def new_case(minutes=0, *, complexity="medium", urgency="medium", case_type="billing_dispute"):
    return CaseFactory(
        created_at=T0 + timedelta(minutes=minutes),
        complexity=complexity,
        urgency=urgency,
        case_type=case_type,
    )


def assigned_to(case):
    case.refresh_from_db()
    return case.advocate


def assigned_note(case):
    return CaseEvent.objects.get(case=case, type="assigned").note


def test_hand_worked_example_picks_the_lowest_weighted_utilization(leader):
    # Ana: 2 high + 1 low = 5.0 of 10 = 0.50 (her resolved case does not count)
    # Ben: 1 high + 1 medium = 3.5 of 5 = 0.70 (the fewest cases and the lowest load)
    # Cy: 3 low + 1 medium = 4.5 of 8 = 0.5625
    ana = AdvocateFactory(name="Ana", capacity=10)
    ben = AdvocateFactory(name="Ben", capacity=5)
    cy = AdvocateFactory(name="Cy", capacity=8)
    carrying(ana, "high", "high", "low")
    carrying(ana, "high", status="resolved")
    carrying(ben, "high", "medium")
    carrying(cy, "low", "low", "low", "medium")
    first, second = new_case(1), new_case(2)
    third = new_case(3, complexity="high")

    run = assign_new_cases(at=AT)

    # 1st (1.5): Ana 0.50 < Cy 0.5625 < Ben 0.70 → Ana, then 6.5 of 10 = 0.65
    # 2nd (1.5): Cy 0.5625 < Ana 0.65 < Ben 0.70 → Cy, then 6.0 of 8 = 0.75
    # 3rd (2.0): Ben has no room (3.5 + 2 > 5), so Ana 0.65 < Cy 0.75 → Ana, "among 2"
    assert [(p.case, p.advocate) for p in run.assigned] == [
        (first, ana),
        (second, cy),
        (third, ana),
    ]
    assert (assigned_to(first), assigned_to(second), assigned_to(third)) == (ana, cy, ana)
    assert assigned_note(first) == (
        "Lowest weighted utilization among 3 advocates handling billing dispute: 0.50 (5 of 10)"
    )
    assert assigned_note(second) == (
        "Lowest weighted utilization among 3 advocates handling billing dispute: 0.56 (4.5 of 8)"
    )
    assert assigned_note(third) == (
        "Lowest weighted utilization among 2 advocates handling billing dispute: 0.65 (6.5 of 10)"
    )
    assert run.summary() == {"assigned": 3, "over_capacity": 0, "unassigned": 0}
    assert Notice.objects.count() == 0  # nothing to tell the leaders
    audit = AuditEvent.objects.get(object_type="advocacy.case")
    assert sorted(audit.object_ids) == sorted(str(c.pk) for c in (first, second, third))


def test_most_urgent_first_then_oldest(leader):
    ana = AdvocateFactory(name="Ana", capacity=3)
    older, urgent = new_case(1), new_case(2, urgency="urgent")
    # Room for two medium cases (1.5 + 1.5 = 3): the urgent one must not be the one left over.
    last = new_case(0, urgency="low")

    run = assign_new_cases(at=AT)

    assert [p.case for p in run.assigned] == [urgent, older, last]
    assert [p.over_capacity for p in run.assigned] == [False, False, True]
    assert assigned_to(urgent) == ana


def test_only_advocates_handling_the_case_type_are_eligible(leader):
    # Paula handles prior authorizations only and has the lowest utilization; Gus handles all.
    paula = AdvocateFactory(name="Paula", capacity=10, case_types=["prior_authorization"])
    gus = AdvocateFactory(name="Gus", capacity=10)
    carrying(gus, "high", "high")  # 0.40
    billing = new_case(1)
    prior_auth = new_case(2, case_type="prior_authorization")
    AdvocateFactory(name="Retired", capacity=10, active=False)

    run = assign_new_cases(at=AT)

    assert assigned_to(billing) == gus
    assert assigned_to(prior_auth) == paula
    assert assigned_note(prior_auth) == (
        "Lowest weighted utilization among 2 advocates handling prior authorization: 0.00 (0 of 10)"
    )
    assert run.unassigned == []


def test_a_case_type_nobody_handles_stays_unassigned_and_the_leaders_are_told(
    leader, django_capture_on_commit_callbacks
):
    AdvocateFactory(name="Paula", case_types=["prior_authorization"])
    denial = new_case(1, case_type="claim_denial")

    with django_capture_on_commit_callbacks(execute=True):
        run = assign_new_cases(at=AT)

    assert run.unassigned == [(denial, "No active advocate handles claim denial")]
    assert assigned_to(denial) is None
    notice = Notice.objects.get(recipient=leader)
    assert notice.title == "New cases: 1 left unassigned"
    assert f"{denial}: No active advocate handles claim denial" in notice.body
    assert len(mail.outbox) == 1


def test_never_above_capacity_while_someone_has_room(leader):
    # Ana has the lower utilization (1.5 of 2 = 0.75) but no room for a high case (2.0);
    # Ben (8 of 10 = 0.80) has exactly the room.
    ana = AdvocateFactory(name="Ana", capacity=2)
    ben = AdvocateFactory(name="Ben", capacity=10)
    carrying(ana, "medium")
    carrying(ben, "high", "high", "high", "high")
    heavy = new_case(1, complexity="high")

    run = assign_new_cases(at=AT)

    assert assigned_to(heavy) == ben
    assert run.over_capacity == []
    assert assigned_note(heavy) == (
        "Lowest weighted utilization among 1 advocate handling billing dispute: 0.80 (8 of 10)"
    )
    assert Notice.objects.count() == 0


def test_everyone_full_still_assigns_flags_and_tells_the_leaders_once(
    leader, make_user, django_capture_on_commit_callbacks
):
    make_user("Operations leader", username="lou", email="lou@example.org")
    ana = AdvocateFactory(name="Ana", capacity=2)  # 2 of 2 = 1.00
    ben = AdvocateFactory(name="Ben", capacity=3)  # 3.5 of 3 ≈ 1.17
    carrying(ana, "low", "low")
    carrying(ben, "high", "medium")
    first, second = new_case(1, complexity="low"), new_case(2, complexity="low")

    with django_capture_on_commit_callbacks(execute=True):
        run = assign_new_cases(at=AT)

    # 1st: Ana 1.00 < Ben 1.17 → Ana, now 3 of 2 = 1.50; 2nd: Ben 1.17 < Ana 1.50 → Ben.
    assert [(p.case, p.advocate, p.over_capacity) for p in run.assigned] == [
        (first, ana, True),
        (second, ben, True),
    ]
    assert assigned_note(first) == (
        "Over capacity: all 2 advocates handling billing dispute are full; "
        "lowest weighted utilization 1.00 (2 of 2)"
    )
    assert assigned_note(second) == (
        "Over capacity: all 2 advocates handling billing dispute are full; "
        "lowest weighted utilization 1.17 (3.5 of 3)"
    )
    assert run.summary() == {"assigned": 2, "over_capacity": 2, "unassigned": 0}
    # One notice per leader for the whole run, naming both cases.
    notices = Notice.objects.order_by("recipient__username")
    assert [(n.recipient.username, n.title) for n in notices] == [
        ("lee", "New cases: 2 assigned over capacity"),
        ("lou", "New cases: 2 assigned over capacity"),
    ]
    assert f"{first} → Ana: Over capacity" in notices[0].body
    assert f"{second} → Ben: Over capacity" in notices[0].body
    assert sorted(m.to[0] for m in mail.outbox) == ["lee@example.org", "lou@example.org"]


def test_assign_case_places_one_new_case_and_leaves_assigned_ones_alone(leader):
    ana = AdvocateFactory(name="Ana", capacity=10)
    ben = AdvocateFactory(name="Ben", capacity=10)
    carrying(ana, "low")
    case = new_case(1)
    waiting = new_case(2)  # another unassigned case: not this call's business

    run = assign_case(case)

    assert [(p.case, p.advocate) for p in run.assigned] == [(case, ben)]
    assert assigned_to(waiting) is None
    assert assign_case(case).assigned == []  # already assigned: nothing happens
    assert CaseEvent.objects.filter(case=case, type="assigned").count() == 1


def test_closed_and_assigned_cases_are_not_touched(leader):
    ana = AdvocateFactory(name="Ana", capacity=10)
    CaseFactory(status="closed", created_at=T0)
    carrying(ana, "low")

    run = assign_new_cases(at=AT)

    assert run.assigned == []
    assert run.unassigned == []
    assert not CaseEvent.objects.exists()


# Property: whatever the advocates and cases, each pick is the least utilized eligible advocate
# with room, and only when nobody eligible has room does anyone go over capacity.

CASE_TYPES = ["billing_dispute", "prior_authorization", "claim_denial"]
LEVELS = list(WEIGHTS)
URGENCY = {"urgent": 4, "high": 3, "medium": 2, "low": 1}

advocates_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "capacity": st.integers(min_value=1, max_value=6),
            "case_types": st.lists(st.sampled_from(CASE_TYPES), max_size=2, unique=True),
            "active": st.sampled_from([True, True, True, False]),
            "carried": st.lists(
                st.tuples(st.sampled_from(LEVELS), st.sampled_from(["in_progress", "resolved"])),
                max_size=5,
            ),
        }
    ),
    min_size=1,
    max_size=4,
)
cases_strategy = st.lists(
    st.tuples(st.sampled_from(CASE_TYPES), st.sampled_from(LEVELS), st.sampled_from(list(URGENCY))),
    min_size=1,
    max_size=8,
)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(advocates=advocates_strategy, cases=cases_strategy)
def test_every_pick_is_the_least_utilized_eligible_advocate_with_room(advocates, cases):
    with transaction.atomic():  # each example starts from an empty database
        check_picks(advocates, cases)
        transaction.set_rollback(True)


def check_picks(advocate_specs, case_specs):
    load, spec_of = {}, {}
    for n, spec in enumerate(advocate_specs):
        advocate = AdvocateFactory(
            name=f"A{n}",
            capacity=spec["capacity"],
            case_types=spec["case_types"],
            active=spec["active"],
        )
        spec_of[advocate.pk] = spec
        load[advocate.pk] = sum(
            (WEIGHTS[level] for level, status in spec["carried"] if status == "in_progress"),
            Fraction(0),
        )
        for level, status in spec["carried"]:
            carrying(advocate, level, status=status)
    new = [
        new_case(minutes, case_type=case_type, complexity=level, urgency=urgency)
        for minutes, (case_type, level, urgency) in enumerate(case_specs)
    ]

    run = assign_new_cases(at=AT)

    def eligible(pk, case):
        spec = spec_of[pk]
        return spec["active"] and (not spec["case_types"] or case.case_type in spec["case_types"])

    def utilization(pk):
        return load[pk] / spec_of[pk]["capacity"]

    placements = iter(run.assigned)
    left = {case.pk for case, _ in run.unassigned}
    for case in sorted(new, key=lambda c: (-URGENCY[c.urgency], c.created_at, c.pk)):
        weight = WEIGHTS[case.complexity]
        candidates = [pk for pk in load if eligible(pk, case)]
        if not candidates:
            assert case.pk in left
            assert assigned_to(case) is None
            continue
        placement = next(placements)
        assert placement.case.pk == case.pk  # taken most urgent first, then oldest
        chosen = placement.advocate.pk
        assert chosen in candidates
        with_room = [pk for pk in candidates if load[pk] + weight <= spec_of[pk]["capacity"]]
        if with_room:
            assert not placement.over_capacity
            assert chosen in with_room
            assert utilization(chosen) == min(utilization(pk) for pk in with_room)
        else:
            assert placement.over_capacity
            assert utilization(chosen) == min(utilization(pk) for pk in candidates)
        assert assigned_to(case).pk == chosen
        assert assigned_note(case) == placement.reason
        load[chosen] += weight
    assert next(placements, None) is None
