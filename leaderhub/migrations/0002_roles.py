from django.db import migrations

from opsintel.roles import sync_roles


class Migration(migrations.Migration):
    """The Platform admin role gets the Leader Hub data in the admin (see opsintel.roles)."""

    dependencies = [
        ("leaderhub", "0001_initial"),
        ("campaigns", "0003_platform_admin_campaign_admin"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
