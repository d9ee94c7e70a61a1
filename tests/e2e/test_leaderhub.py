"""The Leader Hub in the browser: a market manager reads a market and drills down to one
provider's visits and one shift; a lead APP switches between their own hub and the leader's
view; a provider cannot open anything of a market that is not theirs.

Rankings and filters are checked against what the page shows (order, filter values), not
against fixed demo figures, so the tests hold whatever day the demo was seeded.
"""

import re

from playwright.sync_api import expect

from tests.e2e.browser import assert_accessible, forgive_console_error, screenshot, tab_to

NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def ranked_rows(page):
    """(rank, name, position, value) of each ranked row of the rankings table."""
    rows = []
    for row in page.locator("table.rankings tbody tr").all():
        rank, name, position, value = (
            cell.strip() for cell in row.locator("td").all_inner_texts()[:4]
        )
        if rank != "—":
            # The name cell starts with the avatar's initials, hidden from screen readers.
            name = name.splitlines()[-1].strip()
            rows.append((int(rank), name, position, float(NUMBER.search(value)[0])))
    return rows


def assert_ranked(rows, *, lower_is_better):
    """Within each position, rank 1 first and the values in the metric's better-first order."""
    assert rows
    for position in {row[2] for row in rows}:
        ranks = [row[0] for row in rows if row[2] == position]
        values = [row[3] for row in rows if row[2] == position]
        assert ranks == sorted(ranks)
        assert ranks[0] == 1
        assert values == sorted(values, reverse=not lower_is_better)


def options(select):
    return [text.strip() for text in select.locator("option").all_inner_texts()]


def expect_not_found(page, path):
    """The path answers the "Page not found" page; nothing of what it points at is shown."""
    response = page.goto(path)
    assert response.status == 404
    expect(page.get_by_role("heading", name=re.compile("Page not found"))).to_be_visible()
    forgive_console_error(page, 404, path)


def test_market_manager_drills_down_from_market_to_shift(signed_in, screenshots):
    page = signed_in("market-manager")
    page.goto("/leader-hub/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Leader Hub")
    # The demo's market manager oversees Denver only: the switch offers nothing else.
    assert options(page.get_by_label("Market", exact=True)) == ["Denver"]
    expect(page.get_by_role("heading", level=2, name=re.compile("^Denver"))).to_be_visible()
    expect(page.locator("ul.metric-cards > li")).to_have_count(4)

    # Ranking tabs: each orders the care team by its metric, best first within a position.
    tabs = page.get_by_role("navigation", name="Ranking metric")
    tabs.get_by_role("link", name="NPS").click()
    expect(tabs.get_by_role("link", name="NPS")).to_have_attribute("aria-current", "page")
    expect(page.locator("table.rankings thead")).to_contain_text("NPS")
    assert_ranked(ranked_rows(page), lower_is_better=False)
    tabs.get_by_role("link", name="On-scene time").click()
    expect(tabs.get_by_role("link", name="On-scene time")).to_have_attribute("aria-current", "page")
    ranked = ranked_rows(page)
    assert_ranked(ranked, lower_is_better=True)
    assert_accessible(page)
    screenshot(page, screenshots, "leaderhub-rankings")

    # Search a name: only matching care team members stay, on the same tab.
    name = ranked[-1][1]
    last_name = name.split()[-1]
    page.get_by_label("Name", exact=True).fill(last_name)
    page.get_by_label("Name", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(rf"metric=on_scene_time&q={last_name}"))
    names = [row[1] for row in ranked_rows(page)]
    assert name in names
    assert all(last_name in other for other in names)

    # One individual: their hub, then their visits filtered by ABX with the keyboard alone.
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("link", name="Back to the Leader Hub")).to_be_visible()
    abx = page.get_by_label("ABX", exact=True)
    tab_to(page, abx)
    page.keyboard.type("Yes")
    expect(abx).to_have_value("yes")
    tab_to(page, page.get_by_role("button", name="Filter"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"abx=yes"))
    visits = page.locator("table.visits tbody tr")
    expect(visits).not_to_have_count(0)
    abx_cells = page.locator("table.visits tbody tr td:nth-child(5)").all_inner_texts()
    assert {cell.strip() for cell in abx_cells} == {"Yes"}

    # A search that finds nothing says so and offers the way back.
    page.get_by_label("Patient or athena id").fill("no such patient")
    page.get_by_label("Patient or athena id").press("Enter")
    expect(page.locator("#visits .empty-state")).to_contain_text("No visits match these filters.")
    page.get_by_role("link", name="Show all visits").click()
    expect(visits).not_to_have_count(0)
    expect(abx).to_have_value("")
    assert_accessible(page)
    screenshot(page, screenshots, "leaderhub-individual")

    # One shift: its timeline, with the same segments as a table.
    page.locator("#shifts").get_by_role("link", name=re.compile("^See details")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Shift on \d\d/"))
    timeline = page.get_by_role("img", name=re.compile(f"^Shift of {re.escape(name)} on"))
    expect(timeline).to_be_visible()
    page.get_by_text("Timeline table").click()
    table = page.locator("details.text-alternative table")
    expect(table.locator("tbody tr")).not_to_have_count(0)
    legend = set(page.get_by_role("list", name="Legend").locator("li").all_inner_texts())
    stages = set(table.locator("tbody td:nth-child(3)").all_inner_texts())
    assert stages <= {label.strip() for label in legend}
    assert_accessible(page)
    screenshot(page, screenshots, "leaderhub-shift")


def test_lead_app_switches_to_the_leaders_view_and_between_markets(signed_in, screenshots):
    page = signed_in("lead-app")
    page.goto("/leader-hub/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My Performance Hub")
    hub_nav = page.get_by_role("navigation", name="Leader Hub")
    expect(hub_nav.get_by_role("link", name="My Performance Hub")).to_have_attribute(
        "aria-current", "page"
    )

    page.get_by_role("link", name="Leader's view").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Leader Hub")
    expect(hub_nav.get_by_role("link", name="Leader Hub")).to_have_attribute("aria-current", "page")
    market = page.get_by_label("Market", exact=True)
    assert options(market) == ["Colorado Springs", "Denver"]
    for name in ("Denver", "Colorado Springs"):
        market.select_option(label=name)
        expect(page.get_by_role("heading", level=2, name=re.compile(f"^{name}"))).to_be_visible()
        expect(page.locator("table.rankings caption")).to_contain_text(f"{name}: care team")
        expect(market).to_have_value(re.compile(r"^\d+$"))
    screenshot(page, screenshots, "leaderhub-lead-leaders-view")

    page.get_by_role("link", name="My performance", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My Performance Hub")


def test_provider_cannot_open_another_market(signed_in):
    # What a leader of Colorado Springs can open there: the market, a provider, a shift.
    leader = signed_in("lead-app")
    leader.goto("/leader-hub/markets/")
    market = leader.get_by_label("Market", exact=True)
    market.select_option(label="Colorado Springs")
    expect(market).to_have_value(re.compile(r"^\d+$"))
    springs = market.input_value()
    member = leader.locator("table.rankings tbody a.member").first
    provider_name = member.inner_text().strip()
    provider_path = member.get_attribute("href")
    member.click()
    leader.get_by_label("Period", exact=True).select_option(label="Last 365 days")
    shift_path = (
        leader.locator("#shifts")
        .get_by_role("link", name=re.compile("^See details"))
        .first.get_attribute("href")
    )

    page = signed_in("app")
    # Django's debug 404 page names no icon, so the browser would ask for /favicon.ico (a 404
    # logged at any moment); the site's own pages name theirs.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto("/leader-hub/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My Performance Hub")
    assert options(page.get_by_label("Market", exact=True)) == ["Denver"]
    expect(page.get_by_role("link", name="Leader's view")).to_have_count(0)

    for path in (
        f"/leader-hub/me/?market={springs}",
        provider_path,
        shift_path,
    ):
        expect_not_found(page, path)
        expect(page.locator("body")).not_to_contain_text(provider_name)
        expect(page.locator("body")).not_to_contain_text("Colorado Springs")

    # The market page itself is for leaders: a provider is taken back to their own hub.
    page.goto(f"/leader-hub/markets/?market={springs}")
    expect(page.get_by_role("heading", level=1)).to_have_text("My Performance Hub")
    expect(page.locator("main")).not_to_contain_text("Colorado Springs")
