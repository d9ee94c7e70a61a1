"""What every domain app tells the platform about itself.

Each app's AppConfig subclasses `OpsAppConfig`; navigation, the home page cards and the API root
are built from these, so adding an app means writing its AppConfig and nothing here.
"""

from dataclasses import dataclass

from django.apps import AppConfig, apps
from django.urls import reverse


@dataclass(frozen=True)
class Headline:
    """The figure on an app's home-page card, e.g. Headline("1,204", "open care gaps")."""

    value: str
    caption: str


class OpsAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    title = ""  # shown in navigation
    summary = ""  # one line on the home-page card
    audience = ""  # who uses it, in their words
    api_root_url_name = None  # e.g. "campaigns-api:api-root"; listed at /api/ when set

    @property
    def index_url(self):
        return reverse(f"{self.label}:index")

    def headline(self, user):
        """The card's figure for this user (in their scope), or None while there is none."""
        return None

    def is_visible_to(self, user):
        return user.is_authenticated and user.can_use_app(self.label)


def ops_apps():
    return [config for config in apps.get_app_configs() if isinstance(config, OpsAppConfig)]


def visible_apps(user):
    return [config for config in ops_apps() if config.is_visible_to(user)]
