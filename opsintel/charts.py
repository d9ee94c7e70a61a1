"""Server-rendered SVG charts: no JavaScript, no CDN, readable by screen readers.

Each chart carries a <title> and <desc>; pages show the same figures in a table next to it
(the text alternative). Colours come from the site stylesheet (classes `chart-bar`,
`chart-line`, `chart-axis`), so charts print and follow the page's contrast.
"""

from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


def _number(value):
    if isinstance(value, Decimal):
        value = float(value)
    return value


def _label(value):
    value = _number(value)
    if isinstance(value, float):
        return f"{value:,.1f}".rstrip("0").rstrip(".")
    return f"{value:,}"


def bar_chart(rows, *, title, unit="", max_value=None, width=640, bar_height=22):
    """Horizontal bars: rows are (label, value). `max_value` fixes the scale (e.g. 100 for %)."""
    rows = [(str(label), _number(value)) for label, value in rows]
    if not rows:
        return format_html('<p class="chart-empty">{}: nothing to show yet.</p>', title)
    scale_max = _number(max_value) if max_value is not None else max(v for _, v in rows) or 1
    label_width, value_width = 200, 70
    plot = width - label_width - value_width
    gap = 8
    height = len(rows) * (bar_height + gap) + gap
    bars = []
    for index, (label, value) in enumerate(rows):
        y = gap + index * (bar_height + gap)
        length = max(0.0, min(1.0, value / scale_max)) * plot if scale_max else 0
        bars.append(
            format_html(
                '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" rx="3">'
                "<title>{}: {}{}</title></rect>"
                '<text class="chart-value" x="{}" y="{}">{}{}</text>',
                label_width - 8,
                y + bar_height * 0.7,
                label if len(label) <= 26 else label[:25] + "…",
                label_width,
                y,
                f"{length:.1f}",
                bar_height,
                label,
                _label(value),
                unit,
                label_width + length + 6,
                y + bar_height * 0.7,
                _label(value),
                unit,
            )
        )
    description = "; ".join(f"{label} {_label(value)}{unit}" for label, value in rows)
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMinYMin meet"><title>{}</title><desc>{}</desc>{}</svg>',
        width,
        height,
        title,
        description,
        mark_safe("".join(bars)),  # noqa: S308  (each part built by format_html above)
    )


def line_chart(points, *, title, unit="", width=640, height=220):
    """A line over time: points are (date, value), in order."""
    points = [(day, _number(value)) for day, value in points]
    if len(points) < 2:
        return format_html(
            '<p class="chart-empty">{}: the trend appears after two daily snapshots.</p>', title
        )
    left, right, top, bottom = 48, 12, 12, 28
    top_value = max(value for _, value in points) or 1
    step = (width - left - right) / (len(points) - 1)

    def y_of(value):
        return top + (1 - value / top_value) * (height - top - bottom)

    coordinates = " ".join(
        f"{left + index * step:.1f},{y_of(value):.1f}" for index, (_, value) in enumerate(points)
    )
    dots = format_html_join(
        "",
        '<circle class="chart-dot" cx="{}" cy="{}" r="3"><title>{}: {}</title></circle>',
        (
            (f"{left + i * step:.1f}", f"{y_of(v):.1f}", f"{d:%b %d}", _label(v))
            for i, (d, v) in enumerate(points)
        ),
    )
    first, last = points[0][0], points[-1][0]
    description = f"From {first:%b %d} ({_label(points[0][1])}{unit}) to {last:%b %d} " + (
        f"({_label(points[-1][1])}{unit})"
    )
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="100%" '
        'preserveAspectRatio="xMinYMin meet"><title>{title}</title><desc>{desc}</desc>'
        '<line class="chart-axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"/>'
        '<line class="chart-axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}"/>'
        '<text class="chart-label" x="{lx}" y="{ty}" text-anchor="end">{top}</text>'
        '<text class="chart-label" x="{lx}" y="{b}" text-anchor="end">0</text>'
        '<text class="chart-label" x="{l}" y="{dy}">{first}</text>'
        '<text class="chart-label" x="{r}" y="{dy}" text-anchor="end">{last}</text>'
        '<polyline class="chart-line" points="{points}"/>{dots}</svg>',
        w=width,
        h=height,
        title=title,
        desc=description,
        l=left,
        r=width - right,
        t=top,
        b=height - bottom,
        lx=left - 6,
        ty=top + 10,
        dy=height - 8,
        top=_label(top_value),
        first=f"{first:%b %d}",
        last=f"{last:%b %d}",
        points=coordinates,
        dots=dots,
    )
