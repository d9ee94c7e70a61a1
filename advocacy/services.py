"""Case lifecycle: every status change goes through `transition`, which enforces the allowed
moves and writes the CaseEvent the timings are computed from. Errors are ValidationErrors
naming the field; nothing is written when one is raised.

Every write refreshes the case's row in the fact table (as of now), so pages show a case's
flags at once; the hourly rollup refreshes every row and the tables aggregated from them."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from advocacy.models import Case, CaseEvent, CaseType, Interaction, Level, PatientFeedback
from advocacy.rollups import refresh_case_facts
from opsintel.audit import Action, record_event

Status = Case.Status
Event = CaseEvent.Type

# status -> statuses it may move to
TRANSITIONS = {
    Status.OPEN: {
        Status.IN_PROGRESS,
        Status.PENDING_DOCS,
        Status.ESCALATED,
        Status.RESOLVED,
        Status.CLOSED,
    },
    Status.IN_PROGRESS: {Status.PENDING_DOCS, Status.ESCALATED, Status.RESOLVED},
    Status.PENDING_DOCS: {Status.IN_PROGRESS, Status.ESCALATED, Status.RESOLVED},
    Status.ESCALATED: {Status.IN_PROGRESS, Status.PENDING_DOCS, Status.RESOLVED},
    Status.RESOLVED: {Status.REOPENED, Status.CLOSED},
    Status.REOPENED: {Status.IN_PROGRESS, Status.PENDING_DOCS, Status.ESCALATED, Status.RESOLVED},
    Status.CLOSED: set(),
}

# The event a move writes (moving out of pending_docs means the documents arrived).
ENTRY_EVENTS = {
    Status.PENDING_DOCS: Event.DOCS_REQUESTED,
    Status.ESCALATED: Event.ESCALATED,
    Status.RESOLVED: Event.RESOLVED,
    Status.REOPENED: Event.REOPENED,
    Status.CLOSED: Event.CLOSED,
}

# Metadata: field -> (type check, description for the error message)
_LIST_OF_TEXT = (
    lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "a list of text",
)
METADATA_FIELDS = {
    "intake_source": (
        lambda v: isinstance(v, str) and len(v) <= 50,
        "text (at most 50 characters)",
    ),
    "barriers": _LIST_OF_TEXT,
    "handoff_count": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "a whole number ≥ 0",
    ),
    "complexity": (lambda v: v in Level.values, "one of " + ", ".join(Level.values)),
    "submitted_documents": _LIST_OF_TEXT,
    "missing_docs": (lambda v: isinstance(v, bool), "true or false"),
    "support_flags": _LIST_OF_TEXT,
}


def clean_metadata(metadata):
    """Validate case metadata and return it complete (defaults filled in), which is also the
    typed columns' values. Errors name the field."""
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise ValidationError({"metadata": "Metadata must be a JSON object."})
    errors = {}
    unknown = sorted(set(metadata) - set(METADATA_FIELDS))
    if unknown:
        errors["metadata"] = f"Unknown metadata fields: {', '.join(unknown)}."
    for name, (is_valid, description) in METADATA_FIELDS.items():
        if name in metadata and not is_valid(metadata[name]):
            errors[f"metadata.{name}"] = f"{name} must be {description}; got {metadata[name]!r}."
    if errors:
        raise ValidationError(errors)
    columns = {
        "intake_source": metadata.get("intake_source", ""),
        "barriers": metadata.get("barriers", []),
        "handoff_count": metadata.get("handoff_count", 0),
        "complexity": metadata.get("complexity", Level.MEDIUM),
        "submitted_documents": metadata.get("submitted_documents", []),
        "missing_docs": metadata.get("missing_docs", False),
        "support_flags": metadata.get("support_flags", []),
    }
    return columns


def open_case(
    *, patient, case_type, urgency=Case.Urgency.MEDIUM, metadata=None, actor=None, at=None
):
    """A patient opens a case: the case and its `opened` event."""
    at = at or timezone.now()
    errors = {}
    if case_type not in CaseType.values:
        errors["case_type"] = f"Unknown case type {case_type!r}."
    if urgency not in Case.Urgency.values:
        errors["urgency"] = f"Unknown urgency {urgency!r}."
    if errors:
        raise ValidationError(errors)
    columns = clean_metadata(metadata)
    with transaction.atomic():
        case = Case.objects.create(
            patient=patient,
            case_type=case_type,
            urgency=urgency,
            created_at=at,
            metadata=columns,
            **columns,
        )
        CaseEvent.objects.create(case=case, type=Event.OPENED, at=at, actor=actor)
        refresh_case_facts([case.pk])
    return case


def _lock(case):
    return Case.objects.select_for_update().get(pk=case.pk)


def _check_time(case, at):
    last = case.events.order_by("-at").values_list("at", flat=True).first()
    if at < case.created_at or (last is not None and at < last):
        raise ValidationError({"at": "Events must not be earlier than the case's last event."})


def assign(case, advocate, *, actor=None, at=None, reason=""):
    """Give the case to an advocate (writes an `assigned` event)."""
    at = at or timezone.now()
    if not advocate.active:
        raise ValidationError({"advocate": f"{advocate} is not active."})
    if not advocate.handles(case.case_type):
        raise ValidationError(
            {"advocate": f"{advocate} does not handle {case.get_case_type_display()} cases."}
        )
    with transaction.atomic():
        case = _lock(case)
        _check_time(case, at)
        case.advocate = advocate
        case.save(update_fields=["advocate"])
        CaseEvent.objects.create(
            case=case, type=Event.ASSIGNED, at=at, actor=actor, note=reason[:255]
        )
        refresh_case_facts([case.pk])
    return case


def transition(case, to_status, *, actor=None, at=None, note="", request=None):
    """Move a case to `to_status` if the lifecycle allows it, writing the matching event."""
    at = at or timezone.now()
    if to_status not in Status.values:
        raise ValidationError({"status": f"Unknown status {to_status!r}."})
    with transaction.atomic():
        case = _lock(case)
        if to_status not in TRANSITIONS[case.status]:
            raise ValidationError(
                {
                    "status": f"A case that is {case.get_status_display().lower()} cannot "
                    f"become {Status(to_status).label.lower()}."
                }
            )
        _check_time(case, at)
        events = []
        if case.status == Status.PENDING_DOCS:
            events.append(Event.DOCS_RECEIVED)
        if (
            to_status == Status.IN_PROGRESS
            and not case.events.filter(type=Event.FIRST_RESPONSE).exists()
        ):
            events.append(Event.FIRST_RESPONSE)
        if to_status in ENTRY_EVENTS:
            events.append(ENTRY_EVENTS[to_status])
        case.status = to_status
        fields = ["status"]
        if to_status == Status.RESOLVED:
            case.resolved_at = at
            fields.append("resolved_at")
        elif to_status == Status.REOPENED:
            case.resolved_at = None
            fields.append("resolved_at")
        if to_status == Status.ESCALATED:
            case.escalated = True
            fields.append("escalated")
        case.save(update_fields=fields)
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(case=case, type=event, at=at, actor=actor, note=note[:255])
                for event in events
            ]
        )
        record_event(
            Action.UPDATE,
            request=request,
            actor=actor,
            objects=case,
            description=f"Case {case.pk}: {to_status}",
        )
        refresh_case_facts([case.pk])
    return case


def log_interaction(case, *, advocate, channel, direction=Interaction.Direction.OUTBOUND,
                    started_at=None, duration_minutes=0, note=""):  # fmt: skip
    """Record a call, email, portal message or text on a case."""
    errors = {}
    if channel not in Interaction.Channel.values:
        errors["channel"] = f"Unknown channel {channel!r}."
    if direction not in Interaction.Direction.values:
        errors["direction"] = f"Unknown direction {direction!r}."
    if not isinstance(duration_minutes, int) or not (
        0 <= duration_minutes <= Interaction.MAX_DURATION_MINUTES
    ):
        errors["duration_minutes"] = (
            f"Duration must be a whole number of minutes from 0 to "
            f"{Interaction.MAX_DURATION_MINUTES}."
        )
    if not case.is_active:
        errors["case"] = f"The case is {case.get_status_display().lower()}; reopen it first."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        interaction = Interaction.objects.create(
            case=case,
            advocate=advocate,
            channel=channel,
            direction=direction,
            started_at=started_at or timezone.now(),
            duration_minutes=duration_minutes,
            note=note,
        )
        refresh_case_facts([case.pk])
    return interaction


def submit_feedback(case, *, csat, comment="", at=None):
    """The patient's CSAT (1–5) after resolution; one per case."""
    errors = {}
    if not isinstance(csat, int) or isinstance(csat, bool) or not 1 <= csat <= 5:
        errors["csat"] = f"CSAT is a whole number from 1 to 5; got {csat!r}."
    if case.status not in (Status.RESOLVED, Status.CLOSED):
        errors["case"] = "Feedback is taken once the case is resolved."
    elif PatientFeedback.objects.filter(case=case).exists():
        errors["case"] = "This case already has feedback."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        feedback = PatientFeedback.objects.create(
            case=case, csat=csat, comment=comment, submitted_at=at or timezone.now()
        )
        refresh_case_facts([case.pk])
    return feedback
