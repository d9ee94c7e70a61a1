"""Leader Hub demo data: 3 market groups, 8 markets, 120 providers, a year of visits and shifts
with breakdowns, leaders' markets for the demo logins, and the rollups computed from it all.

Deterministic and idempotent (see opsintel/demo.py): every random choice comes from
`ctx.rng_for("leaderhub")`, and every row is upserted on its natural key: market groups and
markets on short name, providers on their source-system id (DEMO_PROVIDER_ID + n, as an
import would give them), visits on (care_request_id, provider), shifts on shift_team_id,
breakdowns on (shift, start). `seed_demo` twice leaves the same data.

Dates are counted from the first day of the current month (`reference_day`), as in the
campaigns demo: the year of history ends the day before it, and the rollups are computed as
of that day, so re-runs within a month write the same rows.

Providers differ visibly and persistently: each gets an on-scene median (30–70 min), chart
closure (70–99 %), survey capture (30–90 %), NPS leaning, ABX and escalation rates, and a
recent trend (the last two weeks drift better or worse), so rankings and week changes show.

Volume: about 6 visits and 3 shifts per provider per week (≈37,000 visits, ≈19,000 shifts and
≈100,000 breakdown segments at size small); providers x10 at medium, x100 at large. Each shift
is a timeline: getting out the door, en route and on scene for each of its visits, a break
(skipped on about one shift in ten) and idle time, with coordinates around the market's city.
"""

import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.management.color import no_style
from django.db import connection, models
from django.utils import timezone

from leaderhub.models import (
    LeaderAccess,
    Market,
    MarketActiveProvider,
    MarketGroup,
    Provider,
    ProviderShift,
    ShiftBreakdown,
    Visit,
)
from opsintel.demo import demo_generator
from opsintel.models import User

APP, DHMT = Provider.Position.APP, Provider.Position.DHMT
PROVIDERS_AT_SMALL = 120
PROVIDER_CHUNK = 20  # providers whose year is generated and written at a time
DEMO_PROVIDER_ID = 1_000  # provider n (0-based) has id DEMO_PROVIDER_ID + n + 1
CARE_REQUEST_BASE = 40_000_000
SHIFT_TEAM_BASE = 7_000_000
DAYS = 364  # 52 weeks of history
SHIFTS_PER_WEEK = 3
RECENT_DAYS = 14  # the trend shows in the last two weeks

GROUPS = [("Mountain", "MTN"), ("Southwest", "SW"), ("Gulf Coast", "GULF")]
# name, short name, group, time zone, city centre (latitude, longitude)
MARKETS = [
    ("Denver", "DEN", "MTN", "America/Denver", (39.7392, -104.9903)),
    ("Colorado Springs", "COS", "MTN", "America/Denver", (38.8339, -104.8214)),
    ("Salt Lake City", "SLC", "MTN", "America/Denver", (40.7608, -111.8910)),
    ("Phoenix", "PHX", "SW", "America/Phoenix", (33.4484, -112.0740)),
    ("Tucson", "TUS", "SW", "America/Phoenix", (32.2226, -110.9747)),
    ("Las Vegas", "LAS", "SW", "America/Los_Angeles", (36.1699, -115.1398)),
    ("Houston", "HOU", "GULF", "America/Chicago", (29.7604, -95.3698)),
    ("Tampa", "TPA", "GULF", "America/New_York", (27.9506, -82.4572)),
]

# Demo logins (made by the platform's "users" generator) and the markets they oversee.
LEADER_MARKETS = {
    "rdo": [short for _, short, *_ in MARKETS],
    "rmd": ["DEN", "COS", "SLC"],  # the Mountain group
    "area-manager": ["PHX", "TUS", "LAS"],
    "market-manager": ["DEN"],
    "lead-app": ["DEN", "COS"],
    "lead-dhmt": ["DEN", "COS"],
    "ops-director": ["HOU", "TPA"],
}
# Demo logins who are providers themselves: provider number, position, markets.
PERSONA_PROVIDERS = {
    "lead-app": (0, APP, ["DEN", "COS"]),
    "app": (1, APP, ["DEN"]),
    "lead-dhmt": (3, DHMT, ["DEN", "COS"]),
    "dhmt": (4, DHMT, ["DEN"]),
}

FIRST_NAMES = [
    "Avery", "Blake", "Camila", "Dante", "Elena", "Farid", "Gemma", "Hector", "Imani", "Jonah",
    "Keiko", "Liam", "Mara", "Nikhil", "Olivia", "Pedro", "Quinn", "Rosa", "Sven", "Talia",
    "Uma", "Victor", "Wren", "Xavier", "Yusuf", "Zoe", "Amara", "Bruno", "Chloe", "Diego",
]  # fmt: skip
LAST_NAMES = [
    "Abbott", "Bauer", "Castillo", "Delgado", "Ellison", "Fournier", "Gallagher", "Hoang",
    "Iverson", "Jablonski", "Kaur", "Lindqvist", "Moreno", "Nakamura", "Obi", "Pereira",
    "Quintero", "Rasmussen", "Silva", "Takahashi", "Underwood", "Vargas", "Whitfield", "Xu",
    "Yilmaz", "Zeller", "Adeyemi", "Brennan", "Carvalho", "Dubois",
]  # fmt: skip
PATIENT_FIRST = [
    "James", "Mary", "Robert", "Patricia", "John", "Linda", "Michael", "Barbara", "David",
    "Susan", "Carlos", "Maria", "Wei", "Fatima", "Kwame", "Aiko", "Noah", "Emma", "Sofia", "Ali",
]  # fmt: skip
PATIENT_LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martinez",
    "Lopez", "Nguyen", "Patel", "Kim", "Chen", "Okafor", "Haddad", "Novak", "Rossi", "Cohen",
    "Ivanova",
]  # fmt: skip
# chief complaint, diagnosis, share of these visits given antibiotics
COMPLAINTS = [
    ("Cough", "Acute bronchitis", 0.15),
    ("Sore throat", "Streptococcal pharyngitis", 0.85),
    ("Sore throat", "Viral pharyngitis", 0.05),
    ("Painful urination", "Urinary tract infection", 0.9),
    ("Fever", "Influenza", 0.02),
    ("Ear pain", "Acute otitis media", 0.6),
    ("Sinus pressure", "Acute sinusitis", 0.45),
    ("Shortness of breath", "COPD exacerbation", 0.35),
    ("Skin redness", "Cellulitis", 0.9),
    ("Dizziness", "Dehydration", 0.0),
    ("Back pain", "Lumbar strain", 0.0),
    ("Fall", "Contusion", 0.0),
    ("Nausea", "Gastroenteritis", 0.02),
    ("Headache", "Tension headache", 0.0),
]
ABX = ["Amoxicillin 500 mg", "Azithromycin Z-pak", "Cephalexin 500 mg", "Nitrofurantoin 100 mg",
       "Doxycycline 100 mg", "Amoxicillin-clavulanate 875 mg"]  # fmt: skip
ESCALATIONS = ["Sent to emergency department", "Chest pain on exam", "Abnormal vitals",
               "Needs imaging", "Admitted via ED"]  # fmt: skip


def reference_day():
    """The first day of the current month: the fixed point every demo date is counted from."""
    return timezone.localdate().replace(day=1)


@demo_generator("leaderhub", after=["users"])
def seed_leaderhub(ctx):
    rng = ctx.rng_for("leaderhub")
    # One sub-stream per part, so changing one part (or the size) does not reshuffle the others.
    people_rng, work_rng = (random.Random(rng.getrandbits(64)) for _ in range(2))
    day0 = reference_day()
    markets = _upsert_markets()
    providers = _provider_plans(people_rng, ctx.scale(PROVIDERS_AT_SMALL))
    _upsert_providers(providers, markets)
    _upsert_leaders(markets)
    first = day0 - timedelta(days=DAYS)
    numbers = {"visit": 0, "shift": 0}
    for start in range(0, len(providers), PROVIDER_CHUNK):
        _upsert_work(work_rng, providers[start : start + PROVIDER_CHUNK], markets, first, numbers)
    try:
        from leaderhub.rollups import refresh_rollups
    except ImportError:  # pragma: no cover - the rollups arrive with their own change
        return
    refresh_rollups(as_of=day0 - timedelta(days=1))


# Markets and providers -----------------------------------------------------------------------


def _upsert_markets():
    MarketGroup.objects.bulk_create(
        [MarketGroup(name=name, short_name=short) for name, short in GROUPS],
        update_conflicts=True,
        unique_fields=["short_name"],
        update_fields=["name"],
    )
    groups = dict(MarketGroup.objects.values_list("short_name", "pk"))
    Market.objects.bulk_create(
        [
            Market(name=name, short_name=short, market_group_id=groups[group])
            for name, short, group, _, _ in MARKETS
        ],
        update_conflicts=True,
        unique_fields=["short_name"],
        update_fields=["name", "market_group"],
    )
    pks = dict(Market.objects.filter(short_name__in=[m[1] for m in MARKETS]).values_list(
        "short_name", "pk"
    ))  # fmt: skip
    return {
        short: {"pk": pks[short], "group": group, "tz": ZoneInfo(tz), "centre": centre}
        for _, short, group, tz, centre in MARKETS
    }


def _provider_plans(rng, count):
    """Who each provider is, where they work and how they tend to work."""
    personas = {number: username for username, (number, _, _) in PERSONA_PROVIDERS.items()}
    users = {user.username: user for user in User.objects.filter(username__in=PERSONA_PROVIDERS)}
    by_group = {}
    for _, short, group, *_ in MARKETS:
        by_group.setdefault(group, []).append(short)
    plans = []
    for n in range(count):
        position = APP if n % 5 < 3 else DHMT
        home = MARKETS[n % len(MARKETS)][1]
        markets = [home]
        if rng.random() < 0.2:
            group = next(m[2] for m in MARKETS if m[1] == home)
            markets.append(rng.choice([m for m in by_group[group] if m != home]))
        plan = {
            "id": DEMO_PROVIDER_ID + n + 1,
            "first_name": rng.choice(FIRST_NAMES),
            "last_name": rng.choice(LAST_NAMES),
            "position": position,
            "markets": markets,
            "user": None,
            # Persistent tendencies.
            "on_scene": rng.uniform(30, 70),
            "closure": rng.uniform(0.70, 0.99),
            "survey": rng.uniform(0.30, 0.90),
            "promoter": rng.uniform(0.45, 0.90),
            "detractor": rng.uniform(0.02, 0.20),
            "abx": rng.uniform(0.5, 1.5),  # x the complaint's usual share
            "escalation": rng.uniform(0.02, 0.12),
            "trend": rng.uniform(-1, 1),
        }
        username = personas.get(n)
        if username is not None:
            _, plan["position"], plan["markets"] = PERSONA_PROVIDERS[username]
            user = users.get(username)
            if user is not None:
                plan.update(first_name=user.first_name, last_name=user.last_name, user=user.pk)
        plans.append(plan)
    return plans


def _upsert_providers(plans, markets):
    Provider.objects.bulk_create(
        [
            Provider(
                id=plan["id"],
                first_name=plan["first_name"],
                last_name=plan["last_name"],
                job_title=plan["position"],
                user_id=plan["user"],
            )
            for plan in plans
        ],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["first_name", "last_name", "avatar_url", "job_title", "user"],
        batch_size=1000,
    )
    if connection.vendor == "postgresql":
        # Ids given explicitly (as an import gives them): keep the id sequence ahead of them.
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [Provider]):
                cursor.execute(statement)
    MarketActiveProvider.objects.bulk_create(
        [
            MarketActiveProvider(market_id=markets[short]["pk"], provider_id=plan["id"])
            for plan in plans
            for short in plan["markets"]
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


def _upsert_leaders(markets):
    for user in User.objects.filter(username__in=LEADER_MARKETS).order_by("username"):
        access, _ = LeaderAccess.objects.get_or_create(user=user)
        access.markets.set([markets[short]["pk"] for short in LEADER_MARKETS[user.username]])


# A year of shifts, visits and breakdowns ------------------------------------------------------

STAGE = ShiftBreakdown.Stage


def _upsert_work(rng, plans, markets, first, numbers):
    visits, shifts, segments = [], [], {}
    for plan in plans:
        for week in range(DAYS // 7):
            monday = first + timedelta(days=week * 7)
            for offset in sorted(rng.sample(range(7), SHIFTS_PER_WEEK)):
                day = monday + timedelta(days=offset)
                numbers["shift"] += 1
                shift_id = SHIFT_TEAM_BASE + numbers["shift"]
                shift, shift_visits, shift_segments = _shift(
                    rng, plan, markets, day, first, shift_id, numbers
                )
                shifts.append(shift)
                visits.extend(shift_visits)
                segments[shift_id] = shift_segments
    ids = (shifts[0]["shift_team_id"], shifts[-1]["shift_team_id"])
    stored = ProviderShift.objects.filter(shift_team_id__range=ids)
    # A run in a later month moves every shift: their old segments go.
    starts = {shift["shift_team_id"]: shift["start"] for shift in shifts}
    moved = [pk for shift_id, pk, start in stored.values_list("shift_team_id", "pk", "start")
             if starts.get(shift_id) != start]  # fmt: skip
    if moved:
        ShiftBreakdown.objects.filter(shift_id__in=moved).delete()
    _upsert_rows(Visit, ("care_request_id", "provider_id"), visits)
    _upsert_rows(ProviderShift, ("shift_team_id",), shifts)
    pks = dict(stored.values_list("shift_team_id", "pk"))
    breakdowns = []
    for shift_id, rows in segments.items():
        for row in rows:
            row["shift_id"] = pks[shift_id]
            breakdowns.append(row)
    _upsert_rows(ShiftBreakdown, ("shift_id", "start"), breakdowns)


def _adapter(field):
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda value: ops.adapt_decimalfield_value(
            value, field.max_digits, field.decimal_places
        )
    return None


def _upsert_rows(model, unique, rows, batch=5_000):
    """INSERT … ON CONFLICT (unique) DO UPDATE of plain rows ({attname: value}), sent with
    executemany: the same statement on SQLite and PostgreSQL. The demo writes about 200,000
    rows, and bulk_create's per-object machinery took most of the seed time."""
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = [quote(field.column) for field in fields]
    conflict = ", ".join(quote(model._meta.get_field(name).column) for name in unique)
    updates = ", ".join(
        f"{column} = excluded.{column}"
        for column, name in zip(columns, names, strict=True)
        if name not in unique
    )
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )
    adapters = [(index, adapt) for index, adapt in enumerate(map(_adapter, fields)) if adapt]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            params = []
            for row in rows[start : start + batch]:
                values = [row[name] for name in names]
                for index, adapt in adapters:
                    if values[index] is not None:
                        values[index] = adapt(values[index])
                params.append(values)
            cursor.executemany(sql, params)


def _point(rng, centre):
    latitude, longitude = centre
    return (
        round((latitude + rng.uniform(-0.15, 0.15)) * 1_000_000),
        round((longitude + rng.uniform(-0.2, 0.2)) * 1_000_000),
    )


def _shift(rng, plan, markets, day, first, shift_id, numbers):
    """One shift: its row, its visits and its timeline of segments."""
    short = plan["markets"][0]
    if len(plan["markets"]) > 1 and rng.random() < 0.3:
        short = plan["markets"][1]
    market = markets[short]
    recent = (day - first).days >= DAYS - RECENT_DAYS
    drift = plan["trend"] if recent else 0.0
    local_start = datetime.combine(day, time(rng.choice([7, 8, 9, 10, 12])), market["tz"])
    start = local_start.astimezone(UTC)
    patients = rng.choices([1, 2, 3], weights=[25, 50, 25])[0]
    # A shift of three visits runs until the last one is done (at most 12 hours); the others
    # are booked for 8–10 hours and idle at the end.
    end = start + timedelta(hours=12 if patients == 3 else rng.choice([8, 9, 10]))

    segments = []
    moment = start

    def add(stage, minutes, where=None):
        nonlocal moment
        stop = min(moment + timedelta(seconds=round(minutes * 60)), end)
        if stop <= moment:
            return
        latitude, longitude = where or (None, None)
        segments.append(
            {
                "start": moment,
                "end": stop,
                "stage": stage,
                "latitude_e6": latitude,
                "longitude_e6": longitude,
            }
        )
        moment = stop

    out_the_door = rng.randint(10, 40)  # minutes before leaving for the first patient
    add(STAGE.IDLE, out_the_door, _point(rng, market["centre"]))
    skip_break = rng.random() < 0.1
    visits = []
    for number in range(patients):
        add(STAGE.EN_ROUTE, rng.randint(12, 40), _point(rng, market["centre"]))
        visit = _visit(rng, plan, market, day, drift, numbers)
        minutes = float(visit["on_scene_minutes"] or plan["on_scene"])
        add(STAGE.ON_SCENE, minutes, _point(rng, market["centre"]))
        visits.append(visit)
        if number == 0 and not skip_break:
            add(STAGE.BREAK, rng.choice([30, 30, 45]), _point(rng, market["centre"]))
    if patients == 3:
        end = moment
    else:
        add(STAGE.IDLE, (end - moment).total_seconds() / 60, _point(rng, market["centre"]))

    totals = dict.fromkeys(STAGE.values, 0)
    for segment in segments:
        totals[segment["stage"]] += int((segment["end"] - segment["start"]).total_seconds())
    shift = {
        "shift_team_id": shift_id,
        "provider_id": plan["id"],
        "market_id": market["pk"],
        "service_date": day,
        "start": start,
        "end": end,
        "patients_seen": patients,
        "out_the_door": out_the_door * 60,
        "en_route": totals[STAGE.EN_ROUTE],
        "on_scene": totals[STAGE.ON_SCENE],
        "on_break": totals[STAGE.BREAK],
        "idle": totals[STAGE.IDLE] - out_the_door * 60,  # the segments add up to the shift
    }
    return shift, visits, segments


def _visit(rng, plan, market, day, drift, numbers):
    """One visit, drawn from the provider's tendencies (`drift` moves them in recent weeks:
    positive is better)."""
    numbers["visit"] += 1
    complaint, diagnosis, abx_share = rng.choice(COMPLAINTS)
    on_scene = None
    if rng.random() > 0.02:  # a few visits lack on-scene times
        median = plan["on_scene"] * (1 - 0.12 * drift)
        on_scene = Decimal(str(round(median * rng.lognormvariate(0, 0.3), 1)))
    closed = None
    if plan["position"] == APP:
        closed = rng.random() < min(0.995, plan["closure"] + 0.06 * drift)
    surveyed = rng.random() < min(0.97, plan["survey"] + 0.10 * drift)
    score = None
    if surveyed and rng.random() < 0.85:
        draw = rng.random()
        promoter = min(0.97, plan["promoter"] + 0.08 * drift)
        if draw < promoter:
            score = rng.choice([9, 10, 10])
        elif draw < promoter + plan["detractor"]:
            score = rng.randint(0, 6)
        else:
            score = rng.choice([7, 8])
    abx = rng.random() < abx_share * plan["abx"]
    escalated = rng.random() < plan["escalation"]
    return {
        "care_request_id": CARE_REQUEST_BASE + numbers["visit"],
        "provider_id": plan["id"],
        "market_id": market["pk"],
        "service_date": day,
        "patient_first_name": rng.choice(PATIENT_FIRST),
        "patient_last_name": rng.choice(PATIENT_LAST),
        "patient_athena_id": str(rng.randint(1_000_000, 9_999_999)),
        "chief_complaint": complaint,
        "diagnosis": diagnosis,
        "on_scene_minutes": on_scene,
        "chart_closed_24h": closed,
        "survey_captured": surveyed,
        "nps_score": score,
        "escalated": escalated,
        "escalation_reason": rng.choice(ESCALATIONS) if escalated else "",
        "abx_prescribed": abx,
        "abx_details": rng.choice(ABX) if abx else "",
    }
