"""Stored reports: daily operations, weekly performance, monthly business review.

`generate` computes a report's figures (engagement.kpis) for one location and period and
upserts it on (kind, location, period start), so running it again refreshes the same row.
`generate_due_reports` is what Celery beat runs each morning: yesterday's daily report, last
week's weekly report on Mondays and last month's monthly report on the 1st, for every location;
a report that did not exist before is emailed to the location's pharmacy managers (a summary
and a link), so a re-run or a duplicate delivery sends nothing twice.

Report.data is JSON: money is stored as text ("1234.50"), dates as ISO text, and each KPI with
the display text and target it had when the report was made.
"""

import json
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from engagement import kpis
from engagement.models import Location, Report

logger = logging.getLogger(__name__)

Kind = Report.Kind


def period_of(kind, period_start):
    """The last day of the report's period; ValidationError for a start that does not begin one
    (a weekly report starts on a Monday, a monthly one on the 1st)."""
    if kind == Kind.DAILY:
        return period_start
    if kind == Kind.WEEKLY:
        if period_start.weekday() != 0:
            raise ValidationError({"period_start": "A weekly report starts on a Monday."})
        return period_start + timedelta(days=6)
    if kind == Kind.MONTHLY:
        if period_start.day != 1:
            raise ValidationError({"period_start": "A monthly report starts on the 1st."})
        following = (period_start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following - timedelta(days=1)
    raise ValidationError({"kind": f"{kind!r} is not a kind of report."})


def _json(value):
    """JSON-ready: Decimals and dates as text, shares to 4 places (0.6667)."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def build_data(kind, location, first_day, last_day):
    """The report's content: the KPIs with targets, the per-staff table, the service mix, and
    for weekly and monthly reports the peak hours and the weekly trend."""
    ids = [location.pk]
    summary = kpis.kpis(ids, first_day, last_day)
    data = {
        "figures": summary["figures"],
        "counts": summary["counts"],
        "per_staff": kpis.per_staff(ids, first_day, last_day),
        "service_mix": kpis.service_mix(ids, first_day, last_day),
    }
    if kind != Kind.DAILY:
        data["peak_hours"] = kpis.peak_hours(ids, first_day, last_day)
    return _json(data)


def _upsert(kind, location, period_start):
    """(report, created): the report written or refreshed for the period."""
    last_day = period_of(kind, period_start)
    data = build_data(kind, location, period_start, last_day)
    report, created = Report.objects.update_or_create(
        kind=kind,
        location=location,
        period_start=period_start,
        defaults={"period_end": last_day, "data": data, "generated_at": timezone.now()},
    )
    return report, created


def generate(kind, location, period_start):
    """Write (or refresh) one report and return it."""
    report, _ = _upsert(kind, location, period_start)
    return report


def due(today):
    """[(kind, period start)] of the reports due on `today`."""
    periods = [(Kind.DAILY, today - timedelta(days=1))]
    if today.weekday() == 0:
        periods.append((Kind.WEEKLY, today - timedelta(days=7)))
    if today.day == 1:
        last_month_end = today - timedelta(days=1)
        periods.append((Kind.MONTHLY, last_month_end.replace(day=1)))
    return periods


def generate_due_reports(*, today=None):
    """Generate the reports due today (each location's own local date unless `today` is
    given) and email the new ones to the location's managers; returns the reports written."""
    written = []
    for location in Location.objects.order_by("pk"):
        local_today = today or timezone.localtime(timezone.now(), _zone(location)).date()
        for kind, period_start in due(local_today):
            report, created = _upsert(kind, location, period_start)
            written.append(report)
            if created:
                _email(report)
    return written


def _zone(location):
    return ZoneInfo(location.timezone)


def title_of(report):
    return f"{report.get_kind_display()}: {report.location.name}, " + (
        f"{report.period_start:%b %d, %Y}"
        if report.period_start == report.period_end
        else f"{report.period_start:%b %d} – {report.period_end:%b %d, %Y}"
    )


def summary_text(report):
    lines = [title_of(report), ""]
    for item in report.data.get("figures", []):
        target = f" (target {item['target']})" if item.get("target") else ""
        verdict = {"good": " · on target", "bad": " · off target"}.get(item.get("status"), "")
        lines.append(f"{item['label']}: {item['display']}{target}{verdict}")
    counts = report.data.get("counts", {})
    lines += [
        "",
        f"Completed {counts.get('completed', 0)}, no-shows {counts.get('no_show', 0)}, "
        f"cancelled {counts.get('cancelled', 0)}.",
    ]
    return "\n".join(lines)


def _email(report):
    recipients = [user.email for user in kpis.managers_of(report.location) if user.email]
    if not recipients:
        return
    link = reverse("engagement:report_detail", args=[report.pk])
    base = settings.OPSINTEL_SITE_URL
    text = (
        summary_text(report) + f"\n\nThe full report: {base.rstrip('/') + link if base else link}"
    )
    subject = title_of(report)

    def send():
        # One message per manager: recipients must not see each other's addresses.
        messages = [
            EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [address])
            for address in recipients
        ]
        try:
            get_connection().send_messages(messages)
        except Exception:
            # The report is stored and listed in the app; only the copy by mail is lost.
            logger.exception("Could not email the report %s", report.pk)

    # Sent once the report is committed: a rolled-back report must not have been announced.
    transaction.on_commit(send)


def csv_rows(report, *, with_staff=True):
    """The report as long-format rows (section, row, measure, value) for the CSV export."""
    data = report.data
    yield ("report", title_of(report), "period", f"{report.period_start}–{report.period_end}")
    for item in data.get("figures", []):
        yield ("kpi", item["label"], "value", item["value"])
        yield ("kpi", item["label"], "target", item.get("target", ""))
        yield ("kpi", item["label"], "status", item.get("status") or "")
    for key, value in data.get("counts", {}).items():
        yield ("appointments", key, "count", value)
    if with_staff:
        for row in data.get("per_staff", []):
            for key, value in row.items():
                if key not in ("name", "staff_id"):
                    yield ("staff", row["name"], key, value)
    for row in data.get("service_mix", []):
        for key, value in row.items():
            if key != "service":
                yield ("service", row["service"], key, value)
    peak = data.get("peak_hours") or {}
    for row in peak.get("rows", []):
        for weekday, cell in zip(peak["weekdays"], row["cells"], strict=True):
            yield ("peak_hours", row["label"], weekday, cell["count"])
