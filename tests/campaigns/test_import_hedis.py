"""`manage.py import_hedis DIR` and campaigns.importers: all or nothing, row-numbered errors,
idempotent, and the real sample loads with the counts worked out here from the CSV files."""

import csv
import io
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q

from campaigns.importers import InvalidPortfolio, import_hedis_portfolio
from campaigns.models import Intervention, Measure, Member
from campaigns.selectors import calculate_campaign_metrics
from opsintel.models import AuditEvent
from tests.campaigns.factories import MeasureFactory, MemberFactory

pytestmark = pytest.mark.django_db

Status = Intervention.Status
SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "hedis-sample"

MEASURES = [
    "measure_id,measure_name,measure_description,domain,measure_type,star_weight,"
    "revenue_per_point,data_collection,created_date",
    "GSD,Glycemic Status Assessment,HbA1c,Diabetes,Process,3.0,125000.0,Admin,2025-11-18 23:20",
    "CBP,Controlling High Blood Pressure,BP,Cardio,Outcome,3.0,145000.0,Hybrid,2025-11-18 23:20",
    "BCS,Breast Cancer Screening,Mammography,Cancer,Process,2.0,78000.0,Hybrid,2025-11-18 23:20",
]
ACTIVITIES = [
    "activity_id,activity_name,activity_type,description,created_date",
    "1,Phone Outreach,outreach,Direct phone call,2025-11-19 16:35",
    "2,Mail Campaign,outreach,Postal mail,2025-11-19 16:35",
]
GAPS = [
    "gap_id,member_id,measure_id,measurement_year,gap_status,gap_opened_date,gap_closed_date,"
    "closure_method,last_service_date,next_due_date,outreach_attempts,barrier_code,created_date",
    "1,M1,GSD,2024,Open,2024-01-10,,,,,2,,2025-11-18",  # worked by intervention 101
    "2,M1,CBP,2024,Open,2024-02-01,,,,2025-03-01,0,Cost,2025-11-18",  # open, unworked, due date
    "3,M2,GSD,2024,Closed,2024-01-05,2024-06-01,Lab Result,2024-05-30,,1,,2025-11-18",
    "4,M2,BCS,2024,Open,2024-03-01,,,,,0,,2025-11-18",  # open, unworked, undated
    "5,M3,CBP,2024,Excluded,2024-01-01,,,,,0,,2025-11-18",
    "6,M4,BCS,2024,Closed,2024-01-01,2024-02-01,Lab Result,,,0,,2025-11-18",  # M4: no work
    "7,M3,BCS,2024,Open,2024-04-01,,,,,3,Refusal,2025-11-18",  # worked by intervention 104
]
INTERVENTIONS = [
    "intervention_id,member_id,measure_id,gap_id,activity_id,intervention_date,status,outcome,"
    "cost_per_intervention,created_date",
    "101,M1,GSD,1,1,2024-10-01,completed,Gap closed,80.0,2025-11-19",
    "102,M2,GSD,3,2,2024-10-02,completed,Member declined,30.0,2025-11-19",
    "103,M2,GSD,3,1,2024-10-03,completed,No response,12.5,2025-11-19",
    "104,M3,BCS,7,1,2024-11-05,in_progress,Gap closed,100.0,2025-11-19",
    "105,M3,CBP,5,2,2024-11-06,completed,Appointment scheduled,55.25,2025-11-19",
]
TODAY = date(2024, 11, 1)


def write_portfolio(directory, **replace):
    """The small portfolio above, with any file's lines replaced (`gaps=[...]`, …)."""
    files = {
        "hedis_measures.csv": replace.get("measures", MEASURES),
        "intervention_activities.csv": replace.get("activities", ACTIVITIES),
        "member_gaps.csv": replace.get("gaps", GAPS),
        "member_interventions.csv": replace.get("interventions", INTERVENTIONS),
    }
    for name, lines in files.items():
        if isinstance(lines, bytes):
            (directory / name).write_bytes(lines)
        else:
            (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def errors_of(directory):
    with pytest.raises(InvalidPortfolio) as raised:
        import_hedis_portfolio(directory, today=TODAY)
    return raised.value.messages


def assert_nothing_written():
    assert not Measure.objects.exists()
    assert not Member.objects.exists()
    assert not Intervention.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).exists()


# The small portfolio, checked by hand ---------------------------------------------------------


def test_small_portfolio_loads_with_hand_checked_counts_and_statuses(tmp_path, make_user):
    admin = make_user("Platform admin")
    report = import_hedis_portfolio(write_portfolio(tmp_path), actor=admin, today=TODAY)

    assert report.rows_read == {
        "hedis_measures.csv": 3,
        "intervention_activities.csv": 2,
        "member_interventions.csv": 5,
        "member_gaps.csv": 7,
    }
    assert (report.measures.created, report.measures.updated) == (3, 0)
    assert report.members.created == 3  # M1, M2, M3; M4 only has a closed, unworked gap
    assert (report.interventions.created, report.interventions.updated) == (5, 0)
    assert report.open_gaps.created == 2  # gaps 2 and 4: open and nobody worked on them

    assert set(Member.objects.values_list("member_id", flat=True)) == {"M1", "M2", "M3"}
    gsd = Measure.objects.get(code="GSD")
    assert (gsd.name, gsd.weight) == ("Glycemic Status Assessment", Decimal("3.0"))
    assert gsd.revenue_per_closure == Decimal("100.00")  # not the plan-level revenue_per_point

    rows = {
        i.external_id: i for i in Intervention.objects.select_related("member", "measure").all()
    }
    assert set(rows) == {"101", "102", "103", "104", "105", "gap-2", "gap-4"}
    expected = {
        # external id: status, outcome, outcome date, cost
        "101": (Status.CLOSED, "Gap closed", date(2024, 10, 1), Decimal("80.00")),
        "102": (Status.FAILED, "Member declined", date(2024, 10, 2), Decimal("30.00")),
        "103": (Status.FAILED, "No response", date(2024, 10, 3), Decimal("12.50")),
        "104": (Status.IN_PROGRESS, "Gap closed", None, Decimal("100.00")),
        "105": (Status.COMPLETED, "Appointment scheduled", date(2024, 11, 6), Decimal("55.25")),
        "gap-2": (Status.PENDING, "", None, Decimal("0.00")),
        "gap-4": (Status.PENDING, "", None, Decimal("0.00")),
    }
    for key, (status, outcome, outcome_date, cost) in expected.items():
        row = rows[key]
        assert (row.status, row.outcome, row.outcome_date, row.cost) == (
            status,
            outcome,
            outcome_date,
            cost,
        ), key
    assert (rows["104"].member.member_id, rows["104"].measure.code) == ("M3", "BCS")
    assert rows["104"].intervention_date == date(2024, 11, 5)
    assert (rows["gap-2"].member.member_id, rows["gap-2"].measure.code) == ("M1", "CBP")
    assert rows["gap-2"].intervention_date == date(2025, 3, 1)
    assert rows["gap-4"].intervention_date is None

    # Priorities were refreshed: 104 is due within 14 days (2) on a 2.0-weight measure (1).
    # gap-2: 3.0 weight (2), due in four months (0). gap-4: 2.0 weight (1) and M2 failed before (1).
    assert rows["104"].priority == Intervention.Priority.HIGH
    assert rows["gap-2"].priority == Intervention.Priority.MEDIUM
    assert rows["gap-4"].priority == Intervention.Priority.MEDIUM

    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert event.actor == admin
    assert event.object_type == "campaigns.intervention"
    assert sorted(event.object_ids) == sorted(str(row.pk) for row in rows.values())


def test_existing_measures_keep_their_revenue_and_members_their_details(tmp_path):
    MeasureFactory(code="GSD", name="Old name", weight=Decimal("1.0"), revenue_per_closure=250)
    MemberFactory(member_id="M1", first_name="Ana", phone="555-0100")

    report = import_hedis_portfolio(write_portfolio(tmp_path), today=TODAY)

    assert (report.measures.created, report.measures.updated) == (2, 1)
    assert (report.members.created, report.members.unchanged) == (2, 1)
    gsd = Measure.objects.get(code="GSD")
    assert (gsd.name, gsd.weight, gsd.revenue_per_closure) == (
        "Glycemic Status Assessment",
        Decimal("3.0"),
        Decimal("250.00"),
    )
    member = Member.objects.get(member_id="M1")
    assert (member.first_name, member.phone) == ("Ana", "555-0100")


# Bad input: clear errors, nothing written -----------------------------------------------------


def test_one_bad_row_in_the_middle_writes_nothing_and_names_file_and_row(tmp_path):
    interventions = list(INTERVENTIONS)
    interventions[3] = "103,M2,GSD,3,1,2024-10-03,completed,No response,abc,2025-11-19"
    errors = errors_of(write_portfolio(tmp_path, interventions=interventions))
    assert errors == [
        "member_interventions.csv row 4: cost_per_intervention 'abc' is not a number."
    ]
    assert_nothing_written()


def test_every_bad_value_of_every_file_is_reported(tmp_path):
    gaps = list(GAPS)
    gaps[2] = "2,M1,CBP,2024,Pending,2024-02-01,,,,2025-02-30,0,Cost,2025-11-18"
    interventions = list(INTERVENTIONS)
    interventions[1] = "101,M1,XYZ,1,1,01/10/2024,done,Gap closed,-5,2025-11-19"
    interventions[5] = "101,M3,CBP,5,9,2024-11-06,completed,,55.255,2025-11-19"
    interventions.append("106,M1,GSD,1,1,2024-10-01,completed")
    errors = errors_of(write_portfolio(tmp_path, gaps=gaps, interventions=interventions))
    assert errors == [
        "member_gaps.csv row 3: gap_status 'Pending' is not a known status; expected one of "
        "Open, Closed, Excluded.",
        "member_gaps.csv row 3: next_due_date '2025-02-30' is not a date (YYYY-MM-DD).",
        "member_interventions.csv row 2: measure_id 'XYZ' is not a measure of "
        "hedis_measures.csv nor an existing measure.",
        "member_interventions.csv row 2: intervention_date '01/10/2024' is not a date "
        "(YYYY-MM-DD).",
        "member_interventions.csv row 2: status 'done' is not a known status; expected one of "
        "completed, in_progress.",
        "member_interventions.csv row 2: cost_per_intervention '-5' is negative.",
        "member_interventions.csv row 2: gap_id 1 is member M1's GSD gap in member_gaps.csv, "
        "not M1's XYZ.",
        "member_interventions.csv row 6: cost_per_intervention '55.255' has more than 2 "
        "decimal places.",
        "member_interventions.csv row 6: intervention_id '101' is also on row 2.",
        "member_interventions.csv row 6: activity_id 9 is not in intervention_activities.csv.",
        "member_interventions.csv row 7: 7 values for 10 columns.",
    ]
    assert_nothing_written()


def test_a_bad_measure_row_is_reported_once_not_on_every_row_naming_the_measure(tmp_path):
    measures = list(MEASURES)
    measures[1] = measures[1].replace(",3.0,", ",three,")
    errors = errors_of(write_portfolio(tmp_path, measures=measures))
    assert errors == ["hedis_measures.csv row 2: star_weight 'three' is not a number."]


def test_the_error_list_is_capped_with_a_count_of_the_rest(tmp_path):
    rows = [f"{n},M1,GSD,1,1,2024-10-01,completed,Gap closed,x{n},2025-11-19" for n in range(60)]
    errors = errors_of(write_portfolio(tmp_path, interventions=[INTERVENTIONS[0], *rows]))
    assert len(errors) == 51
    assert (
        errors[0] == "member_interventions.csv row 2: cost_per_intervention 'x0' is not a number."
    )
    assert errors[-1] == "… and 10 more errors not shown."


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (
            "measure_id,measure_name,measure_description,domain,measure_type,"
            "revenue_per_point,data_collection,created_date",
            "missing column(s) star_weight",
        ),
        (MEASURES[0] + ",colour", "unexpected column(s) 'colour'"),
    ],
)
def test_a_wrong_header_names_the_file_and_the_expected_columns(tmp_path, header, problem):
    errors = errors_of(write_portfolio(tmp_path, measures=[header]))
    assert errors == [
        f"hedis_measures.csv: {problem}. The header must have exactly these columns: "
        "measure_id, measure_name, measure_description, domain, measure_type, star_weight, "
        "revenue_per_point, data_collection, created_date."
    ]
    assert_nothing_written()


def test_a_file_that_is_not_utf8_gets_a_clear_error(tmp_path):
    gaps = "\n".join(GAPS).replace("Refusal", "Refus\u00e9").encode("latin-1")
    errors = errors_of(write_portfolio(tmp_path, gaps=gaps))
    assert errors == [
        'member_gaps.csv row 8 (byte 0xe9): the file is not UTF-8 text. Save it as UTF-8 ("CSV '
        'UTF-8") and import again.'
    ]
    assert_nothing_written()


def test_a_utf8_file_with_a_byte_order_mark_is_fine(tmp_path):
    write_portfolio(tmp_path)
    path = tmp_path / "hedis_measures.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert import_hedis_portfolio(tmp_path, today=TODAY).measures.created == 3


def test_a_missing_file_or_folder_is_named(tmp_path):
    assert errors_of(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'} is not a directory."]
    write_portfolio(tmp_path)
    (tmp_path / "member_gaps.csv").unlink()
    (tmp_path / "intervention_activities.csv").unlink()
    assert errors_of(tmp_path) == [
        f"{tmp_path} lacks member_gaps.csv (a HEDIS portfolio needs hedis_measures.csv, "
        "member_interventions.csv, member_gaps.csv; intervention_activities.csv is optional)."
    ]


# Re-running -----------------------------------------------------------------------------------


def snapshot():
    return {
        "measures": list(Measure.objects.order_by("code").values()),
        "members": list(Member.objects.order_by("member_id").values()),
        "interventions": list(Intervention.objects.order_by("external_id").values()),
    }


def test_re_running_the_import_changes_nothing(tmp_path):
    write_portfolio(tmp_path)
    import_hedis_portfolio(tmp_path, today=TODAY)
    before = snapshot()

    again = import_hedis_portfolio(tmp_path, today=TODAY)

    assert snapshot() == before  # same rows, same values, not even updated_at moved
    assert (again.measures.created, again.measures.updated, again.measures.unchanged) == (0, 0, 3)
    assert (again.members.created, again.members.unchanged) == (0, 3)
    assert (again.interventions.created, again.interventions.updated) == (0, 0)
    assert again.interventions.unchanged == 5
    assert (again.open_gaps.created, again.open_gaps.unchanged) == (0, 2)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).count() == 2


def test_a_changed_file_updates_its_rows_and_leaves_open_gap_work_to_us(tmp_path):
    write_portfolio(tmp_path)
    import_hedis_portfolio(tmp_path, today=TODAY)
    # A coordinator works an open-gap intervention in a campaign meanwhile.
    Intervention.objects.filter(external_id="gap-2").update(status=Status.CLOSED, outcome="Done")
    interventions = list(INTERVENTIONS)
    interventions[4] = "104,M3,BCS,7,1,2024-11-05,completed,Gap closed,100.0,2025-11-19"
    write_portfolio(tmp_path, interventions=interventions)

    report = import_hedis_portfolio(tmp_path, today=TODAY)

    assert (report.interventions.updated, report.interventions.unchanged) == (1, 4)
    changed = Intervention.objects.get(external_id="104")
    assert (changed.status, changed.outcome_date) == (Status.CLOSED, date(2024, 11, 5))
    worked = Intervention.objects.get(external_id="gap-2")
    assert (worked.status, worked.outcome) == (Status.CLOSED, "Done")


# The command ----------------------------------------------------------------------------------


def test_command_prints_a_summary_and_fails_with_the_error_list(tmp_path, make_user):
    make_user(username="loader")
    write_portfolio(tmp_path)
    out = io.StringIO()
    call_command("import_hedis", str(tmp_path), "--dry-run", stdout=out)
    assert "Checked (dry run, nothing written)" in out.getvalue()
    assert not Intervention.objects.exists()

    out = io.StringIO()
    call_command("import_hedis", str(tmp_path), "--user", "loader", stdout=out)
    assert "interventions:          5 created, 0 updated, 0 unchanged" in out.getvalue()
    assert "open-gap interventions: 2 created, 0 unchanged" in out.getvalue()
    assert AuditEvent.objects.get(action=AuditEvent.Action.IMPORT).actor_username == "loader"

    gaps = list(GAPS)
    gaps[5] = "5,M3,CBP,20x4,Excluded,2024-01-01,,,,,0,,2025-11-18"
    write_portfolio(tmp_path, gaps=gaps)
    with pytest.raises(CommandError) as raised:
        call_command("import_hedis", str(tmp_path), stdout=io.StringIO())
    message = str(raised.value)
    assert message.startswith("Nothing was imported: 1 problem(s)")
    assert "member_gaps.csv row 6: measurement_year '20x4' is not a whole number." in message


# The real sample ------------------------------------------------------------------------------


def read_sample(name):
    with (SAMPLE / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_real_hedis_sample_loads_with_counts_and_metrics_from_the_csv(make_user):
    if not SAMPLE.is_dir():
        pytest.skip(f"the HEDIS sample is not beside the repository ({SAMPLE})")
    # Expected figures, straight from the files.
    measures = read_sample("hedis_measures.csv")
    done = read_sample("member_interventions.csv")
    gaps = read_sample("member_gaps.csv")
    worked = {row["gap_id"] for row in done}
    open_gaps = [row for row in gaps if row["gap_status"] == "Open" and row["gap_id"] not in worked]
    members = {row["member_id"] for row in done} | {row["member_id"] for row in open_gaps}
    assert (len(measures), len(done)) == (12, 6932)

    report = import_hedis_portfolio(SAMPLE, actor=make_user("Platform admin"))

    assert Measure.objects.count() == 12
    assert Member.objects.count() == len(members)
    assert Intervention.objects.filter(external_id__startswith="gap-").count() == len(open_gaps)
    assert Intervention.objects.count() == len(done) + len(open_gaps)
    assert report.interventions.created == 6932
    assert report.open_gaps.created == len(open_gaps)
    closed = Counter(
        row["measure_id"]
        for row in done
        if row["status"] == "completed" and row["outcome"] == "Gap closed"
    )
    finished = Counter(row["measure_id"] for row in done if row["status"] == "completed")
    in_progress = sum(row["status"] == "in_progress" for row in done)
    assert Intervention.objects.filter(status=Status.CLOSED).count() == sum(closed.values())
    assert Intervention.objects.filter(status=Status.IN_PROGRESS).count() == in_progress
    assert Intervention.objects.filter(status=Status.PENDING).count() == len(open_gaps)

    # One measure's metrics: its history is closed ÷ finished counted in the CSV.
    code = "CBP"
    selection = Intervention.objects.filter(measure__code=code)
    metrics = calculate_campaign_metrics(selection, target_date=date(2030, 1, 1))
    rate = Decimal(closed[code]) / Decimal(finished[code])
    cbp_rows = [row for row in done if row["measure_id"] == code]
    cbp_open = [row for row in open_gaps if row["measure_id"] == code]
    total = len(cbp_rows) + len(cbp_open)
    [by_measure] = metrics.by_measure
    assert (by_measure.code, by_measure.basis, by_measure.finished) == (
        code,
        "measure",
        finished[code],
    )
    assert by_measure.rate == rate.quantize(Decimal("0.0001"))
    assert metrics.total_interventions == total
    assert metrics.total_members == len(
        {row["member_id"] for row in cbp_rows} | {row["member_id"] for row in cbp_open}
    )
    assert metrics.total_cost == sum(Decimal(row["cost_per_intervention"]) for row in cbp_rows)
    assert metrics.total_value == (total * rate * Decimal("100")).quantize(Decimal("0.01"))
    assert metrics.portfolio_rate == (
        Decimal(sum(closed.values())) / Decimal(sum(finished.values()))
    ).quantize(Decimal("0.0001"))

    # Open work for campaigns: everything pending or in progress, none of it finished.
    assert selection.filter(~Q(status__in=Intervention.FINISHED_STATUSES)).count() == (
        total - finished[code]
    )
