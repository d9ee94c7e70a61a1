"""The sample files of docs/samples/ load with the commands docs/imports.md shows, so the docs
never show a file the importers refuse. Expected counts are read off the sample files."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from advocacy.models import Advocate, Case, CaseEvent, Interaction, Patient, PatientFeedback
from campaigns.models import Intervention, Measure, Member
from leaderhub.models import (
    Market,
    MarketActiveProvider,
    MarketGroup,
    Provider,
    ProviderShift,
    ShiftBreakdown,
    Visit,
)
from rcm.models import Claim
from rcm.models import Patient as ClaimPatient

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "samples"


def run(command, path):
    out = io.StringIO()
    call_command(command, str(path), stdout=out)
    return out.getvalue()


def test_the_hedis_sample_loads():
    run("import_hedis", SAMPLES / "campaigns")

    assert Measure.objects.count() == 2
    assert Member.objects.count() == 3
    # three rows of member_interventions.csv, plus the open gaps 103 and 104 that nobody works
    # (open gap 101 is worked by intervention 1; 102 is closed, 105 excluded)
    statuses = sorted(Intervention.objects.values_list("status", flat=True))
    assert statuses == ["closed", "failed", "in_progress", "pending", "pending"]
    assert set(
        Intervention.objects.filter(status="pending").values_list("external_id", flat=True)
    ) == {"gap-103", "gap-104"}


def test_the_leaderhub_sample_loads_and_rolls_up():
    run("import_leaderhub", SAMPLES / "leaderhub")

    assert MarketGroup.objects.count() == 1
    assert Market.objects.count() == 2
    assert Provider.objects.count() == 2
    assert MarketActiveProvider.objects.count() == 3
    assert Visit.objects.count() == 4
    assert ProviderShift.objects.count() == 2
    assert ShiftBreakdown.objects.count() == 3

    out = io.StringIO()
    call_command("rollup_leaderhub", "--as-of", "2026-03-03", stdout=out)
    # one row per provider, per market-provider pair with visits, per market
    assert "provider_metrics: 2 rows" in out.getvalue()
    assert "market_provider_metrics: 3 rows" in out.getvalue()
    assert "market_metrics: 2 rows" in out.getvalue()


def test_the_advocacy_sample_loads():
    run("import_advocacy", SAMPLES / "advocacy")

    assert Patient.objects.count() == 2
    assert Advocate.objects.count() == 2
    assert Case.objects.count() == 3
    assert Interaction.objects.count() == 3
    assert PatientFeedback.objects.count() == 1
    # three from case_events.csv, and three derived from cases.csv: C1's first response and
    # resolution (its assignment is in case_events.csv) and C2's assignment
    assert CaseEvent.objects.count() == 6
    assert Case.objects.get(external_id="C1").complexity == "high"


def test_the_claims_sample_loads_and_reloads_unchanged():
    report = run("import_claims", SAMPLES / "rcm" / "claims.csv")

    assert "Imported 5 claims" in report
    assert Claim.objects.count() == 5
    assert ClaimPatient.objects.count() == 3
    assert Claim.objects.get(claim_number="CLM-1001").balance == 7500  # empty: the amount

    again = run("import_claims", SAMPLES / "rcm" / "claims.csv")
    assert "0 created, 0 updated, 5 unchanged" in again
