"""Forms of the AR pages: the claim list's filters (GET), a follow-up's outcome and the
dashboard's "Run now"."""

from django import forms

from rcm.models import Agent, ClaimStatus, Payer, Priority, WorkQueue
from rcm.rules import AGING_BUCKETS


class ClaimFilterForm(forms.Form):
    """The claim list's filters. A bad value is dropped and reported, never fatal; parameter
    names are what links to the list use (see rcm.views.claim_list)."""

    status = forms.ChoiceField(choices=[("", "Any status"), *ClaimStatus.choices], required=False)
    open = forms.ChoiceField(
        choices=[("1", "Open claims"), ("0", "All claims")], required=False, label="Claims"
    )
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.all(), required=False, empty_label="Any payer"
    )
    aging = forms.ChoiceField(
        choices=[("", "Any aging"), *((label, f"{label} days") for label, _, _ in AGING_BUCKETS)],
        required=False,
        label="Aging",
    )
    queue = forms.ModelChoiceField(
        queryset=WorkQueue.objects.all(), required=False, empty_label="Any queue"
    )
    agent = forms.ModelChoiceField(
        queryset=Agent.objects.none(), required=False, empty_label="Any agent"
    )
    priority = forms.ChoiceField(choices=[("", "Any priority"), *Priority.choices], required=False)
    flagged = forms.ChoiceField(
        choices=[("", "Any"), ("1", "Past 80% of the window")],
        required=False,
        label="Timely filing",
    )

    def __init__(self, data, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["agent"].queryset = Agent.objects.visible_to(user)

    def ignored(self):
        """(field label, error) for each filter given a value it does not accept."""
        return [
            (self.fields[name].label or name.capitalize(), " ".join(errors))
            for name, errors in self.errors.items()
        ]

    def filters(self):
        """The valid filters only, with the default: open claims unless a status is asked for."""
        self.is_valid()
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in ("", None, False)
        }
        data["open"] = data.get("open", "0" if data.get("status") else "1") == "1"
        return data


class CompleteFollowUpForm(forms.Form):
    """What came of a call; the claim's new status if it changed."""

    outcome = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what came of the call."},
    )
    claim_status = forms.ChoiceField(
        choices=[("", "Unchanged"), *ClaimStatus.choices],
        required=False,
        label="Claim status now",
    )

    def __init__(self, *args, follow_up, **kwargs):
        # Several follow-ups may be on one page: each form keeps its own ids.
        kwargs.setdefault("auto_id", f"follow_up_{follow_up.pk}_%s")
        super().__init__(*args, **kwargs)
        self.follow_up = follow_up


class RunAutomationForm(forms.Form):
    ASSIGN = "assign"
    SCHEDULE = "schedule"
    MARK_MISSED = "mark_missed"

    action = forms.ChoiceField(
        choices=[
            (ASSIGN, "Assign claims to queues and agents"),
            (SCHEDULE, "Schedule follow-up calls"),
            (MARK_MISSED, "Mark missed follow-ups"),
        ],
        widget=forms.RadioSelect,
        initial=ASSIGN,
        label="Run",
    )
    reassign = forms.BooleanField(
        required=False,
        label="Re-route claims that already have an agent (assignment only)",
    )
