from opsintel.platform import OpsAppConfig


class EngagementConfig(OpsAppConfig):
    name = "engagement"
    verbose_name = "Pharmacy engagement"
    title = "Pharmacy engagement"
    summary = (
        "Clinical appointments, staff schedules, follow-up tasks, reminders and the team's "
        "performance against targets."
    )
    audience = "Pharmacy managers, pharmacists, technicians and front desk"
    api_root_url_name = "engagement-api:api-root"
