"""Pharmacy engagement in the browser: the front desk books a slot, a second desk trying the same
slot is refused, and the manager's dashboard shows the KPIs against their targets."""

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.e2e.browser import assert_accessible, forgive_console_error, screenshot
from tests.e2e.charts import assert_charts_have_text_alternatives

FRONT_DESK = "administrative-staff"
SERVICE = "Health screening"
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def next_working_week():
    """Monday to Friday of a week at least five days ahead: shifts are planned, nothing of it
    has started in any time zone, and the week is the same for both desks of a test."""
    monday = date.today() + timedelta(days=5)
    monday += timedelta(days=-monday.weekday() % 7)
    return monday, monday + timedelta(days=4)


def choose_patient(page, surname, nth):
    """Find patients by name on the booking page and pick the nth; returns their name."""
    page.goto("/engagement/book/")
    search = page.get_by_role("search")
    search.get_by_label("Name").fill(surname)
    search.get_by_role("button", name="Find").click()
    match = page.get_by_role("region", name="1. Patient").get_by_role("link").nth(nth)
    name = match.inner_text()
    match.click()
    expect(page.get_by_role("region", name="1. Patient")).to_contain_text(name)
    return name


def find_slots(page, first_day, last_day):
    form = page.get_by_role("region", name="2. Service, place and days")
    form.get_by_label("Appointment type").select_option(label=SERVICE)
    form.get_by_label("From").fill(first_day.isoformat())
    form.get_by_label("To").fill(last_day.isoformat())
    form.get_by_role("button", name="Find free slots").click()
    return page.get_by_role("region", name="3. Pick a slot")


def slot_rows(slots):
    """[(when, staff member)] of the offered slots, in the page's order."""
    return [
        tuple(row.locator("td").nth(i).inner_text() for i in (0, 1))
        for row in slots.locator("tbody tr").all()
    ]


def test_front_desk_books_a_slot_and_a_second_desk_is_refused_it(signed_in, screenshots):
    first_day, last_day = next_working_week()
    desk = signed_in(FRONT_DESK)
    other_desk = signed_in(FRONT_DESK)
    patient = choose_patient(desk, "Anderson", 0)
    other_patient = choose_patient(other_desk, "Anderson", 1)
    slots, other_slots = (
        find_slots(desk, first_day, last_day),
        find_slots(other_desk, first_day, last_day),
    )
    expect(slots.get_by_role("table")).to_contain_text("Earliest free slots")
    offered = slot_rows(slots)
    # Both desks are offered the same earliest slot, before either books.
    assert slot_rows(other_slots)[0] == offered[0]
    when, staff = offered[0]  # e.g. ("Mon Nov 30, 08:00", "Irene Costa")
    day, time = when.rsplit(", ", 1)

    slots.get_by_role("button", name="Book").first.click()

    expect(desk.get_by_role("heading", level=1)).to_have_text(SERVICE)
    expect(desk.get_by_role("status").filter(has_text="Booked:")).to_have_text(
        f"Booked: {SERVICE} for {patient} with {staff} on {day} at {time}."
    )
    screenshot(desk, screenshots, "engagement-booked")

    other_slots.get_by_role("button", name="Book").first.click()

    refusal = other_desk.get_by_role("alert")
    expect(refusal).to_contain_text("Not booked:")
    expect(refusal).to_contain_text(f"{staff} has another appointment then.")
    # Nothing was booked for the second patient, and the slot is no longer offered.
    expect(other_desk.get_by_role("region", name="1. Patient")).to_contain_text(other_patient)
    refreshed = other_desk.get_by_role("region", name="3. Pick a slot")
    expect(refreshed.get_by_role("table")).to_be_visible()
    assert (when, staff) not in slot_rows(refreshed)
    forgive_console_error(other_desk, 400)
    assert_accessible(other_desk)
    screenshot(other_desk, screenshots, "engagement-double-booking-refused")


def test_a_day_without_shifts_explains_what_to_try(signed_in):
    page = signed_in(FRONT_DESK)
    choose_patient(page, "Anderson", 2)
    monday, _ = next_working_week()
    sunday = monday - timedelta(days=1)

    slots = find_slots(page, sunday, sunday)

    expect(slots.get_by_text("No free slot in those days.")).to_be_visible()
    expect(slots).to_contain_text("Try later days or another location.")
    expect(slots.get_by_role("button", name="Book")).to_have_count(0)


def target_met(value, rule):
    """Whether `value` meets a target as the page words it: "at least 95.0%", "at most
    10.0%", "75.0%–85.0%". None when the shown figures are too close to tell."""
    bounds = [float(n.replace(",", "")) for n in NUMBER.findall(rule)]
    if value in bounds:
        return None  # both rounded for display: the true figures decide
    if rule.startswith("at least"):
        return value >= bounds[0]
    if rule.startswith("at most"):
        return value <= bounds[0]
    return bounds[0] <= value <= bounds[1]


def test_manager_dashboard_shows_the_kpis_against_their_targets(signed_in, screenshots):
    page = signed_in("pharmacy-manager")
    page.goto("/engagement/dashboard/")
    expect(page.get_by_role("heading", name=re.compile(r"^KPIs, "))).to_be_visible()

    cards = page.get_by_role("list", name="KPIs").get_by_role("listitem")
    with_targets = 0
    for card in cards.all():
        label = card.locator(".caption").inner_text()
        shown = card.locator(".figure").inner_text()
        goal = card.locator(".goal")
        if not goal.count():
            continue
        with_targets += 1
        verdict = re.fullmatch(
            r"Target (?P<rule>.+) · (?P<verdict>on target|off target|no data yet)",
            goal.inner_text().strip(),
        )
        assert verdict, f"{label}: {goal.inner_text()!r}"
        number = NUMBER.search(shown)
        if verdict["verdict"] == "no data yet":
            assert number is None, f"{label} shows {shown} but says no data yet"
            continue
        met = target_met(float(number[0].replace(",", "")), verdict["rule"])
        if met is not None:
            assert met == (verdict["verdict"] == "on target"), f"{label}: {shown} vs {goal}"
        # The colour says the same as the words.
        colour = "goal-met" if verdict["verdict"] == "on target" else "goal-missed"
        expect(card).to_have_class(re.compile(rf"\b{colour}\b"))
    assert with_targets >= 4, "completion, no-show, satisfaction and utilization have targets"

    assert_charts_have_text_alternatives(page, at_least=2)
    expect(page.get_by_role("region", name="Per staff").get_by_role("table")).to_be_visible()
    screenshot(page, screenshots, "engagement-dashboard-kpis")
