"""The campaign CSV downloads: the CRM upload and a coordinator's call list.

Pages and the API both answer with `export_response`, so the columns, the scoping (a coordinator
gets only their own rows), the formula neutralising and the audit entry are written once. Rows
are streamed from the database in chunks (`opsintel.exports.stream_csv`), whatever the size of
the campaign.
"""

from django.db.models import F

from campaigns.models import CampaignAssignment, Intervention
from opsintel.audit import Action, record_event
from opsintel.exports import stream_csv

CRM_HEADER = (
    "Member ID",
    "Member Name",
    "Phone",
    "Email",
    "Measure",
    "Intervention Date",
    "Coordinator",
    "Status",
    "Priority",
)
CALL_LIST_HEADER = (
    "Member ID",
    "Member Name",
    "Phone",
    "Measure",
    "Intervention Date",
    "Status",
    "Notes",
)

CRM = "crm"
CALL_LIST = "call-list"
KINDS = (CRM, CALL_LIST)

CHUNK_SIZE = 2000


_COLUMNS = (
    "intervention__member__member_id",
    "intervention__member__first_name",
    "intervention__member__last_name",
    "intervention__member__phone",
    "intervention__member__email",
    "intervention__measure__code",
    "intervention__intervention_date",
    "coordinator__user__first_name",
    "coordinator__user__last_name",
    "coordinator__user__username",
    "status",
    "intervention__priority",
)
STATUS_LABELS = dict(Intervention.Status.choices)
PRIORITY_LABELS = dict(Intervention.Priority.choices)


def _full_name(first, last):
    return f"{first} {last}".strip()


def _rows(assignments):
    """Plain column tuples (no model instances: 10x faster on big exports), ordered by
    coordinator, then intervention date (undated last)."""
    ordered = assignments.order_by(
        "coordinator__user__last_name",
        "coordinator__user__first_name",
        "coordinator__user__username",
        "coordinator_id",
        F("intervention__intervention_date").asc(nulls_last=True),
        "intervention_id",
    )
    for row in ordered.values_list(*_COLUMNS).iterator(chunk_size=CHUNK_SIZE):
        (member_id, first, last, phone, email, measure, day, c_first, c_last, c_user) = row[:10]
        yield {
            "member_id": member_id,
            "member_name": _full_name(first, last),
            "phone": phone,
            "email": email,
            "measure": measure,
            "date": day,
            "coordinator": _full_name(c_first, c_last) or c_user,  # as Coordinator.__str__
            "status": STATUS_LABELS[row[10]],
            "priority": PRIORITY_LABELS[row[11]],
        }


def crm_rows(assignments):
    """One CRM_HEADER row per assignment of `assignments` (a queryset), lazily."""
    for r in _rows(assignments):
        yield (
            r["member_id"],
            r["member_name"],
            r["phone"],
            r["email"],
            r["measure"],
            r["date"],
            r["coordinator"],
            r["status"],
            r["priority"],
        )


def _call_list_row(r):
    # Notes stays empty for the coordinator's handwriting.
    return (r["member_id"], r["member_name"], r["phone"], r["measure"], r["date"], r["status"], "")


def call_list_rows(assignments):
    """One CALL_LIST_HEADER row per assignment of `assignments`, lazily."""
    for r in _rows(assignments):
        yield _call_list_row(r)


_KIND_SPEC = {
    CRM: (CRM_HEADER, crm_rows, "CRM export"),
    CALL_LIST: (CALL_LIST_HEADER, call_list_rows, "call list"),
}


def _scoped(request, campaign, coordinator):
    """The campaign's assignments the user may export, narrowed to one coordinator if given."""
    assignments = CampaignAssignment.objects.visible_to(request.user).filter(campaign=campaign)
    if coordinator is not None:
        assignments = assignments.filter(coordinator=coordinator)
    return assignments


def _intervention_ids(assignments):
    return list(assignments.order_by().values_list("intervention_id", flat=True))


def export_response(request, campaign, kind, coordinator=None):
    """The streaming, audited CSV download of one campaign (`kind` "crm" or "call-list").

    Only the assignments in the requesting user's scope are written, so a coordinator gets
    their own rows. `coordinator` (a Coordinator or its pk) narrows it to one coordinator.
    """
    if kind not in _KIND_SPEC:
        raise ValueError(f"Unknown export {kind!r}; choose one of {', '.join(KINDS)}.")
    header, make_rows, label = _KIND_SPEC[kind]
    assignments = _scoped(request, campaign, coordinator)
    filename = f"campaign-{campaign.pk}-{kind}"
    if coordinator is not None:
        filename += f"-coordinator-{getattr(coordinator, 'pk', coordinator)}"
    ids = _intervention_ids(assignments)
    return stream_csv(
        request,
        filename=f"{filename}.csv",
        header=header,
        rows=make_rows(assignments),
        model=Intervention,
        object_ids=ids,
        description=f"Campaign {campaign.pk} {label}: {len(ids)} rows",
    )


def call_list_pages(request, campaign, coordinator=None):
    """The printable call list: [(coordinator name, [CALL_LIST_HEADER rows])], audited.

    Same scope and rows as the CSV; a page holds a campaign's list, so it is built in memory.
    """
    assignments = _scoped(request, campaign, coordinator)
    ids = _intervention_ids(assignments)
    record_event(
        Action.EXPORT,
        request=request,
        model=Intervention,
        object_ids=ids,
        description=f"Campaign {campaign.pk} printable call list: {len(ids)} rows",
    )
    pages = {}
    for r in _rows(assignments):
        pages.setdefault(r["coordinator"], []).append(_call_list_row(r))
    return list(pages.items())
