"""Django admin for patient advocacy.

Advocates (capacity, case types, team, active) and patients' contact details are edited
here; opening a patient, a case, an interaction or feedback (PHI) is audited, and so are
exports. Cases are read-only: status, assignment and metadata change through
advocacy.services, which write the event the timings come from and refresh the case's fact
row, and cases arrive through the pages, the API or `manage.py import_advocacy`. The event
log, interactions and feedback are the history those timings come from: read-only. The rollup
tables, the risk scores and alert conditions are computed: read-only.

The SLA-risk models list shows each model's held-out AUC; its "Retrain now" action trains on
the resolved history and rescores the active cases (advocacy.risk), the same two calls the
weekly task makes.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join

from advocacy import risk
from advocacy.models import (
    Advocate,
    AdvocateCaseload,
    AlertCondition,
    BottleneckSegment,
    Case,
    CaseEvent,
    CaseFact,
    CaseRisk,
    CaseType,
    CaseTypeKpi,
    Interaction,
    Patient,
    PatientFeedback,
    SlaRiskModel,
)
from opsintel.importexport import (
    AuditedChangeViewMixin,
    AuditedExportMixin,
    ReadOnlyAdminMixin,
    SafeModelResource,
)


def _percent(share):
    return "—" if share is None else f"{share:.0%}"


# Export resources (formulas neutralised, exports audited by the mixin) -----------------------


class PatientResource(SafeModelResource):
    class Meta:
        model = Patient
        fields = [
            "id",
            "external_id",
            "insurance_type",
            "preferred_channel",
            "state",
            "risk_score",
            "created_at",
        ]


class AdvocateResource(SafeModelResource):
    class Meta:
        model = Advocate
        fields = [
            "id",
            "external_id",
            "name",
            "specialty",
            "team",
            "capacity",
            "case_types",
            "hire_date",
            "active",
        ]


class CaseResource(SafeModelResource):
    class Meta:
        model = Case
        fields = [
            "id",
            "external_id",
            "patient__external_id",
            "advocate__external_id",
            "case_type",
            "status",
            "urgency",
            "created_at",
            "resolved_at",
            "escalated",
            "complexity",
            "missing_docs",
            "handoff_count",
            "intake_source",
        ]


# People ---------------------------------------------------------------------------------------


class AdvocateForm(forms.ModelForm):
    case_types = forms.MultipleChoiceField(
        choices=CaseType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Case types they handle; none ticked means all",
    )

    class Meta:
        model = Advocate
        fields = [
            "name",
            "external_id",
            "user",
            "team",
            "specialty",
            "capacity",
            "case_types",
            "hire_date",
            "active",
        ]


@admin.register(Advocate)
class AdvocateAdmin(AuditedExportMixin, admin.ModelAdmin):
    """Advocates are added and corrected here; one who leaves is made inactive (their cases
    keep pointing at them), so there is no delete."""

    form = AdvocateForm
    resource_classes = [AdvocateResource]
    list_display = [
        "name",
        "team",
        "capacity",
        "handles",
        "active_cases",
        "utilization",
        "active",
        "user",
    ]
    list_select_related = ["user", "caseload"]
    list_filter = ["active", "team"]
    search_fields = ["name", "=external_id", "user__username"]
    search_help_text = "Name, external id (exact) or username"
    autocomplete_fields = ["user"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="case types")
    def handles(self, advocate):
        labels = dict(CaseType.choices)
        return ", ".join(labels.get(t, t) for t in advocate.case_types) or "all"

    def _caseload(self, advocate):
        try:
            return advocate.caseload
        except AdvocateCaseload.DoesNotExist:
            return None

    @admin.display(description="active cases", ordering="caseload__active_cases")
    def active_cases(self, advocate):
        caseload = self._caseload(advocate)
        return "—" if caseload is None else caseload.active_cases

    @admin.display(description="utilization", ordering="caseload__utilization")
    def utilization(self, advocate):
        caseload = self._caseload(advocate)
        return "—" if caseload is None else _percent(caseload.utilization)


@admin.register(Patient)
class PatientAdmin(AuditedChangeViewMixin, AuditedExportMixin, admin.ModelAdmin):
    """Contact details are corrected here; patients arrive with their cases, and a patient
    with cases is never deleted."""

    resource_classes = [PatientResource]
    list_display = ["__str__", "insurance_type", "preferred_channel", "state", "created_at"]
    list_filter = ["insurance_type", "preferred_channel", "state"]
    search_fields = ["=external_id"]
    search_help_text = "External patient id (exact)"
    readonly_fields = ["external_id", "created_at"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Cases and their history: read-only -----------------------------------------------------------


class CaseEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseEvent
    fields = ["at", "type", "actor", "note"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Case)
class CaseAdmin(AuditedChangeViewMixin, AuditedExportMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    resource_classes = [CaseResource]
    list_display = [
        "__str__",
        "patient",
        "status",
        "urgency",
        "advocate",
        "team",
        "created_at",
        "resolved_at",
        "missing_docs",
    ]
    list_select_related = ["patient", "advocate"]
    list_filter = ["status", "case_type", "urgency", "advocate__team", "missing_docs", "escalated"]
    search_fields = ["=external_id", "=patient__external_id"]
    search_help_text = "External case id or patient id (exact)"
    date_hierarchy = "created_at"
    show_full_result_count = False  # counting 100k cases on every page is slow
    inlines = [CaseEventInline]

    @admin.display(description="team", ordering="advocate__team")
    def team(self, case):
        return case.advocate.team if case.advocate else ""


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "type", "at", "actor", "note"]
    list_select_related = ["case", "actor"]
    list_filter = ["type"]
    search_fields = ["=case__external_id", "=external_id"]
    search_help_text = "External case id or event id (exact)"
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(Interaction)
class InteractionAdmin(AuditedChangeViewMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "advocate", "channel", "direction", "started_at", "duration_minutes"]
    list_select_related = ["case", "advocate"]
    list_filter = ["channel", "direction"]
    search_fields = ["=case__external_id", "=external_id"]
    search_help_text = "External case id or interaction id (exact)"
    date_hierarchy = "started_at"
    show_full_result_count = False


@admin.register(PatientFeedback)
class PatientFeedbackAdmin(AuditedChangeViewMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "csat", "submitted_at"]
    list_select_related = ["case"]
    list_filter = ["csat"]
    search_fields = ["=case__external_id"]
    search_help_text = "External case id (exact)"
    date_hierarchy = "submitted_at"


# Rollups and alerts: computed, read-only ------------------------------------------------------


@admin.register(CaseFact)
class CaseFactAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "case",
        "status",
        "advocate",
        "created_at",
        "age_days",
        "hours_to_first_response",
        "days_to_resolution",
        "is_active",
        "sla_breached",
        "stale",
        "as_of",
    ]
    list_select_related = ["case", "advocate"]
    list_filter = ["case_type", "is_active", "sla_breached", "stale", "missing_docs", "team"]
    search_fields = ["=case__external_id"]
    search_help_text = "External case id (exact)"
    show_full_result_count = False


@admin.register(CaseTypeKpi)
class CaseTypeKpiAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "as_of",
        "case_type",
        "total_cases",
        "active_cases",
        "avg_hours_to_first_response",
        "avg_days_to_resolution",
        "sla_breach_rate",
        "avg_csat",
        "stale_cases",
    ]
    list_filter = ["case_type"]
    date_hierarchy = "as_of"


@admin.register(AdvocateCaseload)
class AdvocateCaseloadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "advocate",
        "team",
        "capacity",
        "active_cases",
        "utilization",
        "weighted_utilization",
        "stale_cases",
        "breached_cases",
        "as_of",
    ]
    list_select_related = ["advocate"]
    list_filter = ["team"]
    search_fields = ["advocate__name"]


@admin.register(BottleneckSegment)
class BottleneckSegmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "dimension",
        "segment",
        "cases",
        "avg_days_to_resolution",
        "sla_breach_rate",
        "avg_csat",
        "escalation_rate",
        "as_of",
    ]
    list_filter = ["dimension"]


@admin.register(AlertCondition)
class AlertConditionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["message", "key", "raised_at", "cleared_at"]
    list_filter = [("cleared_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "message"]
    date_hierarchy = "raised_at"


# SLA-risk model -------------------------------------------------------------------------------


@admin.register(CaseRisk)
class CaseRiskAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "risk", "top_reasons", "model", "scored_at"]
    list_select_related = ["case", "model"]
    search_fields = ["=case__external_id"]
    search_help_text = "External case id (exact)"
    show_full_result_count = False

    @admin.display(description="breach probability", ordering="probability")
    def risk(self, case_risk):
        return _percent(case_risk.probability)

    @admin.display(description="top reasons")
    def top_reasons(self, case_risk):
        return "; ".join(case_risk.reasons)


RETRAIN = "retrain_now"


@admin.register(SlaRiskModel)
class SlaRiskModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Models are made by training only (the weekly task or "Retrain now"), never by hand."""

    list_display = [
        "trained_at",
        "algorithm",
        "held_out_auc",
        "train_cases",
        "test_cases",
        "breach_rate",
        "scored_cases",
    ]
    fields = [
        "trained_at",
        "algorithm",
        "held_out_auc",
        "train_cases",
        "test_cases",
        "breach_rate",
        "scored_cases",
        "coefficients",
        "training",
    ]
    readonly_fields = fields
    actions = [RETRAIN]
    # Keeps the action bar on an empty list, where the first model is trained.
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(scored=Count("scores"))

    @admin.display(description="AUC (held out)", ordering="auc")
    def held_out_auc(self, model):
        return "—" if model.auc is None else f"{model.auc:.3f}"

    @admin.display(description="breached in training", ordering="breach_share")
    def breach_rate(self, model):
        return _percent(model.breach_share)

    @admin.display(description="cases scored", ordering="scored")
    def scored_cases(self, model):
        return model.scored

    @admin.display(description="coefficients (standardised features)")
    def coefficients(self, model):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td></tr>",
            ((name, f"{value:+.3f}") for name, value in risk.model_summary(model)),
        )
        return format_html("<table>{}</table>", rows)

    @admin.display(description="training")
    def training(self, model):
        settings = model.parameters.get("training", {})
        return ", ".join(f"{key}: {value}" for key, value in settings.items()) or "—"

    def has_retrain_permission(self, request):
        return request.user.has_perm("advocacy.add_slariskmodel")

    @admin.action(description="Retrain now (and rescore active cases)", permissions=["retrain"])
    def retrain_now(self, request, queryset):
        # Trains on the whole resolved history: which rows are ticked does not matter.
        try:
            with transaction.atomic():
                model = risk.train()
                scored = risk.score_active_cases(model)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        self.message_user(
            request,
            f"Retrained the SLA-risk model: AUC {model.auc:.3f} on {model.test_cases} held-out "
            f"cases ({model.train_cases} for training); {scored} active cases rescored.",
            messages.SUCCESS,
        )

    def changelist_view(self, request, extra_context=None):
        # Django runs an action only on ticked rows; before the first model there are none.
        if (
            request.method == "POST"
            and request.POST.get("action") == RETRAIN
            and self.has_retrain_permission(request)
        ):
            self.retrain_now(request, self.get_queryset(request).none())
            return HttpResponseRedirect(request.get_full_path())
        return super().changelist_view(request, extra_context)
