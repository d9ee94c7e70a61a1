"""Django admin for AR follow-up.

Payers and their follow-up rules (the default rule too), work queues and agents, holidays,
assignment rules and document templates are managed here. An assignment rule's page has "Test
this rule against a claim": whether the rule holds for a claim, why, and which rule the engine
would pick (rcm.rules, the engine's own evaluation). Claims are imported and exported here
(rcm.resources: the checks and writes of `manage.py import_claims`); opening a claim or a
patient (PHI) is audited, and so are exports. The engine's columns of a claim (queue, agent,
priority) and its history (assignments, follow-ups, generated documents, automation runs)
change only through rcm.services and rcm.documents: read-only here.
"""

import re

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html_join

from opsintel.importexport import (
    AuditedChangeViewMixin,
    AuditedImportExportMixin,
    ReadOnlyAdminMixin,
    StrictCSV,
)
from rcm import rules
from rcm.models import (
    OPEN_STATUSES,
    Agent,
    Assignment,
    AssignmentRule,
    AutomationRun,
    Claim,
    DenialReason,
    DocumentTemplate,
    FollowUp,
    FollowUpRule,
    GeneratedDocument,
    Holiday,
    Patient,
    Payer,
    PayerType,
    WorkQueue,
)
from rcm.resources import ClaimResource

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")


def _weekdays(days):
    return ", ".join(WEEKDAYS[day] for day in sorted(days) if 0 <= day < len(WEEKDAYS))


# Payers and follow-up rules -------------------------------------------------------------------


class FollowUpRuleInline(admin.StackedInline):
    model = FollowUpRule
    max_num = 1
    extra = 0
    can_delete = True
    verbose_name = "follow-up rule"
    verbose_name_plural = "follow-up rule (none: the default rule applies)"


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):
    list_display = ["name", "payer_type", "filing_window_days", "follow_up"]
    list_select_related = ["follow_up_rule"]
    list_filter = ["payer_type"]
    search_fields = ["name"]
    inlines = [FollowUpRuleInline]

    @admin.display(description="follow-up rule")
    def follow_up(self, payer):
        try:
            rule = payer.follow_up_rule
        except FollowUpRule.DoesNotExist:
            return "default"
        return f"{rule.initial_days} d, then every {rule.subsequent_days} d"


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(admin.ModelAdmin):
    list_display = ["for_payer", "initial_days", "subsequent_days", "call_times", "weekdays"]
    list_select_related = ["payer"]
    autocomplete_fields = ["payer"]

    @admin.display(description="payer", ordering="payer__name")
    def for_payer(self, rule):
        return rule.payer or "Default (payers without their own)"

    @admin.display(description="best call times")
    def call_times(self, rule):
        return ", ".join(rule.best_call_times)

    @admin.display(description="weekdays")
    def weekdays(self, rule):
        return _weekdays(rule.preferred_weekdays)


# Queues and agents ----------------------------------------------------------------------------


class AgentInline(admin.TabularInline):
    model = Agent
    fields = ["name", "user", "daily_capacity", "active"]
    autocomplete_fields = ["user"]
    extra = 0


def _with_open_claims(queryset):
    return queryset.annotate(
        open_claims=Count("claims", filter=Q(claims__status__in=OPEN_STATUSES), distinct=True)
    )


@admin.register(WorkQueue)
class WorkQueueAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "agent_count", "open_claim_count"]
    inlines = [AgentInline]

    def get_queryset(self, request):
        queryset = _with_open_claims(super().get_queryset(request))
        return queryset.annotate(agent_total=Count("agents", distinct=True))

    @admin.display(description="agents", ordering="agent_total")
    def agent_count(self, queue):
        return queue.agent_total

    @admin.display(description="open claims", ordering="open_claims")
    def open_claim_count(self, queue):
        return queue.open_claims


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    """An agent who leaves is made inactive (their claims' history keeps pointing at them)."""

    list_display = ["name", "queue", "user", "daily_capacity", "open_claim_count", "active"]
    list_select_related = ["queue", "user"]
    list_filter = ["queue", "active"]
    search_fields = ["name", "user__username"]
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        return _with_open_claims(super().get_queryset(request))

    @admin.display(description="open claims", ordering="open_claims")
    def open_claim_count(self, agent):
        return agent.open_claims


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"


# Assignment rules -----------------------------------------------------------------------------


class ListField(forms.CharField):
    """A list of text entered as "a, b, c" (commas or new lines)."""

    widget = forms.TextInput(attrs={"size": 60})

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [item.strip() for item in re.split(r"[,\n]", value or "") if item.strip()]


class AssignmentRuleForm(forms.ModelForm):
    payer_types = forms.MultipleChoiceField(
        choices=PayerType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Any of these types; none ticked: not checked",
    )
    payer_names = ListField(
        required=False, help_text="Any of these payers, e.g. Aetna, Cigna; empty: not checked"
    )
    procedure_codes = ListField(
        required=False,
        help_text="CPT codes or ranges, e.g. 27447, 33200-33249; empty: not checked",
    )
    denial_reasons = forms.MultipleChoiceField(
        choices=DenialReason.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Any of these reasons; none ticked: not checked",
    )

    class Meta:
        model = AssignmentRule
        fields = [
            "name",
            "priority",
            "active",
            "queue",
            "amount_greater_than",
            "payer_types",
            "payer_names",
            "aging_greater_than",
            "procedure_codes",
            "denial_reasons",
        ]

    def clean_payer_names(self):
        names = self.cleaned_data["payer_names"]
        known = {name.casefold(): name for name in Payer.objects.values_list("name", flat=True)}
        unknown = [name for name in names if name.casefold() not in known]
        if unknown:
            raise forms.ValidationError(
                f"Unknown payer(s): {', '.join(unknown)}. "
                f"Payers: {', '.join(sorted(known.values()))}."
            )
        # The engine compares names exactly: store them as the payers spell them.
        return [known[name.casefold()] for name in names]


def conditions_summary(rule):
    """The rule's conditions in words ("amount > $5,000; payer type Medicare or Medicaid")."""
    parts = []
    if rule.amount_greater_than is not None:
        parts.append(f"amount > {rules.money(rule.amount_greater_than)}")
    if rule.payer_types:
        labels = dict(PayerType.choices)
        parts.append("payer type " + " or ".join(labels.get(t, t) for t in rule.payer_types))
    if rule.payer_names:
        parts.append("payer " + " or ".join(rule.payer_names))
    if rule.aging_greater_than is not None:
        parts.append(f"aging > {rule.aging_greater_than} days")
    if rule.procedure_codes:
        parts.append("procedure in " + ", ".join(rule.procedure_codes))
    if rule.denial_reasons:
        labels = dict(DenialReason.choices)
        parts.append(
            "denial reason " + " or ".join(labels.get(r, r).lower() for r in rule.denial_reasons)
        )
    return "; ".join(parts) or "every claim (the catch-all default)"


class RuleTestForm(forms.Form):
    claim_number = forms.CharField(max_length=40)
    as_of = forms.DateField(
        required=False, help_text="The day aging is counted to (empty: today), YYYY-MM-DD"
    )

    def clean_claim_number(self):
        number = self.cleaned_data["claim_number"].strip()
        claim = Claim.objects.select_related("payer").filter(claim_number=number).first()
        if claim is None:
            raise forms.ValidationError(f"There is no claim {number}.")
        self.claim = claim
        return number


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    form = AssignmentRuleForm
    list_display = ["priority", "name", "active", "queue", "conditions"]
    list_display_links = ["priority", "name"]
    list_select_related = ["queue"]
    list_filter = ["active", "queue"]
    search_fields = ["name"]
    change_form_template = "admin/rcm/assignmentrule/change_form.html"

    @admin.display(description="conditions")
    def conditions(self, rule):
        return conditions_summary(rule)

    def get_urls(self):
        test = path(
            "<path:object_id>/test/",
            self.admin_site.admin_view(self.test_view),
            name="rcm_assignmentrule_test",
        )
        return [test, *super().get_urls()]

    def test_view(self, request, object_id):
        """Test this rule against a claim: does it hold, why, and which rule wins overall."""
        rule = get_object_or_404(AssignmentRule.objects.select_related("queue"), pk=object_id)
        if not (
            self.has_view_permission(request, rule) and request.user.has_perm("rcm.view_claim")
        ):
            raise PermissionDenied
        form = RuleTestForm(request.GET if "claim_number" in request.GET else None)
        outcome = None
        if form.is_valid():
            today = form.cleaned_data["as_of"] or timezone.localdate()
            facts = rules.ClaimFacts.of(form.claim, today)
            active = AssignmentRule.objects.filter(active=True).select_related("queue")
            winner, winner_reason = rules.first_match(list(active), facts)
            outcome = {
                "claim": form.claim,
                "facts": facts,
                "today": today,
                "reason": rules.evaluate(rule, facts),
                "winner": winner,
                "winner_reason": winner_reason,
            }
        context = {
            **self.admin_site.each_context(request),
            "title": f"Test {rule.name} against a claim",
            "opts": self.model._meta,
            "original": rule,
            "rule": rule,
            "conditions": conditions_summary(rule),
            "form": form,
            "outcome": outcome,
        }
        return TemplateResponse(request, "admin/rcm/assignmentrule/test_rule.html", context)


# Document templates ---------------------------------------------------------------------------


def _placeholders(body):
    """The template's placeholder names, or None while rcm.documents is not there."""
    try:
        from rcm.documents import placeholders
    except ImportError:
        return None
    return placeholders(body)


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "doc_type", "active", "success_rate", "placeholder_count"]
    list_filter = ["doc_type", "active"]
    search_fields = ["name"]
    readonly_fields = ["placeholder_list"]
    fields = ["doc_type", "name", "active", "success_rate", "body", "placeholder_list"]

    @admin.display(description="placeholders")
    def placeholder_count(self, template):
        names = _placeholders(template.body)
        return "—" if names is None else len(names)

    @admin.display(description="placeholders in the body")
    def placeholder_list(self, template):
        names = _placeholders(template.body or "")
        if names is None:
            return "—"
        if not names:
            return "none"
        return format_html_join(", ", "<code>{{{{ {} }}}}</code>", ((name,) for name in names))


# Claims and patients --------------------------------------------------------------------------


@admin.register(Patient)
class PatientAdmin(AuditedChangeViewMixin, admin.ModelAdmin):
    """Names and birth dates are corrected here; patients arrive with their claims."""

    list_display = ["member_id", "name"]
    # Ids only: names and birth dates are not search keys.
    search_fields = ["=member_id"]
    search_help_text = "Member ID (exact)"
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None):
        return False


class AssignmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Assignment
    fields = ["at", "queue", "agent", "rule", "reason"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("queue", "agent", "rule")


class FollowUpInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FollowUp
    fields = ["scheduled_at", "agent", "priority", "status", "outcome"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agent")


@admin.register(Claim)
class ClaimAdmin(AuditedChangeViewMixin, AuditedImportExportMixin, admin.ModelAdmin):
    resource_classes = [ClaimResource]
    import_formats = [StrictCSV]  # the format of `manage.py import_claims` (docs/rcm-import.md)
    list_display = [
        "claim_number",
        "payer",
        "amount",
        "balance",
        "status",
        "denial_reason",
        "submission_date",
        "queue",
        "agent",
        "priority",
    ]
    list_select_related = ["payer", "queue", "agent"]
    list_filter = ["status", "denial_reason", "priority", "payer", "queue"]
    search_fields = ["=claim_number", "=patient__member_id"]
    search_help_text = "Claim number or member ID (exact)"
    date_hierarchy = "submission_date"
    raw_id_fields = ["patient"]
    readonly_fields = ["queue", "agent", "priority", "created_at", "updated_at"]
    show_full_result_count = False
    inlines = [AssignmentInline, FollowUpInline]

    def has_delete_permission(self, request, obj=None):
        return False


# The engine's history: read-only --------------------------------------------------------------


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "claim", "queue", "agent", "rule", "reason"]
    list_select_related = ["claim", "queue", "agent", "rule"]
    list_filter = ["queue", "rule"]
    search_fields = ["=claim__claim_number"]
    search_help_text = "Claim number (exact)"
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["scheduled_at", "claim", "agent", "priority", "status"]
    list_select_related = ["claim", "agent"]
    list_filter = ["status", "priority", "agent__queue"]
    search_fields = ["=claim__claim_number"]
    search_help_text = "Claim number (exact)"
    date_hierarchy = "scheduled_at"
    show_full_result_count = False


@admin.register(GeneratedDocument)
class GeneratedDocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "title", "claim", "template", "needs_review", "created_by"]
    list_select_related = ["claim", "template", "created_by"]
    list_filter = ["needs_review", "template__doc_type"]
    search_fields = ["=claim__claim_number"]
    search_help_text = "Claim number (exact)"
    date_hierarchy = "created_at"


@admin.register(AutomationRun)
class AutomationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["started_at", "kind", "items", "succeeded", "failed", "duration"]
    list_filter = ["kind"]
    date_hierarchy = "started_at"

    @admin.display(description="took")
    def duration(self, run):
        if run.finished_at is None:
            return "—"
        return f"{(run.finished_at - run.started_at).total_seconds():.1f} s"
