from opsintel.platform import OpsAppConfig


class RcmConfig(OpsAppConfig):
    name = "rcm"
    verbose_name = "AR follow-up"
    title = "AR follow-up"
    summary = (
        "Revenue-cycle claim work queues: rule-based assignment, appeal letters, payer-specific"
        " follow-up scheduling, automation metrics."
    )
    audience = "AR managers and billing agents"
    api_root_url_name = "rcm-api:api-root"
