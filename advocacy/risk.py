"""SLA-risk model: each active case's probability of breaching its SLA, with its top reasons.

`train(as_of)` fits a logistic regression (scikit-learn) on resolved history and stores it as
plain JSON (feature names, scaling, coefficients, intercept) in SlaRiskModel; `score_active_cases`
scores every active case from that JSON with numpy alone and replaces the CaseRisk rows. The
weekly task calls both. Nothing here is pickled: loading a model runs no code.

Training data without label leakage. The label is the fact table's `sla_breached` of a
resolved case. A resolved case's final resolution time would give the answer away, so a case
is observed as it looked while it was still open: at ages 0, 1, 2 … days after creation,
while it was neither resolved nor past its deadline (the same situation as an active case
that is scored), at most MAX_AGES_PER_CASE ages spread evenly over that span. An observation's
features are the case's type, urgency, complexity, missing documents and handoffs (their
current values: the metadata has no history), its age in days at that moment, and its
advocate's load at that moment.

Advocate load is the advocate's utilization at the observation moment: the cases they had
open then (created, not yet resolved; a case closed without resolution counts until its last
touch) ÷ their capacity. It is what AdvocateCaseload.utilization shows for the present, but
taken at each past moment, because the current caseload says nothing about how busy the
advocate was when a resolved case was open. It is counted from the fact table with sorted
arrays (two binary searches per observation), not one query per case. Capacity is the
advocate's current one (it has no history); an unassigned case counts as 0.

The held-out split is by case, stratified by label (TEST_SHARE, fixed seed), so no case has
observations on both sides; the stored AUC is the ROC AUC over the held-out observations, and
the stored model is the one fitted on the training split (the model that AUC describes).
Training reads at most MAX_TRAINING_CASES most recently resolved cases, so it stays within
seconds at any history size.

An active case already past its deadline has breached: probability 1, and the first reason
says so. Reasons are the features that push this case's risk up most: contribution
coefficient × standardised value, among the features the case has (a flag set, its own case
type or urgency, a number above the training average), from MIN_REASON_CONTRIBUTION up.
"""

from datetime import UTC, datetime

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from advocacy.models import (
    Advocate,
    Case,
    CaseFact,
    CaseRisk,
    CaseType,
    Level,
    SlaRiskModel,
)

ALGORITHM = "logistic_regression"
MAX_TRAINING_CASES = 20_000
MAX_AGES_PER_CASE = 5
TEST_SHARE = 0.25
MIN_CASES = 20
MIN_CASES_PER_OUTCOME = 4
REASONS_PER_CASE = 3
MIN_REASON_CONTRIBUTION = 0.05  # logit units
C = 1.0  # L2 regularisation strength (sklearn's default), kept with the model

DAY = 86400.0
COMPLEXITY_LEVELS = {Level.LOW: 0, Level.MEDIUM: 1, Level.HIGH: 2}
URGENCY_REASONS = {
    Case.Urgency.LOW: "Low urgency",
    Case.Urgency.MEDIUM: "Medium urgency",
    Case.Urgency.HIGH: "High urgency",
    Case.Urgency.URGENT: "Marked urgent",
}
# Far beyond any real moment: the end of a case that is still open.
STILL_OPEN = 5e10
# Each advocate's moments live in their own band of the sorted key (epoch seconds < 5e10).
_ADVOCATE_BAND = 1e11


class RiskModelError(ValidationError):
    """Training or scoring cannot go ahead (too little history, no model yet)."""


def feature_names():
    return [
        *(f"case_type={value}" for value in CaseType.values),
        *(f"urgency={value}" for value in Case.Urgency.values),
        "complexity",
        "missing_docs",
        "handoff_count",
        "age_days",
        "advocate_utilization",
    ]


def latest_model():
    return SlaRiskModel.objects.order_by("-trained_at", "-pk").first()


def risk_queue(user):
    """The SLA-risk queue (pages and API): the risks of the active cases the user may see,
    riskiest first. A case resolved since the last scoring drops out at once."""
    return (
        CaseRisk.objects.visible_to(user)
        .filter(case__status__in=Case.ACTIVE_STATUSES)
        .select_related("case__patient", "case__advocate", "case__fact", "model")
        .order_by("-probability", "case_id")
    )


def _moment(as_of):
    as_of = as_of or timezone.now()
    if timezone.is_naive(as_of):
        as_of = timezone.make_aware(as_of)
    return as_of


def _epochs(moments):
    return np.array([STILL_OPEN if m is None else m.timestamp() for m in moments], dtype=float)


# --- Features ---------------------------------------------------------------------------------


def _columns(case_types, urgencies, complexities, missing_docs, handoffs, ages, utilizations):
    """Feature name -> column for these observations (one-hot case type and urgency)."""
    case_types = np.asarray(case_types, dtype=object)
    urgencies = np.asarray(urgencies, dtype=object)
    columns = {f"case_type={v}": (case_types == v).astype(float) for v in CaseType.values}
    columns.update({f"urgency={v}": (urgencies == v).astype(float) for v in Case.Urgency.values})
    columns["complexity"] = np.array(
        [COMPLEXITY_LEVELS.get(level, 1) for level in complexities], dtype=float
    )
    columns["missing_docs"] = np.asarray(missing_docs, dtype=float)
    columns["handoff_count"] = np.asarray(handoffs, dtype=float)
    columns["age_days"] = np.asarray(ages, dtype=float)
    columns["advocate_utilization"] = np.asarray(utilizations, dtype=float)
    return columns


def _matrix(columns, names, rows):
    # A feature the stored model knows but this code no longer makes (a retired case type)
    # is 0 for everyone.
    zeros = np.zeros(rows)
    return np.column_stack([columns.get(name, zeros) for name in names])


def _utilization(advocate_ids, moments):
    """Each advocate's open cases at each moment ÷ their capacity (0 when unassigned).

    advocate_ids and moments (epoch seconds) are parallel arrays, one entry per query."""
    advocate_ids = np.asarray(advocate_ids, dtype=object)
    moments = np.asarray(moments, dtype=float)
    result = np.zeros(len(moments))
    assigned = np.array([pk is not None for pk in advocate_ids], dtype=bool)
    if not assigned.any():
        return result
    earliest = moments[assigned].min()
    # Cases that ended before the earliest moment cancel out (started and ended before it).
    ended_after = datetime.fromtimestamp(earliest, tz=UTC)
    rows = (
        CaseFact.objects.filter(advocate__isnull=False)
        .filter(
            Q(is_active=True)
            | Q(resolved_at__gt=ended_after)
            | Q(resolved_at__isnull=True, last_touch__gt=ended_after)
        )
        .values_list("advocate_id", "created_at", "resolved_at", "is_active", "last_touch")
    )
    capacity = dict(Advocate.objects.values_list("pk", "capacity"))
    band = {pk: n for n, pk in enumerate(capacity)}
    if rows:
        advocates, created, resolved, active, last_touch = zip(*rows, strict=True)
        offsets = np.array([band[pk] for pk in advocates], dtype=float) * _ADVOCATE_BAND
        ends = np.where(
            np.array([r is not None for r in resolved]),
            _epochs(resolved),
            np.where(np.array(active, dtype=bool), STILL_OPEN, _epochs(last_touch)),
        )
        starts = np.sort(offsets + _epochs(created))
        ends = np.sort(offsets + ends)
    else:
        starts = ends = np.array([], dtype=float)
    query_offsets = np.array([band[pk] for pk in advocate_ids[assigned]]) * _ADVOCATE_BAND
    at = query_offsets + moments[assigned]
    open_cases = np.searchsorted(starts, at, side="right") - np.searchsorted(ends, at, "right")
    capacities = np.array([capacity[pk] for pk in advocate_ids[assigned]], dtype=float)
    result[assigned] = open_cases / capacities
    return result


def _observations(rows):
    """One observation per (resolved case, age): the features as at that age, its label and
    the index of its case. `rows` are the training cases' fact values."""
    (
        _ids,
        case_types,
        urgencies,
        complexities,
        missing_docs,
        handoffs,
        advocates,
        created,
        resolved,
        deadlines,
        breached,
    ) = (np.asarray(column, dtype=object) for column in zip(*rows, strict=True))
    created_at = _epochs(created)
    open_until = np.minimum(_epochs(resolved), _epochs(deadlines))
    span_days = np.maximum(open_until - created_at, 0) / DAY
    # Whole days 0 … while still open and within the deadline; a case resolved on the day
    # it opened still counts once, at age 0.
    ages_open = np.maximum(np.ceil(span_days).astype(int), 1)
    per_case = np.minimum(ages_open, MAX_AGES_PER_CASE)
    case_index = np.repeat(np.arange(len(rows)), per_case)
    first = np.repeat(np.cumsum(per_case) - per_case, per_case)
    position = np.arange(len(case_index)) - first
    last = (ages_open - 1)[case_index]
    steps = np.maximum(per_case - 1, 1)[case_index]
    ages = np.floor(position * last / steps)
    moments = created_at[case_index] + ages * DAY
    columns = _columns(
        case_types[case_index],
        urgencies[case_index],
        complexities[case_index],
        missing_docs[case_index].astype(bool),
        handoffs[case_index].astype(float),
        ages,
        _utilization(advocates[case_index], moments),
    )
    labels = breached.astype(bool)[case_index]
    return columns, labels, case_index


# --- Training ---------------------------------------------------------------------------------

TRAINING_VALUES = (
    "case_id",
    "case_type",
    "urgency",
    "complexity",
    "missing_docs",
    "handoff_count",
    "advocate_id",
    "created_at",
    "resolved_at",
    "sla_deadline",
    "sla_breached",
)


def train(as_of=None, *, seed=0):
    """Fit the breach model on cases resolved by `as_of` (now by default) and store it.

    Raises RiskModelError, writing nothing, when there are fewer than MIN_CASES resolved
    cases or fewer than MIN_CASES_PER_OUTCOME breached or on-time ones."""
    # scikit-learn is needed to train only; scoring never imports it.
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    as_of = _moment(as_of)
    rows = list(
        CaseFact.objects.filter(
            ever_resolved=True, resolved_at__isnull=False, resolved_at__lte=as_of
        )
        .order_by("-resolved_at", "-case_id")
        .values_list(*TRAINING_VALUES)[:MAX_TRAINING_CASES]
    )
    breached_cases = sum(1 for row in rows if row[-1])
    on_time_cases = len(rows) - breached_cases
    if len(rows) < MIN_CASES or min(breached_cases, on_time_cases) < MIN_CASES_PER_OUTCOME:
        raise RiskModelError(
            f"Not enough resolved history to train the SLA-risk model: {len(rows)} resolved "
            f"cases ({breached_cases} breached, {on_time_cases} on time); it needs at least "
            f"{MIN_CASES}, with {MIN_CASES_PER_OUTCOME} or more of each outcome. Refresh the "
            f"rollups if cases were resolved since the last one.",
            code="not_enough_history",
        )
    columns, labels, case_index = _observations(rows)
    names = feature_names()
    features = _matrix(columns, names, len(labels))
    case_labels = np.array([bool(row[-1]) for row in rows])
    train_cases, test_cases = train_test_split(
        np.arange(len(rows)), test_size=TEST_SHARE, stratify=case_labels, random_state=seed
    )
    in_train = np.isin(case_index, train_cases)
    scaler = StandardScaler().fit(features[in_train])
    classifier = LogisticRegression(C=C, class_weight="balanced", max_iter=1000)
    classifier.fit(scaler.transform(features[in_train]), labels[in_train])
    held_out = classifier.predict_proba(scaler.transform(features[~in_train]))[:, 1]
    auc = float(roc_auc_score(labels[~in_train], held_out))
    parameters = {
        "features": names,
        "means": [float(v) for v in scaler.mean_],
        "scales": [float(v) for v in scaler.scale_],
        "coefficients": [float(v) for v in classifier.coef_[0]],
        "intercept": float(classifier.intercept_[0]),
        "training": {
            "seed": seed,
            "C": C,
            "class_weight": "balanced",
            "test_share": TEST_SHARE,
            "max_ages_per_case": MAX_AGES_PER_CASE,
            "train_observations": int(in_train.sum()),
            "test_observations": int((~in_train).sum()),
        },
    }
    latest = latest_model()
    if latest is not None and latest.algorithm == ALGORITHM and latest.parameters == parameters:
        return latest  # same history, same fit: a re-run stores nothing
    return SlaRiskModel.objects.create(
        trained_at=as_of,
        algorithm=ALGORITHM,
        parameters=parameters,
        auc=auc,
        train_cases=len(train_cases),
        test_cases=len(test_cases),
        breach_share=float(case_labels[train_cases].mean()),
    )


# --- Scoring ----------------------------------------------------------------------------------

SCORING_VALUES = (
    "case_id",
    "case_type",
    "urgency",
    "complexity",
    "missing_docs",
    "handoff_count",
    "advocate_id",
    "created_at",
    "sla_deadline",
)


def _sigmoid(logits):
    # Clipped so that extreme logits neither overflow exp nor stop being 0 < p < 1 floats.
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -500, 500)))


def _days(days):
    whole = int(days)
    return "1 day" if whole == 1 else f"{whole} days"


def reason_text(feature, value):
    """A feature's value as the reason people read ("Missing documents", "Open 9 days")."""
    name, _, category = feature.partition("=")
    if name == "case_type":
        return f"{CaseType(category).label} case" if category in CaseType.values else feature
    if name == "urgency":
        return URGENCY_REASONS.get(category, feature)
    if name == "complexity":
        level = {v: k for k, v in COMPLEXITY_LEVELS.items()}.get(round(value), Level.MEDIUM)
        return f"{Level(level).label} complexity"
    if name == "missing_docs":
        return "Missing documents"
    if name == "handoff_count":
        times = int(value)
        return "Handed off once" if times == 1 else f"Handed off {times} times"
    if name == "age_days":
        return f"Open {_days(value)}" if value >= 1 else "Opened less than a day ago"
    if name == "advocate_utilization":
        if value > 1:
            return f"Advocate over capacity ({value:.1f}× utilization)"
        return f"Advocate at {value:.0%} of capacity"
    return feature


def score_active_cases(model=None, as_of=None):
    """Score every active case with `model` (the latest by default) as of `as_of` (now) and
    replace the CaseRisk rows with these scores, in one transaction. Returns the number
    scored. Raises RiskModelError when no model has been trained."""
    model = model or latest_model()
    if model is None:
        raise RiskModelError(
            "No SLA-risk model has been trained yet: train one first.", code="no_model"
        )
    as_of = _moment(as_of)
    now = as_of.timestamp()
    rows = list(
        CaseFact.objects.filter(is_active=True, created_at__lte=as_of)
        .order_by("case_id")
        .values_list(*SCORING_VALUES)
    )
    risks = []
    if rows:
        (case_ids, case_types, urgencies, complexities, missing, handoffs, advocates,
         created, deadlines) = zip(*rows, strict=True)  # fmt: skip
        ages = (now - _epochs(created)) / DAY
        columns = _columns(
            case_types,
            urgencies,
            complexities,
            missing,
            handoffs,
            ages,
            _utilization(advocates, np.full(len(rows), now)),
        )
        parameters = model.parameters
        names = parameters["features"]
        raw = _matrix(columns, names, len(rows))
        standardised = (raw - np.array(parameters["means"])) / np.array(parameters["scales"])
        contributions = standardised * np.array(parameters["coefficients"])
        probabilities = _sigmoid(contributions.sum(axis=1) + parameters["intercept"])
        # Reasons: what this case has (a flag, its category, above average) that raises its
        # risk noticeably; a nudge of a few hundredths of a logit explains nothing.
        candidates = np.where(
            (contributions >= MIN_REASON_CONTRIBUTION) & (standardised > 0), contributions, -np.inf
        )
        order = np.argsort(-candidates, axis=1, kind="stable")
        overdue = (now - _epochs(deadlines)) / DAY
        for n, case_id in enumerate(case_ids):
            reasons = [
                (names[j], reason_text(names[j], raw[n, j]))
                for j in order[n, : REASONS_PER_CASE + 1]
                if np.isfinite(candidates[n, j])
            ]
            probability = float(probabilities[n])
            if overdue[n] > 0:
                probability = 1.0
                late = f" by {_days(overdue[n])}" if overdue[n] >= 1 else ""
                # Its age says the same as the deadline, only less clearly.
                reasons = [
                    ("deadline", f"Past its SLA deadline{late}"),
                    *(reason for reason in reasons if reason[0] != "age_days"),
                ]
            reasons = [text for _feature, text in reasons[:REASONS_PER_CASE]]
            risks.append(
                CaseRisk(
                    case_id=case_id,
                    model=model,
                    probability=probability,
                    reasons=reasons,
                    scored_at=as_of,
                )
            )
    with transaction.atomic():
        CaseRisk.objects.all().delete()
        CaseRisk.objects.bulk_create(risks, batch_size=2000)
    return len(risks)


def model_summary(model):
    """The model's coefficients by feature, strongest effect first (for the admin page)."""
    parameters = model.parameters
    pairs = zip(parameters["features"], parameters["coefficients"], strict=True)
    return sorted(pairs, key=lambda pair: -abs(pair[1]))
