from campaigns.importers import import_hedis_portfolio
from opsintel.csvimport import ImportCommand


class Command(ImportCommand):
    help = (
        "Load a HEDIS portfolio export (hedis_measures.csv, member_interventions.csv, "
        "member_gaps.csv, optional intervention_activities.csv) from DIRECTORY. Every row is "
        "checked first; with any error nothing is written. Re-running it changes nothing."
    )

    def run_import(self, directory, *, actor, dry_run):
        return import_hedis_portfolio(directory, actor=actor, dry_run=dry_run)
