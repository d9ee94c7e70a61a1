from opsintel.platform import OpsAppConfig


class AdvocacyConfig(OpsAppConfig):
    name = "advocacy"
    verbose_name = "Advocacy"
    title = "Advocacy"
    summary = (
        "Patient-advocacy case operations: funnel, first response, SLA breaches, stale cases, "
        "caseload against capacity, bottlenecks."
    )
    audience = "Operations leaders and advocates"
    api_root_url_name = "advocacy-api:api-root"
