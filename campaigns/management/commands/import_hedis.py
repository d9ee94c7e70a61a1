from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from campaigns.importers import InvalidPortfolio, import_hedis_portfolio


class Command(BaseCommand):
    help = (
        "Load a HEDIS portfolio export (hedis_measures.csv, member_interventions.csv, "
        "member_gaps.csv, optional intervention_activities.csv) from DIRECTORY. Every row is "
        "checked first; with any error nothing is written. Re-running it changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="folder holding the CSV files (UTF-8)")
        parser.add_argument(
            "--user", help="username recorded in the audit trail as the one importing"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count everything, write nothing"
        )

    def handle(self, *args, directory, user=None, dry_run=False, **options):
        actor = None
        if user:
            try:
                actor = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user {user!r}.") from None
        try:
            report = import_hedis_portfolio(directory, actor=actor, dry_run=dry_run)
        except InvalidPortfolio as exc:
            raise CommandError(
                f"Nothing was imported: {exc.error_count} problem(s) in {directory}.\n"
                + "\n".join(f"  {message}" for message in exc.messages)
            ) from None
        self.stdout.write(self.style.SUCCESS(report.lines()[0]))
        for line in report.lines()[1:]:
            self.stdout.write(line)
