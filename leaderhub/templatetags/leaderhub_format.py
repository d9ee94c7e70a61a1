"""Leader Hub display helpers: metric figures and week changes as people read them, durations
as h:mm, initials for a missing avatar. Formatting only; the figures come from the rollups."""

from django import template

from leaderhub.metrics import METRICS

register = template.Library()

FLAT = 0.005  # a change that rounds to 0.00 is no change


@register.filter
def metric_value(value, key):
    """The figure with its unit: "42.5 min", "85%", "+40" (NPS), "—" when unknown."""
    if value is None:
        return "—"
    metric = METRICS[key]
    if key == "net_promoter_score":
        return f"{value:+.0f}" if round(value) else "0"
    return f"{value:.1f}".removesuffix(".0") + metric.unit


@register.filter
def metric_change(change, key):
    """The size of a week change with its unit ("2.5 pts", "3 min", "12"); the arrow and its
    colour come from `change_arrow` and `change_class`."""
    if change is None:
        return "no week-ago figure"
    metric = METRICS[key]
    size = f"{abs(change):.0f}" if key == "net_promoter_score" else f"{abs(change):.1f}"
    size = size.removesuffix(".0")
    if key == "net_promoter_score":
        return size
    return size + (" pts" if metric.unit == "%" else metric.unit)


@register.filter
def change_arrow(change):
    if change is None:
        return ""
    if abs(change) < FLAT:
        return "▬"
    return "▲" if change > 0 else "▼"


@register.filter
def change_class(change, key):
    """change-better / change-worse / change-flat: whether the change is an improvement."""
    if change is None or abs(change) < FLAT:
        return "change-flat"
    return "change-better" if (change > 0) == METRICS[key].higher_is_better else "change-worse"


@register.filter
def change_words(change, key):
    """The change for screen readers: "up", "down" or "unchanged", and better or worse."""
    if change is None:
        return "no change known"
    if abs(change) < FLAT:
        return "unchanged from a week ago"
    direction = "up" if change > 0 else "down"
    better = (change > 0) == METRICS[key].higher_is_better
    return f"{direction} from a week ago ({'better' if better else 'worse'})"


@register.filter
def goal_class(figure):
    """goal-met / goal-missed for a selectors.Figure with a goal, else ""."""
    met = figure.meets_goal
    if met is None:
        return ""
    return "goal-met" if met else "goal-missed"


@register.filter
def hmm(seconds):
    """3725 seconds → "1:02" (hours:minutes, rounded down to the minute)."""
    if seconds is None or seconds == "":
        return "—"
    minutes = int(seconds) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


@register.filter
def initials(provider):
    """A provider named Ada Lovelace → "AL"."""
    parts = [getattr(provider, "first_name", ""), getattr(provider, "last_name", "")]
    return "".join(part[:1].upper() for part in parts if part) or "?"


@register.filter
def yes_no(value):
    return "Yes" if value else "No"


@register.simple_tag(takes_context=True)
def page_link(context, param, number):
    """This page's query string with `param` set to `number` (other filters kept)."""
    query = context["request"].GET.copy()
    query[param] = number
    return "?" + query.urlencode()


@register.simple_tag(takes_context=True)
def keep_params(context, *names):
    """Hidden inputs carrying this page's other query parameters through a filter form: every
    parameter except `names` and the page numbers (a new filter starts on page 1)."""
    from django.utils.html import format_html_join

    skip = set(names)
    query = context["request"].GET
    return format_html_join(
        "",
        '<input type="hidden" name="{}" value="{}">',
        (
            (key, value)
            for key in query
            if key not in skip and not key.endswith("page")
            for value in query.getlist(key)
        ),
    )
