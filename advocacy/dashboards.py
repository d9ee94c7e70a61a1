"""Advocacy dashboards for operations leaders: executive, operations manager, root cause.

Thin: the filters are parsed once, every figure comes from a selector over the fact table (a
fixed number of GROUP BY queries, however many cases there are), and each figure links to the
case list with the parameters that select the cases behind it, the dashboard's own filters
included, so a leader can always check a number against the cases.
"""

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from advocacy import insights, rollups, selectors
from advocacy.context import render_page
from advocacy.models import Advocate, Case, CaseType, leads_operations
from opsintel.charts import bar_chart, line_chart

TREND_DAYS = 30
STALE_LIST_SIZE = 25
TOP_FINDINGS = 3
RANKED_ADVOCATES = 5
CASE_TYPES = dict(CaseType.choices)
URGENCIES = dict(Case.Urgency.choices)


def leader_required(request):
    """Dashboards are for operations leaders (and platform admins): anyone else with a role in
    advocacy gets 403, as on every leader-only page (the app guard already sent anonymous
    visitors to sign in)."""
    if not leads_operations(request.user):
        raise PermissionDenied("Only operations leaders see the advocacy dashboards.")


class DashboardFilters(forms.Form):
    start = forms.DateField(
        required=False, label="Created from", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="Created to", widget=forms.DateInput(attrs={"type": "date"})
    )
    case_type = forms.ChoiceField(
        required=False, label="Case type", choices=[("", "All case types"), *CaseType.choices]
    )
    team = forms.ChoiceField(required=False, label="Team")

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "All teams"), *((team, team) for team in teams)]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end date is before the start date.")
        return data


def _filters(request):
    """The dashboard filters from the query string. An invalid value is reported in a message
    naming the field and then ignored, so the page still shows every other figure."""
    form = DashboardFilters(request.GET, teams=selectors.teams())
    form.is_valid()
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else "Filters"
        for error in errors:
            messages.error(request, f"{label}: {error} That filter was not applied.")
    chosen = {name: value for name, value in form.cleaned_data.items() if value}
    link_params = {
        name: value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in chosen.items()
    }
    return form, chosen, link_params


def cases_url(filters, **params):
    """The case list showing the cases behind a figure: the dashboard's filters plus the
    figure's own parameters (names as the case list reads them). Figures count resolved and
    closed cases too, so the link asks for all cases unless the figure says active only (the
    case list alone defaults to active cases)."""
    query = {
        "active": "0",
        **filters,
        **{name: value for name, value in params.items() if value is not None},
    }
    url = reverse("advocacy:case_list")
    return f"{url}?{urlencode(query)}" if query else url


def _number(value):
    """A figure as shown: "—" for none, at most one decimal ("4.7", "40")."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}".rstrip("0").rstrip(".")
    return f"{value:,}"


def _cell(value, url=None, unit=""):
    return {"text": _number(value) + (unit if value is not None else ""), "url": url}


def _page(request, template, form, link_params, context):
    context.update(
        {
            "filter_form": form,
            "filters": link_params,
            "filtered": bool(link_params),
            "all_cases_url": cases_url(link_params),
        }
    )
    if "as_of" not in context:
        context["as_of"] = selectors.latest_as_of()
    return render_page(request, template, context)


# Executive -----------------------------------------------------------------------------------

CARDS = (
    # (KPI, label, unit, parameters selecting the cases it is computed over)
    ("active_cases", "Active cases", "", {"active": "1"}),
    ("avg_days_to_resolution", "Avg days to resolve", " days", {"active": "0"}),
    ("sla_breach_rate", "SLA breach rate", "%", {"breached": "1"}),
    ("avg_csat", "Avg CSAT (1–5)", "", {}),
    ("stale_cases", "Stale cases", "", {"stale": "1"}),
)

KPI_COLUMNS = (
    ("total_cases", "Cases", "", {}),
    ("active_cases", "Active", "", {"active": "1"}),
    ("avg_hours_to_first_response", "Avg hours to first response", "", {}),
    ("avg_days_to_resolution", "Avg days to resolve", "", {"active": "0"}),
    ("escalation_rate", "Escalation rate", "%", {"escalated": "1"}),
    ("reopen_rate", "Reopen rate", "%", {}),
    ("sla_breach_rate", "SLA breach rate", "%", {"breached": "1"}),
    ("avg_interactions_per_case", "Avg interactions per case", "", {}),
    ("avg_csat", "Avg CSAT", "", {}),
    ("stale_cases", "Stale", "", {"stale": "1"}),
)


def _kpi_row(label, figures, link_params, row_params):
    return {
        "label": label,
        "url": cases_url(link_params, **row_params),
        "cells": [
            _cell(figures[key], cases_url(link_params, **row_params, **params), unit)
            for key, _label, unit, params in KPI_COLUMNS
        ],
    }


def _findings(findings, link_params):
    return [
        # A group the case list cannot select gets no link rather than a wrong one.
        {
            "finding": finding,
            "url": cases_url(link_params, **finding.params) if finding.params else None,
        }
        for finding in findings
    ]


def executive(request):
    leader_required(request)
    form, chosen, link_params = _filters(request)
    facts = selectors.facts_for(request.user, **chosen)
    totals = selectors.kpis(facts)
    by_type = selectors.kpis_by(facts, "case_type")

    # Stored daily KPI sets: per case type (or all), not per team or creation date.
    as_of = selectors.latest_as_of()
    since = (as_of or timezone.now()) - timedelta(days=TREND_DAYS)
    trend = selectors.kpi_trend(chosen.get("case_type", ""), since=since)
    cards = [
        {
            "label": label,
            "value": _cell(totals[key], cases_url(link_params, **params), unit),
            "chart": line_chart(
                [
                    (row.as_of.date(), getattr(row, key))
                    for row in trend
                    if getattr(row, key) is not None
                ],
                title=f"{label}, last {TREND_DAYS} days",
                unit=unit,
                width=320,
                height=120,
            ),
        }
        for key, label, unit, params in CARDS
    ]
    backlog = [
        {
            "label": CASE_TYPES.get(row["case_type"], row["case_type"]),
            "active": _cell(
                row["active_cases"],
                cases_url(link_params, case_type=row["case_type"], active="1"),
            ),
            "stale": _cell(
                row["stale_cases"], cases_url(link_params, case_type=row["case_type"], stale="1")
            ),
        }
        for row in by_type
    ]
    context = {
        "as_of": as_of,
        "cards": cards,
        "trend": [
            {
                "day": row.as_of.date(),
                "cells": [
                    _cell(getattr(row, key), unit=unit)["text"] for key, _l, unit, _p in CARDS
                ],
            }
            for row in trend
        ],
        "card_labels": [label for _key, label, *_ in CARDS],
        "trend_case_type": CASE_TYPES.get(chosen.get("case_type"), "all case types"),
        "backlog": backlog,
        "backlog_chart": bar_chart(
            [(CASE_TYPES.get(row["case_type"]), row["active_cases"]) for row in by_type],
            title="Active cases by case type",
        ),
        "kpi_columns": [label for _key, label, *_ in KPI_COLUMNS],
        "kpi_rows": [
            *(
                _kpi_row(
                    CASE_TYPES.get(row["case_type"]),
                    row,
                    link_params,
                    {"case_type": row["case_type"]},
                )
                for row in by_type
            ),
            _kpi_row("All case types", totals, link_params, {}),
        ],
        "findings": _findings(insights.bottleneck_findings(facts)[:TOP_FINDINGS], link_params),
        "root_cause_url": reverse("advocacy:root_cause") + _query(link_params),
    }
    return _page(request, "advocacy/dashboards/executive.html", form, link_params, context)


def _query(link_params):
    return f"?{urlencode(link_params)}" if link_params else ""


# Operations manager --------------------------------------------------------------------------


def _escalations(facts, field, label_of, link_params):
    escalated = {
        row[field]: row["total_cases"]
        for row in selectors.kpis_by(facts.filter(escalated=True), field)
    }
    rows = []
    for row in selectors.kpis_by(facts, field):
        value = row[field]

        def url(value=value, **params):
            # Cases without a team cannot be selected on the case list: no link.
            return cases_url(link_params, **{field: value}, **params) if value else None

        rows.append(
            {
                "label": label_of(value),
                "count": escalated.get(value, 0),
                "escalated": _cell(escalated.get(value, 0), url(escalated="1")),
                "cases": _cell(row["total_cases"], url()),
                "rate": _cell(row["escalation_rate"], url(escalated="1"), "%"),
            }
        )
    return rows


def operations(request):
    leader_required(request)
    form, chosen, link_params = _filters(request)
    facts = selectors.facts_for(request.user, **chosen)
    totals = selectors.kpis(facts)

    by_urgency = {
        row["urgency"]: row for row in selectors.kpis_by(facts.filter(is_active=True), "urgency")
    }
    urgency = [
        {
            "label": label,
            "active": _cell(
                by_urgency[value]["total_cases"],
                cases_url(link_params, urgency=value, active="1"),
            ),
            "stale": _cell(
                by_urgency[value]["stale_cases"], cases_url(link_params, urgency=value, stale="1")
            ),
            "breach": _cell(
                by_urgency[value]["sla_breach_rate"],
                cases_url(link_params, urgency=value, active="1", breached="1"),
                "%",
            ),
        }
        for value, label in reversed(Case.Urgency.choices)
        if value in by_urgency
    ]

    stale = facts.filter(stale=True).select_related("advocate").order_by("last_touch", "case_id")

    # The caseload is the latest rollup's: every case type and creation date, so its links
    # carry only the team filter.
    caseload = selectors.caseload_for(request.user)
    team_params = {"team": link_params["team"]} if "team" in link_params else {}
    if "team" in chosen:
        caseload = caseload.filter(team=chosen["team"])
    caseload = list(caseload)
    overloaded = [row for row in caseload if row.overloaded]

    load = selectors.interaction_load(facts)
    by_type = _escalations(
        facts, "case_type", lambda value: CASE_TYPES.get(value, value), link_params
    )
    by_team = _escalations(facts, "team", lambda value: value or "No team", link_params)
    context = {
        "active": _cell(totals["active_cases"], cases_url(link_params, active="1")),
        "urgency": urgency,
        "urgency_chart": bar_chart(
            [
                (URGENCIES[value], by_urgency[value]["total_cases"])
                for value in reversed(Case.Urgency.values)
                if value in by_urgency
            ],
            title="Active cases by urgency",
        ),
        "stale_count": _cell(totals["stale_cases"], cases_url(link_params, stale="1")),
        "stale_cases": stale[:STALE_LIST_SIZE],
        "stale_more": totals["stale_cases"] > STALE_LIST_SIZE,
        "caseload": [
            {
                "row": row,
                "active": _cell(
                    row.active_cases,
                    cases_url(team_params, advocate=row.advocate_id, active="1"),
                ),
                "stale": _cell(
                    row.stale_cases, cases_url(team_params, advocate=row.advocate_id, stale="1")
                ),
                "breached": _cell(
                    row.breached_cases,
                    cases_url(team_params, advocate=row.advocate_id, active="1", breached="1"),
                ),
                "utilization": _number(round(row.utilization * 100, 1)) + "%",
                "weighted_utilization": _number(round(row.weighted_utilization * 100, 1)) + "%",
            }
            for row in caseload
        ],
        "overloaded": _cell(len(overloaded), cases_url(team_params, overloaded="1")),
        "escalation_tables": [("By case type", by_type), ("By team", by_team)],
        "escalation_chart": bar_chart(
            [(row["label"], row["count"]) for row in by_type],
            title="Escalated cases by case type",
        ),
        "load": [
            {
                "label": CASE_TYPES.get(row["case_type"], row["case_type"]),
                "url": cases_url(link_params, case_type=row["case_type"]),
                **row,
                "interactions_per_case": _number(row["interactions_per_case"]),
                "minutes_per_case": _number(row["minutes_per_case"]),
            }
            for row in load
        ],
        "load_chart": bar_chart(
            [(CASE_TYPES.get(row["case_type"]), row["minutes_per_case"]) for row in load],
            title="Interaction minutes per case, by case type",
            unit=" min",
        ),
    }
    return _page(request, "advocacy/dashboards/operations.html", form, link_params, context)


# Root cause ----------------------------------------------------------------------------------

# (dimension, heading, chart figure, chart unit, columns: (figure, label, unit, extra params))
SECTIONS = (
    (
        "missing_docs",
        "Missing documents and resolution time",
        "avg_days_to_resolution",
        " days",
        (
            ("avg_days_to_resolution", "Avg days to resolve", "", {}),
            ("sla_breach_rate", "SLA breach rate", "%", {"breached": "1"}),
        ),
    ),
    (
        "handoffs",
        "Handoffs and patient satisfaction",
        "avg_csat",
        "",
        (
            ("avg_csat", "Avg CSAT", "", {}),
            ("avg_days_to_resolution", "Avg days to resolve", "", {}),
        ),
    ),
    (
        "escalation",
        "Escalations, SLA breaches and satisfaction",
        "sla_breach_rate",
        "%",
        (
            ("sla_breach_rate", "SLA breach rate", "%", {"breached": "1"}),
            ("avg_csat", "Avg CSAT", "", {}),
        ),
    ),
    (
        "case_type",
        "Case type and delay",
        "avg_days_to_resolution",
        " days",
        (
            ("avg_days_to_resolution", "Avg days to resolve", "", {}),
            ("avg_hours_to_first_response", "Avg hours to first response", "", {}),
            ("sla_breach_rate", "SLA breach rate", "%", {"breached": "1"}),
        ),
    ),
    (
        "team",
        "Teams compared",
        "avg_days_to_resolution",
        " days",
        (
            ("avg_days_to_resolution", "Avg days to resolve", "", {}),
            ("sla_breach_rate", "SLA breach rate", "%", {"breached": "1"}),
            ("avg_csat", "Avg CSAT", "", {}),
        ),
    ),
)


def _section(dimension, heading, figure, unit, columns, rows, link_params):
    def url(row, extra):
        params = insights.segment_params(dimension, row)
        # A group the case list cannot select (documents complete, never escalated, no team)
        # links nowhere rather than to cases that are not behind the figure.
        if not params:
            return None
        return cases_url(link_params, **params, **extra)

    return {
        "dimension": dimension,
        "heading": heading,
        "columns": [label for _figure, label, *_ in columns],
        "rows": [
            {
                "label": row["segment"],
                "cases": _cell(row["cases"], url(row, {})),
                "cells": [_cell(row[key], url(row, extra), u) for key, _l, u, extra in columns],
            }
            for row in rows
        ],
        "chart": bar_chart(
            [(row["segment"], row[figure]) for row in rows if row[figure] is not None],
            title=f"{heading}: {columns[0][1].lower()} per group",
            unit=unit,
        ),
    }


ADVOCATE_COLUMNS = (
    ("total_cases", "Cases", "", {}),
    ("active_cases", "Active", "", {"active": "1"}),
    ("avg_days_to_resolution", "Avg days to resolve", "", {"active": "0"}),
    ("sla_breach_rate", "SLA breach rate", "%", {"breached": "1"}),
    ("avg_csat", "Avg CSAT", "", {}),
)


def _advocates(facts, link_params):
    """Advocates ranked by resolution time: the fastest and the slowest RANKED_ADVOCATES."""
    rows = selectors.kpis_by(facts.filter(advocate__isnull=False), "advocate")
    names = dict(
        Advocate.objects.filter(pk__in=[row["advocate"] for row in rows]).values_list("pk", "name")
    )
    ranked = sorted(
        (row for row in rows if row["avg_days_to_resolution"] is not None),
        key=lambda row: (row["avg_days_to_resolution"], names.get(row["advocate"], "")),
    )

    def shown(row):
        return {
            "name": names.get(row["advocate"], "—"),
            "small_sample": row["total_cases"] < insights.MIN_CASES,
            "cells": [
                _cell(row[key], cases_url(link_params, advocate=row["advocate"], **extra), unit)
                for key, _label, unit, extra in ADVOCATE_COLUMNS
            ],
        }

    fastest = ranked[:RANKED_ADVOCATES]
    slowest = ranked[RANKED_ADVOCATES:][-RANKED_ADVOCATES:][::-1]
    return {
        "columns": [label for _key, label, *_ in ADVOCATE_COLUMNS],
        "fastest": [shown(row) for row in fastest],
        "slowest": [shown(row) for row in slowest],
        "unranked": len(rows) - len(ranked),
    }


def root_cause(request):
    leader_required(request)
    form, chosen, link_params = _filters(request)
    facts = selectors.facts_for(request.user, **chosen)
    segments = insights.all_segments(facts)
    summary = insights.bottleneck_summary(facts, segments)
    advocates = _advocates(facts, link_params)
    context = {
        "sections": [
            _section(dimension, heading, figure, unit, columns, segments[dimension], link_params)
            for dimension, heading, figure, unit, columns in SECTIONS
        ],
        "advocates": advocates,
        "advocate_tables": [
            ("Fastest" if advocates["slowest"] else "By resolution time", advocates["fastest"]),
            ("Slowest", advocates["slowest"]),
        ],
        "findings": _findings(summary["findings"], link_params),
        "findings_message": summary["message"],
        "min_cases": insights.MIN_CASES,
    }
    return _page(request, "advocacy/dashboards/root_cause.html", form, link_params, context)


# Refresh -------------------------------------------------------------------------------------


@require_POST
def refresh_rollups(request):
    """Recompute the rollup tables now (leaders), then go back to the dashboard."""
    leader_required(request)
    rollups.refresh()
    as_of = timezone.localtime(selectors.latest_as_of())
    messages.success(request, f"Figures refreshed as of {date_format(as_of, 'M j, Y, H:i')}.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("advocacy:executive")
    return redirect(back)
