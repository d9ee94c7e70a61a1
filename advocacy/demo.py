"""Advocacy demo data: 60 advocates in 5 teams, patients, and a year of cases with their event
log, interactions and feedback.

Deterministic and idempotent (see opsintel/demo.py): every random choice comes from
`ctx.rng_for("advocacy")`, and every row is upserted on its `external_id` ("demo-case-000123",
"demo-case-000123-e02", "demo-case-000123-i3", "demo-case-000123-fb", "demo-patient-000045",
"demo-advocate-07"), so `seed_demo` twice leaves the same data. Events, interactions and
feedback on a demo case that this run did not generate (e.g. added by hand on the demo site)
are removed, so the case's status always matches its event log.

Dates are counted from the anchor, midnight at the start of the first day of the current month
(as campaigns/demo.py): every timestamp lies before it. Each case's story is simulated from its
creation along the lifecycle in advocacy.services.TRANSITIONS and cut off at the anchor, so
status is what the last status event implies, resolved_at is the last `resolved` event (or
empty when the case is active again), and `escalated` is set iff an `escalated` event exists.

Rows are written with bulk upserts in chunks; services are not called per case (too slow).

Patterns built in: prior authorizations and claim denials take longest, missing documents add
a wait, escalation adds days (so escalated cases breach the 7-day SLA more), more handoffs and
escalation lower CSAT, about 10% of cases are still active (a few stale: nothing for 48 h+), and
four advocates carry more active cases than their capacity.

After the data, the rollup tables, an SLA-risk model and the active cases' risk scores are
computed as of the anchor, so every page has figures straight away.

Sizes: 3,000 cases and 2,000 patients at size small, x10 medium, x100 large; the 60 advocates are
the same at every size. The "advocate" demo login is advocate demo-advocate-01 (a generalist);
"operations-leader" stays a leader with no caseload.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from advocacy import risk, rollups
from advocacy.models import (
    Advocate,
    Case,
    CaseEvent,
    CaseType,
    Interaction,
    Patient,
    PatientFeedback,
    SlaRiskModel,
)
from opsintel.demo import demo_generator
from opsintel.models import User

Status = Case.Status
Event = CaseEvent.Type

CASES_AT_SMALL = 3_000
PATIENTS_AT_SMALL = 2_000
CHUNK = 1_000  # cases generated and written at a time (bounds memory at size large)
BATCH = 1_000
PREFIX = "demo-"
PERSONA = "advocate"  # the demo login made by the platform's "users" generator

# Teams: name, the case types its specialists handle, how many of its 12 are specialists.
TEAMS = [
    ("Claims & Billing", [CaseType.BILLING_DISPUTE, CaseType.CLAIM_DENIAL], 8),
    ("Authorizations", [CaseType.PRIOR_AUTHORIZATION, CaseType.CLAIM_DENIAL], 8),
    ("Access & Navigation", [CaseType.PROVIDER_SEARCH, CaseType.CARE_COORDINATION], 8),
    ("Generalists East", [], 0),
    ("Generalists West", [], 0),
]
PER_TEAM = 12
# Generalists (index in the 60) who get far more than their share of the open work.
OVERLOADED = (37, 42, 50, 55)
SPECIALTY = {
    "Claims & Billing": "Billing and claims",
    "Authorizations": "Utilization management",
    "Access & Navigation": "Care navigation",
}

FIRST_NAMES = [
    "Amara", "Ben", "Carmen", "Darius", "Elena", "Farid", "Gloria", "Hector", "Ines", "Jamal",
    "Keiko", "Liam", "Monique", "Nikhil", "Olivia", "Pedro", "Quinn", "Rosa", "Sanjay", "Tara",
    "Umar", "Valeria", "Wes", "Ximena", "Yusuf", "Zoe", "Andre", "Brianna", "Chidi", "Delia",
]  # fmt: skip
LAST_NAMES = [
    "Abbott", "Banerjee", "Castillo", "Dlamini", "Esposito", "Fontaine", "Gutierrez", "Hoang",
    "Ibrahim", "Jensen", "Kaur", "Lindqvist", "Mwangi", "Nakamura", "Oyelaran", "Petrova",
    "Quintero", "Rasmussen", "Silva", "Tanaka", "Uddin", "Vargas", "Whitfield", "Xu", "Yilmaz",
]  # fmt: skip

INSURANCE = [
    ("Medicare Advantage", 30),
    ("Medicaid", 25),
    ("Commercial", 30),
    ("ACA Marketplace", 10),
    ("Uninsured", 5),
]
CHANNELS = [("phone", 45), ("email", 20), ("portal", 20), ("sms", 15)]
STATES = ["OH", "PA", "MI", "KY", "IN", "WV", "NY", "NJ", "IL", "WI"]

CASE_TYPES = [
    (CaseType.BILLING_DISPUTE, 30),
    (CaseType.PRIOR_AUTHORIZATION, 20),
    (CaseType.PROVIDER_SEARCH, 15),
    (CaseType.CARE_COORDINATION, 15),
    (CaseType.CLAIM_DENIAL, 20),
]
# Typical working days from first response to resolution, before the other factors.
WORK_DAYS = {
    CaseType.PROVIDER_SEARCH: 1.8,
    CaseType.CARE_COORDINATION: 3.0,
    CaseType.BILLING_DISPUTE: 3.5,
    CaseType.CLAIM_DENIAL: 6.0,
    CaseType.PRIOR_AUTHORIZATION: 6.5,
}
PAPERWORK = {CaseType.PRIOR_AUTHORIZATION, CaseType.CLAIM_DENIAL, CaseType.BILLING_DISPUTE}
URGENCIES = [("low", 25), ("medium", 45), ("high", 20), ("urgent", 10)]
URGENCY_FACTOR = {"low": 1.1, "medium": 1.0, "high": 0.85, "urgent": 0.7}
COMPLEXITY_FACTOR = {"low": 0.75, "medium": 1.0, "high": 1.35}
INTAKE_SOURCES = [("phone", 40), ("portal", 25), ("email", 15), ("referral", 12), ("employer", 8)]
BARRIERS = ["language", "transportation", "health_literacy", "cost", "digital_access"]
DOCUMENTS = {
    CaseType.BILLING_DISPUTE: ["itemized_bill", "eob", "insurance_card"],
    CaseType.PRIOR_AUTHORIZATION: ["physician_order", "medical_records", "insurance_card"],
    CaseType.PROVIDER_SEARCH: ["insurance_card"],
    CaseType.CARE_COORDINATION: ["discharge_summary", "medical_records", "insurance_card"],
    CaseType.CLAIM_DENIAL: ["denial_letter", "eob", "medical_records"],
}
SUPPORT_FLAGS = ["interpreter", "caregiver_involved", "disability_accommodation"]
NOTES = {
    "phone": ["Called patient", "Called insurer", "Called provider office", "Left voicemail"],
    "email": ["Emailed update", "Sent document checklist", "Emailed provider"],
    "portal": ["Portal message sent", "Patient uploaded documents", "Portal update"],
    "sms": ["Texted reminder", "Texted status update"],
}
COMMENTS = {
    1: ["Took far too long.", "I had to repeat my story to every person."],
    2: ["Slow, and I was passed around.", "Resolved in the end, but hard to reach anyone."],
    3: ["It got sorted out.", ""],
    4: ["Helpful and clear.", "Good follow-up.", ""],
    5: ["My advocate was fantastic.", "Quick and kind, thank you!", ""],
}

CASE_FIELDS = [
    "patient", "advocate", "case_type", "status", "urgency", "created_at", "resolved_at",
    "escalated", "metadata", "intake_source", "barriers", "handoff_count", "complexity",
    "submitted_documents", "missing_docs", "support_flags",
]  # fmt: skip


def anchor():
    """Midnight starting the first day of the current month: every demo timestamp is before it."""
    day = timezone.localdate().replace(day=1)
    return timezone.make_aware(datetime.combine(day, time(0, 0)))


def _pick(rng, weighted):
    return rng.choices([value for value, _ in weighted], weights=[w for _, w in weighted])[0]


def _upsert(model, rows, fields):
    model.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["external_id"],
        update_fields=fields,
        batch_size=BATCH,
    )


def _pks(model, prefix):
    return dict(
        model.objects.filter(external_id__startswith=prefix).values_list("external_id", "pk")
    )


@demo_generator("advocacy", after=["users"])
def seed_advocacy(ctx):
    rng = ctx.rng_for("advocacy")
    advocates_rng, patients_rng, cases_rng = (random.Random(rng.getrandbits(64)) for _ in range(3))
    now = anchor()
    advocates = _upsert_advocates(advocates_rng, now.date())
    patient_count = ctx.scale(PATIENTS_AT_SMALL)
    _upsert_patients(patients_rng, patient_count, now)
    _upsert_cases(cases_rng, ctx.scale(CASES_AT_SMALL), patient_count, advocates, now)
    _compute_figures(now)


def _compute_figures(now):
    """The rollup tables, an SLA-risk model and the active cases' scores, all as of the
    anchor (the demo's "now"). A re-seed replaces the model trained at that moment."""
    rollups.refresh(now)
    SlaRiskModel.objects.filter(trained_at=now).delete()
    risk.score_active_cases(risk.train(now), as_of=now)


# Advocates --------------------------------------------------------------------------------------


def _upsert_advocates(rng, day0):
    persona = User.objects.filter(username=PERSONA).first()
    rows = []
    for n in range(len(TEAMS) * PER_TEAM):
        team, types, specialists = TEAMS[n // PER_TEAM]
        specialised = n % PER_TEAM < specialists
        name = f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n * 7) % len(LAST_NAMES)]}"
        capacity = rng.randint(15, 30)
        if n in OVERLOADED:
            capacity = rng.randint(15, 18)
        user = None
        if n == len(TEAMS) * PER_TEAM - PER_TEAM and persona is not None:  # first generalist
            user = persona
            name = persona.get_full_name() or persona.username
        hire = day0 - timedelta(days=rng.randint(120, 3_000))
        rows.append(
            Advocate(
                external_id=f"{PREFIX}advocate-{n + 1:02d}",
                user=user,
                name=name,
                specialty=SPECIALTY.get(team, "") if specialised else "General advocacy",
                team=team,
                capacity=capacity,
                case_types=[str(t) for t in types] if specialised else [],
                hire_date=hire,
                active=True,
            )
        )
    if persona is not None:  # the persona is one advocate only: ours
        Advocate.objects.filter(user=persona).exclude(
            external_id__in=[row.external_id for row in rows if row.user]
        ).update(user=None)
    _upsert(
        Advocate,
        rows,
        ["user", "name", "specialty", "team", "capacity", "case_types", "hire_date", "active"],
    )
    pks = _pks(Advocate, f"{PREFIX}advocate-")
    for row in rows:
        row.pk = pks[row.external_id]
    return rows


# Patients ---------------------------------------------------------------------------------------


def _upsert_patients(rng, count, now):
    rows = [
        Patient(
            external_id=f"{PREFIX}patient-{n + 1:06d}",
            insurance_type=_pick(rng, INSURANCE),
            preferred_channel=_pick(rng, CHANNELS),
            state=rng.choice(STATES),
            risk_score=Decimal(rng.randint(0, 10_000)).scaleb(-2),
            created_at=now - timedelta(days=rng.randint(370, 1_500), minutes=rng.randint(0, 1439)),
        )
        for n in range(count)
    ]
    _upsert(
        Patient,
        rows,
        ["insurance_type", "preferred_channel", "state", "risk_score", "created_at"],
    )


# Cases ------------------------------------------------------------------------------------------


def _days(value):
    return timedelta(seconds=round(value * 86_400))


def _story(rng, case_type, urgency, complexity, missing_docs, handoffs, created, now):
    """The case's events as (type, at), simulated past `now` and not yet cut off."""
    events = [(Event.OPENED, created)]
    fast = urgency in ("high", "urgent")
    t = created + timedelta(minutes=rng.randint(5, 60) if fast else rng.randint(10, 480))
    events.append((Event.ASSIGNED, t))
    t += timedelta(minutes=rng.randint(30, 240) if fast else rng.randint(60, 2_880))
    events.append((Event.FIRST_RESPONSE, t))
    work = (
        WORK_DAYS[case_type]
        * rng.lognormvariate(0, 0.45)
        * COMPLEXITY_FACTOR[complexity]
        * URGENCY_FACTOR[urgency]
        * (1 + 0.08 * handoffs)
    )
    stuck = rng.random() < 0.08  # waits on something that has not come by the anchor
    if missing_docs:
        t += _days(rng.uniform(0.05, 1))
        events.append((Event.DOCS_REQUESTED, t))
        wait = rng.uniform(1.5, 6) if not stuck else (now - t).days + 30
        t += _days(wait)
        events.append((Event.DOCS_RECEIVED, t))
    if rng.random() < 0.6:
        contact = Event.INSURER_CONTACTED if case_type in PAPERWORK else Event.PROVIDER_CONTACTED
        t += _days(work * rng.uniform(0.1, 0.4))
        events.append((contact, t))
    p_escalate = (
        0.05
        + {"urgent": 0.12, "high": 0.05}.get(urgency, 0)
        + {"high": 0.08, "medium": 0.02}.get(complexity, 0)
        + (0.06 if case_type in (CaseType.CLAIM_DENIAL, CaseType.PRIOR_AUTHORIZATION) else 0)
        + 0.03 * handoffs
    )
    escalated = rng.random() < p_escalate
    if escalated:
        t += _days(work * rng.uniform(0.2, 0.5))
        events.append((Event.ESCALATED, t))
        work += rng.uniform(3, 8)
    t += _days(work * rng.uniform(0.5, 0.9))
    if stuck and not missing_docs:
        t = max(t, now) + _days(rng.uniform(1, 30))
    events.append((Event.RESOLVED, t))
    if rng.random() < 0.04 + 0.02 * handoffs + (0.04 if missing_docs else 0):
        t += _days(rng.uniform(1, 10))
        events.append((Event.REOPENED, t))
        t += _days(rng.uniform(1, 6))
        events.append((Event.RESOLVED, t))
    if rng.random() < 0.6:
        t += _days(rng.uniform(5, 14))
        events.append((Event.CLOSED, t))
    return events


# The status a case is in after each event (events not listed leave it as it was).
STATUS_AFTER = {
    Event.OPENED: Status.OPEN,
    Event.FIRST_RESPONSE: Status.IN_PROGRESS,
    Event.DOCS_REQUESTED: Status.PENDING_DOCS,
    Event.DOCS_RECEIVED: Status.IN_PROGRESS,
    Event.ESCALATED: Status.ESCALATED,
    Event.RESOLVED: Status.RESOLVED,
    Event.REOPENED: Status.REOPENED,
    Event.CLOSED: Status.CLOSED,
}


def status_from_events(types):
    """The status the lifecycle leaves a case in after these events, in order."""
    status = None
    for event_type in types:
        status = STATUS_AFTER.get(event_type, status)
    return status


def _metadata(rng, case_type, missing_docs, complexity, handoffs):
    documents = DOCUMENTS[case_type]
    submitted = sorted(rng.sample(documents, rng.randint(0 if missing_docs else 1, len(documents))))
    if missing_docs and len(submitted) == len(documents):
        submitted = submitted[:-1]
    return {
        "intake_source": _pick(rng, INTAKE_SOURCES),
        "barriers": sorted(rng.sample(BARRIERS, rng.choices([0, 1, 2], weights=[55, 30, 15])[0])),
        "handoff_count": handoffs,
        "complexity": complexity,
        "submitted_documents": submitted,
        "missing_docs": missing_docs,
        "support_flags": sorted(
            rng.sample(SUPPORT_FLAGS, rng.choices([0, 1, 2], weights=[70, 25, 5])[0])
        ),
    }


def _choose_advocate(rng, case_type, active, advocates, overloaded):
    if active and rng.random() < 0.45:
        return rng.choice(overloaded)
    eligible = [a for a in advocates if a.handles(case_type)]
    return rng.choices(eligible, weights=[a.capacity for a in eligible])[0]


def _interactions(rng, case, events, end, fresh, now):
    """1–8 interactions between assignment (or opening) and `end`; when `fresh`, the last one
    falls in the 40 hours before the anchor (the case is not stale)."""
    count = min(
        8,
        max(
            1,
            {"low": 1, "medium": 2, "high": 3}[case.complexity]
            + rng.randint(0, 3)
            + case.handoff_count // 2
            + (1 if case.missing_docs else 0),
        ),
    )
    start = events[1][1] if len(events) > 1 else events[0][1]
    times = []
    if fresh:
        last = now - timedelta(minutes=rng.randint(60, 40 * 60))
        times.append(max(last, start))
        end = times[0]
        count -= 1
    span = max(0, int((end - start).total_seconds() // 60))
    times += [start + timedelta(minutes=rng.randint(0, span)) for _ in range(count)]
    preferred = case.patient_channel
    rows = []
    for i, at in enumerate(sorted(times), start=1):
        channel = preferred if rng.random() < 0.6 else _pick(rng, CHANNELS)
        rows.append(
            Interaction(
                external_id=f"{case.external_id}-i{i}",
                case_id=case.pk,
                advocate_id=case.advocate_id,
                channel=channel,
                direction="inbound" if rng.random() < 0.35 else "outbound",
                started_at=at,
                duration_minutes=rng.randint(8, 45) if channel == "phone" else rng.randint(2, 15),
                note=rng.choice(NOTES[channel]),
            )
        )
    return rows


def _feedback(rng, case, events, now):
    resolved = [at for kind, at in events if kind == Event.RESOLVED]
    submitted = resolved[-1] + _days(rng.uniform(0.05, 3))
    if submitted >= now or rng.random() >= 0.8:
        return None
    days = (resolved[-1] - case.created_at).total_seconds() / 86_400
    score = (
        4.5
        - 0.4 * case.handoff_count
        - (0.6 if case.escalated else 0)
        - (0.4 if days > 7 else 0)
        - (0.5 if Event.REOPENED in (kind for kind, _ in events) else 0)
        + rng.gauss(0, 0.6)
    )
    csat = min(5, max(1, round(score)))
    return PatientFeedback(
        external_id=f"{case.external_id}-fb",
        case_id=case.pk,
        csat=csat,
        comment=rng.choice(COMMENTS[csat]),
        submitted_at=submitted,
    )


def _upsert_cases(rng, count, patient_count, advocates, now):
    patient_pks = _pks(Patient, f"{PREFIX}patient-")
    patient_channels = dict(
        Patient.objects.filter(external_id__startswith=f"{PREFIX}patient-").values_list(
            "external_id", "preferred_channel"
        )
    )
    overloaded = [advocates[n] for n in OVERLOADED]
    users = {a.pk: a.user_id for a in advocates}
    year = 365 * 86_400
    for start in range(0, count, CHUNK):
        stop = min(count, start + CHUNK)
        cases, stories = [], []
        for n in range(start + 1, stop + 1):
            case_type = _pick(rng, CASE_TYPES)
            urgency = _pick(rng, URGENCIES)
            paperwork = case_type in (CaseType.PRIOR_AUTHORIZATION, CaseType.CLAIM_DENIAL)
            complexity = _pick(
                rng, [("low", 20), ("medium", 45), ("high", 35)] if paperwork else
                [("low", 40), ("medium", 45), ("high", 15)],
            )  # fmt: skip
            missing_docs = rng.random() < (0.4 if paperwork else 0.2)
            handoffs = rng.choices(range(6), weights=[45, 25, 14, 9, 5, 2])[0]
            created = now - timedelta(seconds=rng.randint(2 * 3_600, year))
            events = _story(
                rng, case_type, urgency, complexity, missing_docs, handoffs, created, now
            )
            events = [(kind, at) for kind, at in events if at < now]
            status = status_from_events(kind for kind, _ in events)
            resolved = [at for kind, at in events if kind == Event.RESOLVED]
            active = status in Case.ACTIVE_STATUSES
            assigned = any(kind == Event.ASSIGNED for kind, _ in events)
            advocate = (
                _choose_advocate(rng, case_type, active, advocates, overloaded)
                if assigned
                else None
            )
            metadata = _metadata(rng, case_type, missing_docs, complexity, handoffs)
            patient_id = f"{PREFIX}patient-{rng.randint(1, patient_count):06d}"
            case = Case(
                external_id=f"{PREFIX}case-{n:06d}",
                patient_id=patient_pks[patient_id],
                advocate_id=advocate.pk if advocate else None,
                case_type=case_type,
                status=status,
                urgency=urgency,
                created_at=created,
                resolved_at=resolved[-1] if status in (Status.RESOLVED, Status.CLOSED) else None,
                escalated=any(kind == Event.ESCALATED for kind, _ in events),
                metadata=metadata,
                **metadata,
            )
            case.patient_channel = patient_channels[patient_id]
            cases.append(case)
            stories.append(events)
        _upsert(Case, cases, CASE_FIELDS)
        pks = dict(
            Case.objects.filter(
                external_id__gte=cases[0].external_id, external_id__lte=cases[-1].external_id
            ).values_list("external_id", "pk")
        )
        events, interactions, feedback = [], [], []
        for case, story in zip(cases, stories, strict=True):
            case.pk = pks[case.external_id]
            actor = users.get(case.advocate_id)
            for i, (kind, at) in enumerate(story, start=1):
                events.append(
                    CaseEvent(
                        external_id=f"{case.external_id}-e{i:02d}",
                        case_id=case.pk,
                        type=kind,
                        at=at,
                        actor_id=actor if kind != Event.OPENED else None,
                        note="",
                    )
                )
            if case.is_active:
                fresh = rng.random() < 0.8
                end = story[-1][1]
            else:
                fresh = False
                end = [at for kind, at in story if kind == Event.RESOLVED][-1]
            interactions += _interactions(rng, case, story, end, fresh, now)
            if not case.is_active:
                row = _feedback(rng, case, story, now)
                if row is not None:
                    feedback.append(row)
        case_pks = list(pks.values())
        # Anything else on these cases (rows of an earlier version, or added by hand) goes,
        # so each case's status stays what its event log says.
        for model, rows in ((CaseEvent, events), (Interaction, interactions),
                            (PatientFeedback, feedback)):  # fmt: skip
            model.objects.filter(case_id__in=case_pks).exclude(
                external_id__in=[row.external_id for row in rows]
            ).delete()
        _upsert(CaseEvent, events, ["case", "type", "at", "actor", "note"])
        _upsert(
            Interaction,
            interactions,
            ["case", "advocate", "channel", "direction", "started_at", "duration_minutes", "note"],
        )
        _upsert(PatientFeedback, feedback, ["case", "csat", "comment", "submitted_at"])
