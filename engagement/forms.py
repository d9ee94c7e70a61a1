"""Forms of the pharmacy pages: slot search and booking, an appointment's actions, patient
registration, follow-up outcomes and time off. Every choice of a row (patient, location, staff
member) is limited to the user's scope, so a forged id is refused as an invalid choice."""

import re
from datetime import timedelta

from django import forms

from engagement.models import AppointmentType, Location, Patient, StaffMember

MAX_SEARCH_DAYS = 31
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _types():
    return AppointmentType.objects.filter(active=True)


class SlotSearchForm(forms.Form):
    """What the front desk is looking for: a service at a location within some days."""

    patient = forms.ModelChoiceField(queryset=Patient.objects.none(), widget=forms.HiddenInput)
    appointment_type = forms.ModelChoiceField(queryset=_types(), label="Appointment type")
    location = forms.ModelChoiceField(queryset=Location.objects.none())
    first_day = forms.DateField(label="From", widget=DateInput)
    last_day = forms.DateField(label="To", widget=DateInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = Patient.objects.visible_to(user)
        self.fields["location"].queryset = Location.objects.visible_to(user)
        self.fields["appointment_type"].queryset = _types()

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last:
            if last < first:
                self.add_error("last_day", "The last day comes before the first.")
            elif (last - first).days >= MAX_SEARCH_DAYS:
                self.add_error("last_day", f"Search at most {MAX_SEARCH_DAYS} days at once.")
        return data


class BookForm(forms.Form):
    """One offered slot, posted back by its Book button."""

    patient = forms.ModelChoiceField(queryset=Patient.objects.none())
    appointment_type = forms.ModelChoiceField(queryset=_types(), label="Appointment type")
    location = forms.ModelChoiceField(queryset=Location.objects.none())
    staff = forms.ModelChoiceField(queryset=StaffMember.objects.none(), label="Staff member")
    starts_at = forms.DateTimeField(label="Start")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = Patient.objects.visible_to(user)
        self.fields["location"].queryset = Location.objects.visible_to(user)
        self.fields["staff"].queryset = StaffMember.objects.visible_to(user)
        self.fields["appointment_type"].queryset = _types()


class SlotChoiceForm(forms.Form):
    """A new time (and maybe a new staff member) for an appointment being rescheduled."""

    staff = forms.ModelChoiceField(queryset=StaffMember.objects.none(), label="Staff member")
    starts_at = forms.DateTimeField(label="Start")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = StaffMember.objects.visible_to(user)


class DayRangeForm(forms.Form):
    """The days to look for a new slot in (rescheduling)."""

    first_day = forms.DateField(label="From", widget=DateInput)
    last_day = forms.DateField(label="To", widget=DateInput)

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and not timedelta(0) <= last - first < timedelta(MAX_SEARCH_DAYS):
            self.add_error(
                "last_day", f"Pick 1 to {MAX_SEARCH_DAYS} days, the last after the first."
            )
        return data


class CompleteForm(forms.Form):
    outcome_notes = forms.CharField(
        required=False,
        max_length=5000,
        label="Outcome notes",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        label="Reason",
        error_messages={"required": "Say why the appointment is cancelled."},
    )


class SurveyForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        label="Satisfaction (1–5)",
    )
    would_recommend = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(11)],
        coerce=int,
        label="Would recommend (0–10)",
    )
    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PatientForm(forms.ModelForm):
    """Registration. Consent to a channel needs its contact detail; a likely duplicate (same
    name and date of birth at the location) must be confirmed before it is registered."""

    confirm_duplicate = forms.BooleanField(
        required=False, label="This is a different person: register anyway"
    )

    class Meta:
        model = Patient
        fields = [
            "location",
            "name",
            "date_of_birth",
            "email",
            "phone",
            "preferred_channel",
            "email_consent",
            "sms_consent",
            "email_opted_out",
            "sms_opted_out",
        ]
        labels = {
            "date_of_birth": "Date of birth",
            "email_consent": "Agrees to email reminders",
            "sms_consent": "Agrees to SMS reminders",
            "email_opted_out": "Opted out of email",
            "sms_opted_out": "Opted out of SMS",
            "preferred_channel": "Preferred channel",
        }
        widgets = {"date_of_birth": DateInput}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.visible_to(user)
        self.duplicates = []

    def clean_phone(self):
        phone = re.sub(r"[\s().-]", "", self.cleaned_data["phone"])
        if phone and not E164.match(phone):
            raise forms.ValidationError("Give the number with its country code, e.g. +15551234567.")
        return phone

    def clean(self):
        data = super().clean()
        needs = [
            ("email_consent", "email", "Email consent needs an email address."),
            ("sms_consent", "phone", "SMS consent needs a phone number."),
        ]
        for consent, detail, message in needs:
            if data.get(consent) and not data.get(detail) and detail not in self.errors:
                self.add_error(consent, message)
        preferred = data.get("preferred_channel")
        detail = {Patient.Channel.SMS: "phone", Patient.Channel.EMAIL: "email"}.get(preferred)
        if detail and not data.get(detail) and detail not in self.errors:
            self.add_error(
                "preferred_channel",
                f"{Patient.Channel(preferred).label} needs "
                f"{'a phone number' if detail == 'phone' else 'an email address'}.",
            )
        location, name, born = data.get("location"), data.get("name"), data.get("date_of_birth")
        if location and name and born and not data.get("confirm_duplicate"):
            # Across the whole location, not the user's scope: a staff pharmacist registering
            # someone a colleague already sees must be warned too (only a count is shown).
            self.duplicates = list(
                Patient.objects.filter(
                    location=location, name__iexact=name.strip(), date_of_birth=born
                ).values_list("pk", flat=True)
            )
            if self.duplicates:
                self.add_error(
                    "confirm_duplicate",
                    f"{len(self.duplicates)} patient{'s' if len(self.duplicates) > 1 else ''} "
                    f"named {name.strip()}, born {born:%b %-d, %Y}, already registered at "
                    f"{location}. Open the existing record, or tick the box if this is "
                    "someone else.",
                )
        return data


class CompleteTaskForm(forms.Form):
    outcome = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say what came of the follow-up."},
    )

    def __init__(self, *args, task, **kwargs):
        # Several tasks are on one page: each form keeps its own ids.
        kwargs.setdefault("auto_id", f"task_{task.pk}_%s")
        super().__init__(*args, **kwargs)
        self.task = task


class TimeOffForm(forms.Form):
    """Wall-clock times in the staff member's location's time zone (the view activates it)."""

    starts_at = forms.DateTimeField(label="From", widget=DateTimeInput)
    ends_at = forms.DateTimeField(label="Until", widget=DateTimeInput)
    reason = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The end comes before the start.")
        return data
