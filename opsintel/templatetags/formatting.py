"""Numbers as people read them: money with a currency sign and thousands, rates as percents."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()


def _decimal(value):
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


@register.filter
def money(value):
    """Decimal("-1234.5") → "-$1,234.50"."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    amount = amount.quantize(Decimal("0.01"), ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def percent(value, places=1):
    """A rate 0..1 as a percentage: Decimal("0.5878") → "58.8%"."""
    rate = _decimal(value)
    if rate is None:
        return "—"
    return f"{rate * 100:.{int(places)}f}%"
