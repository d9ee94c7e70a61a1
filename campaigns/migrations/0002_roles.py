from django.db import migrations

from opsintel.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("opsintel", "0002_roles"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
