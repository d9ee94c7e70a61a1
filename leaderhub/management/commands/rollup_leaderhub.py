from datetime import date

from django.core.management.base import BaseCommand, CommandError

from leaderhub.rollups import refresh_rollups


class Command(BaseCommand):
    help = "Recompute the Leader Hub metric tables (as of today, or --as-of YYYY-MM-DD)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", help="date to compute as of, YYYY-MM-DD")

    def handle(self, *args, as_of=None, **options):
        try:
            day = date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise CommandError(f"--as-of must be a date like 2026-01-31; got {as_of!r}") from None
        counts = refresh_rollups(day)
        for table, rows in counts.items():
            self.stdout.write(f"{table}: {rows} rows")
