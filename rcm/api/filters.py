"""Query parameters of the rcm API lists, parsed by django-filter; a bad value answers 400
naming the parameter."""

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from rcm import selectors
from rcm.models import Claim, ClaimStatus, DocumentType, FollowUp, GeneratedDocument, Priority


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An integer id (documented as one; NumberFilter alone reads as any number)."""


def _by_id_or_name(queryset, id_field, name_field, value):
    value = value.strip()
    if value.isdigit():
        return queryset.filter(**{id_field: int(value)})
    return queryset.filter(**{name_field: value})


class ClaimFilter(django_filters.FilterSet):
    """`?status=&payer=&aging_bucket=&queue=&agent=&priority=` of the claim list."""

    status = django_filters.MultipleChoiceFilter(
        choices=ClaimStatus.choices, help_text="Status; repeat for several"
    )
    payer = django_filters.CharFilter(method="filter_payer", help_text="Payer id or name")
    aging_bucket = django_filters.ChoiceFilter(
        choices=[(label, label) for label in selectors.AGING_BUCKET_LABELS],
        method="filter_aging_bucket",
        help_text="Days since submission, as of today",
    )
    queue = django_filters.CharFilter(
        method="filter_queue", help_text="Work queue id or kind (e.g. senior_agent)"
    )
    agent = IdFilter(field_name="agent_id", help_text="Agent id")
    priority = django_filters.ChoiceFilter(choices=Priority.choices)

    class Meta:
        model = Claim
        fields = []

    def filter_payer(self, queryset, name, value):
        return _by_id_or_name(queryset, "payer_id", "payer__name__iexact", value)

    def filter_queue(self, queryset, name, value):
        return _by_id_or_name(queryset, "queue_id", "queue__kind", value)

    def filter_aging_bucket(self, queryset, name, value):
        return selectors.filter_aging_bucket(queryset, value, timezone.localdate())


class FollowUpFilter(django_filters.FilterSet):
    """`?status=&agent=&claim=&date=&priority=` of the follow-up list."""

    status = django_filters.MultipleChoiceFilter(
        choices=FollowUp.Status.choices, help_text="Status; repeat for several"
    )
    agent = IdFilter(field_name="agent_id", help_text="Agent id")
    claim = IdFilter(field_name="claim_id", help_text="Claim id")
    date = django_filters.DateFilter(
        field_name="scheduled_at__date", help_text="Scheduled on this (local) day"
    )
    priority = django_filters.ChoiceFilter(choices=Priority.choices)

    class Meta:
        model = FollowUp
        fields = []


class DocumentFilter(django_filters.FilterSet):
    """`?claim=&template_type=` of the document list."""

    claim = IdFilter(field_name="claim_id", help_text="Claim id")
    template_type = django_filters.ChoiceFilter(
        field_name="template__doc_type", choices=DocumentType.choices
    )

    class Meta:
        model = GeneratedDocument
        fields = []
