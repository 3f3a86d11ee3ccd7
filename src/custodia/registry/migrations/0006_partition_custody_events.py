"""Custody events become a table partitioned by month of ``recorded_at`` on PostgreSQL (issue 7;
``custodia.core.partitions``). Every row, index, foreign key and append-only trigger is kept.
SQLite keeps the plain table. Not reversible: going back would mean copying every event into a
plain table again, which is a job for an operator, not a migration."""

from django.db import migrations

from custodia.core import partitions


def partition(apps, schema_editor):
    partitions.partition(schema_editor, "registry_custodyevent")


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_source_record"),
        ("ledger", "0004_leaf_event_without_database_constraint"),
    ]

    operations = [migrations.RunPython(partition)]
