"""Copy the screenshots the docs show from var/screenshots/ into docs/img/, made small.

The browser tests write full-size, full-page PNGs (`pytest tests/e2e/test_pages.py`); the docs
need a few of them, at most 1000 px wide, cut to the top of the page (what a reader sees on
opening it) and reduced to 256 colours, so each stays well under 250 KB in the repository.

    make docs-screenshots        # after the browser tests have run
    python scripts/docs_screenshots.py OTHER_FOLDER   # shots kept elsewhere
"""

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "var" / "screenshots"
TARGET = ROOT / "docs" / "img"
MAX_WIDTH = 1000

# (screenshot written by tests/e2e/test_pages.py, height kept after scaling, in pixels)
SHOTS = [
    ("home-desktop", 620),
    ("campaigns-build-desktop", 1100),
    ("campaigns-detail-desktop", 1100),
    ("campaigns-my-list-phone", 1300),
    ("leaderhub-markets-desktop", 1100),
    ("leaderhub-provider-desktop", 1100),
    ("leaderhub-me-phone", 1300),
    ("advocacy-executive-desktop", 1100),
    ("advocacy-cases-desktop", 1100),
    ("advocacy-my-cases-phone", 1300),
    ("rcm-dashboard-desktop", 1100),
    ("rcm-queue-desktop", 900),
    ("rcm-claims-desktop", 900),
    ("engagement-dashboard-desktop", 1100),
    ("engagement-book-desktop", 300),
    ("engagement-schedule-phone", 1300),
]


def shrink(source, target, max_height):
    with Image.open(source) as image:
        image = image.convert("RGB")
        if image.width > MAX_WIDTH:
            height = round(image.height * MAX_WIDTH / image.width)
            image = image.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
        image = image.crop((0, 0, image.width, min(image.height, max_height)))
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def main(source=SOURCE):
    missing = [name for name, _ in SHOTS if not (source / f"{name}.png").is_file()]
    if missing:
        sys.exit(
            f"No screenshot {', '.join(missing)} in {source}/. Run the browser tests "
            "first: .venv/bin/pytest -q tests/e2e/test_pages.py"
        )
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, max_height in SHOTS:
        target = TARGET / f"{name}.png"
        shrink(source / f"{name}.png", target, max_height)
        print(f"{target.relative_to(ROOT)}  {target.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
