"""The bottleneck summary: which kind of case does worst, by how much, and what to do about it.

Each bottleneck dimension (selectors.DIMENSIONS) is read on the outcome it explains best:
missing documents, case type and team on resolution time, handoffs on CSAT, escalation and
advocate load on SLA breaches. Within a dimension the worst segment of at least MIN_CASES cases
is compared with the best such segment, and a finding is kept only when the gap is large
enough to act on. Every number and name in a sentence comes from the data; when nothing stands
out the summary says so rather than inventing a finding.
"""

import math
from dataclasses import dataclass, field

from advocacy import selectors
from advocacy.models import CaseType

MIN_CASES = 10  # smaller segments are noise: one slow case moves their average a lot
MIN_RATIO = 1.25  # worst within 25% of best: not worth a leader's attention
MIN_RATE_GAP = 5.0  # percentage points: 2% against 1% is "2×" but not a bottleneck
MIN_CSAT_GAP = 0.5  # points on the 1–5 scale

NOTHING_STANDS_OUT = (
    f"Nothing stands out: no group of at least {MIN_CASES} cases does clearly worse than the "
    f"best group of its kind (by {round((MIN_RATIO - 1) * 100)}% or more)."
)
TOO_FEW_CASES = (
    f"Too few cases to compare: a comparison needs two groups of at least {MIN_CASES} cases."
)
FALLBACK_ACTION = (
    "Read a sample of these cases to find what holds them up before changing the process."
)


@dataclass(frozen=True)
class Finding:
    dimension: str
    title: str
    segment: str
    cases: int
    metric: str
    value: float
    baseline_segment: str
    baseline: float
    ratio: float | None  # worst ÷ best (best ÷ worst for CSAT); None when the best is 0
    severity: float
    sentence: str
    action: str
    params: dict = field(default_factory=dict)  # case-list parameters for the cases behind it


# Which outcome each dimension is read on.
OUTCOMES = {
    "missing_docs": "avg_days_to_resolution",
    "handoffs": "avg_csat",
    "case_type": "avg_days_to_resolution",
    "escalation": "sla_breach_rate",
    "advocate_load": "sla_breach_rate",
    "team": "avg_days_to_resolution",
}
LOWER_IS_WORSE = {"avg_csat"}

_PHRASES = {
    "missing_docs": ("cases missing documents", "cases with complete documents"),
    "handoffs": (
        "cases with no handoff",
        "cases with 1 handoff",
        "cases with 2 handoffs",
        "cases with 3+ handoffs",
    ),
    "escalation": ("escalated cases", "cases never escalated"),
    "advocate_load": (
        "unassigned cases",
        "cases of over-capacity advocates",
        "cases of advocates within capacity",
    ),
}
# Where a phrase reads better as the thing compared against.
_BASELINE_PHRASES = {("missing_docs", 1): "complete ones"}


def _phrase(dimension, segment):
    if dimension == "case_type":
        return f"{segment['segment'].lower()} cases"
    if dimension == "team":
        if segment["segment"] == "No team":
            return "cases without a team"
        return f"cases of team {segment['segment']}"
    return _PHRASES[dimension][segment["position"]]


def _baseline_phrase(dimension, segment):
    return _BASELINE_PHRASES.get((dimension, segment["position"])) or _phrase(dimension, segment)


def segment_params(dimension, segment):
    """The case-list parameters selecting a segment's cases ({} where the list has none)."""
    position = segment["position"]
    if dimension == "missing_docs":
        return {"missing_docs": "1"} if position == 0 else {}
    if dimension == "handoffs":
        return {"handoffs": str(position)}
    if dimension == "case_type":
        return {"case_type": CaseType.values[position]}
    if dimension == "escalation":
        return {"escalated": "1"} if position == 0 else {}
    if dimension == "advocate_load":
        return {"overloaded": "1"} if position == 1 else {}
    if dimension == "team":
        return {} if segment["segment"] == "No team" else {"team": segment["segment"]}
    return {}


def _action(dimension, worst, best):
    position = worst["position"]
    if dimension == "missing_docs" and position == 0:
        return "Send the document checklist at intake and chase missing documents within 24 h."
    if dimension == "handoffs" and position > 0:
        return "Keep cases with one advocate; hand off only with a written summary."
    if dimension == "case_type":
        return f"Give {worst['segment'].lower()} cases a specialist queue or a longer SLA."
    if dimension == "escalation" and position == 0:
        return (
            "Review escalated cases daily with a senior advocate and agree each one's next step "
            "within one working day."
        )
    if dimension == "advocate_load" and position == 1:
        return "Move new cases away from over-capacity advocates."
    if dimension == "advocate_load" and position == 0:
        return "Assign every new case to an advocate on the day it arrives."
    if dimension == "team":
        if "No team" in (worst["segment"], best["segment"]):
            return "Put every advocate in a team, so their cases get a lead's review."
        return (
            f"Have the leads of team {worst['segment']} and team {best['segment']} review a few "
            f"slow cases together, and let team {worst['segment']} adopt what works faster."
        )
    return FALLBACK_ACTION


def _sentence(metric, subject, value, baseline_phrase, baseline, ratio):
    subject = subject[0].upper() + subject[1:]
    if metric == "avg_days_to_resolution":
        return (
            f"{subject} take {value:.1f} days to resolve, {ratio:.1f}× the {baseline:.1f} days "
            f"of {baseline_phrase}."
        )
    if metric == "sla_breach_rate":
        against = f"{ratio:.1f}× the" if ratio is not None else "against"
        return (
            f"{subject} breach their SLA in {value:.0f}% of cases, {against} {baseline:.0f}% of "
            f"{baseline_phrase}."
        )
    if metric == "avg_csat":
        return (
            f"{subject} average a CSAT of {value:.1f}, {baseline - value:.1f} points below the "
            f"{baseline:.1f} of {baseline_phrase}."
        )
    raise ValueError(f"No sentence for {metric}")


def _stands_out(metric, worst, best):
    if metric == "avg_csat":
        return best - worst >= MIN_CSAT_GAP and best >= MIN_RATIO * worst
    if metric == "sla_breach_rate" and worst - best < MIN_RATE_GAP:
        return False
    return best == 0 or worst >= MIN_RATIO * best


def _compare(dimension, rows):
    """The finding of one dimension, or None when fewer than two segments can be compared
    (`compared` False) or the gap is too small (`compared` True)."""
    metric = OUTCOMES[dimension]
    usable = [row for row in rows if row["cases"] >= MIN_CASES and row[metric] is not None]
    if len(usable) < 2:
        return None, False
    # Ties go to the segment listed first (DIMENSIONS order), so the choice is stable.
    lower_is_worse = metric in LOWER_IS_WORSE
    ordered = sorted(usable, key=lambda row: row[metric], reverse=not lower_is_worse)
    worst, best = ordered[0], ordered[-1]
    value, baseline = worst[metric], best[metric]
    if not _stands_out(metric, value, baseline):
        return None, True
    if lower_is_worse:
        ratio = baseline / value if value else None
    else:
        ratio = value / baseline if baseline else None
    return (
        Finding(
            dimension=dimension,
            title=selectors.DIMENSIONS[dimension][0],
            segment=worst["segment"],
            cases=worst["cases"],
            metric=metric,
            value=value,
            baseline_segment=best["segment"],
            baseline=baseline,
            ratio=None if ratio is None else round(ratio, 2),
            severity=math.inf if ratio is None else ratio,
            sentence=_sentence(
                metric,
                _phrase(dimension, worst),
                value,
                _baseline_phrase(dimension, best),
                baseline,
                ratio,
            ),
            action=_action(dimension, worst, best),
            params=segment_params(dimension, worst),
        ),
        True,
    )


def all_segments(facts):
    """selectors.segments for every dimension: one GROUP BY query each."""
    return {dimension: selectors.segments(facts, dimension) for dimension in OUTCOMES}


def bottleneck_summary(facts, segments=None):
    """{"findings": worst first, "message": why there are none (None when there are)}.

    `segments` (from all_segments) saves the queries when the page already has them."""
    segments = segments if segments is not None else all_segments(facts)
    findings, compared = [], False
    for dimension in OUTCOMES:
        finding, could_compare = _compare(dimension, segments.get(dimension, []))
        compared = compared or could_compare
        if finding is not None:
            findings.append(finding)
    findings.sort(key=lambda finding: finding.severity, reverse=True)
    message = None
    if not findings:
        message = NOTHING_STANDS_OUT if compared else TOO_FEW_CASES
    return {"findings": findings, "message": message}


def bottleneck_findings(facts, segments=None):
    """The findings over CaseFact rows (scoped and filtered), most severe first."""
    return bottleneck_summary(facts, segments)["findings"]
