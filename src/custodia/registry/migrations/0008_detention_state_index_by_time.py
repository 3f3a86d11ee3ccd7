"""The detention's state loses its own index (and the pattern index Django adds to text keys):
"detention_state_time" already serves every query by state, and the lone index misled the
foreign-key checks of the detention's rows (models.py, Detention.state)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_partition_access_log"),
        ("registry", "0007_state_on_detention_rows"),
    ]

    operations = [
        migrations.AlterField(
            model_name="detention",
            name="state",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.state",
            ),
        ),
    ]
