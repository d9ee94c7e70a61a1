from django.db import migrations

from opsintel.roles import sync_roles


class Migration(migrations.Migration):
    """The Platform admin role gets the campaign data in the admin (see opsintel.roles)."""

    dependencies = [("campaigns", "0002_roles")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
