"""Campaign pages. Thin: parse input, call one selector or service, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from campaigns import exports, selectors, services
from campaigns.forms import CampaignForm, OutcomeForm, SelectionFilterForm, default_target_date
from campaigns.models import (
    Campaign,
    CampaignAssignment,
    Coordinator,
    manages_campaigns,
)
from opsintel.charts import bar_chart, line_chart
from opsintel.forms import add_errors
from opsintel.scoping import get_visible_or_404

SELECTION_KEY = "campaigns.selection"
PAGE_SIZE = 50


def manager_required(request):
    if not manages_campaigns(request.user):
        raise PermissionDenied("Only care managers build and change campaigns.")


def index(request):
    if manages_campaigns(request.user):
        return redirect("campaigns:dashboard")
    return redirect("campaigns:my_list")


# Building a campaign --------------------------------------------------------------------------


def _selection(request):
    return set(request.session.get(SELECTION_KEY, []))


def _save_selection(request, ids):
    request.session[SELECTION_KEY] = sorted(ids)


def _selected_queryset(request):
    """The selected interventions that are still available (not closed, not taken meanwhile)."""
    return selectors.available_interventions(request.user).filter(pk__in=_selection(request))


def _metrics_context(request, target_date=None):
    selected = _selected_queryset(request)
    metrics = selectors.calculate_campaign_metrics(selected, target_date=target_date)
    return {"metrics": metrics, "selected_count": metrics.total_interventions}


def build(request):
    manager_required(request)
    filter_form = SelectionFilterForm(request.GET or None)
    filters = filter_form.filters()
    rows = selectors.available_interventions(request.user, **filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    selection = _selection(request)

    form = CampaignForm(request.POST or None)
    what_if = None
    target_date = default_target_date()
    if request.method == "POST" and form.is_valid():
        target_date = form.cleaned_data["target_completion_date"]
        data = form.cleaned_data
        try:
            if "create" in request.POST:
                campaign = services.create_campaign(
                    created_by=request.user,
                    name=data["name"],
                    coordinator_count=data["coordinator_count"],
                    strategy=data["strategy"],
                    target_completion_date=target_date,
                    intervention_ids=sorted(selection),
                )
                _save_selection(request, set())
                messages.success(request, f"Campaign “{campaign.name}” created and assigned.")
                return redirect("campaigns:detail", campaign.pk)
            what_if = services.what_if(
                request.user,
                _selected_queryset(request),
                coordinator_count=data["coordinator_count"],
                target_date=target_date,
                strategy=data["strategy"],
            )
        except ValidationError as error:
            add_errors(form, error)

    context = _metrics_context(request, target_date)
    if request.method != "POST":
        form = CampaignForm(suggested_coordinators=context["metrics"].suggested_coordinators)
    context.update(
        {
            "filter_form": filter_form,
            "page": page,
            "selection": selection,
            "form": form,
            "what_if": what_if,
            "query": request.GET.urlencode(),
        }
    )
    return render(request, "campaigns/build.html", context)


@require_POST
def select(request):
    """Change the selection: the rows ticked on one page, every row matching the filter, or
    nothing. Answers JSON (count and the metrics panel) to the page's script, else redirects."""
    manager_required(request)
    selection = _selection(request)
    action = request.POST.get("action")
    if action == "page":
        on_page = {int(pk) for pk in request.POST.getlist("page_ids") if pk.isdigit()}
        ticked = {int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()}
        selection = (selection - on_page) | (ticked & on_page)
    elif action in {"all", "none_matching"}:
        filter_form = SelectionFilterForm(request.POST)
        matching = set(
            selectors.available_interventions(request.user, **filter_form.filters()).values_list(
                "pk", flat=True
            )
        )
        selection = selection | matching if action == "all" else selection - matching
    elif action == "clear":
        selection = set()
    _save_selection(request, selection)

    if request.headers.get("X-Requested-With") == "fetch":
        context = _metrics_context(request)
        return JsonResponse(
            {
                "count": context["selected_count"],
                "metrics_html": render_to_string(
                    "campaigns/_metrics.html", context, request=request
                ),
            }
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("campaigns:build")
    return redirect(back)


# Viewing campaigns ----------------------------------------------------------------------------


def campaign_list(request):
    campaigns = selectors.campaigns_with_progress(request.user)
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "campaigns/list.html", {"page": page})


def detail(request, pk):
    campaign = get_visible_or_404(
        Campaign.objects.select_related("created_by"), request.user, pk=pk
    )
    is_manager = manages_campaigns(request.user)
    workload = selectors.coordinator_breakdown(campaign, request.user)
    assignments = (
        CampaignAssignment.objects.visible_to(request.user)
        .filter(campaign=campaign)
        .select_related("intervention__member", "intervention__measure", "coordinator__user")
    )
    page = Paginator(assignments, PAGE_SIZE).get_page(request.GET.get("page"))
    trend = selectors.closure_trend(request.user, campaign)
    context = {
        "campaign": campaign,
        "is_manager": is_manager,
        "imbalance": selectors.imbalance([row["assigned"] for row in workload]),
        "statuses": selectors.status_breakdown(campaign),
        "page": page,
        "coordinators": services.eligible_coordinators() if is_manager else [],
        **_workload_and_trend(workload, trend),
    }
    return render(request, "campaigns/detail.html", context)


def _workload_and_trend(workload, trend):
    """The workload bar chart and closures line chart, with their tables' data."""
    return {
        "workload": workload,
        "workload_chart": bar_chart(
            [(row["name"], row["remaining"]) for row in workload],
            title="Remaining interventions per coordinator",
        ),
        "trend": trend,
        "trend_chart": line_chart(
            [(row["day"], row["closures"]) for row in trend], title="Closures over time"
        ),
    }


def dashboard(request):
    manager_required(request)
    summary = selectors.portfolio_summary(request.user)
    live = [c for c in summary["campaigns"] if c.status in Campaign.LIVE_STATUSES]
    workload = selectors.live_workload(request.user)
    trend = selectors.closure_trend(request.user)
    context = {
        "summary": summary,
        "live": live,
        "completion_chart": bar_chart(
            [(c.name, round(100 * c.finished / c.total) if c.total else 0) for c in live],
            title="Completion per campaign",
            unit="%",
            max_value=100,
        ),
        **_workload_and_trend(workload, trend),
    }
    return render(request, "campaigns/dashboard.html", context)


def mobile(request):
    """Read-only overview for a phone: no create, change or export controls."""
    campaigns = list(selectors.campaigns_with_progress(request.user))
    chosen = None
    wanted = request.GET.get("campaign", "")
    if wanted.isdigit():
        chosen = next((c for c in campaigns if c.pk == int(wanted)), None)
    if chosen is None and campaigns:
        chosen = campaigns[0]
    context = {"campaigns": campaigns, "campaign": chosen}
    if chosen is not None:
        workload = selectors.coordinator_breakdown(chosen, request.user)
        context.update(
            {
                "workload": workload,
                "completion": round(100 * chosen.finished / chosen.total) if chosen.total else 0,
                "workload_chart": bar_chart(
                    [(row["name"], row["remaining"]) for row in workload],
                    title="Remaining per coordinator",
                    width=360,
                ),
            }
        )
    return render(request, "campaigns/mobile.html", context)


# Changing a campaign (managers) ---------------------------------------------------------------


@require_POST
def rebalance(request, pk):
    manager_required(request)
    try:
        moved = services.rebalance_campaign(request.user, pk, request=request)
        messages.success(request, f"Rebalanced: {moved} assignment{'s' * (moved != 1)} moved.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("campaigns:detail", pk)


@require_POST
def move(request, pk):
    manager_required(request)
    ids = [int(value) for value in request.POST.getlist("assignment_ids") if value.isdigit()]
    coordinator = request.POST.get("coordinator", "")
    try:
        if not ids:
            raise ValidationError("Tick the assignments to move.")
        if not coordinator.isdigit():
            raise ValidationError("Choose the coordinator to move them to.")
        moved = services.move_assignments(request.user, pk, ids, int(coordinator), request=request)
        messages.success(request, f"{moved} assignment{'s' * (moved != 1)} moved.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("campaigns:detail", pk)


@require_POST
def archive(request, pk):
    manager_required(request)
    try:
        services.archive_campaign(request.user, pk, request=request)
        messages.success(request, "Campaign archived; its open interventions are free again.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("campaigns:detail", pk)


# Exports --------------------------------------------------------------------------------------


def _coordinator_param(request):
    value = request.GET.get("coordinator", "")
    if not value:
        return None
    return get_visible_or_404(
        Coordinator.objects.all(), request.user, pk=value if value.isdigit() else 0
    )


def export_crm(request, pk):
    campaign = get_visible_or_404(Campaign.objects.all(), request.user, pk=pk)
    return exports.export_response(request, campaign, exports.CRM)


def export_call_list(request, pk):
    campaign = get_visible_or_404(Campaign.objects.all(), request.user, pk=pk)
    return exports.export_response(
        request, campaign, exports.CALL_LIST, coordinator=_coordinator_param(request)
    )


def call_list(request, pk):
    """Printable call lists: one coordinator per printed page, table headers repeated."""
    campaign = get_visible_or_404(Campaign.objects.all(), request.user, pk=pk)
    pages = exports.call_list_pages(request, campaign, coordinator=_coordinator_param(request))
    return render(
        request,
        "campaigns/call_list.html",
        {
            "campaign": campaign,
            "groups": [{"coordinator": name, "rows": rows} for name, rows in pages],
            "header": exports.CALL_LIST_HEADER,
        },
    )


# A coordinator's own list ---------------------------------------------------------------------


def my_list(request):
    page = Paginator(selectors.call_list_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "campaigns/my_list.html",
        {"page": page, "statuses": OutcomeForm().fields["status"].choices},
    )


@require_POST
def record_outcome(request, pk):
    form = OutcomeForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("campaigns:my_list")
    if not form.is_valid():
        messages.error(request, "Choose a valid status; the outcome is at most 200 characters.")
        return redirect(back)
    try:
        services.record_outcome(
            request.user,
            pk,
            status=form.cleaned_data["status"],
            outcome=form.cleaned_data["outcome"],
            request=request,
        )
        messages.success(request, "Outcome saved.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(back)
