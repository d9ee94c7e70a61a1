"""Server-rendered SVG charts: no JavaScript, no CDN, readable by screen readers.

Each chart carries a <title> and <desc>; pages show the same figures in a table next to it
(the text alternative). Colours come from the site stylesheet (classes `chart-bar`,
`chart-line`, `chart-axis`), so charts print and follow the page's contrast.
"""

import math
from decimal import Decimal

from django.utils import timezone
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


def timeline_chart(segments, *, title, start, end, width=640, lane_height=28):
    """A horizontal timeline from `start` to `end` (aware datetimes).

    Segments are dicts (or objects) with `start`, `end`, `stage` and `label`; each is drawn as
    one rectangle classed `chart-segment chart-segment-<stage>` so the stylesheet colours the
    stages. Times are shown in the current time zone; the page shows the same segments in a
    table (the text alternative).
    """

    def value(segment, key):
        return segment[key] if isinstance(segment, dict) else getattr(segment, key)

    segments = [
        {
            "start": value(s, "start"),
            "end": value(s, "end"),
            "stage": str(value(s, "stage")),
            "label": str(value(s, "label")),
        }
        for s in segments
    ]
    if not segments or end <= start:
        return format_html('<p class="chart-empty">{}: nothing to show yet.</p>', title)
    left, right, top, bottom = 8, 8, 8, 24
    plot = width - left - right
    height = top + lane_height + bottom
    total = (end - start).total_seconds()

    def x_of(moment):
        offset = (moment - start).total_seconds() / total
        return left + max(0.0, min(1.0, offset)) * plot

    def local(moment):
        return f"{timezone.localtime(moment):%I:%M %p}".lstrip("0")

    rects = format_html_join(
        "",
        '<rect class="chart-segment chart-segment-{}" x="{}" y="{}" width="{}" height="{}">'
        "<title>{}: {}–{}</title></rect>",
        (
            (
                s["stage"].replace("_", "-"),
                f"{x_of(s['start']):.1f}",
                top,
                f"{max(0.5, x_of(s['end']) - x_of(s['start'])):.1f}",
                lane_height,
                s["label"],
                local(s["start"]),
                local(s["end"]),
            )
            for s in segments
        ),
    )
    description = "; ".join(f"{s['label']} {local(s['start'])}–{local(s['end'])}" for s in segments)
    return format_html(
        '<svg class="chart chart-timeline" role="img" viewBox="0 0 {w} {h}" width="100%" '
        'preserveAspectRatio="xMinYMin meet"><title>{title}</title><desc>{desc}</desc>'
        '<line class="chart-axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"/>{rects}'
        '<text class="chart-label" x="{l}" y="{ty}">{first}</text>'
        '<text class="chart-label" x="{r}" y="{ty}" text-anchor="end">{last}</text></svg>',
        w=width,
        h=height,
        title=title,
        desc=description,
        l=left,
        r=width - right,
        b=top + lane_height + 2,
        ty=height - 6,
        rects=rects,
        first=local(start),
        last=local(end),
    )


def route_chart(points, *, title, width=640, height=320):
    """A route as a polyline through (latitude, longitude) points, in order; no map tiles.

    The points are projected onto the box (longitude scaled by the cosine of the mean
    latitude, so shapes keep their proportions); start and end are marked. The text shows no
    coordinates: positions on scene are patients' addresses.
    """
    points = [(float(lat), float(lon)) for lat, lon in points]
    if len(points) < 2:
        return format_html('<p class="chart-empty">{}: not enough positions to draw.</p>', title)
    pad = 16
    mean_lat = sum(lat for lat, _ in points) / len(points)
    squeeze = math.cos(math.radians(mean_lat)) or 1
    xs = [lon * squeeze for _, lon in points]
    ys = [lat for lat, _ in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1
    scale = min(width, height) - 2 * pad
    left = (width - (max(xs) - min(xs)) / span * scale) / 2  # centred across the box
    projected = [
        (left + (x - min(xs)) / span * scale, height - pad - (y - min(ys)) / span * scale)
        for x, y in zip(xs, ys, strict=True)
    ]
    coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in projected)
    (sx, sy), (ex, ey) = projected[0], projected[-1]
    return format_html(
        '<svg class="chart chart-route" role="img" viewBox="0 0 {w} {h}" width="100%" '
        'preserveAspectRatio="xMinYMin meet"><title>{title}</title><desc>{desc}</desc>'
        '<polyline class="chart-line" points="{points}"/>'
        '<circle class="chart-dot chart-route-start" cx="{sx}" cy="{sy}" r="5">'
        "<title>Start</title></circle>"
        '<circle class="chart-dot chart-route-end" cx="{ex}" cy="{ey}" r="5">'
        "<title>End</title></circle>"
        "</svg>",
        w=width,
        h=height,
        title=title,
        # No coordinates in the text: on-scene positions are patients' addresses.
        desc=f"Route through {len(points)} recorded positions, start and end marked",
        points=coordinates,
        sx=f"{sx:.1f}",
        sy=f"{sy:.1f}",
        ex=f"{ex:.1f}",
        ey=f"{ey:.1f}",
    )
