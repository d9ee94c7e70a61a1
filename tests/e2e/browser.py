"""What the browser tests do on every page: sign in, check accessibility, take screenshots."""

import json
from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import expect

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "opsintel-demo"  # opsintel/demo.py: every demo login shares it

# axe-core from its Python package (axe-playwright-python ships axe.min.js), not a CDN.
AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
# Serious and critical violations fail; moderate and minor ones are reported only.
FAILING_IMPACTS = ("serious", "critical")


def sign_in(page, username, password=DEMO_PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def accessibility_violations(page):
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now, serious ones first.

    page.evaluate runs through the DevTools protocol, so the site's CSP (no inline or foreign
    scripts) does not stop it and does not need loosening for the test."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    results = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            resultTypes: ["violations"],
        })"""
    )
    return sorted(
        results["violations"],
        key=lambda v: ("critical", "serious", "moderate", "minor").index(v["impact"] or "minor"),
    )


def assert_accessible(page):
    failing = [v for v in accessibility_violations(page) if v["impact"] in FAILING_IMPACTS]
    described = [
        f"{v['impact']} {v['id']}: {v['help']} — "
        + json.dumps([node["target"] for node in v["nodes"][:5]])
        for v in failing
    ]
    assert not failing, f"{page.url} has accessibility violations:\n" + "\n".join(described)


def screenshot(page, folder, name):
    """Save the page at desktop and phone width: `name`-desktop.png and `name`-phone.png."""
    original = page.viewport_size
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.screenshot(path=folder / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size(original)


def horizontal_overflow(page):
    """How many CSS pixels the page is wider than the window (0: nothing to scroll sideways)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def forgive_console_error(page, status, path=""):
    """An answer the test expects (a refused form's 400, a guessed URL's 404) is logged by
    Chromium as a failed resource; check it was logged, and take it off the list the
    `new_page` fixture fails the test on."""
    expected = [
        problem
        for problem in page.console_problems
        if f"status of {status}" in problem and path in problem
    ]
    assert expected, f"no HTTP {status} was logged: {page.console_problems}"
    page.console_problems[:] = [p for p in page.console_problems if p not in expected]


def tab_to(page, target, limit=80):
    """Press Tab until `target` (a locator) has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{target} cannot be reached with the Tab key")
