"""Every main page, as the people who use it: it renders without console errors, has no serious
accessibility violations (axe-core), fits a phone without sideways scrolling, and is saved as a
screenshot at desktop and phone width under var/screenshots/ (a CI artefact)."""

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import PHONE, assert_accessible, horizontal_overflow, screenshot


@dataclass(frozen=True)
class MainPage:
    name: str  # the screenshot's file name
    login: str  # the demo login that uses the page
    path: str
    # A detail page is reached the way a user reaches it: the first link matching this CSS
    # selector on `path`.
    follow: str = ""
    heading: str = ""  # text the page's <h1> contains


MAIN_PAGES = [
    MainPage("home", "ops-director", "/"),
    # campaigns
    MainPage("campaigns-dashboard", "care-manager", "/campaigns/dashboard/", heading="Campaign"),
    MainPage("campaigns-build", "care-manager", "/campaigns/build/"),
    MainPage("campaigns-list", "care-manager", "/campaigns/list/"),
    MainPage(
        "campaigns-detail",
        "care-manager",
        "/campaigns/list/",
        follow="main tbody a",
    ),
    MainPage("campaigns-my-list", "care-coordinator", "/campaigns/my-list/"),
    MainPage("campaigns-mobile", "care-coordinator", "/campaigns/mobile/"),
    # leaderhub
    MainPage("leaderhub-markets", "market-manager", "/leader-hub/markets/"),
    MainPage(
        "leaderhub-provider",
        "market-manager",
        "/leader-hub/markets/",
        follow="main a[href*='/leader-hub/providers/']",
    ),
    MainPage("leaderhub-me", "lead-app", "/leader-hub/me/"),
    # advocacy
    MainPage("advocacy-my-cases", "advocate", "/advocacy/my-cases/"),
    MainPage("advocacy-cases", "operations-leader", "/advocacy/cases/"),
    MainPage(
        "advocacy-case",
        "operations-leader",
        "/advocacy/cases/",
        follow="main tbody a[href*='/advocacy/cases/']",
    ),
    MainPage("advocacy-risk", "operations-leader", "/advocacy/risk/"),
    MainPage("advocacy-executive", "operations-leader", "/advocacy/dashboards/executive/"),
    MainPage("advocacy-operations", "operations-leader", "/advocacy/dashboards/operations/"),
    MainPage("advocacy-root-cause", "operations-leader", "/advocacy/dashboards/root-cause/"),
    # rcm
    MainPage("rcm-dashboard", "ar-manager", "/rcm/dashboard/"),
    MainPage("rcm-queue", "general-agent", "/rcm/queue/"),
    MainPage("rcm-claims", "ar-manager", "/rcm/claims/"),
    MainPage(
        "rcm-claim", "ar-manager", "/rcm/claims/", follow="main tbody a[href*='/rcm/claims/']"
    ),
    # engagement
    MainPage("engagement-schedule", "pharmacy-manager", "/engagement/schedule/"),
    MainPage("engagement-book", "administrative-staff", "/engagement/book/"),
    MainPage("engagement-patients", "pharmacy-manager", "/engagement/patients/"),
    MainPage("engagement-tasks", "staff-pharmacist", "/engagement/tasks/"),
    MainPage("engagement-dashboard", "pharmacy-manager", "/engagement/dashboard/"),
    MainPage("engagement-reports", "pharmacy-manager", "/engagement/reports/"),
]


@pytest.mark.parametrize("main_page", MAIN_PAGES, ids=lambda p: p.name)
def test_main_page(signed_in, screenshots, main_page):
    page = signed_in(main_page.login)
    response = page.goto(main_page.path)
    assert response.status == 200, f"{main_page.path}: {response.status}"
    if main_page.follow:
        page.locator(main_page.follow).first.click()
        page.wait_for_url(lambda url: urlsplit(url).path != main_page.path)
    if main_page.heading:
        assert main_page.heading in page.locator("h1").first.inner_text()

    assert_accessible(page)
    screenshot(page, screenshots, main_page.name)
    page.set_viewport_size(PHONE)
    assert horizontal_overflow(page) <= 1, f"{page.url} scrolls sideways on a phone"
