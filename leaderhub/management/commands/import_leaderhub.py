from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from leaderhub.importers import FILES, InvalidImport, import_leaderhub


class Command(BaseCommand):
    help = (
        f"Load Leader Hub source tables from DIRECTORY (any of {', '.join(FILES)}; headers in "
        "docs/leaderhub-import.md). Every row is checked first; with any error nothing is "
        "written. Rows are upserted on their keys, so re-running it changes nothing."
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
            report = import_leaderhub(directory, actor=actor, dry_run=dry_run)
        except InvalidImport as exc:
            raise CommandError(
                f"Nothing was imported: {exc.error_count} problem(s) in {directory}.\n"
                + "\n".join(f"  {message}" for message in exc.messages)
            ) from None
        lines = report.lines()
        self.stdout.write(self.style.SUCCESS(lines[0]))
        for line in lines[1:]:
            self.stdout.write(line)
