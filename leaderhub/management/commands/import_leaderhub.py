from leaderhub.importers import FILES, import_leaderhub
from opsintel.csvimport import ImportCommand


class Command(ImportCommand):
    help = (
        f"Load Leader Hub source tables from DIRECTORY (any of {', '.join(FILES)}; headers in "
        "docs/leaderhub-import.md). Every row is checked first; with any error nothing is "
        "written. Rows are upserted on their keys, so re-running it changes nothing."
    )

    def run_import(self, directory, *, actor, dry_run):
        return import_leaderhub(directory, actor=actor, dry_run=dry_run)
