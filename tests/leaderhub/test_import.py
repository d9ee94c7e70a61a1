"""`manage.py import_leaderhub DIR`: every row checked first, errors name file and row, all or
nothing, upserts on natural keys so a re-run changes nothing."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from leaderhub import importers
from leaderhub.importers import InvalidImport, import_leaderhub
from leaderhub.models import (
    Market,
    MarketActiveProvider,
    MarketGroup,
    Provider,
    ProviderShift,
    ShiftBreakdown,
    Visit,
)
from opsintel.models import AuditEvent
from tests.leaderhub.factories import MarketFactory, ProviderFactory

pytestmark = pytest.mark.django_db

VISIT_HEADER = (
    "care_request_id,provider_id,market,service_date,patient_first_name,patient_last_name,"
    "patient_athena_id,chief_complaint,diagnosis,on_scene_minutes,chart_closed_24h,"
    "survey_captured,nps_score,escalated,escalation_reason,abx_prescribed,abx_details"
)
SHIFT_HEADER = (
    "shift_team_id,provider_id,market,service_date,start,end,patients_seen,out_the_door,"
    "en_route,on_scene,on_break,idle"
)
BREAKDOWN_HEADER = "shift_team_id,start,end,stage,latitude_e6,longitude_e6"

FILES = {
    "market_groups.csv": ["name,short_name", "Mountain,MTN", "Southwest,SW"],
    "markets.csv": [
        "name,short_name,market_group",
        "Denver,DEN,MTN",
        "Colorado Springs,COS,MTN",
        "Phoenix,PHX,SW",
    ],
    "providers.csv": [
        "id,first_name,last_name,avatar_url,job_title",
        "101,Ana,Reyes,https://example.org/a.png,app",
        "102,Ben,Cho,,DHMT",
        "103,Cy,Diaz,,app",
    ],
    "market_active_providers.csv": [
        "market,provider_id",
        "DEN,101",
        "COS,101",
        "DEN,102",
        "PHX,103",
    ],
    "visits.csv": [
        VISIT_HEADER,
        "9001,101,DEN,2026-03-02,Jo,Smith,A1,Cough,Bronchitis,42.5,true,yes,10,no,,yes,amoxicillin",
        "9002,101,COS,2026-03-03,Lee,Park,A2,Fever,Flu,30,,no,,no,,no,",
        "9001,102,DEN,2026-03-02,Jo,Smith,A1,Cough,Bronchitis,12,false,1,0,true,ER,0,",
        "9003,103,PHX,2026-03-04,Max,Ng,A3,Rash,Cellulitis,,true,true,7,false,,false,",
    ],
    "provider_shifts.csv": [
        SHIFT_HEADER,
        "700,101,DEN,2026-03-02,2026-03-02T08:00:00-07:00,2026-03-02T18:00:00-07:00,"
        "5,1800,9000,14400,1800,9000",
        "701,102,DEN,2026-03-02,2026-03-02 08:00,2026-03-02 16:00,3,,,,,",
    ],
    "shift_breakdowns.csv": [
        BREAKDOWN_HEADER,
        "700,2026-03-02T15:00:00Z,2026-03-02T15:40:00Z,en_route,39739236,-104990251",
        "700,2026-03-02T15:40:00Z,2026-03-02T16:30:00Z,on_scene,39740000,-104980000",
        "700,2026-03-02T16:30:00Z,2026-03-02T17:00:00Z,break,,",
        "701,2026-03-02T13:00:00Z,2026-03-02T14:00:00Z,idle,,",
    ],
}


def write(directory, files):
    for name, lines in files.items():
        (directory / name).write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return directory


def snapshot():
    return {
        model.__name__: sorted(
            model.objects.values_list(*(f.attname for f in model._meta.concrete_fields))
        )
        for model in (
            MarketGroup,
            Market,
            Provider,
            MarketActiveProvider,
            Visit,
            ProviderShift,
            ShiftBreakdown,
        )
    }


def counts():
    return {name: len(rows) for name, rows in snapshot().items()}


def errors_of(directory):
    with pytest.raises(InvalidImport) as caught:
        import_leaderhub(directory)
    return caught.value.messages


def test_valid_files_load_with_the_expected_rows(tmp_path, settings):
    settings.TIME_ZONE = "America/Denver"
    report = import_leaderhub(write(tmp_path, FILES))

    assert counts() == {
        "MarketGroup": 2,
        "Market": 3,
        "Provider": 3,
        "MarketActiveProvider": 4,
        "Visit": 4,
        "ProviderShift": 2,
        "ShiftBreakdown": 4,
    }
    assert report.tables["visits.csv"].created == 4
    assert Market.objects.get(short_name="COS").market_group.short_name == "MTN"
    ben = Provider.objects.get(pk=102)
    assert (ben.name, ben.job_title, ben.avatar_url) == ("Ben Cho", "dhmt", "")

    first = Visit.objects.get(care_request_id=9001, provider_id=101)
    assert first.market.short_name == "DEN"
    assert (first.service_date, first.on_scene_minutes, first.nps_score) == (
        date(2026, 3, 2),
        Decimal("42.50"),
        10,
    )
    assert (first.chart_closed_24h, first.survey_captured, first.abx_prescribed) == (
        True,
        True,
        True,
    )
    assert first.abx_details == "amoxicillin"
    # The same care request seen by a second provider is a second visit.
    second = Visit.objects.get(care_request_id=9001, provider_id=102)
    assert (second.nps_score, second.escalated, second.escalation_reason) == (0, True, "ER")
    no_survey = Visit.objects.get(care_request_id=9002)
    assert (no_survey.chart_closed_24h, no_survey.nps_score, no_survey.survey_captured) == (
        None,
        None,
        False,
    )
    assert Visit.objects.get(care_request_id=9003).on_scene_minutes is None

    shift = ProviderShift.objects.get(shift_team_id=700)
    assert shift.start == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert (shift.end - shift.start).total_seconds() == 10 * 3600
    assert (shift.on_scene, shift.on_break) == (14400, 1800)
    naive = ProviderShift.objects.get(shift_team_id=701)
    assert naive.start == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 08:00 in Denver (MST)
    assert (naive.patients_seen, naive.en_route, naive.break_skipped) == (3, 0, True)
    segments = list(shift.breakdowns.values_list("stage", "latitude_e6"))
    assert segments == [("en_route", 39739236), ("on_scene", 39740000), ("break", None)]

    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert event.object_type == "leaderhub.visit"
    assert sorted(event.object_ids) == sorted(
        str(pk) for pk in Visit.objects.values_list("pk", flat=True)
    )


@pytest.mark.parametrize("chunk", [5_000, 2])
def test_re_running_the_same_files_changes_nothing(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(importers, "CHUNK", chunk)  # 2: every file written in several chunks
    write(tmp_path, FILES)
    import_leaderhub(tmp_path)
    first = snapshot()

    report = import_leaderhub(tmp_path)

    assert snapshot() == first
    for name, table in report.tables.items():
        assert (table.created, table.updated) == (0, 0), name
        assert table.unchanged == len(FILES[name]) - 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).count() == 2


def test_a_daily_file_updates_changed_rows_and_adds_new_ones(tmp_path):
    import_leaderhub(write(tmp_path, FILES))
    daily = tmp_path / "daily"
    daily.mkdir()
    write(
        daily,
        {
            "visits.csv": [
                VISIT_HEADER,
                # NPS arrived a day later; the other visit is new.
                "9002,101,COS,2026-03-03,Lee,Park,A2,Fever,Flu,30,true,yes,9,no,,no,",
                "9004,103,PHX,2026-03-05,Kim,Oh,A4,Pain,Sprain,55,true,no,,no,,no,",
            ]
        },
    )

    report = import_leaderhub(daily)

    table = report.tables["visits.csv"]
    assert (table.created, table.updated, table.unchanged) == (1, 1, 0)
    updated = Visit.objects.get(care_request_id=9002)
    assert (updated.nps_score, updated.chart_closed_24h) == (9, True)
    assert Visit.objects.count() == 5
    assert set(report.tables) == {"visits.csv"}


def test_a_bad_row_in_the_middle_writes_nothing_and_names_the_row(tmp_path):
    files = dict(FILES)
    files["visits.csv"] = [
        *FILES["visits.csv"][:2],
        "9005,101,DEN,2026-03-31,A,B,A5,x,y,abc,true,yes,8,no,,no,",  # row 3
        *FILES["visits.csv"][2:],
    ]
    messages = errors_of(write(tmp_path, files))

    assert messages == ["visits.csv row 3: on_scene_minutes 'abc' is not a number."]
    assert all(n == 0 for n in counts().values())
    assert not AuditEvent.objects.exists()


def test_nps_outside_0_to_10_is_rejected(tmp_path):
    files = {
        **{name: FILES[name] for name in ("market_groups.csv", "markets.csv", "providers.csv")},
        "visits.csv": [
            VISIT_HEADER,
            "9001,101,DEN,2026-03-02,Jo,Smith,A1,,,10,true,yes,11,no,,no,",
            "9002,101,DEN,2026-03-02,Jo,Smith,A1,,,10,true,yes,-1,no,,no,",
        ],
    }
    messages = errors_of(write(tmp_path, files))
    assert messages == [
        "visits.csv row 2: nps_score 11 is outside 0–10.",
        "visits.csv row 3: nps_score -1 is outside 0–10.",
    ]
    assert not Provider.objects.exists()


def test_unknown_provider_and_market_are_reported_with_rows(tmp_path):
    market = MarketFactory(short_name="DEN")
    ProviderFactory(id=101)
    write(
        tmp_path,
        {
            "visits.csv": [
                VISIT_HEADER,
                "9001,101,DEN,2026-03-02,Jo,Smith,A1,,,10,true,yes,9,no,,no,",
                "9002,999,DEN,2026-03-02,Jo,Smith,A1,,,10,true,yes,9,no,,no,",
                "9003,101,XXX,2026-03-02,Jo,Smith,A1,,,10,true,yes,9,no,,no,",
                "9004,abc,DEN,2026-03-02,Jo,Smith,A1,,,10,true,yes,9,no,,no,",
            ]
        },
    )
    assert errors_of(tmp_path) == [
        "visits.csv row 3: provider_id 999 is not in providers.csv nor an existing provider.",
        "visits.csv row 4: market 'XXX' is not in markets.csv nor an existing market.",
        "visits.csv row 5: provider_id 'abc' is not a whole number.",
    ]
    assert not Visit.objects.filter(market=market).exists()


def test_shift_end_before_start_and_bad_breakdowns(tmp_path):
    files = {
        name: FILES[name]
        for name in ("market_groups.csv", "markets.csv", "providers.csv", "shift_breakdowns.csv")
    }
    files["provider_shifts.csv"] = [
        SHIFT_HEADER,
        "700,101,DEN,2026-03-02,2026-03-02T18:00:00Z,2026-03-02T08:00:00Z,5,0,0,0,0,0",
        "701,102,DEN,2026-03-02,2026-03-02T08:00:00Z,2026-03-02T16:00:00Z,3,0,0,0,0,0",
    ]
    files["shift_breakdowns.csv"] = [
        *FILES["shift_breakdowns.csv"],
        "701,2026-03-02T14:00:00Z,2026-03-02T14:30:00Z,lunch,,",
        "701,2026-03-02 14:30,tomorrow,idle,,",
        "999,2026-03-02T14:00:00Z,2026-03-02T14:30:00Z,idle,,",
    ]
    assert errors_of(write(tmp_path, files)) == [
        "provider_shifts.csv row 2: end 2026-03-02T08:00:00Z is not after start "
        "2026-03-02T18:00:00Z.",
        "shift_breakdowns.csv row 6: stage 'lunch' is not one of on_scene, en_route, break, idle.",
        "shift_breakdowns.csv row 7: end 'tomorrow' is not an ISO 8601 date and time "
        "(YYYY-MM-DDTHH:MM[:SS][±HH:MM or Z]).",
        "shift_breakdowns.csv row 8: shift_team_id 999 is not in provider_shifts.csv nor an "
        "existing shift.",
    ]
    assert not ProviderShift.objects.exists()


def test_wrong_header_is_one_clear_error(tmp_path):
    files = {"market_groups.csv": ["name,short,extra", "Mountain,MTN,1"]}
    assert errors_of(write(tmp_path, files)) == [
        "market_groups.csv: missing column(s) short_name; unexpected column(s) 'short', "
        "'extra'. The header must have exactly these columns: name, short_name."
    ]


def test_not_utf8_and_repeated_keys(tmp_path):
    (tmp_path / "market_groups.csv").write_bytes(b"name,short_name\r\nM\xfcnchen,MUC\r\n")
    write(
        tmp_path,
        {
            "providers.csv": [
                "id,first_name,last_name,avatar_url,job_title",
                "1,A,B,,app",
                "1,C,D,,surgeon",
            ]
        },
    )
    assert errors_of(tmp_path) == [
        "market_groups.csv row 2 (byte 0xfc): the file is not UTF-8 text. Save it as UTF-8 "
        '("CSV UTF-8") and import again.',
        "providers.csv row 3: job_title 'surgeon' is not one of app, dhmt.",
    ]
    (tmp_path / "market_groups.csv").unlink()
    write(
        tmp_path,
        {
            "providers.csv": [
                "id,first_name,last_name,avatar_url,job_title",
                "1,A,B,,app",
                "1,C,D,,app",
            ]
        },
    )
    assert errors_of(tmp_path) == ["providers.csv row 3: id 1 also on row 2."]


def test_command_reports_and_refuses(tmp_path, capsys):
    write(tmp_path, FILES)
    call_command("import_leaderhub", str(tmp_path))
    assert "visits.csv" in capsys.readouterr().out
    bad = tmp_path / "bad"
    bad.mkdir()
    write(bad, {"market_groups.csv": ["name"]})
    with pytest.raises(CommandError, match="Nothing was imported: 1 problem"):
        call_command("import_leaderhub", str(bad))
