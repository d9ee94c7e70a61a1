from opsintel.csvimport import ImportCommand
from rcm.importers import COLUMNS, import_claims


class Command(ImportCommand):
    help = (
        f"Load claims from FILE.csv (UTF-8; columns {', '.join(COLUMNS)}; see rcm/importers.py "
        "and docs/rcm-import.md). Every row is checked first; with any error nothing is "
        "written. Claims are upserted on claim_number, so re-running it changes nothing."
    )

    def add_arguments(self, parser):
        # ImportCommand reads a folder of files; claims come in one file. The argument keeps
        # the name ImportCommand.handle expects.
        parser.add_argument("directory", metavar="FILE.csv", help="the claim file (UTF-8 CSV)")
        parser.add_argument(
            "--user", help="username recorded in the audit trail as the one importing"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count everything, write nothing"
        )

    def run_import(self, directory, *, actor, dry_run):
        return import_claims(directory, actor=actor, dry_run=dry_run)
