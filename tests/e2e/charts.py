"""Checks on the server-rendered SVG charts (opsintel/charts.py) as a user and a screen reader
meet them: the chart is drawn, it has a name, and the figures it draws are also in a table."""

import re

from playwright.sync_api import expect

# A bar chart's <desc> lists "label value[unit]" items separated by "; " (opsintel/charts.py).
BAR_ITEM = re.compile(r"^(?P<label>.+) (?P<number>[\d,]+(?:\.\d+)?)(?P<unit>.*)$")

# For each chart in <main>: its title, its description, whether it draws bars, and the text of
# every row of the tables in the same section (the chart's text alternative).
CHARTS_JS = """() => [...document.querySelectorAll("main svg.chart")].map((svg) => {
    const section = svg.closest("section") || svg.parentElement;
    return {
        title: svg.querySelector(":scope > title").textContent,
        desc: svg.querySelector(":scope > desc").textContent,
        bars: svg.querySelectorAll("rect.chart-bar").length,
        rows: [...section.querySelectorAll("table tr")].map(
            (tr) => [...tr.children].map((cell) => cell.textContent.trim())
        ),
    };
})"""


NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def bar_items(description):
    """[(label, value, as written)] from a bar chart's description."""
    items = []
    for item in description.split("; "):
        match = BAR_ITEM.match(item)
        assert match, f"unexpected bar chart description item {item!r}"
        items.append((match["label"], float(match["number"].replace(",", "")), item))
    return items


def same_figure(value, cell):
    """Whether a table cell shows the bar's value. The chart rounds to one decimal and the
    table may round differently ("38%" in one, "38.0%" in the other), so they agree when the
    difference is within both roundings."""
    match = NUMBER.search(cell.replace(",", ""))
    if not match:
        return False
    shown = match[0]
    decimals = len(shown.partition(".")[2])
    return abs(float(shown) - value) <= 0.5 * 10**-decimals + 0.05


def _cells_for(label, rows):
    """The table cells about one bar: its row (the label in one of its cells) or, in a table
    the other way round, its column (labels across the header, e.g. "0-30 days")."""
    for row in rows[1:]:
        if label in row:
            return [cell for cell in row if cell != label]
    header = rows[0]
    for index, heading in enumerate(header):
        if heading == label or heading.startswith(label + " "):
            return [row[index] for row in rows[1:] if len(row) > index]
    return []


def assert_charts_have_text_alternatives(page, *, at_least=1):
    """Every chart on the page is visible, named (role img + <title>), and has a table beside
    it; a bar chart's figures are each in that table, on the row of the bar's label.

    Returns the chart titles, so a test can also check which charts the page drew."""
    charts = page.evaluate(CHARTS_JS)
    assert len(charts) >= at_least, f"{page.url}: {len(charts)} charts, expected {at_least}+"
    for chart in charts:
        expect(page.get_by_role("img", name=chart["title"], exact=True).first).to_be_visible()
        assert chart["rows"], f"chart {chart['title']!r} has no table beside it"
        if not chart["bars"]:
            continue
        for label, value, written in bar_items(chart["desc"]):
            cells = _cells_for(label, chart["rows"])
            assert cells, f"{chart['title']!r}: no table row or column for {label!r}"
            assert any(same_figure(value, cell) for cell in cells), (
                f"{chart['title']!r}: the bar says {written!r}, the table {cells}"
            )
    return [chart["title"] for chart in charts]
