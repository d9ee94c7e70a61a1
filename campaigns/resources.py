"""django-import-export resources for the campaign admin.

Rows are matched on natural keys (Measure.code, Member.member_id, Intervention.external_id,
the coordinator's username), related rows are named by those keys too, and every instance is
validated by the model (`full_clean`) so the dry-run preview shows bad values row by row.
Exports go through SafeModelResource, which neutralises spreadsheet formulas.

Big HEDIS portfolio files go through `manage.py import_hedis` (campaigns.importers) instead:
set-based and much faster than this row-by-row admin import.
"""

from django.contrib.auth import get_user_model
from import_export import fields
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from campaigns import services
from campaigns.models import Coordinator, Intervention, Measure, Member
from opsintel.importexport import SafeModelResource


class MeasureResource(SafeModelResource):
    class Meta:
        model = Measure
        fields = ["code", "name", "revenue_per_closure", "weight", "active"]
        import_id_fields = ["code"]
        clean_model_instances = True
        skip_unchanged = True


class MemberResource(SafeModelResource):
    class Meta:
        model = Member
        fields = [
            "member_id",
            "first_name",
            "last_name",
            "phone",
            "email",
            "date_of_birth",
            "plan",
        ]
        import_id_fields = ["member_id"]
        clean_model_instances = True
        skip_unchanged = True


class InterventionResource(SafeModelResource):
    member = fields.Field(
        attribute="member",
        column_name="member_id",
        widget=ForeignKeyWidget(Member, field="member_id"),
    )
    measure = fields.Field(
        attribute="measure",
        column_name="measure_code",
        widget=ForeignKeyWidget(Measure, field="code"),
    )
    # Computed by services.refresh_priorities: exported, never imported.
    priority = fields.Field(attribute="priority", column_name="priority", readonly=True)

    class Meta:
        model = Intervention
        fields = [
            "external_id",
            "member",
            "measure",
            "status",
            "intervention_date",
            "cost",
            "priority",
            "outcome",
            "outcome_date",
            "notes",
        ]
        import_id_fields = ["external_id"]
        clean_model_instances = True
        skip_unchanged = True

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("member", "measure")

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        if not str(row.get("external_id") or "").strip():
            raise ValueError(
                "external_id is empty: every imported intervention needs one, so that a "
                "second import updates it instead of adding a copy."
            )

    def after_import(self, dataset, result, **kwargs):
        if not kwargs.get("dry_run") and not result.has_errors():
            services.refresh_priorities()


class CoordinatorResource(SafeModelResource):
    user = fields.Field(
        attribute="user",
        column_name="username",
        widget=ForeignKeyWidget(get_user_model(), field="username"),
    )
    measures = fields.Field(
        attribute="measures",
        column_name="measures",
        widget=ManyToManyWidget(Measure, field="code", separator=","),
    )

    class Meta:
        model = Coordinator
        fields = ["user", "monthly_capacity", "measures", "active"]
        import_id_fields = ["user"]
        clean_model_instances = True
        skip_unchanged = True

    def filter_export(self, queryset, **kwargs):
        queryset = super().filter_export(queryset, **kwargs)
        return queryset.select_related("user").prefetch_related("measures")
