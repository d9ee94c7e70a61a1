from django.db import migrations

from opsintel.roles import sync_roles


class Migration(migrations.Migration):
    """The Platform admin role gets the AR follow-up data in the admin (see opsintel.roles)."""

    dependencies = [
        ("rcm", "0004_claim_outcome_dates"),
        ("advocacy", "0003_platform_admin_advocacy_admin"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
