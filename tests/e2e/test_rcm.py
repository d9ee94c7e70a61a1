"""AR follow-up in the browser: the AR manager routes the claims and reads the queues; an agent
writes an appeal letter for a denied claim and downloads it."""

import re
import uuid
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.browser import assert_accessible, screenshot
from tests.e2e.charts import assert_charts_have_text_alternatives


def figure(page, caption):
    """The number on the dashboard's figure card whose caption starts with `caption`."""
    card = page.locator("ul.figures > li", has=page.locator(".caption", has_text=caption))
    return int(card.locator(".figure").inner_text().replace(",", ""))


def table_rows(table):
    """{first cell: [the other cells]} of a table's body, as shown."""
    rows = {}
    for row in table.locator("tbody tr").all():
        cells = [cell.strip() for cell in row.locator("th, td").all_inner_texts()]
        rows[cells[0]] = cells[1:]
    return rows


def test_ar_manager_runs_the_assignment_and_sees_the_queue_counts(signed_in, screenshots):
    page = signed_in("ar-manager")
    page.goto("/rcm/dashboard/")
    open_claims = figure(page, "open claims (")
    run = page.get_by_role("form", name="Run now")
    expect(run).to_have_attribute("data-progress", "Running the automation…")

    run.get_by_label("Assign claims to queues and agents").check()
    run.get_by_label("Re-route claims that already have an agent").check()
    run.get_by_role("button", name="Run now").click()

    message = page.get_by_role("status").filter(has_text="Assigned")
    expect(message).to_be_visible()
    found = re.search(r"Assigned (\d+) of (\d+) claims \((.+)\)\.", message.inner_text())
    assert found, message.inner_text()
    assigned, items = int(found[1]), int(found[2])
    per_queue = {
        name: int(count) for name, count in (part.split(": ") for part in found[3].split(", "))
    }
    # Every open claim went through the rules, and each landed in a queue.
    assert assigned == items == open_claims == sum(per_queue.values())
    expect(page.get_by_text(re.compile(r"open claims \(0 not routed yet\)"))).to_be_visible()

    queues = table_rows(page.get_by_role("table").filter(has_text="Active agents"))
    shown = {queue: int(cells[0]) for queue, cells in queues.items()}
    assert shown == {queue: per_queue.get(queue, 0) for queue in shown}
    assert set(per_queue) <= set(shown)

    runs = page.get_by_role("region", name="Recent runs").get_by_role("table")
    latest = runs.locator("tbody tr").first.locator("td").all_inner_texts()
    assert latest[1:5] == ["Claim assignment", str(items), str(assigned), "0"]
    assert_charts_have_text_alternatives(page, at_least=5)
    screenshot(page, screenshots, "rcm-assignment-run")


def test_agent_writes_an_appeal_letter_and_downloads_it(signed_in, screenshots):
    page = signed_in("general-agent")
    page.goto("/rcm/claims/")
    filters = page.get_by_role("form", name=re.compile("filter", re.IGNORECASE))
    filters.get_by_label("Status").select_option(label="Denied")
    filters.get_by_role("button", name="Filter").click()
    claims = page.get_by_role("main").get_by_role("table")
    expect(claims.locator("caption")).to_contain_text("matching the filters")
    # A claim whose denial reason is known: the letter follows it.
    claim_number = next(
        claim for claim, cells in table_rows(claims).items() if cells[5] not in ("", "—")
    )
    expect(claims.locator("thead th").nth(6)).to_have_text("Denial reason")
    claims.get_by_role("link", name=claim_number, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Claim {claim_number}")
    justification = f"Two falls in a month made the imaging necessary (ref {uuid.uuid4().hex[:8]})."

    appeal = page.get_by_role("form", name=f"Write an appeal letter for claim {claim_number}")
    expect(appeal).to_be_visible()  # open at once on a denied claim
    reason = page.locator("dl.figures div", has=page.locator("dt", has_text="Denial reason"))
    denial_reason = reason.locator("dd").inner_text()
    expect(appeal.get_by_label("Denial reason")).to_have_value(re.compile(r"\w+"))
    appeal.get_by_label("Clinical justification").fill(justification)
    appeal.get_by_role("button", name="Write appeal letter").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(claim_number)
    expect(page.get_by_role("status")).to_contain_text("written")
    letter = page.get_by_role("article")
    expect(letter).to_contain_text(f"Claim number: {claim_number}")
    expect(letter).to_contain_text(justification)
    expect(letter).to_contain_text(f"Denial reason: {denial_reason}")
    screenshot(page, screenshots, "rcm-appeal-letter")

    with page.expect_download() as text_download:
        page.get_by_role("link", name="Download text").click()
    text = Path(text_download.value.path()).read_text()
    assert f"Claim number: {claim_number}" in text
    assert justification in text
    assert claim_number.lower() in text_download.value.suggested_filename

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Download PDF").click()
    assert Path(pdf_download.value.path()).read_bytes().startswith(b"%PDF-")
    assert pdf_download.value.suggested_filename.endswith(".pdf")

    page.get_by_role("link", name=f"Claim {claim_number}").click()
    documents = page.get_by_role("region", name="Appeals and documents")
    expect(documents.get_by_role("link", name=re.compile(claim_number))).not_to_have_count(0)


def test_manager_without_a_queue_is_told_where_to_work(signed_in):
    page = signed_in("ar-manager")
    page.goto("/rcm/queue/")

    empty = page.locator(".empty-state")
    expect(empty).to_contain_text("You have no work queue of your own.")
    empty.get_by_role("link", name="browse the claims").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Claims")
    assert_accessible(page)
