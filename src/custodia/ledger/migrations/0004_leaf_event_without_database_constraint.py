"""The leaf's link to its event stops being a database foreign key on PostgreSQL (issue 7):
custody events become a partitioned table there (registry 0006), which a foreign key can only
reference through a key that includes the partition key. The link stays one to one (its unique
index remains), and ``custodia ledger verify`` checks every leaf against its event. SQLite keeps
the constraint: its tables are not partitioned."""

import django.db.models.deletion
from django.db import migrations, models


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = 'ledger_ledgerleaf'::regclass "
            "AND confrelid = 'registry_custodyevent'::regclass"
        )
        names = [name for (name,) in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f'ALTER TABLE ledger_ledgerleaf DROP CONSTRAINT "{name}"')


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE ledger_ledgerleaf ADD CONSTRAINT ledger_ledgerleaf_event_id_fk "
        "FOREIGN KEY (event_id) REFERENCES registry_custodyevent (id) "
        "DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_append_function"), ("registry", "0005_source_record")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerleaf",
                    name="event",
                    field=models.OneToOneField(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="leaf",
                        to="registry.custodyevent",
                    ),
                )
            ],
            database_operations=[migrations.RunPython(drop_constraint, add_constraint)],
        )
    ]
