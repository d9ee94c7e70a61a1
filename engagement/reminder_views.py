"""The undelivered-reminders panel: what did not reach a patient, and why.

Failed and skipped reminders, and scheduled ones more than 15 minutes late (the sender is
behind or stuck), in the user's locations (a staff pharmacist has no COMMUNICATE, so no panel),
newest first. Patient names are PHI: each page viewed is audited with the patients it showed.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.utils import timezone

from engagement import access, reminders
from engagement.context import render_page, require
from engagement.models import Patient, Reminder
from opsintel.audit import Action, record_event

PAGE_SIZE = 50
STATUSES = [
    ("", "All undelivered"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
    ("overdue", "Overdue (not sent yet)"),
]


class FilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUSES, required=False)
    reason = forms.ChoiceField(
        choices=[("", "Any reason")]
        + [(code, label) for code, (label, _) in reminders.REASONS.items()],
        required=False,
    )
    channel = forms.ChoiceField(
        choices=[("", "Any channel"), *Reminder.Channel.choices], required=False
    )

    def filters(self):
        """The valid filters; an invalid one is dropped (and reported by `ignored`)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}

    def ignored(self):
        return [
            (self.fields[name].label or name, errors[0]) for name, errors in self.errors.items()
        ]


def undelivered(request):
    """GET ?status=failed|skipped|overdue&reason=<code>&channel=email|sms&page=N"""
    require(request, access.COMMUNICATE)
    form = FilterForm(request.GET)
    filters = form.filters()
    for label, error in form.ignored():
        messages.warning(request, f"Ignored the {label.lower()} filter: {error}")
    now = timezone.now()
    rows = reminders.undelivered_for(request.user, now=now, **filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    entries = [_entry(reminder) for reminder in page.object_list]
    patient_ids = sorted({entry["patient"].pk for entry in entries})
    if patient_ids:
        record_event(
            Action.VIEW,
            request=request,
            model=Patient,
            object_ids=patient_ids,
            description=f"Undelivered reminders, page {page.number}",
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "entries": entries,
        "query": query.urlencode(),
        "filtered": bool(filters),
    }
    return render_page(request, "engagement/reminders.html", context)


def _entry(reminder):
    appointment, task = reminder.appointment, reminder.task
    late = reminder.status in (Reminder.Status.SCHEDULED, Reminder.Status.SENDING)
    waiting = "not sent yet" if late else ""
    return {
        "reminder": reminder,
        "patient": appointment.patient if appointment is not None else task.patient,
        "appointment": appointment,
        "task": task,
        "state": "Overdue" if late else reminder.get_status_display(),
        "reason": reminder.reason or waiting,
    }
