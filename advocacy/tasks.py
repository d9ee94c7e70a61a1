"""Advocacy background jobs (the schedule is in opsintel/schedule.py). Thin: each calls a
service; arguments are ISO moments and ids; every job is safe to run twice."""

import logging
from datetime import datetime

from advocacy import alerts, assignment, risk, rollups
from advocacy.models import Case
from opsintel.jobs import idempotent_task

logger = logging.getLogger(__name__)


def _moment(value):
    return datetime.fromisoformat(value) if value else None


@idempotent_task(name="advocacy.refresh_rollups")
def refresh_rollups(as_of=None):
    """Hourly: the rollup tables as of now, the active cases' SLA risk under the latest model,
    then the alerts, which read the fresh tables."""
    moment = rollups.as_of_moment(_moment(as_of))
    counts = rollups.refresh(moment)
    if risk.latest_model() is not None:
        counts["cases scored"] = risk.score_active_cases(as_of=moment)
    counts["alerts raised"] = [alert.key for alert in alerts.check_alerts(now=moment)]
    rollups.prune_kpi_history(now=moment)
    return counts


@idempotent_task(name="advocacy.retrain_risk_model")
def retrain_risk_model():
    """Weekly: train the SLA-risk model on the resolved history, then score the active cases.

    Too little history is not a failure of the job: the previous model stays in use."""
    previous = risk.latest_model()
    try:
        model = risk.train()
    except risk.RiskModelError as error:
        logger.warning("SLA-risk model not retrained: %s", "; ".join(error.messages))
        return {"error": "; ".join(error.messages)}
    if previous is not None and model.pk == previous.pk:
        return {"auc": model.auc, "cases scored": 0}  # the same model: scores stand
    return {"auc": model.auc, "cases scored": risk.score_active_cases(model)}


@idempotent_task(name="advocacy.assign_new_cases")
def assign_new_cases(case_ids=None):
    """Give unassigned active cases (these, or all) to advocates; already assigned ones are
    left alone, so a re-run does nothing."""
    cases = Case.objects.filter(pk__in=case_ids) if case_ids else None
    return assignment.assign_new_cases(cases).summary()
