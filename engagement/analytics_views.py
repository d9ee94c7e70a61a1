"""Performance pages: the manager dashboard and the stored reports. Thin: every figure comes
from engagement.kpis, every report from engagement.reports.

- dashboard (PERFORMANCE): one location of the user's (or all of them), the KPIs of the last
  7/30/90 days coloured against their targets with an 8-week trend, today's appointments and
  utilization now, the per-staff table, the service mix and the peak hours;
- report_list, report_detail, report_csv (BASIC_REPORTS: daily reports; PERFORMANCE also
  weekly and monthly ones, and the per-staff tables). A report of a location the user does not
  work at answers 404; a weekly or monthly report without PERFORMANCE answers 403.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from engagement import access, kpis, reports
from engagement.context import render_page, require
from engagement.models import Location, Report
from opsintel import charts
from opsintel.exports import stream_csv

WINDOWS = (7, 30, 90)
DEFAULT_WINDOW = 30
TREND_WEEKS = 8
PAGE_SIZE = 50


def _chosen_locations(request, locations):
    """The locations the dashboard shows: ?location=<id> among the user's, or "all"."""
    chosen = request.GET.get("location", "")
    if chosen == "all":
        return locations, "all"
    if chosen:
        match = [loc for loc in locations if str(loc.pk) == chosen]
        if not match:
            raise Http404("No such location among yours.")
        return match, str(match[0].pk)
    return locations[:1], str(locations[0].pk) if locations else ""


def _window(request):
    raw = request.GET.get("days")
    if raw is None:
        return DEFAULT_WINDOW
    if raw.isdigit() and int(raw) in WINDOWS:
        return int(raw)
    messages.warning(
        request, f"Ignored the period {raw!r}: choose 7, 30 or 90 days. Showing 30 days."
    )
    return DEFAULT_WINDOW


def _trend_chart(item, points):
    scale = 100 if item["unit"] == "rate" else 1
    unit = "%" if item["unit"] == "rate" else ""
    present = [(day, float(value) * scale) for day, value in points if value is not None]
    return charts.line_chart(present, title=f"{item['label']}, weekly", unit=unit)


def dashboard(request):
    require(request, access.PERFORMANCE)
    locations = list(Location.objects.visible_to(request.user))
    selected, chosen = _chosen_locations(request, locations)
    days = _window(request)
    context = {"locations": locations, "chosen": chosen, "days": days, "windows": WINDOWS}
    if not selected:
        return render_page(request, "engagement/dashboard.html", context)
    ids = [loc.pk for loc in selected]
    now = timezone.now()
    last_day = timezone.localtime(now, ZoneInfo(selected[0].timezone)).date()
    first_day = last_day - timedelta(days=days - 1)
    summary = kpis.kpis(ids, first_day, last_day, now=now)
    trend = kpis.trend(ids, last_day, TREND_WEEKS, now=now)
    for item in summary["figures"]:
        points = trend["points"][item["key"]]
        item["chart"] = _trend_chart(item, points)
        item["points"] = [
            {"week_ending": day, "display": kpis.display(value, item["unit"])}
            for day, value in points
        ]
    mix = kpis.service_mix(ids, first_day, last_day)
    context.update(
        {
            "selected": selected,
            "first_day": first_day,
            "last_day": last_day,
            "summary": summary,
            "today": kpis.today(ids, now=now),
            "per_staff": kpis.per_staff(ids, first_day, last_day),
            "service_mix": mix,
            "mix_chart": charts.bar_chart(
                [(row["service"], row["booked"]) for row in mix],
                title="Appointments by service",
            ),
            "peak_hours": kpis.peak_hours(ids, first_day, last_day),
            "show_staff": True,
        }
    )
    return render_page(request, "engagement/dashboard.html", context)


def _allowed_kinds(user):
    if access.can(user, access.PERFORMANCE):
        return list(Report.Kind.values)
    return [Report.Kind.DAILY]


def report_list(request):
    require(request, access.BASIC_REPORTS)
    rows = (
        Report.objects.filter(
            location__in=Location.objects.visible_to(request.user),
            kind__in=_allowed_kinds(request.user),
        )
        .select_related("location")
        .order_by("-period_start", "kind", "location__name")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(
        request,
        "engagement/report_list.html",
        {"page": page, "weekly_too": len(_allowed_kinds(request.user)) > 1},
    )


def _report(request, pk):
    require(request, access.BASIC_REPORTS)
    report = get_object_or_404(
        Report.objects.filter(
            location__in=Location.objects.visible_to(request.user)
        ).select_related("location"),
        pk=pk,
    )
    if report.kind not in _allowed_kinds(request.user):
        raise PermissionDenied("Weekly and monthly reports are for managers and senior staff.")
    return report


def report_detail(request, pk):
    report = _report(request, pk)
    data = report.data
    return render_page(
        request,
        "engagement/report_detail.html",
        {
            "report": report,
            "title": reports.title_of(report),
            "figures": data.get("figures", []),
            "counts": data.get("counts", {}),
            "per_staff": data.get("per_staff", []),
            "service_mix": data.get("service_mix", []),
            "peak_hours": data.get("peak_hours"),
            "show_staff": access.can(request.user, access.PERFORMANCE),
        },
    )


def report_csv(request, pk):
    report = _report(request, pk)
    return stream_csv(
        request,
        filename=f"{report.kind}-report-{report.location_id}-{report.period_start}.csv",
        header=["section", "row", "measure", "value"],
        rows=reports.csv_rows(report, with_staff=access.can(request.user, access.PERFORMANCE)),
        model=Report,
        object_ids=[report.pk],
        description=f"CSV export of {reports.title_of(report)}",
    )
