"""Campaigns demo data: members with HEDIS care gaps, a year of outcomes, open work,
coordinators and three campaigns part-way through.

Deterministic and idempotent (see opsintel/demo.py): every random choice comes from
`ctx.rng_for("campaigns")`, members, measures and interventions are upserted on their natural
keys (member ID, measure code, `Intervention.external_id` "demo-000123"), and a demo campaign is
only created when no campaign of that name exists, so `seed_demo` twice leaves the same data.

Dates. Every date is counted from the first day of the current month (`reference_day`), not from
today. Within a month a re-run writes the same dates (the command is idempotent however often it
runs that month), while the demo never looks more than a month stale: the history ends just
before the reference day and open work runs from a few weeks before it (overdue) to three months
after. Only the priorities, a derived cache the nightly task also recomputes from the real date,
are refreshed with today's date. Demo campaigns are created once and keep the dates they were
created with.

Sizes: 2,500 members at size small (about 5,000 interventions), x10 medium, x100 large; the
coordinators (12 plus the care-coordinator persona) and the three campaigns are the same at every
size.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.utils import timezone

from campaigns import services
from campaigns.models import (
    Campaign,
    Coordinator,
    Intervention,
    Measure,
    Member,
)
from opsintel.assignment import BALANCED, GROUP_BY_SKILL, ROUND_ROBIN
from opsintel.demo import demo_generator, upsert_demo_user
from opsintel.models import User

Status = Intervention.Status

MEMBERS_AT_SMALL = 2_500
MEMBER_CHUNK = 5_000  # members generated and upserted at a time (bounds memory at size large)
EXTERNAL_ID_PREFIX = "demo-"


def reference_day():
    """The first day of the current month: the fixed point every demo date is counted from."""
    return timezone.localdate().replace(day=1)


# Measures ---------------------------------------------------------------------------------------


class DemoMeasure(NamedTuple):
    code: str
    name: str
    revenue_per_closure: str
    weight: int  # HEDIS star weight: intermediate outcomes count triple
    closure_rate: float  # share of the year's finished work that closed the gap
    cost: tuple  # outreach cost range, dollars
    prevalence: int  # how common the gap is, relative to the others
    eligible: tuple  # (sex or None, youngest, oldest)


MEASURES = [
    DemoMeasure("HBA1C", "Hemoglobin A1c Control for Patients With Diabetes", "220.00", 3, 0.55,
                (20, 45), 12, (None, 18, 75)),
    DemoMeasure("BPD", "Blood Pressure Control for Patients With Diabetes", "130.00", 1, 0.48,
                (15, 35), 10, (None, 18, 75)),
    DemoMeasure("COL", "Colorectal Cancer Screening", "150.00", 1, 0.25,
                (35, 90), 14, (None, 45, 75)),
    DemoMeasure("BCS", "Breast Cancer Screening", "140.00", 1, 0.45,
                (25, 60), 12, ("F", 50, 74)),
    DemoMeasure("EED", "Eye Exam for Patients With Diabetes", "120.00", 1, 0.38,
                (30, 70), 10, (None, 18, 75)),
    DemoMeasure("KED", "Kidney Health Evaluation for Patients With Diabetes", "110.00", 1, 0.62,
                (20, 45), 9, (None, 18, 85)),
    DemoMeasure("CBP", "Controlling High Blood Pressure", "210.00", 3, 0.50,
                (15, 35), 14, (None, 18, 85)),
    DemoMeasure("SPD", "Statin Therapy for Patients With Diabetes", "90.00", 1, 0.70,
                (10, 25), 8, (None, 40, 75)),
    DemoMeasure("OMW", "Osteoporosis Management in Women Who Had a Fracture", "250.00", 1, 0.30,
                (40, 90), 3, ("F", 67, 85)),
    DemoMeasure("COA", "Care for Older Adults", "80.00", 1, 0.80,
                (15, 40), 8, (None, 66, 95)),
]  # fmt: skip


CLOSURE_RATE = {row.code: row.closure_rate for row in MEASURES}

# Names, places and plans ----------------------------------------------------------------------

FEMALE_NAMES = [
    "Mary", "Patricia", "Linda", "Barbara", "Elizabeth", "Jennifer", "Maria", "Susan",
    "Margaret", "Dorothy", "Lisa", "Nancy", "Karen", "Betty", "Helen", "Sandra", "Donna",
    "Carol", "Ruth", "Sharon", "Michelle", "Laura", "Sarah", "Kimberly", "Deborah", "Jessica",
    "Shirley", "Cynthia", "Angela", "Rosa", "Mei", "Aaliyah", "Fatima", "Guadalupe", "Ngozi",
]  # fmt: skip
MALE_NAMES = [
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Charles", "Joseph",
    "Thomas", "Christopher", "Daniel", "Paul", "Mark", "Donald", "George", "Kenneth", "Steven",
    "Edward", "Brian", "Ronald", "Anthony", "Kevin", "Jason", "Jose", "Luis", "Wei", "Hiroshi",
    "Ahmed", "Kwame", "Dmitri", "Rahul", "Tyrone", "Miguel", "Samuel",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Okafor", "Patel", "Kim", "Chen",
    "O'Brien", "Kowalski", "Haddad", "Yamamoto", "Mensah", "Novak",
]  # fmt: skip
AREA_CODES = ["412", "614", "216", "313", "502", "317", "414", "859", "513", "304"]
PLANS = [
    ("Medicare Advantage HMO", 30),
    ("Medicare Advantage PPO", 20),
    ("Dual Special Needs Plan", 10),
    ("Medicaid Managed Care", 20),
    ("Commercial HMO", 10),
    ("Commercial PPO", 10),
]

CLOSED_OUTCOMES = [
    "Gap closed: claim received",
    "Gap closed: lab result received",
    "Gap closed: screening completed",
    "Gap closed: supplemental data accepted",
]
COMPLETED_OUTCOMES = [
    "Appointment kept; result pending",
    "Outreach completed; member will self-schedule",
    "Kit mailed; not returned",
]
FAILED_OUTCOMES = [
    "No response after 3 attempts",
    "Member declined",
    "Wrong number",
    "Member moved out of area",
]
CANCELLED_OUTCOMES = ["Member disenrolled", "Member deceased", "Excluded: hospice"]
OPEN_NOTES = {
    Status.PENDING: ["", "", "", "Prefers morning calls", "Spanish speaker"],
    Status.SCHEDULED: ["Appointment booked with PCP", "Lab visit booked", "Home visit booked"],
    Status.IN_PROGRESS: ["Left voicemail", "Reminder letter mailed", "Texted appointment link"],
}


# Coordinators -----------------------------------------------------------------------------------

# username, first name, last name, specialties. choose_coordinators() ranks the coordinators
# who handle a campaign's measures, then the least busy, then by name; the names are chosen so
# the three demo campaigns below get the people they are meant for (the diabetes specialists
# and the care-coordinator persona "Devon Clark" in the balanced one, the cancer-screening
# specialists in the group-by-measure one) and Lena Wójcik stays free for new campaigns.
COORDINATORS = [
    ("coordinator-01", "Aaliyah", "Brooks", ("COL", "BCS")),
    ("coordinator-02", "Adrian", "Cole", ("COL", "BCS")),
    ("coordinator-03", "Beatriz", "Flores", ("HBA1C", "BPD", "EED", "KED", "SPD")),
    ("coordinator-04", "Carlos", "Mendes", ("HBA1C", "BPD", "EED", "KED", "SPD")),
    ("coordinator-05", "Elena", "Petrov", ()),
    ("coordinator-06", "Farah", "Siddiqui", ()),
    ("coordinator-07", "Gavin", "Murphy", ()),
    ("coordinator-08", "Helen", "Park", ()),
    ("coordinator-09", "Isaac", "Turner", ()),
    ("coordinator-10", "Jamal", "Washington", ()),
    ("coordinator-11", "Kofi", "Asante", ("CBP", "COA")),
    ("coordinator-12", "Lena", "Wójcik", ()),
]
PERSONA = "care-coordinator"  # the demo login made by the platform's "users" generator
MANAGER = "care-manager"

# Campaigns --------------------------------------------------------------------------------------

# name, strategy, coordinators, measures, most interventions taken, start (days before the
# reference day), target (days after it), share finished by the reference day.
CAMPAIGNS = [
    ("Diabetes care gaps", BALANCED, 6, ("HBA1C", "BPD", "EED", "KED"), 300, 35, 60, 0.45),
    ("Cancer screening catch-up", GROUP_BY_SKILL, 2, ("COL", "BCS"), 150, 28, 75, 0.30),
    ("Blood pressure and older adults", ROUND_ROBIN, 4, ("CBP", "COA"), 160, 21, 55, 0.35),
]
WEEK = 7


def _aware(day, hour=9):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _cents(rng, low, high):
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


@demo_generator("campaigns", after=["users"])
def seed_campaigns(ctx):
    rng = ctx.rng_for("campaigns")
    # One sub-stream per part, drawn in a fixed order, so changing one part (or the size)
    # does not reshuffle the others.
    members_rng, coordinators_rng, work_rng = (random.Random(rng.getrandbits(64)) for _ in range(3))
    day0 = reference_day()
    measures = _upsert_measures()
    _upsert_members_and_interventions(members_rng, ctx.scale(MEMBERS_AT_SMALL), measures, day0)
    _upsert_coordinators(ctx, coordinators_rng, measures)
    _create_campaigns(work_rng, day0)
    services.refresh_priorities(timezone.localdate())


def _upsert_measures():
    Measure.objects.bulk_create(
        [
            Measure(
                code=row.code,
                name=row.name,
                revenue_per_closure=Decimal(row.revenue_per_closure),
                weight=row.weight,
            )
            for row in MEASURES
        ],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "revenue_per_closure", "weight", "active"],
    )
    return Measure.objects.in_bulk([row.code for row in MEASURES], field_name="code")


# Members and interventions --------------------------------------------------------------------


def _eligible(measure, sex, age):
    wanted_sex, low, high = measure.eligible
    return (wanted_sex is None or wanted_sex == sex) and low <= age <= high


def _member(rng, n, day0):
    sex = "F" if rng.random() < 0.55 else "M"
    first = rng.choice(FEMALE_NAMES if sex == "F" else MALE_NAMES)
    last = rng.choice(LAST_NAMES)
    age = rng.randint(40, 90)
    has_phone, has_email = rng.random() < 0.95, rng.random() < 0.7
    phone = f"({rng.choice(AREA_CODES)}) 555-{rng.randint(100, 199):04d}"
    handle = f"{first}.{last}".lower().replace("'", "")
    member = Member(
        member_id=f"M{n:06d}",
        first_name=first,
        last_name=last,
        phone=phone if has_phone else "",
        email=f"{handle}{n % 100}@example.org" if has_email else "",
        date_of_birth=day0 - timedelta(days=age * 365 + rng.randint(0, 364)),
        plan=rng.choices([plan for plan, _ in PLANS], weights=[w for _, w in PLANS])[0],
    )
    return member, sex, age


def _intervention(rng, member_id, measure, measure_pk, day0):
    fields = {"member_id": member_id, "measure_id": measure_pk, "notes": "", "outcome": ""}
    fields["cost"] = _cents(rng, *measure.cost)
    if rng.random() < 0.55:  # worked in the past year
        day = day0 - timedelta(days=rng.randint(20, 365))
        fields["intervention_date"] = day
        fields["outcome_date"] = min(day + timedelta(days=rng.randint(0, 21)), day0 - timedelta(1))
        if rng.random() < 0.04:
            status, outcomes = Status.CANCELLED, CANCELLED_OUTCOMES
        elif rng.random() < measure.closure_rate:
            status, outcomes = Status.CLOSED, CLOSED_OUTCOMES
        elif rng.random() < 0.35:
            status, outcomes = Status.COMPLETED, COMPLETED_OUTCOMES
        else:
            status, outcomes = Status.FAILED, FAILED_OUTCOMES
        fields["outcome"] = rng.choice(outcomes)
    else:  # open work: a few weeks overdue up to three months ahead, a few not dated yet
        status = rng.choices(
            [Status.PENDING, Status.SCHEDULED, Status.IN_PROGRESS], weights=[60, 25, 15]
        )[0]
        draw = rng.random()
        if status == Status.PENDING and draw < 0.05:
            day = None
        elif draw < 0.15:
            day = day0 - timedelta(days=rng.randint(1, 30))
        else:
            day = day0 + timedelta(days=rng.randint(0, 90))
        fields["intervention_date"] = day
        fields["outcome_date"] = None
        fields["notes"] = rng.choice(OPEN_NOTES[status])
    fields["status"] = status
    created = (fields["intervention_date"] or day0) - timedelta(days=rng.randint(14, 60))
    fields["created_at"] = _aware(created, hour=8)
    return fields


INTERVENTION_FIELDS = [
    "member",
    "measure",
    "status",
    "intervention_date",
    "cost",
    "notes",
    "outcome",
    "outcome_date",
    "created_at",
]


def _upsert_members_and_interventions(rng, count, measures, day0):
    measure_pks = {code: measure.pk for code, measure in measures.items()}
    # Interventions a campaign has worked on belong to that campaign's story now: a re-run
    # leaves them as they are (their status came from record_outcome, not from here).
    in_campaigns = set(
        Intervention.objects.filter(
            external_id__startswith=EXTERNAL_ID_PREFIX, assignments__isnull=False
        ).values_list("external_id", flat=True)
    )
    number = 0
    for start in range(0, count, MEMBER_CHUNK):
        stop = min(count, start + MEMBER_CHUNK)
        members, plans = [], []
        for n in range(start, stop):
            member, sex, age = _member(rng, n + 1, day0)
            eligible = [row for row in MEASURES if _eligible(row, sex, age)]
            how_many = min(len(eligible), rng.choices([1, 2, 3, 4], weights=[40, 30, 20, 10])[0])
            chosen = []
            while len(chosen) < how_many:
                row = rng.choices(eligible, weights=[row.prevalence for row in eligible])[0]
                if row not in chosen:
                    chosen.append(row)
            members.append(member)
            plans.append(chosen)
        Member.objects.bulk_create(
            members,
            update_conflicts=True,
            unique_fields=["member_id"],
            update_fields=["first_name", "last_name", "phone", "email", "date_of_birth", "plan"],
            batch_size=1000,
        )
        member_pks = dict(
            Member.objects.filter(
                member_id__gte=members[0].member_id, member_id__lte=members[-1].member_id
            ).values_list("member_id", "pk")
        )
        interventions = []
        for member, chosen in zip(members, plans, strict=True):
            for row in chosen:
                number += 1
                fields = _intervention(
                    rng, member_pks[member.member_id], row, measure_pks[row.code], day0
                )
                external_id = f"{EXTERNAL_ID_PREFIX}{number:06d}"
                if external_id not in in_campaigns:
                    interventions.append(Intervention(external_id=external_id, **fields))
        Intervention.objects.bulk_create(
            interventions,
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=INTERVENTION_FIELDS,
            batch_size=1000,
        )


# Coordinators -----------------------------------------------------------------------------------


def _upsert_coordinators(ctx, rng, measures):
    people = [
        (
            upsert_demo_user(
                ctx, username, first_name=first, last_name=last, roles=["Care coordinator"]
            ),
            rng.choice(range(40, 61, 5)),
            specialties,
        )
        for username, first, last, specialties in COORDINATORS
    ]
    people.append((User.objects.get(username=PERSONA), 50, ()))
    for user, capacity, specialties in people:
        coordinator, _ = Coordinator.objects.update_or_create(
            user=user, defaults={"monthly_capacity": capacity, "active": True}
        )
        coordinator.measures.set([measures[code] for code in specialties])


# Campaigns --------------------------------------------------------------------------------------


def _create_campaigns(rng, day0):
    manager = User.objects.get(username=MANAGER)
    existing = set(Campaign.objects.values_list("name", flat=True))
    for name, strategy, coordinators, codes, most, days_ago, days_ahead, share in CAMPAIGNS:
        if name in existing:
            continue
        start = day0 - timedelta(days=days_ago)
        # Open work of these measures due before the target, soonest first.
        target = day0 + timedelta(days=days_ahead)
        ids = list(
            Intervention.objects.open()
            .filter(
                external_id__startswith=EXTERNAL_ID_PREFIX,
                measure__code__in=codes,
                intervention_date__lte=target,
                assignments__isnull=True,
            )
            .order_by("intervention_date", "external_id")
            .values_list("pk", flat=True)[:most]
        )
        campaign = services.create_campaign(
            created_by=manager,
            name=name,
            coordinator_count=coordinators,
            target_completion_date=target,
            strategy=strategy,
            intervention_ids=ids,
            today=start,
        )
        # The service stamps creation with the clock; the demo campaign began on `start`.
        Campaign.objects.filter(pk=campaign.pk).update(created_at=_aware(start))
        campaign.assignments.update(created_at=_aware(start))
        _work_campaign(rng, campaign, start, day0, share)


def _work_campaign(rng, campaign, start, day0, share):
    """Record outcomes week by week from `start` to the reference day, snapshotting progress
    after each week, so the trend rises. Outcomes go through services.record_outcome, recorded
    by the assignment's own coordinator."""
    assignments = list(campaign.assignments.select_related("intervention__measure").order_by("pk"))
    rng.shuffle(assignments)
    # One User object per coordinator, so its roles and permissions are loaded once.
    users = {
        coordinator.pk: coordinator.user
        for coordinator in Coordinator.objects.filter(
            pk__in={assignment.coordinator_id for assignment in assignments}
        ).select_related("user")
    }
    days = []
    day = start + timedelta(days=WEEK)
    while day <= day0:
        days.append(day)
        day += timedelta(days=WEEK)
    if not days or days[-1] != day0:
        days.append(day0)
    finished_by_end = round(len(assignments) * share)
    touched_by_end = min(len(assignments), finished_by_end + round(len(assignments) * 0.15))
    done = 0
    for week, day in enumerate(days, start=1):
        # Finish a growing share each week; the last week also starts some of the rest.
        target = round(finished_by_end * week / len(days))
        for assignment in assignments[done:target]:
            status, outcome = _campaign_outcome(rng, assignment.intervention.measure.code)
            services.record_outcome(
                users[assignment.coordinator_id],
                assignment.pk,
                status=status,
                outcome=outcome,
                today=day,
            )
        done = target
        if day == days[-1]:
            for assignment in assignments[done:touched_by_end]:
                services.record_outcome(
                    users[assignment.coordinator_id],
                    assignment.pk,
                    status=rng.choice([Status.SCHEDULED, Status.IN_PROGRESS]),
                    outcome=rng.choice(["Appointment booked", "Left voicemail", "Texted link"]),
                    today=day,
                )
        services.snapshot_progress(day, campaign_ids=[campaign.pk])


def _campaign_outcome(rng, code):
    # Campaign outreach does a little better than the year's history.
    if rng.random() < min(0.95, CLOSURE_RATE[code] + 0.05):
        return Status.CLOSED, rng.choice(CLOSED_OUTCOMES)
    if rng.random() < 0.35:
        return Status.COMPLETED, rng.choice(COMPLETED_OUTCOMES)
    return Status.FAILED, rng.choice(FAILED_OUTCOMES)
