from opsintel.platform import OpsAppConfig


class CampaignsConfig(OpsAppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"
    title = "Campaigns"
    summary = (
        "HEDIS care-gap outreach: pick members with open gaps, see value and staffing, assign "
        "outreach fairly, export call lists, track progress."
    )
    audience = "Care managers and care coordinators"
    api_root_url_name = "campaigns-api:api-root"
