"""AR follow-up pages. Thin: parse input, call one selector, service or metric, render.

- index: where each persona lands (the dashboard, the work queue, or the app's landing);
- work_queue: the signed-in agent's open claims, today's calls first;
- claim_list: the claims in the user's scope, filtered;
- claim_detail (+ complete_follow_up): one claim, its history and its calls;
- dashboard (+ run_automation): automation and workload figures for AR managers.

Claims are scoped (an agent sees the claims assigned to them; AR managers all); a claim or
follow-up out of scope answers 404 to GET and POST alike.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import BooleanField, Case, F, FilteredRelation, IntegerField, Q, Value, When
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from opsintel.audit import view_record
from opsintel.charts import bar_chart
from opsintel.forms import add_errors
from opsintel.scoping import get_visible_or_404
from opsintel.views import app_index
from rcm import document_views, selectors, services
from rcm.context import own_agent, render_page
from rcm.forms import ClaimFilterForm, CompleteFollowUpForm, RunAutomationForm
from rcm.metrics import aging_bucket_expression, automation_metrics, day_start, filing_risk_q
from rcm.models import (
    OPEN_STATUSES,
    AutomationRun,
    Claim,
    FollowUp,
    Priority,
    manages_ar,
)

PAGE_SIZE = 50
RECENT_RUNS = 20
PRIORITY_RANK = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


def index(request):
    """AR managers land on the dashboard, agents on their work queue; anyone else with a role
    here sees the app's landing page."""
    if manages_ar(request.user):
        return redirect("rcm:dashboard")
    if own_agent(request.user) is not None:
        return redirect("rcm:work_queue")
    return app_index(request, "rcm")


def _listed(claims, today, risk):
    """Claims with what every list shows: aging bucket, filing-window flag (`risk`: the
    condition from rcm.metrics.filing_risk_q), next call."""
    # A claim has at most one call waiting (a unique constraint), so the join adds no rows.
    waiting = FilteredRelation(
        "follow_ups", condition=Q(follow_ups__status=FollowUp.Status.SCHEDULED)
    )
    return claims.alias(waiting_call=waiting).annotate(
        bucket=aging_bucket_expression(today),
        flagged=Case(
            When(risk, then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
        next_follow_up_at=F("waiting_call__scheduled_at"),
    )


# An agent's home ------------------------------------------------------------------------------


def work_queue(request):
    """The signed-in agent's open claims: calls due today (or overdue and not yet marked
    missed) first, by time; then claims past 80% of their filing window, then priority high
    to low, then the oldest first."""
    agent = own_agent(request.user)
    context = {"agent": agent, "is_manager": manages_ar(request.user)}
    if agent is None:
        return render_page(request, "rcm/work_queue.html", context)
    today = timezone.localdate()
    end_of_today = day_start(today + timedelta(days=1))
    risk = filing_risk_q(today)
    claims = _listed(
        selectors.claims_for(request.user, today=today).filter(
            agent=agent, status__in=OPEN_STATUSES
        ),
        today,
        risk,
    ).annotate(
        due_rank=Case(
            When(next_follow_up_at__lt=end_of_today, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        due_at=Case(When(next_follow_up_at__lt=end_of_today, then=F("next_follow_up_at"))),
        flag_rank=Case(When(risk, then=Value(0)), default=Value(1), output_field=IntegerField()),
        priority_rank=Case(
            *(When(priority=p, then=Value(rank)) for p, rank in PRIORITY_RANK.items()),
            default=Value(len(PRIORITY_RANK)),
            output_field=IntegerField(),
        ),
    )
    claims = claims.order_by(
        "due_rank", "due_at", "flag_rank", "priority_rank", "-aging_days", "claim_number"
    )
    page = Paginator(claims, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    context.update(
        {
            "page": page,
            "due_today": [claim for claim in page.object_list if claim.due_rank == 0],
            "later": [claim for claim in page.object_list if claim.due_rank == 1],
            "query": "",
        }
    )
    return render_page(request, "rcm/work_queue.html", context)


# The claim list -------------------------------------------------------------------------------


def claim_rows(user, filters, today):
    claims = selectors.claims_for(user, today=today)
    columns = {
        "status": "status",
        "payer": "payer",
        "queue": "queue",
        "agent": "agent",
        "priority": "priority",
    }
    claims = claims.filter(**{columns[name]: filters[name] for name in columns if name in filters})
    if filters["open"]:
        claims = claims.filter(status__in=OPEN_STATUSES)
    if "aging" in filters:
        claims = selectors.filter_aging_bucket(claims, filters["aging"], today)
    risk = filing_risk_q(today)
    if filters.get("flagged"):
        claims = claims.filter(risk)
    return _listed(claims, today, risk).order_by("submission_date", "claim_number")


def claim_list(request):
    """Claims in the user's scope (an agent: their own), oldest first.

    GET parameters: status, payer (id), aging ("0-30" … "120+"), queue (id), agent (id),
    priority, flagged=1 (past 80% of the filing window), open=1|0 (default 1, or 0 when a
    status is given), page. A value a filter does not accept is ignored, and the page says so.
    """
    today = timezone.localdate()
    form = ClaimFilterForm(request.GET, user=request.user)
    filters = form.filters()
    for label, error in form.ignored():
        messages.warning(request, f"Ignored the {label.lower()} filter: {error}")
    rows = claim_rows(request.user, filters, today)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": any(name in filters for name in form.fields if name != "open"),
        "open_only": filters["open"],
    }
    return render_page(request, "rcm/claim_list.html", context)


# One claim ------------------------------------------------------------------------------------


def _claim_queryset(today):
    return (
        Claim.objects.select_related("payer", "queue", "agent", "patient")
        .annotate(aging_days=selectors.aging_days_expression(today))
        .annotate(
            bucket=aging_bucket_expression(today),
            flagged=Case(
                When(filing_risk_q(today), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
    )


def _render_claim(request, claim, *, status=200, bound=None):
    """The claim page; `bound` is a follow-up form that failed, shown with its errors."""
    follow_ups = list(claim.follow_ups.select_related("agent", "next_follow_up"))
    forms = [
        (
            follow_up,
            bound
            if bound is not None and bound.follow_up.pk == follow_up.pk
            else CompleteFollowUpForm(follow_up=follow_up),
        )
        for follow_up in follow_ups
        if follow_up.status == FollowUp.Status.SCHEDULED
    ]
    if bound is not None and all(bound.follow_up.pk != f.pk for f, _ in forms):
        # A call recorded meanwhile (another tab, a colleague): show why nothing happened.
        forms.append((bound.follow_up, bound))
    context = {
        "claim": claim,
        "filing_limit": services.timely_filing_limit(claim.payer.filing_window),
        "assignments": selectors.assignments_of(claim),
        "follow_ups": follow_ups,
        "complete_forms": forms,
        "documents": claim.documents.select_related("template", "created_by"),
        "appeal_form": document_views.appeal_form_for(claim),
    }
    response = render_page(request, "rcm/claim_detail.html", context)
    response.status_code = status
    return response


def claim_detail(request, pk):
    claim = view_record(request, _claim_queryset(timezone.localdate()), pk=pk)
    return _render_claim(request, claim)


@require_POST
def complete_follow_up(request, pk):
    """Record a call's outcome (rcm.services.complete_follow_up books the next one)."""
    follow_up = get_visible_or_404(FollowUp.objects.all(), request.user, pk=pk)
    form = CompleteFollowUpForm(request.POST, follow_up=follow_up)
    if form.is_valid():
        try:
            done = services.complete_follow_up(
                follow_up,
                outcome=form.cleaned_data["outcome"],
                claim_status=form.cleaned_data["claim_status"] or None,
                actor=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            if done.next_follow_up is not None:
                when = timezone.localtime(done.next_follow_up.scheduled_at)
                day = f"{when:%a %b} {when.day}, {when:%Y}"
                messages.success(
                    request, f"Call recorded. Next call booked for {day} at {when:%H:%M}."
                )
            elif done.claim.is_open:
                messages.warning(
                    request, "Call recorded. No next call could be booked: see the dashboard."
                )
            else:
                messages.success(request, "Call recorded. The claim is settled: no next call.")
            return redirect("rcm:claim_detail", follow_up.claim_id)
    claim = _claim_queryset(timezone.localdate()).get(pk=follow_up.claim_id)
    return _render_claim(request, claim, status=400, bound=form)


# The manager dashboard ------------------------------------------------------------------------


def manager_required(request):
    if not manages_ar(request.user):
        raise PermissionDenied("Only AR managers see the automation dashboard.")


def _percent(share):
    return None if share is None else round(share * 100, 1)


def _charts(metrics):
    return {
        "tasks_chart": bar_chart(
            [(row["label"], row["week"]) for row in metrics["tasks_by_kind"] if row["runs"]],
            title="Tasks automated this week, by job",
        ),
        "queue_chart": bar_chart(
            [(row["queue"], row["open_claims"]) for row in metrics["queues"]],
            title="Open claims per queue",
        ),
        "utilization_chart": bar_chart(
            [
                (row["agent"], _percent(row["utilization"]))
                for row in metrics["agents"]
                if row["active"]
            ],
            title="Today's calls as a share of daily capacity, per agent",
            unit="%",
            max_value=100,
        ),
        "rule_chart": bar_chart(
            [(row["rule"], row["assignments"]) for row in metrics["rule_usage"]],
            title="Assignments per rule",
        ),
        "appeal_chart": bar_chart(
            [
                (row["label"], _percent(row["success_rate"]))
                for row in metrics["appeal_success"]
                if row["settled"]
            ],
            title="Settled appeals won, by letter type",
            unit="%",
            max_value=100,
        ),
        "aging_chart": bar_chart(
            [(cell["bucket"], cell["claims"]) for cell in metrics["aging"]["totals"]["cells"]],
            title="Open claims by aging (days since submission)",
        ),
    }


def _render_dashboard(request, *, form=None, status=200):
    metrics = automation_metrics(request.user)
    context = {
        "metrics": metrics,
        "success_percent": _percent(metrics["success_rate"]["rate"]),
        "run_form": form or RunAutomationForm(),
        "runs": AutomationRun.objects.all()[:RECENT_RUNS],
        **_charts(metrics),
    }
    response = render_page(request, "rcm/dashboard.html", context)
    response.status_code = status
    return response


def dashboard(request):
    manager_required(request)
    return _render_dashboard(request)


def _counts(report):
    return ", ".join(f"{name}: {count}" for name, count in sorted(report.counts.items()))


@require_POST
def run_automation(request):
    """Run one automation job now (the nightly tasks run the same services)."""
    manager_required(request)
    form = RunAutomationForm(request.POST)
    if form.is_valid():
        action = form.cleaned_data["action"]
        try:
            if action == RunAutomationForm.ASSIGN:
                report = services.assign_claims(
                    reassign=form.cleaned_data["reassign"], actor=request.user
                )
                text = f"Assigned {report.succeeded} of {report.items} claims"
            elif action == RunAutomationForm.SCHEDULE:
                report = services.schedule_follow_ups(actor=request.user)
                text = f"Booked {report.succeeded} of {report.items} follow-up calls"
            else:
                report = services.mark_missed_follow_ups()
                text = f"Marked {report.succeeded} follow-up calls missed"
        except ValidationError as error:
            add_errors(form, error)
        else:
            if report.counts:
                text += f" ({_counts(report)})"
            text += "."
            if report.failed:
                first = "; ".join(f"{number}: {why}" for number, why in report.problems[:3])
                messages.warning(request, f"{text} {report.failed} failed, e.g. {first}.")
            else:
                messages.success(request, text)
            return redirect("rcm:dashboard")
    return _render_dashboard(request, form=form, status=400)
