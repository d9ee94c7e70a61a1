from datetime import date

from campaigns import services
from opsintel.jobs import idempotent_task


@idempotent_task(name="campaigns.snapshot_progress")
def snapshot_progress(day=None):
    """Nightly: today's progress row for every live campaign (an upsert; re-runs are no-ops)."""
    day = date.fromisoformat(day) if day else services.today_local()
    return services.snapshot_progress(day)


@idempotent_task(name="campaigns.complete_campaigns")
def complete_campaigns(campaign_ids=None):
    """Mark campaigns whose assignments are all finished as completed."""
    return services.complete_finished_campaigns(campaign_ids)


@idempotent_task(name="campaigns.refresh_priorities")
def refresh_priorities():
    return services.refresh_priorities()
