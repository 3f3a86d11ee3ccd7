"""Every row that belongs to a detention carries its state, and on PostgreSQL the unique keys
and the detention foreign keys include it (issue 7; ``custodia.core.distribution``,
docs/citus.md): the schema can be sharded by state without changing a key.

The new column is filled from each row's detention. Custody events and source records are
append-only; their triggers are lifted for that one statement, which adds a copy of a value the
row already implied (through its detention) and changes nothing it said. SQLite keeps the
column nullable (its ALTER TABLE cannot add NOT NULL without rebuilding the table, which would
drop the append-only triggers); the code always fills it."""

import django.db.models.deletion
from django.db import migrations, models

from custodia.core import distribution

TABLES = ("detentionholder", "detainedperson", "officer", "custodyevent", "sourcerecord")


def add_columns(apps, schema_editor):
    distribution.add_state_columns(schema_editor)


def shardable_keys(apps, schema_editor):
    distribution.shardable_keys(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_partition_access_log"),
        ("registry", "0006_partition_custody_events"),
        ("lookup", "0004_key_counts_covering_indexes"),
        ("reports", "0003_zero_report_day"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name=model,
                    name="state",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        default="00",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.state",
                    ),
                    preserve_default=False,
                )
                for model in TABLES
            ],
            database_operations=[migrations.RunPython(add_columns)],
        ),
        migrations.RunPython(shardable_keys),
    ]
