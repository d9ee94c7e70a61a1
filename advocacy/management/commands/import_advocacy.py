from advocacy.importers import FILES, import_advocacy
from opsintel.csvimport import ImportCommand


class Command(ImportCommand):
    help = (
        f"Load patient-advocacy data from DIRECTORY (any of {', '.join(FILES)}; columns in "
        "advocacy/importers.py). Every row is checked first; with any error nothing is "
        "written. Rows are upserted on their source ids, so re-running it changes nothing."
    )

    def run_import(self, directory, *, actor, dry_run):
        return import_advocacy(directory, actor=actor, dry_run=dry_run)
