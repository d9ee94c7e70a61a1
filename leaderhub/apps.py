from opsintel.platform import OpsAppConfig


class LeaderHubConfig(OpsAppConfig):
    name = "leaderhub"
    verbose_name = "Leader Hub"
    title = "Leader Hub"
    summary = (
        "Clinical KPIs per market and provider: rolling on-scene time, chart closure, NPS and "
        "more, rankings, visits and shifts."
    )
    audience = "RDOs, RMDs, area and market managers, lead APPs and DHMTs, providers"
    api_root_url_name = "leaderhub-api:api-root"
