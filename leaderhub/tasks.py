from datetime import date

from leaderhub.rollups import refresh_rollups
from opsintel.jobs import idempotent_task


@idempotent_task(name="leaderhub.refresh_rollups")
def refresh_rollups_task(as_of=None):
    """Daily: recompute the metric tables (one transaction; re-runs give the same tables)."""
    counts = refresh_rollups(date.fromisoformat(as_of) if as_of else None)
    return counts
