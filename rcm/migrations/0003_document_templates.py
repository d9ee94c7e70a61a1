from django.db import migrations

from rcm.letters import seed_templates


class Migration(migrations.Migration):
    """One active letter template per document type (the appeals and the other letters)."""

    dependencies = [("rcm", "0002_defaults")]

    operations = [migrations.RunPython(seed_templates, migrations.RunPython.noop)]
