"""Advocacy work pages. Thin: parse input, call one selector or service, render.

- index: where each persona lands (My cases, the executive dashboard, or the app's landing);
- my_cases: an advocate's active cases by SLA risk, then urgency;
- case_list: the cases in the user's scope, filtered as the dashboards link to it;
- case_detail (+ log_interaction, change_status, assign_case): one case, its timeline and the
  lifecycle actions, which go through advocacy.services;
- risk_queue: active cases by predicted breach probability (advocacy.risk scores them).

Every case read is scoped (an advocate sees their own cases; operations leaders all); a case
out of scope answers 404 to GET and POST alike.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case as Choose
from django.db.models import IntegerField, Value, When
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from advocacy import risk, services
from advocacy.context import own_advocate, render_page
from advocacy.forms import SORTS, AssignForm, CaseFilterForm, InteractionForm, StatusForm
from advocacy.models import Case, leads_operations
from opsintel.audit import view_record
from opsintel.forms import add_errors
from opsintel.scoping import get_visible_or_404
from opsintel.views import app_index

PAGE_SIZE = 50
NEAR_BREACH = timedelta(hours=24)
URGENCY_ORDER = [Case.Urgency.URGENT, Case.Urgency.HIGH, Case.Urgency.MEDIUM, Case.Urgency.LOW]


def index(request):
    """Operations leaders land on the executive dashboard, advocates on their cases; anyone
    else with a role here sees the app's landing page."""
    if leads_operations(request.user):
        return redirect("advocacy:executive")
    if own_advocate(request.user) is not None:
        return redirect("advocacy:my_cases")
    return app_index(request, "advocacy")


# An advocate's home ---------------------------------------------------------------------------


def my_cases(request):
    """The signed-in advocate's active cases: breached, due within 24 hours, then the rest by
    urgency. Deadlines and flags come from the case's fact row (refreshed on every change and
    hourly); "breached" compares the deadline with now, so a case that passed it since the
    last refresh is already listed as breached."""
    advocate = own_advocate(request.user)
    context = {"advocate": advocate, "near_breach_hours": NEAR_BREACH // timedelta(hours=1)}
    if advocate is None:
        return render_page(request, "advocacy/my_cases.html", context)
    now = timezone.now()
    cases = (
        Case.objects.visible_to(request.user)
        .active()
        .filter(advocate=advocate)
        .select_related("fact")
        .annotate(
            urgency_rank=Choose(
                *(When(urgency=u, then=Value(rank)) for rank, u in enumerate(URGENCY_ORDER)),
                default=Value(len(URGENCY_ORDER)),
                output_field=IntegerField(),
            )
        )
        .order_by("fact__sla_deadline", "urgency_rank", "pk")
    )
    breached, near, later = [], [], []
    for case in cases:
        fact = getattr(case, "fact", None)
        if fact is not None and (fact.sla_breached or fact.sla_deadline <= now):
            breached.append(case)
        elif fact is not None and fact.sla_deadline <= now + NEAR_BREACH:
            near.append(case)
        else:
            later.append(case)
    by_urgency = [
        (Case.Urgency(u).label, [c for c in later if c.urgency == u]) for u in URGENCY_ORDER
    ]
    context.update(
        {
            "breached": breached,
            "near": near,
            "by_urgency": [(label, rows) for label, rows in by_urgency if rows],
            "later_count": len(later),
            "total": len(breached) + len(near) + len(later),
        }
    )
    return render_page(request, "advocacy/my_cases.html", context)


# The case list --------------------------------------------------------------------------------


def case_rows(user, filters):
    """The cases the user may see, narrowed by the case list's filters. The case's own columns
    answer for its attributes (so a case the rollup has not reached yet is listed too); its
    fact row answers for the computed flags and deadlines."""
    cases = Case.objects.visible_to(user)
    columns = {
        "status": "status",
        "case_type": "case_type",
        "urgency": "urgency",
        "team": "advocate__team",
        "advocate": "advocate",
        "start": "created_at__date__gte",
        "end": "created_at__date__lte",
        "stale": "fact__stale",
        "breached": "fact__sla_breached",
        "missing_docs": "missing_docs",
        "escalated": "escalated",
    }
    cases = cases.filter(**{columns[name]: filters[name] for name in columns if name in filters})
    if filters.get("active"):
        cases = cases.active()
    if "handoffs" in filters:
        handoffs = int(filters["handoffs"])
        if handoffs >= 3:
            cases = cases.filter(handoff_count__gte=3)
        else:
            cases = cases.filter(handoff_count=handoffs)
    if filters.get("overloaded"):
        cases = cases.filter(advocate__caseload__utilization__gt=1)
    return cases.select_related("fact", "advocate").order_by(*SORTS[filters["sort"]][1])


def case_list(request):
    """Cases in the user's scope (an advocate: their own; leaders: all), newest first.

    GET parameters (the dashboards link here with exactly these names):
      status, case_type, urgency   one value each (the models' choice values)
      team, advocate               a team name, an advocate id (leaders)
      active=1|0                   active cases only (default 1, or 0 when a status is given)
      stale=1, breached=1          the stale / SLA-breached flags of the case's fact row
      missing_docs=1, escalated=1  cases missing documents / ever escalated
      handoffs=0|1|2|3             that many handoffs; 3 means three or more
      overloaded=1                 the case's advocate is over capacity (latest rollup)
      start, end                   created from / to, YYYY-MM-DD, inclusive (local dates)
      sort=created|deadline|last_touch, page
    A value a filter does not accept is ignored, and the page says so.
    """
    form = CaseFilterForm(request.GET, user=request.user)
    filters = form.filters()
    for label, error in form.ignored():
        messages.warning(request, f"Ignored the {label.lower()} filter: {error}")
    page = Paginator(case_rows(request.user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": any(k in filters for k in form.fields if k not in ("active", "sort")),
        "active_only": filters["active"],
    }
    return render_page(request, "advocacy/case_list.html", context)


# One case -------------------------------------------------------------------------------------


def _person(user):
    return (user.get_full_name() or user.get_username()) if user else ""


def _timeline(case):
    """The case's events and interactions in time order (events first at the same moment)."""
    entries = [
        {
            "at": event.at,
            "kind": "event",
            "title": event.get_type_display(),
            "who": _person(event.actor),
            "note": event.note,
        }
        for event in case.events.select_related("actor")
    ]
    entries += [
        {
            "at": i.started_at,
            "kind": "interaction",
            "title": f"{i.get_channel_display()}, {i.get_direction_display().lower()}"
            + (f", {i.duration_minutes} min" if i.duration_minutes else ""),
            "who": i.advocate.name if i.advocate else "",
            "note": i.note,
        }
        for i in case.interactions.select_related("advocate")
    ]
    return sorted(entries, key=lambda entry: (entry["at"], entry["kind"] != "event"))


def _case_queryset():
    return Case.objects.select_related("patient", "advocate", "fact")


def _render_case(request, case, *, status=200, **forms):
    is_leader = leads_operations(request.user)
    context = {
        "case": case,
        "fact": getattr(case, "fact", None),
        "timeline": _timeline(case),
        "interaction_form": forms.get("interaction_form") or InteractionForm(),
        "status_form": forms.get("status_form") or StatusForm(case=case),
        "assign_form": (forms.get("assign_form") or AssignForm(case=case)) if is_leader else None,
        "is_leader": is_leader,
    }
    response = render_page(request, "advocacy/case_detail.html", context)
    response.status_code = status
    return response


def case_detail(request, pk):
    case = view_record(request, _case_queryset(), pk=pk)
    return _render_case(request, case)


def _scoped_case(request, pk):
    return get_visible_or_404(_case_queryset(), request.user, pk=pk)


@require_POST
def log_interaction(request, pk):
    case = _scoped_case(request, pk)
    form = InteractionForm(request.POST)
    if form.is_valid():
        try:
            services.log_interaction(
                case, advocate=own_advocate(request.user) or case.advocate, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Interaction logged.")
            return redirect("advocacy:case_detail", case.pk)
    return _render_case(request, case, status=400, interaction_form=form)


@require_POST
def change_status(request, pk):
    case = _scoped_case(request, pk)
    form = StatusForm(request.POST, case=case)
    if form.is_valid():
        status = form.cleaned_data["status"]
        try:
            services.transition(
                case,
                status,
                actor=request.user,
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"The case is now {Case.Status(status).label.lower()}.")
            return redirect("advocacy:case_detail", case.pk)
    return _render_case(request, case, status=400, status_form=form)


@require_POST
def assign_case(request, pk):
    case = _scoped_case(request, pk)
    if not leads_operations(request.user):
        raise PermissionDenied("Only operations leaders assign cases.")
    form = AssignForm(request.POST, case=case)
    if form.is_valid():
        advocate = form.cleaned_data["advocate"]
        try:
            services.assign(case, advocate, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Assigned to {advocate.name}.")
            return redirect("advocacy:case_detail", case.pk)
    return _render_case(request, case, status=400, assign_form=form)


# The SLA-risk queue ---------------------------------------------------------------------------


def _reason_label(reason):
    if isinstance(reason, dict):
        return str(reason.get("label", ""))
    return str(reason)


def risk_queue(request):
    """Active cases the user may see, most likely to breach first, under the latest model."""
    model = risk.latest_model()
    page = Paginator(risk.risk_queue(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for row in page.object_list:
        row.reason_labels = [label for label in map(_reason_label, row.reasons or []) if label]
    context = {"model": model, "page": page, "query": ""}
    return render_page(request, "advocacy/risk_queue.html", context)
