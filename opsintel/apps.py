from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpsIntelConfig(AppConfig):
    name = "opsintel"
    verbose_name = "OpsIntel platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from opsintel import signals  # noqa: F401  (connects the login audit receivers)
        from opsintel.schedule import create_missing_periodic_tasks

        post_migrate.connect(create_missing_periodic_tasks, sender=self)
