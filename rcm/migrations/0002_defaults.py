from django.db import migrations

from rcm.defaults import seed_defaults


class Migration(migrations.Migration):
    """Queues, the five assignment rules, Aetna's, Medicare's and the default follow-up rule."""

    dependencies = [("rcm", "0001_initial")]

    operations = [migrations.RunPython(seed_defaults, migrations.RunPython.noop)]
