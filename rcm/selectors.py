"""Reads for the AR pages and API: claims in the user's scope with their aging, the aging-bucket
filter, and what hangs off a claim (assignments, follow-ups, documents).

Aging is days since submission (never negative), computed by the database so lists can sort
and filter on it; the bucket filter is a submission-date range, which the index can serve.
"""

from datetime import timedelta

from django.db import models
from django.db.models.functions import Greatest
from django.utils import timezone

from rcm.models import Assignment, Claim, FollowUp, GeneratedDocument
from rcm.rules import AGING_BUCKETS


class DaysSince(models.Func):
    """Whole days from a date column to `today` (a date the caller gives)."""

    output_field = models.IntegerField()

    def __init__(self, expression, today):
        super().__init__(expression, models.Value(today, output_field=models.DateField()))

    def _operands(self, compiler):
        column, column_params = compiler.compile(self.source_expressions[0])
        today, today_params = compiler.compile(self.source_expressions[1])
        return column, today, (*today_params, *column_params)

    def as_sql(self, compiler, connection, **extra):
        # PostgreSQL: date - date is an integer number of days.
        column, today, params = self._operands(compiler)
        return f"(CAST({today} AS date) - {column})", params

    def as_sqlite(self, compiler, connection, **extra):
        column, today, params = self._operands(compiler)
        return f"CAST(julianday({today}) - julianday({column}) AS INTEGER)", params


def aging_days_expression(today):
    return Greatest(DaysSince("submission_date", today), models.Value(0))


def claims_for(user, *, today=None):
    """Claims in the user's scope (an agent: their own), with `aging_days` as of `today`, and
    the payer, queue, agent and patient they are shown with."""
    today = today or timezone.localdate()
    return (
        Claim.objects.visible_to(user)
        .select_related("payer", "queue", "agent", "patient")
        .annotate(aging_days=aging_days_expression(today))
    )


AGING_BUCKET_LABELS = tuple(label for label, _first, _last in AGING_BUCKETS)


def filter_aging_bucket(claims, bucket, today):
    """Claims whose aging on `today` falls in `bucket` ("0-30" … "120+"). Aging is clamped at
    0, so claims submitted after `today` are in the first bucket."""
    bounds = {label: (first, last) for label, first, last in AGING_BUCKETS}
    if bucket not in bounds:
        raise ValueError(f"Unknown aging bucket {bucket!r}; one of {', '.join(bounds)}")
    first, last = bounds[bucket]
    if first > 0:
        claims = claims.filter(submission_date__lte=today - timedelta(days=first))
    if last is not None:
        claims = claims.filter(submission_date__gte=today - timedelta(days=last))
    return claims


def assignments_of(claim):
    """The claim's assignment history, newest first, with rule, queue and agent."""
    return Assignment.objects.filter(claim=claim).select_related("rule", "queue", "agent")


def follow_ups_for(user):
    return FollowUp.objects.visible_to(user).select_related("claim", "agent")


def documents_for(user):
    return GeneratedDocument.objects.visible_to(user).select_related(
        "claim", "template", "created_by"
    )
