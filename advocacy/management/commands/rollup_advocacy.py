from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from advocacy.rollups import refresh


def parse_moment(value):
    """An ISO date or date-time; without a zone it is read in the configured TIME_ZONE."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--as-of must be a date or date-time like 2026-01-31T09:00; got {value!r}"
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = (
        "Recompute the advocacy rollup tables (case facts, KPIs by case type, advocate caseload, "
        "bottleneck segments) as of now, or as of --as-of."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            dest="as_of",
            help="moment to compute as of: YYYY-MM-DD or YYYY-MM-DDTHH:MM (TIME_ZONE if no zone)",
        )

    def handle(self, *args, as_of=None, **options):
        moment = parse_moment(as_of) if as_of else None
        counts = refresh(moment)
        for table, rows in counts.items():
            self.stdout.write(f"{table}: {rows} rows")
