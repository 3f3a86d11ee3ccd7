"""The access log becomes a table partitioned by month of ``at`` on PostgreSQL (issue 7;
``custodia.core.partitions``). Every row, index, foreign key and append-only trigger is kept.
SQLite keeps the plain table. Not reversible, like the events' partitioning."""

from django.db import migrations

from custodia.core import partitions


def partition(apps, schema_editor):
    partitions.partition(schema_editor, "core_accesslog")


class Migration(migrations.Migration):
    dependencies = [("core", "0004_institution_operating_dates")]

    operations = [migrations.RunPython(partition)]
