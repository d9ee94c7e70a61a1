from django.db import migrations

from opsintel.roles import sync_roles


class Migration(migrations.Migration):
    """The Platform admin role gets the pharmacy set-up in the admin (see opsintel.roles)."""

    dependencies = [
        ("engagement", "0002_appointment_types"),
        ("rcm", "0005_platform_admin_rcm_admin"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
