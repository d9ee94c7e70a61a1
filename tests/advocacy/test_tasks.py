"""The advocacy jobs run the services in the right order, and are safe to repeat."""

from datetime import timedelta

import pytest

from advocacy import tasks
from advocacy.models import AlertCondition, Case, CaseFact, CaseRisk, CaseTypeKpi, SlaRiskModel
from opsintel.models import Notice
from tests.advocacy.factories import T0, AdvocateFactory, case_with_history
from tests.advocacy.test_risk import history

pytestmark = pytest.mark.django_db


def test_hourly_job_refreshes_scores_and_alerts_once(settings, make_user):
    settings.ADVOCACY_ALERT_STALE_CASES = 0
    leader = make_user("Operations leader")
    advocates = history()
    history_known = T0 + timedelta(days=40)  # the 40 history cases are all resolved by then
    tasks.refresh_rollups.delay(as_of=history_known.isoformat())
    trained = tasks.retrain_risk_model.delay().get()
    assert trained["auc"] > 0.5, trained
    # A case opened on day 41 and left alone: stale 48 h later.
    stale = case_with_history(advocates[0], opened=T0 + timedelta(days=41))
    moment = T0 + timedelta(days=44)
    result = tasks.refresh_rollups.delay(as_of=moment.isoformat()).get()
    assert result["case facts"] == CaseFact.objects.count() == Case.objects.count()
    assert result["cases scored"] == 1
    assert CaseRisk.objects.get().case_id == stale.pk
    assert result["alerts raised"] == ["stale_cases"]
    assert CaseTypeKpi.objects.filter(as_of=moment, case_type="").exists()
    # Run again: same tables, no second alert or notice.
    again = tasks.refresh_rollups.delay(as_of=moment.isoformat()).get()
    assert again["alerts raised"] == []
    assert AlertCondition.objects.count() == 1
    assert Notice.objects.filter(recipient=leader).count() == 1


def test_retraining_without_enough_history_keeps_the_current_model():
    result = tasks.retrain_risk_model.delay().get()
    assert "Not enough resolved history" in result["error"]
    assert not SlaRiskModel.objects.exists()


def test_assign_new_cases_job_assigns_once():
    advocate = AdvocateFactory(capacity=5)
    case = case_with_history(None, opened=T0)
    first = tasks.assign_new_cases.delay([case.pk]).get()
    case.refresh_from_db()
    assert case.advocate == advocate
    assert first == {"assigned": 1, "over_capacity": 0, "unassigned": 0}
    # Re-runs (this case, or every waiting case) leave an assigned case alone.
    nothing = {"assigned": 0, "over_capacity": 0, "unassigned": 0}
    assert tasks.assign_new_cases.delay([case.pk]).get() == nothing
    assert tasks.assign_new_cases.delay().get() == nothing
    assert case.events.filter(type="assigned").count() == 1
