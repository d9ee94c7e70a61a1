"""AR follow-up demo data: 10 payers, 15 agents in the 5 queues, patients, and nine months of
claims with their outcomes; then the engine assigns and schedules them as of the anchor, on
top of a month of past nightly runs and past follow-up calls.

Deterministic and idempotent (see opsintel/demo.py): every random choice comes from
`ctx.rng_for("rcm")`; payers, follow-up rules, holidays and agents are upserted on their names
or dates, patients on member_id ("DEMO-M000045") and claims on claim_number
("DEMO-C0000123"). What the engine made for the demo claims (assignments, follow-ups,
automation runs tagged "demo") is removed and made again from the same data on every run, and
its timestamps are set to the anchor, so `seed_demo` twice leaves the same rows.

The anchor is midnight starting the first day of the current month (as the other apps'
demos): every claim was submitted before it; the engine runs as of that day.

Patterns built in
-----------------
* Amounts are lognormal around each procedure's typical charge: office visits in the
  hundreds, imaging and scopes in the thousands, joint replacement, spinal fusion and cardiac
  devices (the complex procedures of the default rules) in the tens of thousands.
* Young claims are submitted or pending; older ones mostly paid. About a fifth are denied,
  more often for complex procedures and government payers' medical-necessity reviews.
* Appeals: most denials are appealed; once an appeal is older than ~45 days its outcome is
  known. Success differs by denial reason (APPEAL_SUCCESS: coding corrections 72%, medical
  necessity 40%, timely filing 15% …). A won appeal ends paid or partially paid, a lost one
  written off or still denied; `appealed_on` and `settled_on` carry the days (the notes say
  it too, "Appealed on …", see APPEALED_NOTE).
* Some open claims are aged past 90 and 120 days (escalation queue, high priority).
* The active appeal templates get the success rate of their denial reason's appeals.

Sizes: 5,000 claims and 3,000 patients at size small, x10 medium, x100 large; payers and
agents are the same at every size. The agent demo logins (senior-agent,
government-specialist, escalation-team, specialist, general-agent) are each the first agent
of their queue; "ar-manager" manages and has no queue.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from opsintel.demo import demo_generator
from opsintel.models import User
from rcm import services
from rcm.models import (
    OPEN_STATUSES,
    Agent,
    Assignment,
    AutomationRun,
    Claim,
    ClaimStatus,
    DenialReason,
    DocumentTemplate,
    DocumentType,
    FollowUp,
    FollowUpRule,
    Holiday,
    Patient,
    Payer,
    Priority,
    WorkQueue,
)

CLAIMS_AT_SMALL = 5_000
PATIENTS_AT_SMALL = 3_000
MONTHS_DAYS = 270  # claims were submitted in the ~9 months before the anchor
CHUNK = 2_000
CLAIM_PREFIX = "DEMO-C"
PATIENT_PREFIX = "DEMO-M"
APPEALED_NOTE = "Appealed on"
DEMO_TAG = "demo"  # key in AutomationRun.details of the runs this generator made

# name, type, filing window (None: the setting). Aetna and Medicare come with the migration.
PAYERS = [
    ("Aetna", "commercial", 180),
    ("Medicare", "medicare", 365),
    ("UnitedHealthcare", "commercial", 90),
    ("Cigna", "commercial", 90),
    ("Humana", "commercial", 180),
    ("Blue Cross Blue Shield", "commercial", 180),
    ("Medicaid (state)", "medicaid", 365),
    ("Tricare", "other_government", 365),
    ("Kaiser Permanente", "commercial", 90),
    ("Anthem", "commercial", 90),
]
PAYER_WEIGHTS = {
    "Medicare": 22,
    "Aetna": 11,
    "UnitedHealthcare": 14,
    "Blue Cross Blue Shield": 12,
    "Medicaid (state)": 11,
    "Cigna": 7,
    "Humana": 7,
    "Anthem": 8,
    "Tricare": 4,
    "Kaiser Permanente": 4,
}
# payer: initial days, subsequent days, best call times, weekdays (others: the default rule)
FOLLOW_UP_RULES = {
    "UnitedHealthcare": (21, 10, ["08:00", "13:00"], [0, 1, 2]),
    "Cigna": (25, 14, ["10:00", "15:30"], [1, 3]),
    "Medicaid (state)": (40, 21, ["09:30"], [0, 2, 4]),
    "Blue Cross Blue Shield": (30, 14, ["09:00", "11:00", "14:00"], [0, 1, 2, 3, 4]),
}

# queue kind -> three agents (name, daily capacity); the first is the persona's
AGENTS = {
    "senior_agent": [("Renata Alvarez", 30), ("Desmond Clarke", 35), ("Yuki Tanabe", 35)],
    "government_specialist": [("Paul Okonkwo", 40), ("Helen Marsh", 40), ("Ravi Menon", 35)],
    "escalation_team": [("Carla Jimenez", 25), ("Victor Lindgren", 30), ("Amina Yusuf", 30)],
    "specialist": [("Kofi Mensah", 35), ("Elise Dubois", 35), ("Tariq Rahman", 30)],
    "general_agent": [("Sofia Romano", 45), ("Marcus Bell", 45), ("Lena Petrova", 40)],
}
PERSONAS = {
    "senior_agent": "senior-agent",
    "government_specialist": "government-specialist",
    "escalation_team": "escalation-team",
    "specialist": "specialist",
    "general_agent": "general-agent",
}

# CPT code: (typical charge in dollars, weight, complex?)
PROCEDURES = {
    "99213": (150, 22, False),
    "99214": (230, 18, False),
    "99215": (320, 7, False),
    "99204": (300, 6, False),
    "80053": (60, 6, False),
    "85025": (40, 5, False),
    "71046": (180, 4, False),
    "73721": (1_400, 3, False),
    "70553": (2_600, 2, False),
    "97110": (120, 5, False),
    "45378": (2_200, 3, False),
    "29881": (4_800, 2, False),
    "66984": (3_600, 2, False),
    "27447": (32_000, 1.5, True),
    "27130": (34_000, 1, True),
    "22612": (48_000, 0.6, True),
    "33249": (42_000, 0.4, True),
    "43644": (27_000, 0.5, True),
    # Surgeons' professional claims for these come in under the high-value line.
    "47562": (2_400, 1.5, True),
    "63047": (3_200, 1, True),
    "33208": (2_900, 0.8, True),
}
DIAGNOSES = {
    False: ["E11.9", "I10", "J06.9", "M54.5", "Z00.00", "E78.5", "K21.9", "F41.1", "R10.9"],
    True: ["M17.11", "M16.11", "M48.061", "I48.91", "E66.01", "K80.20", "M51.26"],
}
PROVIDERS = [
    "Riverside Medical Group",
    "Lakeside Orthopedics",
    "Northgate Family Practice",
    "Summit Cardiology",
    "Valley Imaging Center",
    "Harbor Surgical Associates",
]
DENIAL_REASONS = [
    (DenialReason.AUTHORIZATION_REQUIRED, 20),
    (DenialReason.MEDICAL_NECESSITY, 20),
    (DenialReason.NOT_COVERED, 10),
    (DenialReason.INCORRECT_CODING, 22),
    (DenialReason.TIMELY_FILING, 7),
    (DenialReason.DUPLICATE, 9),
    (DenialReason.OTHER, 12),
]
# Share of appeals that are won, by denial reason.
APPEAL_SUCCESS = {
    DenialReason.INCORRECT_CODING: 0.72,
    DenialReason.DUPLICATE: 0.65,
    DenialReason.AUTHORIZATION_REQUIRED: 0.55,
    DenialReason.MEDICAL_NECESSITY: 0.40,
    DenialReason.OTHER: 0.35,
    DenialReason.NOT_COVERED: 0.25,
    DenialReason.TIMELY_FILING: 0.15,
}
APPEAL_TEMPLATES = {
    DenialReason.AUTHORIZATION_REQUIRED: DocumentType.APPEAL_AUTHORIZATION,
    DenialReason.MEDICAL_NECESSITY: DocumentType.APPEAL_MEDICAL_NECESSITY,
    DenialReason.NOT_COVERED: DocumentType.APPEAL_COVERAGE,
    DenialReason.INCORRECT_CODING: DocumentType.APPEAL_CODING,
    DenialReason.TIMELY_FILING: DocumentType.APPEAL_TIMELY_FILING,
}
CALL_OUTCOMES = [
    "Payer confirmed the claim is in process; adjudication expected within 14 days.",
    "Payer asked for medical records; sent by fax.",
    "Reprocessing requested; reference number noted.",
    "Claim found on hold for coordination of benefits; member to update.",
    "Left a message with provider services.",
]
FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Carlos", "Karen", "Daniel", "Nancy", "Luis", "Lisa", "Wei", "Betty", "Ahmed",
    "Margaret", "Kenji", "Sandra",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Nguyen", "Kim",
]  # fmt: skip

CLAIM_FIELDS = [
    "patient",
    "provider",
    "payer",
    "amount",
    "balance",
    "service_date",
    "submission_date",
    "procedure_code",
    "diagnosis_code",
    "status",
    "denial_reason",
    "notes",
    "appealed_on",
    "settled_on",
    "created_at",
]


def anchor():
    """Midnight starting the first day of the current month: every claim is before it."""
    day = timezone.localdate().replace(day=1)
    return timezone.make_aware(datetime.combine(day, time(0, 0)))


def _pick(rng, weighted):
    return rng.choices([value for value, _ in weighted], weights=[w for _, w in weighted])[0]


def _at(day, hour=0, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@demo_generator("rcm", after=["users"])
def seed_rcm(ctx):
    rng = ctx.rng_for("rcm")
    patients_rng, claims_rng, history_rng = (random.Random(rng.getrandbits(64)) for _ in range(3))
    now = anchor()
    today = now.date()
    payers = _upsert_payers()
    _upsert_holidays(today)
    _upsert_agents()
    patient_count = ctx.scale(PATIENTS_AT_SMALL)
    _upsert_patients(patients_rng, patient_count)
    outcomes = _upsert_claims(claims_rng, ctx.scale(CLAIMS_AT_SMALL), patient_count, payers, today)
    _set_template_success_rates(outcomes)
    _run_engine(history_rng, now)


# Reference data ---------------------------------------------------------------------------------


def _upsert_payers():
    for name, payer_type, window in PAYERS:
        Payer.objects.update_or_create(
            name=name, defaults={"payer_type": payer_type, "filing_window_days": window}
        )
    payers = {payer.name: payer for payer in Payer.objects.filter(name__in=PAYER_WEIGHTS)}
    for name, (initial, subsequent, times, weekdays) in FOLLOW_UP_RULES.items():
        FollowUpRule.objects.update_or_create(
            payer=payers[name],
            defaults={
                "initial_days": initial,
                "subsequent_days": subsequent,
                "best_call_times": times,
                "preferred_weekdays": weekdays,
            },
        )
    return payers


def _nth_weekday(year, month, weekday, n):
    """The n-th (1-based; -1 the last) `weekday` of the month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _upsert_holidays(today):
    """US federal holidays from last year to next (no follow-ups booked on them)."""
    for year in range(today.year - 1, today.year + 2):
        days = {
            date(year, 1, 1): "New Year's Day",
            _nth_weekday(year, 1, 0, 3): "Martin Luther King Jr. Day",
            _nth_weekday(year, 5, 0, -1): "Memorial Day",
            date(year, 6, 19): "Juneteenth",
            date(year, 7, 4): "Independence Day",
            _nth_weekday(year, 9, 0, 1): "Labor Day",
            _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
            date(year, 12, 25): "Christmas Day",
        }
        for day, name in days.items():
            Holiday.objects.update_or_create(date=day, defaults={"name": name})


def _upsert_agents():
    queues = {queue.kind: queue for queue in WorkQueue.objects.all()}
    personas = {u.username: u for u in User.objects.filter(username__in=PERSONAS.values())}
    for kind, members in AGENTS.items():
        for n, (name, capacity) in enumerate(members):
            user = personas.get(PERSONAS[kind]) if n == 0 else None
            if user is not None:  # the persona is this agent only
                Agent.objects.filter(user=user).exclude(name=name).update(user=None)
            Agent.objects.update_or_create(
                name=name,
                defaults={
                    "queue": queues[kind],
                    "daily_capacity": capacity,
                    "active": True,
                    "user": user,
                },
            )


# Patients and claims ----------------------------------------------------------------------------


def _upsert_patients(rng, count):
    rows = []
    for n in range(1, count + 1):
        born = date(1938, 1, 1) + timedelta(days=rng.randint(0, 365 * 70))
        rows.append(
            Patient(
                member_id=f"{PATIENT_PREFIX}{n:06d}",
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                date_of_birth=born,
            )
        )
    Patient.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["member_id"],
        update_fields=["name", "date_of_birth"],
        batch_size=CHUNK,
    )


def _story(rng, payer, code, age, submitted):
    """(status, denial reason, balance share, notes, appealed on, settled on) for a claim
    `age` days after submission."""
    _, _, complex_ = PROCEDURES[code]
    today = submitted + timedelta(days=age)

    def settled(first, last):
        """A settlement day between `first` and `last` days after submission, before today."""
        return min(submitted + timedelta(days=rng.randint(first, max(first, last))), today)

    if age < 14:
        status = _pick(rng, [(ClaimStatus.SUBMITTED, 70), (ClaimStatus.PENDING, 30)])
        return status, "", 1, "", None, None
    p_denied = 0.17 + (0.12 if complex_ else 0) + (0.05 if payer.payer_type != "commercial" else 0)
    if rng.random() >= p_denied:
        if age < 45 and rng.random() < 0.45:
            return ClaimStatus.PENDING, "", 1, "", None, None
        if rng.random() < 0.06:  # stuck with the payer: aged open work
            return ClaimStatus.PENDING, "", 1, "", None, None
        status = _pick(
            rng,
            [(ClaimStatus.PAID, 84), (ClaimStatus.PARTIALLY_PAID, 12), (ClaimStatus.CLOSED, 4)],
        )
        share = {ClaimStatus.PAID: 0, ClaimStatus.CLOSED: 0}.get(status)
        share = share if share is not None else rng.uniform(0.15, 0.5)
        return status, "", share, "", None, settled(14, min(age, 60))
    reason = _pick(rng, DENIAL_REASONS)
    denied_on = submitted + timedelta(days=rng.randint(10, min(age, 40)))
    appeal_chance = 0.35 if reason == DenialReason.DUPLICATE else 0.75
    if age < 30 or rng.random() >= appeal_chance:
        if age > 150 and rng.random() < 0.6:
            note = f"Denied on {denied_on}; not appealed."
            return ClaimStatus.WRITTEN_OFF, reason, 1, note, None, settled(120, age)
        return ClaimStatus.DENIED, reason, 1, f"Denied on {denied_on}.", None, None
    appealed_on = denied_on + timedelta(days=rng.randint(3, 20))
    note = f"Denied on {denied_on}. {APPEALED_NOTE} {appealed_on}"
    if (today - appealed_on).days < 45:
        note += "; awaiting the payer's decision."
        return ClaimStatus.APPEALED, reason, 1, note, appealed_on, None
    decided = (appealed_on - submitted).days
    if rng.random() < APPEAL_SUCCESS[reason]:
        if rng.random() < 0.75:
            note += "; paid on appeal."
            return ClaimStatus.PAID, reason, 0, note, appealed_on, settled(decided + 20, age)
        note += "; partly paid."
        share = rng.uniform(0.2, 0.5)
        return (
            ClaimStatus.PARTIALLY_PAID,
            reason,
            share,
            note,
            appealed_on,
            settled(decided + 20, age),
        )
    note += "; appeal upheld the denial."
    if rng.random() < 0.6:
        return ClaimStatus.WRITTEN_OFF, reason, 1, note, appealed_on, settled(decided + 30, age)
    return ClaimStatus.DENIED, reason, 1, note, appealed_on, None


def _upsert_claims(rng, count, patient_count, payers, today):
    """Generate and upsert the claims; returns {denial reason: [appeals won, appeals decided]}."""
    patient_pks = dict(
        Patient.objects.filter(member_id__startswith=PATIENT_PREFIX).values_list("member_id", "pk")
    )
    payer_list = [(payers[name], weight) for name, weight in PAYER_WEIGHTS.items()]
    codes = [(code, weight) for code, (_, weight, _) in PROCEDURES.items()]
    outcomes = {reason: [0, 0] for reason in DenialReason.values}
    for start in range(0, count, CHUNK):
        rows = []
        for n in range(start + 1, min(count, start + CHUNK) + 1):
            payer = _pick(rng, payer_list)
            code = _pick(rng, codes)
            charge, _, complex_ = PROCEDURES[code]
            amount = Decimal(str(round(charge * rng.lognormvariate(0, 0.35), 2)))
            amount = max(amount, Decimal("25.00"))
            # More recent claims than old ones: the last weeks carry the open work.
            age = min(MONTHS_DAYS, int(rng.expovariate(1 / 85)) + 1)
            submitted = today - timedelta(days=age)
            service = submitted - timedelta(days=rng.randint(1, 21))
            status, reason, share, notes, appealed_on, settled_on = _story(
                rng, payer, code, age, submitted
            )
            if APPEALED_NOTE in notes and status != ClaimStatus.APPEALED:
                outcomes[reason][1] += 1
                outcomes[reason][0] += status in (ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID)
            balance = (amount * Decimal(str(share))).quantize(Decimal("0.01"))
            rows.append(
                Claim(
                    claim_number=f"{CLAIM_PREFIX}{n:07d}",
                    patient_id=patient_pks[f"{PATIENT_PREFIX}{rng.randint(1, patient_count):06d}"],
                    provider=rng.choice(PROVIDERS),
                    payer=payer,
                    amount=amount,
                    balance=balance,
                    service_date=service,
                    submission_date=submitted,
                    procedure_code=code,
                    diagnosis_code=rng.choice(DIAGNOSES[complex_]),
                    status=status,
                    denial_reason=reason,
                    notes=notes,
                    appealed_on=appealed_on,
                    settled_on=settled_on,
                    created_at=_at(submitted, 8),
                )
            )
        Claim.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["claim_number"],
            update_fields=CLAIM_FIELDS,
            batch_size=1000,
        )
    return outcomes


def _set_template_success_rates(outcomes):
    for reason, doc_type in APPEAL_TEMPLATES.items():
        won, decided = outcomes[reason]
        if decided:
            rate = (Decimal(100 * won) / decided).quantize(Decimal("0.01"))
            DocumentTemplate.objects.filter(doc_type=doc_type, active=True).update(
                success_rate=rate
            )


# The engine -------------------------------------------------------------------------------------


def _demo_claims():
    return Claim.objects.filter(claim_number__startswith=CLAIM_PREFIX)


def _run_engine(rng, now):
    """Assign and schedule the demo claims as of the anchor, after a month of history."""
    today = now.date()
    claims = _demo_claims()
    # What the engine made last time goes: it is made again from the same data below.
    FollowUp.objects.filter(claim__in=claims).delete()
    Assignment.objects.filter(claim__in=claims).delete()
    AutomationRun.objects.filter(details__has_key=DEMO_TAG).delete()
    claims.update(queue=None, agent=None, priority="")

    first_new_run = (AutomationRun.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    services.assign_claims(claims, today=today)
    Assignment.objects.filter(claim__in=claims).update(at=now - timedelta(hours=22))
    _past_calls(rng, today)
    services.schedule_follow_ups(claims, today=today)
    FollowUp.objects.filter(claim__in=claims, status=FollowUp.Status.SCHEDULED).update(
        created_at=now - timedelta(hours=21)
    )
    # The two runs just made happened "last night", at the anchor's 02:00 and 03:00.
    for hours, run in zip(
        (22, 21), AutomationRun.objects.filter(pk__gte=first_new_run).order_by("pk"), strict=True
    ):
        run.started_at = now - timedelta(hours=hours)
        run.finished_at = run.started_at + timedelta(seconds=run.items // 500 + 2)
        run.details[DEMO_TAG] = True
        run.save(update_fields=["started_at", "finished_at", "details"])
    _past_runs(rng, now)
    claims.update(updated_at=now)


def _past_calls(rng, today):
    """Done and missed calls in the five weeks before the anchor on a third of the open,
    assigned claims (the scheduler books their next call after them)."""
    rows = list(
        _demo_claims()
        .filter(status__in=OPEN_STATUSES, agent__isnull=False)
        .order_by("claim_number")
        .values_list("pk", "agent_id", "submission_date", "amount")
    )
    calls = []
    for pk, agent, submitted, amount in rows:
        if rng.random() >= 0.35:
            continue
        first = max(submitted + timedelta(days=7), today - timedelta(days=35))
        if first >= today - timedelta(days=1):
            continue
        day = first + timedelta(days=rng.randint(0, (today - first).days - 1))
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        if day < first:
            continue
        done = rng.random() < 0.8
        at = _at(day, rng.choice([9, 10, 11, 14, 15]), rng.choice([0, 30]))
        calls.append(
            FollowUp(
                claim_id=pk,
                agent_id=agent,
                scheduled_at=at,
                priority=Priority.HIGH if amount > Decimal("10000") else Priority.MEDIUM,
                status=FollowUp.Status.DONE if done else FollowUp.Status.MISSED,
                outcome=rng.choice(CALL_OUTCOMES) if done else "Not called by the end of the day",
                created_at=at - timedelta(days=14),
            )
        )
    FollowUp.objects.bulk_create(calls, batch_size=CHUNK)


def _past_runs(rng, now):
    """A month of nightly runs before last night: assignment, scheduling, missed calls."""
    queues = list(WorkQueue.objects.order_by("name").values_list("name", flat=True))
    runs = []
    for nights in range(30, 1, -1):
        night = now - timedelta(days=nights - 1, hours=22)
        items = rng.randint(20, 90)
        failed = rng.choices([0, 1, 2], weights=[80, 15, 5])[0]
        counts = {}
        for _ in range(items - failed):
            queue = rng.choices(queues, weights=[2, 3, 2, 2, 5][: len(queues)])[0]
            counts[queue] = counts.get(queue, 0) + 1
        problems = [
            [
                f"{CLAIM_PREFIX}{rng.randint(1, CLAIMS_AT_SMALL):07d}",
                "Escalation team has no active agent",
            ]
            for _ in range(failed)
        ]
        runs.append(
            AutomationRun(
                kind=AutomationRun.Kind.ASSIGN_CLAIMS,
                started_at=night,
                finished_at=night + timedelta(seconds=2),
                items=items,
                succeeded=items - failed,
                failed=failed,
                details={"counts": counts, "problems": problems, DEMO_TAG: True},
            )
        )
        booked = rng.randint(60, 160)
        runs.append(
            AutomationRun(
                kind=AutomationRun.Kind.SCHEDULE_FOLLOW_UPS,
                started_at=night + timedelta(hours=1),
                finished_at=night + timedelta(hours=1, seconds=3),
                items=booked,
                succeeded=booked,
                details={
                    "counts": {
                        "high": booked // 5,
                        "medium": booked // 3,
                        "low": booked - booked // 5 - booked // 3,
                    },
                    "problems": [],
                    DEMO_TAG: True,
                },
            )
        )
        missed = rng.randint(0, 6)
        runs.append(
            AutomationRun(
                kind=AutomationRun.Kind.MARK_MISSED,
                started_at=night - timedelta(minutes=30),
                finished_at=night - timedelta(minutes=30) + timedelta(seconds=1),
                items=missed,
                succeeded=missed,
                details={DEMO_TAG: True},
            )
        )
    AutomationRun.objects.bulk_create(runs)
