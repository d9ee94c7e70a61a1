"""Campaigns in the browser, as the care manager and the care coordinator use them.

The care manager filters the open care gaps with the keyboard alone, selects every match, reads
what the selection is worth, creates a balanced campaign (the slow form shows its progress),
downloads the CRM file and opens the printable call lists; a coordinator records a call
outcome; the mobile view on a phone is read-only. Expected figures are computed from what the
pages show, so the tests hold whatever the demo's dates and whatever ran before them.
"""

import csv
import re
import uuid
from decimal import Decimal

from playwright.sync_api import expect

from tests.e2e.browser import PHONE, assert_accessible, horizontal_overflow, screenshot, tab_to

# The columns the CRM upload expects, written out here: the test checks that contract.
CRM_HEADER = [
    "Member ID",
    "Member Name",
    "Phone",
    "Email",
    "Measure",
    "Intervention Date",
    "Coordinator",
    "Status",
    "Priority",
]
CALL_LIST_HEADER = [
    "Member ID",
    "Member Name",
    "Phone",
    "Measure",
    "Intervention Date",
    "Status",
    "Notes",
]
# A rare measure within a month: few enough open gaps for one page of the build table.
MEASURE = "OMW"
DUE_WITHIN_DAYS = "30"


def money(text):
    """ "-$1,234.50" → Decimal("-1234.50")."""
    return Decimal(text.replace("$", "").replace(",", ""))


def column(table, number):
    """The texts of one column (1-based) of a table's body."""
    return [
        cell.strip() for cell in table.locator(f"tbody tr td:nth-child({number})").all_inner_texts()
    ]


def figure(panel, caption):
    """The figure of a `ul.figures` item, found by its caption."""
    item = panel.locator("li").filter(
        has=panel.page.locator(".caption", has_text=re.compile(f"^{re.escape(caption)}$"))
    )
    return item.locator(".figure").inner_text().strip()


def assert_charts_have_text_alternatives(page):
    """Every chart is a named image, and its section also gives its figures as a table."""
    charts = page.locator("main svg.chart")
    assert charts.count() > 0
    for chart in charts.all():
        expect(chart).to_have_attribute("role", "img")
        assert chart.locator(":scope > title").text_content().strip(), "a chart without a title"
        section = chart.locator("xpath=ancestor::section[1]")
        expect(section.locator("details.text-alternative table")).not_to_have_count(0)


def test_care_manager_builds_a_balanced_campaign_and_exports_it(signed_in, screenshots):
    page = signed_in("care-manager")
    page.goto("/campaigns/build/")
    expect(page.get_by_role("checkbox", name="Pending")).to_be_checked()

    # Filter with the keyboard alone: Tab to the measure, type its code, Tab on, Enter.
    measure = page.get_by_label("Measure")
    tab_to(page, measure)
    page.keyboard.type(MEASURE)
    assert measure.evaluate("s => s.options[s.selectedIndex].text").startswith(MEASURE)
    due = page.get_by_label("Due within (days)")
    tab_to(page, due)
    page.keyboard.type(DUE_WITHIN_DAYS)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"days_ahead={DUE_WITHIN_DAYS}"))

    table = page.locator("#page-selection table")
    caption = table.locator("caption").inner_text()
    matching = int(re.match(r"(\d+) open interventions match; page 1 of 1$", caption)[1])
    assert matching > 0
    expect(table.locator("tbody tr")).to_have_count(matching)
    assert set(column(table, 4)) == {MEASURE}
    member_ids = column(table, 2)
    costs = [money(text) for text in column(table, 8)]
    metrics = page.locator("#metrics")
    expect(metrics.locator(".empty-state")).to_contain_text("Nothing selected yet")

    page.get_by_role("button", name=f"Select all {matching} matching").click()
    expect(page.locator("#selection-count")).to_have_text(f"{matching} selected")
    for box in table.get_by_role("checkbox").all():
        expect(box).to_be_checked()
    assert figure(metrics, "interventions") == str(matching)
    assert figure(metrics, "members") == str(len(set(member_ids)))
    assert money(figure(metrics, "cost")) == sum(costs)
    value = money(figure(metrics, "value (predicted revenue)"))
    assert money(figure(metrics, "net benefit")) == value - sum(costs)
    screenshot(page, screenshots, "campaigns-build-selected")

    # The slow form shows its progress. A submit listener added after the page's own stops
    # the submission once the page has reacted, so the busy state stays on screen to be read.
    page.evaluate("() => document.addEventListener('submit', event => event.preventDefault())")
    create = page.get_by_role("button", name="Create campaign")
    what_if = page.get_by_role("button", name="What if?")
    what_if.click()
    expect(
        page.get_by_role("status").filter(has_text="Working out the assignments…")
    ).to_be_visible()
    expect(create).to_be_disabled()
    expect(what_if).to_be_disabled()
    page.reload()

    name = f"Osteoporosis follow-up {uuid.uuid4().hex[:6]}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("Coordinators").fill("2")
    page.get_by_label("Strategy").select_option(label="Balanced workload (recommended)")
    create.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_text(f"Campaign “{name}” created and assigned.")).to_be_visible()
    expect(page.locator("main p.muted").first).to_contain_text(
        "Active · Balanced workload (recommended) · 2 coordinators"
    )
    created = page.locator("section", has=page.get_by_role("heading", name="Metrics at creation"))
    assert figure(created, "interventions") == str(matching)
    workload = page.locator("section", has=page.get_by_role("heading", name="Coordinators"))
    workload_table = workload.locator("details.text-alternative table")
    coordinators = column(workload_table, 1)
    loads = [int(n) for n in column(workload_table, 3)]
    assert len(coordinators) == 2
    assert sum(loads) == matching
    expect(workload).to_contain_text(
        f"largest load {max(loads)}, smallest {min(loads)}, spread {max(loads) - min(loads)}"
    )
    assert_charts_have_text_alternatives(page)
    assert_accessible(page)
    screenshot(page, screenshots, "campaigns-created")

    # The CRM file: the agreed header, one row per selected intervention, both coordinators.
    with page.expect_download() as download:
        page.get_by_role("link", name="CRM CSV").click()
    with open(download.value.path(), newline="", encoding="utf-8-sig") as file:
        header, *rows = list(csv.reader(file))
    assert header == CRM_HEADER
    assert len(rows) == matching
    assert sorted(row[0] for row in rows) == sorted(member_ids)
    assert {row[4] for row in rows} == {MEASURE}
    assert {row[6] for row in rows} == set(coordinators)

    # The printable call lists: one section per coordinator, the calls of each.
    page.get_by_role("link", name="Printable call list").click()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    lists = page.locator("section.print-page")
    expect(lists).to_have_count(2)
    headings = lists.get_by_role("heading", level=1).all_inner_texts()
    assert sorted(headings) == sorted(f"Call list: {c}" for c in coordinators)
    calls = 0
    for section in lists.all():
        assert section.locator("thead th").all_inner_texts() == CALL_LIST_HEADER
        count = section.locator("tbody tr").count()
        expect(section.locator("p.muted")).to_contain_text(f"{count} call")
        calls += count
    assert calls == matching
    screenshot(page, screenshots, "campaigns-call-list")


def test_coordinator_records_a_call_outcome(signed_in, screenshots):
    page = signed_in("care-coordinator")
    page.goto("/campaigns/my-list/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My call list")
    row = page.locator("main tbody tr").first
    status = row.locator("select[name=status]")
    was = status.input_value()
    wanted, label = (
        ("scheduled", "Scheduled") if was == "in_progress" else ("in_progress", "In progress")
    )
    member = row.locator("td").first.inner_text()
    outcome = f"Left voicemail {uuid.uuid4().hex[:6]}"

    status.select_option(label=label)
    row.get_by_label("Outcome").fill(outcome)
    row.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Outcome saved.")).to_be_visible()
    saved = page.locator("main tbody tr", has=page.locator(f"input[value='{outcome}']"))
    expect(saved).to_have_count(1)
    expect(saved.locator("td").first).to_have_text(member)
    expect(saved.locator("select[name=status]")).to_have_value(wanted)
    screenshot(page, screenshots, "campaigns-outcome-saved")


def test_mobile_view_on_a_phone_is_read_only(signed_in, screenshots):
    page = signed_in("care-manager", viewport=PHONE)
    page.goto("/campaigns/mobile/")
    page.get_by_label("Campaign", exact=True).select_option(label="Cancer screening catch-up")
    expect(page).to_have_url(re.compile(r"campaign=\d+"))
    main = page.locator("main")
    expect(main.locator("dd").nth(1)).to_have_text("Group by measure")

    # The completion shown is the finished share it states in words.
    progress = main.get_by_text(re.compile(r"% done: \d+ of \d+ interventions finished"))
    done, finished, total = map(
        int, re.search(r"(\d+)% done: (\d+) of (\d+)", progress.inner_text()).groups()
    )
    assert done == round(100 * finished / total)
    expect(main.get_by_role("img", name=f"{done}% done")).to_be_visible()

    # Nothing to create, change or export here.
    actions = re.compile(r"create|build|export|csv|call list|rebalance|archive|move", re.I)
    expect(main.get_by_role("button", name=actions)).to_have_count(0)
    expect(main.get_by_role("link", name=actions)).to_have_count(0)
    expect(main.locator("form[method=post]")).to_have_count(0)
    assert_charts_have_text_alternatives(page)
    assert horizontal_overflow(page) <= 1
    assert_accessible(page)
    screenshot(page, screenshots, "campaigns-mobile-chosen")


def test_dashboard_charts_have_tables(signed_in):
    page = signed_in("care-manager")
    page.goto("/campaigns/dashboard/")
    assert_charts_have_text_alternatives(page)
    completion = page.locator(
        "section", has=page.get_by_role("heading", name="Completion per active campaign")
    )
    completion.get_by_text("Completion table").click()
    names = column(completion.locator("table"), 1)
    assert "Diabetes care gaps" in names
    bars = completion.locator("svg.chart rect title").evaluate_all(
        "titles => titles.map(title => title.textContent)"
    )
    assert [bar.split(":")[0] for bar in bars] == names
