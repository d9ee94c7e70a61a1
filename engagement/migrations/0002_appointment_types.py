from django.db import migrations

from engagement.defaults import seed_appointment_types


class Migration(migrations.Migration):
    """The five appointment types a pharmacy starts with (engagement/defaults.py)."""

    dependencies = [("engagement", "0001_initial")]

    operations = [migrations.RunPython(seed_appointment_types, migrations.RunPython.noop)]
