from django.core.management.base import BaseCommand

from opsintel.schedule import PERIODIC_JOBS, sync_periodic_tasks


class Command(BaseCommand):
    help = "Create the periodic jobs listed in opsintel/schedule.py that the database lacks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Also put existing jobs back to the listed times and enable them.",
        )

    def handle(self, *args, reset, **options):
        created, updated = sync_periodic_tasks(reset=reset)
        self.stdout.write(
            f"{len(PERIODIC_JOBS)} periodic jobs listed: {created} created, {updated} reset."
        )
