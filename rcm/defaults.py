"""The defaults a new installation starts with (data migration 0002): the five work queues,
the five assignment rules, Aetna's and Medicare's follow-up rules and the default one.
Administrators change them in the admin afterwards; migrations never overwrite their edits."""

QUEUES = (
    ("senior_agent", "Senior agents"),
    ("government_specialist", "Government specialists"),
    ("escalation_team", "Escalation team"),
    ("specialist", "Specialists"),
    ("general_agent", "General agents"),
)

# Complex procedures: joint replacement, spinal fusion, cardiac devices, bariatric and
# laparoscopic surgery, spine decompression.
COMPLEX_PROCEDURES = [
    "27130",
    "27447",
    "22551-22612",
    "33206-33249",
    "43644-43645",
    "47562-47564",
    "63030-63048",
]

RULES = (
    # name, priority, queue kind, conditions
    ("High Value Rule", 1, "senior_agent", {"amount_greater_than": "5000"}),
    (
        "Government Payer Rule",
        2,
        "government_specialist",
        {"payer_types": ["medicare", "medicaid"]},
    ),
    ("Aged Claim Rule", 3, "escalation_team", {"aging_greater_than": 90}),
    ("Complex Procedure Rule", 4, "specialist", {"procedure_codes": COMPLEX_PROCEDURES}),
    ("Default Rule", 5, "general_agent", {}),
)

PAYERS = (
    # name, type, filing window days (None: the setting)
    ("Aetna", "commercial", 180),
    ("Medicare", "medicare", 365),
)

FOLLOW_UP_RULES = (
    # payer name (None: the default), initial days, subsequent days, call times, weekdays
    ("Aetna", 30, 14, ["09:00", "14:00"], [1, 2, 3]),
    ("Medicare", 45, 21, ["08:30", "13:30"], [0, 2, 4]),
    (None, 30, 14, ["10:00", "15:00"], [0, 1, 2, 3, 4]),
)


def seed_defaults(apps, schema_editor=None):
    """Create what is missing; leave what exists (an administrator may have edited it)."""
    WorkQueue = apps.get_model("rcm", "WorkQueue")
    AssignmentRule = apps.get_model("rcm", "AssignmentRule")
    Payer = apps.get_model("rcm", "Payer")
    FollowUpRule = apps.get_model("rcm", "FollowUpRule")
    queues = {}
    for kind, name in QUEUES:
        queues[kind], _ = WorkQueue.objects.get_or_create(kind=kind, defaults={"name": name})
    for name, priority, kind, conditions in RULES:
        if not AssignmentRule.objects.filter(name=name).exists():
            if AssignmentRule.objects.filter(priority=priority).exists():
                continue
            AssignmentRule.objects.create(
                name=name, priority=priority, queue=queues[kind], **conditions
            )
    for name, payer_type, window in PAYERS:
        Payer.objects.get_or_create(
            name=name, defaults={"payer_type": payer_type, "filing_window_days": window}
        )
    for payer_name, initial, subsequent, times, weekdays in FOLLOW_UP_RULES:
        payer = Payer.objects.get(name=payer_name) if payer_name else None
        FollowUpRule.objects.get_or_create(
            payer=payer,
            defaults={
                "initial_days": initial,
                "subsequent_days": subsequent,
                "best_call_times": times,
                "preferred_weekdays": weekdays,
            },
        )
