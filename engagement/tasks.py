"""Pharmacy background jobs (the schedule is in opsintel/schedule.py). Thin: each calls one
function of the app; arguments are ISO moments and dates; every job is safe to run twice (a
reminder is claimed before it is sent, a task is escalated once, a report replaces its period,
an alert stays open until its KPI recovers). Results are plain counts and ids, so the JSON
result backend can store them."""

from datetime import date, datetime

from opsintel.jobs import idempotent_task


def _moment(value):
    return datetime.fromisoformat(value) if value else None


def _day(value):
    return date.fromisoformat(value) if value else None


@idempotent_task(name="engagement.send_due_reminders")
def send_due_reminders(now=None):
    """Every few minutes: send the reminders whose time has come; counts by outcome."""
    from engagement import reminders

    return reminders.send_due_reminders(now=_moment(now))


@idempotent_task(name="engagement.escalate_overdue_tasks")
def escalate_overdue_tasks(today=None):
    """Hourly: tell the managers about follow-up tasks that just became overdue (each
    location's own date decides, so an hourly run catches every time zone's midnight)."""
    from engagement import services

    return {"escalated": services.escalate_overdue_tasks(today=_day(today))}


@idempotent_task(name="engagement.generate_reports")
def generate_reports(today=None):
    """Daily: the daily, weekly and monthly reports whose period has ended (each location's
    own date); a period already stored is rewritten, not duplicated or emailed again."""
    from engagement import reports

    return {"reports": [report.pk for report in reports.generate_due_reports(today=_day(today))]}


@idempotent_task(name="engagement.check_kpi_alerts")
def check_kpi_alerts(now=None):
    """Hourly: open (and tell the managers once) or close the KPI alerts."""
    from engagement import kpis

    return {"alerts raised": [alert.pk for alert in kpis.check_alerts(now=_moment(now))]}
