from datetime import timedelta

from django import forms

from campaigns.models import Campaign, Intervention, Measure
from campaigns.selectors import DEFAULT_STATUSES, today_local

Status = Intervention.Status
SELECTABLE_STATUSES = [
    (status, Status(status).label)
    for status in (Status.PENDING, Status.SCHEDULED, Status.IN_PROGRESS, Status.FAILED)
]


class SelectionFilterForm(forms.Form):
    """Which open interventions to list on the build page (GET parameters)."""

    measure = forms.ModelChoiceField(
        queryset=Measure.objects.filter(active=True), required=False, empty_label="All measures"
    )
    # The first visit lists the default statuses, so its boxes show them ticked.
    status = forms.MultipleChoiceField(
        choices=SELECTABLE_STATUSES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=list(DEFAULT_STATUSES),
    )
    days_ahead = forms.IntegerField(
        min_value=0, max_value=3650, required=False, label="Due within (days)"
    )
    q = forms.CharField(required=False, max_length=100, label="Search")

    def __init__(self, data=None, **kwargs):
        if data is not None and "status" not in data:
            data = data.copy()
            data.setlist("status", list(DEFAULT_STATUSES))
        super().__init__(data, **kwargs)

    def filters(self):
        """Keyword arguments for selectors.available_interventions."""
        data = self.cleaned_data if self.is_valid() else {}
        measure = data.get("measure")
        return {
            "measure_id": measure.pk if measure else None,
            "statuses": data.get("status") or list(DEFAULT_STATUSES),
            "days_ahead": data.get("days_ahead"),
            "search": data.get("q", ""),
        }


def default_target_date():
    """A quarter from today: the usual HEDIS outreach cycle."""
    return today_local() + timedelta(days=90)


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    coordinator_count = forms.IntegerField(
        min_value=1, max_value=Campaign.MAX_COORDINATORS, label="Coordinators"
    )
    strategy = forms.ChoiceField(
        choices=Campaign.Strategy.choices, initial=Campaign.Strategy.BALANCED
    )
    target_completion_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, suggested_coordinators=1, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coordinator_count"].initial = suggested_coordinators
        self.fields["target_completion_date"].initial = default_target_date()


class OutcomeForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    outcome = forms.CharField(max_length=200, required=False)
