from django.db import migrations

from opsintel.roles import sync_roles


class Migration(migrations.Migration):
    """The Platform admin role gets the advocacy data in the admin (see opsintel.roles)."""

    dependencies = [
        ("advocacy", "0002_rollups_risk_alerts"),
        ("leaderhub", "0002_roles"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
