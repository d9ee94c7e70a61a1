"""Patient advocacy in the browser: the leaders' dashboards, an advocate working a case, and the
SLA-risk queue, as the operations leader and the advocate see them."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import assert_accessible, screenshot, tab_to
from tests.e2e.charts import assert_charts_have_text_alternatives

DASHBOARDS = [
    # (path, heading, charts the page must draw from the demo's figures)
    ("/advocacy/dashboards/executive/", "Executive dashboard", ["Active cases by case type"]),
    (
        "/advocacy/dashboards/operations/",
        "Operations dashboard",
        [
            "Active cases by urgency",
            "Escalated cases by case type",
            "Interaction minutes per case, by case type",
        ],
    ),
    (
        "/advocacy/dashboards/root-cause/",
        "Root cause",
        [
            "Missing documents and resolution time: avg days to resolve per group",
            "Handoffs and patient satisfaction: avg csat per group",
        ],
    ),
]


@pytest.mark.parametrize(
    ("path", "heading", "titles"), DASHBOARDS, ids=["executive", "operations", "root-cause"]
)
def test_dashboard_charts_are_drawn_with_their_figures_in_a_table(
    signed_in, screenshots, path, heading, titles
):
    page = signed_in("operations-leader")
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_text(re.compile(r"Figures as of \w+ \d+, \d{4}"))).to_be_visible()

    drawn = assert_charts_have_text_alternatives(page, at_least=len(titles))

    assert set(titles) <= set(drawn), f"{path} drew {drawn}"
    # The text alternatives are open tables, not hidden behind a click.
    for summary in page.locator("details.text-alternative[open] > summary").all():
        expect(summary.locator("xpath=..").get_by_role("table")).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "advocacy-" + path.strip("/").split("/")[-1] + "-charts")


def test_refresh_now_shows_progress_then_the_new_figures(signed_in):
    page = signed_in("operations-leader")
    page.goto("/advocacy/dashboards/operations/")
    # The page's own submit handler runs on `document`; this one, on `window`, runs after it and
    # keeps the browser on the page, so the busy form can be seen (a real refresh is quick).
    page.evaluate("window.addEventListener('submit', (event) => event.preventDefault())")
    refresh = page.get_by_role("button", name="Refresh now")
    form = refresh.locator("xpath=ancestor::form")

    refresh.click()

    expect(form.get_by_role("status")).to_have_text("Refreshing the figures…")
    expect(form).to_have_attribute("aria-busy", "true")
    expect(refresh).to_be_disabled()

    page.reload()
    page.get_by_role("button", name="Refresh now").click()
    message = page.get_by_role("status").filter(has_text="Figures refreshed as of")
    expect(message).to_be_visible()
    as_of = re.search(r"as of (.+)\.$", message.inner_text().strip())[1]
    expect(page.get_by_text(f"Figures as of {as_of}.")).to_be_visible()
    expect(page.get_by_role("button", name="Refresh now")).to_be_enabled()


def test_advocate_filters_cases_by_status_with_the_keyboard_alone(signed_in):
    page = signed_in("advocate")
    page.goto("/advocacy/cases/")

    tab_to(page, page.get_by_label(re.compile(r"^Status")).first)
    page.keyboard.type("In")  # a select's type-ahead: "In progress"
    tab_to(page, page.get_by_role("button", name="Filter", exact=True))
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"[?&]status=in_progress\b"))
    table = page.get_by_role("table")
    expect(table.locator("caption")).to_contain_text("matching the filters")
    column = table.locator("thead th").all_inner_texts().index("Status") + 1
    statuses = table.locator(f"tbody tr > :nth-child({column})").all_inner_texts()
    assert statuses, "the advocate's demo cases include some in progress"
    assert set(statuses) == {"In progress"}


def test_advocate_logs_an_interaction_and_resolves_a_case(signed_in, screenshots):
    page = signed_in("advocate")
    page.goto("/advocacy/my-cases/")
    summary = page.locator("main p.muted").first
    active_before = int(re.match(r"(\d+) active case", summary.inner_text())[1])
    first_case = page.get_by_role("main").get_by_role("link", name=re.compile(r"^Case ")).first
    case_name = first_case.inner_text()
    first_case.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(case_name)
    note = f"Called the patient about the appeal ({uuid.uuid4().hex[:8]})"

    form = page.get_by_role("form", name="Log an interaction")
    form.get_by_label("Channel").select_option(label="Phone")
    form.get_by_label("Direction").select_option(label="Outbound")
    form.get_by_label("Duration (minutes)").fill("12")
    form.get_by_label("Note").fill(note)
    form.get_by_role("button", name="Log interaction").click()

    expect(page.get_by_role("status").filter(has_text="Interaction logged.")).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_role("listitem").filter(has_text=note)).to_contain_text("Interaction")

    status_form = page.get_by_role("form", name="Change status")
    status_form.get_by_label("Note").fill("Payer approved the appeal.")
    status_form.get_by_role("button", name="Resolve").click()

    expect(page.get_by_role("status").filter(has_text="The case is now resolved.")).to_be_visible()
    figures = page.locator("dl.figures")
    status = figures.locator("div", has=page.locator("dt", has_text=re.compile("^Status$")))
    expect(status.locator("dd")).to_have_text("Resolved")
    expect(figures.locator("dt", has_text=re.compile("^Resolved$"))).to_be_visible()
    expect(page.get_by_role("form", name="Log an interaction")).to_have_count(0)
    screenshot(page, screenshots, "advocacy-case-resolved")

    page.get_by_role("link", name="My cases").click()
    if active_before > 1:
        expect(summary).to_contain_text(f"{active_before - 1} active case")
    expect(page.get_by_role("link", name=case_name, exact=True)).to_have_count(0)


def test_sla_risk_queue_is_ordered_most_likely_to_breach_first(signed_in, screenshots):
    page = signed_in("operations-leader")
    page.goto("/advocacy/risk/")
    table = page.get_by_role("table")
    expect(table.locator("caption")).to_contain_text("most likely to breach first")
    header = table.locator("thead th").all_inner_texts()
    column = header.index("Breach probability") + 1
    screenshot(page, screenshots, "advocacy-risk-queue")

    # Read every page through the pager, as a user would, and keep the order shown.
    shown = []
    while True:
        cells = page.get_by_role("table").locator(f"tbody tr > :nth-child({column})")
        shown += [int(text.rstrip("%")) for text in cells.all_inner_texts()]
        following = page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next")
        if not following.count():
            break
        following.click()
        expect(page.get_by_text(re.compile(r"Page \d+ of \d+"))).to_be_visible()

    total = int(re.match(r"(\d+) active case", page.locator("caption").inner_text())[1])
    assert len(shown) == total
    assert shown == sorted(shown, reverse=True)
    assert len(set(shown)) > 1, "the demo's cases differ in risk: an order must show"
