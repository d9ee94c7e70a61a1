"""Every relative link and image in README.md and docs/ points at a file that exists, and a
link to a heading (`page.md#heading`) at a heading that exists, so a renamed or removed doc,
section or screenshot breaks the build rather than the reader."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)|<img [^>]*src=\"([^\"]+)\"")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.MULTILINE)


def prose(path):
    return FENCE.sub("", path.read_text(encoding="utf-8"))  # code blocks hold no links


def anchors(path):
    """The heading ids GitHub gives a page: lower case, punctuation dropped, spaces to -."""
    return {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading in HEADING.findall(prose(path))
    }


def relative_links(page):
    for match in LINK.finditer(prose(page)):
        target = match.group(1) or match.group(2)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target):  # skip https:, mailto: …
            yield target


def broken_links(page):
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        file = page.parent / path if path else page
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file)):
            yield target


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_resolve(page):
    assert list(broken_links(page)) == []
