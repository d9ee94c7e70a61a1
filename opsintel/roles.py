"""The roles people hold, as Django Groups.

A role belongs to one app (or to the platform) and grants that app's "use" permission plus any
model permissions listed here. A user may hold roles in several apps. The groups are created and
kept in line with this list by migrations calling `sync_roles`; when an app adds permissions to
a role, it edits this list and adds a migration that calls `sync_roles` again.
"""

from dataclasses import dataclass

from django.utils.text import slugify

PLATFORM = "opsintel"

# Labels of the five domain apps, in navigation order.
APP_LABELS = ("campaigns", "leaderhub", "advocacy", "rcm", "engagement")


def use_permission(app_label):
    """The permission ("opsintel.use_<app>") that lets a user into an app at all."""
    return f"{PLATFORM}.use_{app_label}"


@dataclass(frozen=True)
class Role:
    name: str
    app: str
    permissions: tuple[str, ...] = ()

    @property
    def slug(self):
        return slugify(self.name)

    def all_permissions(self):
        """Permission names ("app_label.codename") the role's group holds."""
        granted = list(self.permissions)
        if self.app != PLATFORM:
            granted.insert(0, use_permission(self.app))
        return granted


PLATFORM_ADMIN = "Platform admin"

ROLES = (
    Role(
        PLATFORM_ADMIN,
        PLATFORM,
        permissions=(
            *(use_permission(label) for label in APP_LABELS),
            "opsintel.view_auditevent",
            "opsintel.view_user",
            "opsintel.add_user",
            "opsintel.change_user",
            "auth.view_group",
            "django_celery_beat.view_periodictask",
            "django_celery_beat.change_periodictask",
            # Campaign data in the admin: import, export and correct reference data and
            # interventions; campaigns themselves only through the app (read-only here).
            *(
                f"campaigns.{action}_{model}"
                for model in ("measure", "member", "intervention", "coordinator")
                for action in ("view", "add", "change")
            ),
            "campaigns.view_campaign",
            "campaigns.view_campaignassignment",
            "campaigns.view_campaignprogress",
            # Leader Hub: the small tables (markets, providers, leaders' markets) are edited,
            # imported and exported in the admin; the daily source data and the rollups are
            # read there only.
            *(
                f"leaderhub.{action}_{model}"
                for model in (
                    "marketgroup",
                    "market",
                    "provider",
                    "marketactiveprovider",
                    "leaderaccess",
                )
                for action in ("view", "add", "change")
            ),
            # A provider who left a market is removed from it here.
            "leaderhub.delete_marketactiveprovider",
            *(
                f"leaderhub.view_{model}"
                for model in (
                    "visit",
                    "providershift",
                    "shiftbreakdown",
                    "providermetrics",
                    "marketprovidermetrics",
                    "marketmetrics",
                )
            ),
            # Advocacy: advocates and patients' contact details are edited in the admin; cases
            # change only through the lifecycle (read-only here); "Retrain now" adds a model.
            "advocacy.view_patient",
            "advocacy.change_patient",
            "advocacy.view_advocate",
            "advocacy.add_advocate",
            "advocacy.change_advocate",
            "advocacy.add_slariskmodel",
            *(
                f"advocacy.view_{model}"
                for model in (
                    "case",
                    "caseevent",
                    "interaction",
                    "patientfeedback",
                    "casefact",
                    "casetypekpi",
                    "advocatecaseload",
                    "bottlenecksegment",
                    "slariskmodel",
                    "caserisk",
                    "alertcondition",
                )
            ),
            # AR follow-up: reference data, rules, templates and claims are edited and imported
            # in the admin; what the engine wrote is read there only.
            *(
                f"rcm.{action}_{model}"
                for model in (
                    "payer",
                    "followuprule",
                    "workqueue",
                    "agent",
                    "holiday",
                    "assignmentrule",
                    "documenttemplate",
                    "claim",
                    "patient",
                )
                for action in ("view", "add", "change")
            ),
            "rcm.delete_holiday",
            "rcm.delete_followuprule",
            *(
                f"rcm.view_{model}"
                for model in ("assignment", "followup", "generateddocument", "automationrun")
            ),
            # Pharmacy engagement: locations, hours, services and staff are set up in the admin;
            # appointments, tasks and reminders change only through the app (read-only here).
            *(
                f"engagement.{action}_{model}"
                for model in (
                    "location",
                    "openinghours",
                    "locationholiday",
                    "appointmenttype",
                    "staffmember",
                    "workinghours",
                    "patient",
                )
                for action in ("view", "add", "change")
            ),
            "engagement.delete_openinghours",
            "engagement.delete_locationholiday",
            "engagement.delete_workinghours",
            *(
                f"engagement.view_{model}"
                for model in (
                    "timeoff",
                    "appointment",
                    "followuptask",
                    "reminder",
                    "surveyresponse",
                    "report",
                    "kpialert",
                )
            ),
        ),
    ),
    # campaigns
    Role(
        "Care manager",
        "campaigns",
        permissions=(
            "campaigns.add_campaign",
            "campaigns.change_campaign",
            "campaigns.view_campaign",
            "campaigns.view_campaignassignment",
            "campaigns.change_campaignassignment",
            "campaigns.view_intervention",
            "campaigns.view_member",
            "campaigns.view_measure",
            "campaigns.view_coordinator",
        ),
    ),
    Role(
        "Care coordinator",
        "campaigns",
        permissions=(
            "campaigns.view_campaign",
            "campaigns.view_campaignassignment",
            "campaigns.change_campaignassignment",
            "campaigns.view_intervention",
            "campaigns.view_member",
            "campaigns.view_measure",
        ),
    ),
    # leaderhub
    Role("RDO", "leaderhub"),
    Role("RMD", "leaderhub"),
    Role("Area manager", "leaderhub"),
    Role("Market manager", "leaderhub"),
    Role("Lead APP", "leaderhub"),
    Role("Lead DHMT", "leaderhub"),
    Role("APP", "leaderhub"),
    Role("DHMT", "leaderhub"),
    # advocacy
    Role("Operations leader", "advocacy"),
    Role("Advocate", "advocacy"),
    # rcm
    Role("AR manager", "rcm"),
    Role("Senior agent", "rcm"),
    Role("Government specialist", "rcm"),
    Role("Escalation team", "rcm"),
    Role("Specialist", "rcm"),
    Role("General agent", "rcm"),
    # engagement
    Role("Pharmacy manager", "engagement"),
    Role("Senior pharmacist", "engagement"),
    Role("Staff pharmacist", "engagement"),
    Role("Pharmacy technician", "engagement"),
    Role("Administrative staff", "engagement"),
)

ROLES_BY_NAME = {role.name: role for role in ROLES}


def roles_for_app(app_label):
    return [role for role in ROLES if role.app == app_label]


def sync_roles(apps, schema_editor=None):
    """Create or update one Group per role with exactly the role's permissions.

    Runs inside migrations with the historical app registry. Permissions are normally created
    after all migrations (post_migrate), so they are created here first. A permission whose model
    does not exist yet at this point in the migration history is skipped: the migration that adds
    the model's role permissions calls this again.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.name)
        wanted = []
        for name in role.all_permissions():
            app_label, codename = name.split(".", 1)
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)
