"""Forms of the advocacy case pages: the case-list filter (GET) and the case detail's actions."""

from django import forms
from django.db.models import F

from advocacy import selectors
from advocacy.models import Advocate, Case, CaseType, Interaction
from advocacy.services import TRANSITIONS

Status = Case.Status

SORTS = {
    "created": ("Newest first", ("-created_at", "-pk")),
    "deadline": (
        "SLA deadline, soonest first",
        (F("fact__sla_deadline").asc(nulls_last=True), "pk"),
    ),
    "last_touch": (
        "Longest untouched first",
        (F("fact__last_touch").asc(nulls_last=True), "pk"),
    ),
}
HANDOFFS = [("0", "None"), ("1", "1"), ("2", "2"), ("3", "3 or more")]


def status_action(from_status, to_status):
    """What moving a case from one status to another is called on its buttons."""
    if to_status == Status.IN_PROGRESS:
        return "Start work" if from_status == Status.OPEN else "Resume work"
    return {
        Status.PENDING_DOCS: "Request documents",
        Status.ESCALATED: "Escalate",
        Status.RESOLVED: "Resolve",
        Status.REOPENED: "Reopen",
        Status.CLOSED: "Close",
    }[to_status]


def allowed_actions(case):
    """(status, action label) for each move the lifecycle allows from the case's status, in
    the order the work usually goes."""
    allowed = TRANSITIONS[Status(case.status)]
    return [(s, status_action(case.status, s)) for s in Status.values if s in allowed]


class FlagInput(forms.CheckboxInput):
    """A checkbox sending 1 when ticked; the raw value goes to FlagField to judge."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda value: value is True or value == "1")

    def format_value(self, value):
        return "1"

    def value_from_datadict(self, data, files, name):
        return data.get(name, "")


class FlagField(forms.Field):
    """A yes/no filter spelled 1 or 0 in links (absent: no)."""

    widget = FlagInput
    default_error_messages = {"invalid": "Use 1 for yes or 0 for no."}

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        if value in (None, "", "0", False):
            return False
        if value in ("1", True):
            return True
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class CaseFilterForm(forms.Form):
    """The case list's filters. Parameter names are a contract: the dashboards link here with
    them (see advocacy.views.case_list)."""

    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    case_type = forms.ChoiceField(choices=[("", "Any type"), *CaseType.choices], required=False)
    urgency = forms.ChoiceField(
        choices=[("", "Any urgency"), *Case.Urgency.choices], required=False
    )
    team = forms.ChoiceField(choices=[], required=False)
    advocate = forms.ModelChoiceField(
        queryset=Advocate.objects.none(), required=False, empty_label="Any advocate"
    )
    active = forms.ChoiceField(
        choices=[("1", "Active cases"), ("0", "All cases")], required=False, label="Cases"
    )
    stale = FlagField(label="Stale only")
    breached = FlagField(label="SLA breached only")
    missing_docs = FlagField(label="Missing documents")
    escalated = FlagField(label="Ever escalated")
    overloaded = FlagField(label="Advocate over capacity")
    handoffs = forms.ChoiceField(choices=[("", "Any"), *HANDOFFS], required=False)
    start = forms.DateField(
        required=False, label="Created from", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="Created to", widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in SORTS.items()], required=False
    )

    def __init__(self, data, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["team"].choices = [("", "Any team")] + [(t, t) for t in selectors.teams()]
        self.fields["advocate"].queryset = Advocate.objects.visible_to(user)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "It is before the start.")
        return data

    def ignored(self):
        """(field label, error) for each filter given a value it does not accept."""
        return [
            (self.fields[name].label or name.replace("_", " ").capitalize(), " ".join(errors))
            for name, errors in self.errors.items()
        ]

    def filters(self):
        """The valid filters only (a bad one is dropped, not fatal), with the defaults."""
        self.is_valid()
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in ("", None, False)
        }
        # Active only unless asked otherwise; a status filter is explicit enough on its own.
        data["active"] = data.get("active", "0" if data.get("status") else "1") == "1"
        data.setdefault("sort", "created")
        return data


class CaseActionForm(forms.Form):
    """The case page shows several of these at once: each keeps its ids apart (id_note twice
    would point both labels at one field)."""

    id_prefix = "case"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class InteractionForm(CaseActionForm):
    id_prefix = "interaction"
    channel = forms.ChoiceField(choices=Interaction.Channel.choices)
    direction = forms.ChoiceField(
        choices=Interaction.Direction.choices, initial=Interaction.Direction.OUTBOUND
    )
    duration_minutes = forms.IntegerField(
        min_value=0,
        max_value=Interaction.MAX_DURATION_MINUTES,
        initial=0,
        label="Duration (minutes)",
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class StatusForm(CaseActionForm):
    """A move of the case's status; only the moves its lifecycle allows are accepted."""

    id_prefix = "status"

    status = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(required=False, max_length=255)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.actions = allowed_actions(case)

    def clean_status(self):
        status = self.cleaned_data["status"]
        if status not in dict(self.actions):
            can = ", ".join(label for _, label in self.actions) or "nothing (it is closed)"
            raise forms.ValidationError(
                f"A case that is {self.case.get_status_display().lower()} cannot become "
                f"{Status(status).label.lower()}; the moves allowed now: {can}."
            )
        return status


def eligible_advocates(case):
    """Active advocates who handle the case's type, other than its own, with their caseload.

    The case-type list is JSON; the handful of advocates is filtered in Python (Advocate.handles)
    rather than with JSON lookups SQLite lacks."""
    candidates = Advocate.objects.filter(active=True).exclude(pk=case.advocate_id)
    ids = [a.pk for a in candidates.only("pk", "case_types") if a.handles(case.case_type)]
    return selectors.caseload(Advocate.objects.filter(pk__in=ids))


class AdvocateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, advocate):
        team = f", {advocate.team}" if advocate.team else ""
        return f"{advocate.name}{team}: {advocate.active_cases} of {advocate.capacity} active"


class AssignForm(CaseActionForm):
    id_prefix = "assign"
    advocate = AdvocateChoiceField(queryset=Advocate.objects.none(), empty_label=None)
    reason = forms.CharField(required=False, max_length=255)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["advocate"].queryset = eligible_advocates(case)
        self.fields["advocate"].error_messages["invalid_choice"] = (
            "Choose an active advocate who handles this case type."
        )
