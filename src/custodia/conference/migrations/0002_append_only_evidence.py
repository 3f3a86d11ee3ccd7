"""Follow-ups, their evidence files and the revisions (each a ledger leaf) are append-only."""

from django.db import migrations

from custodia.core import append_only

TABLES = ("conference_followup", "conference_evidencefile", "conference_revision")


def protect(apps, schema_editor):
    for table in TABLES:
        append_only.install(schema_editor, table)


def unprotect(apps, schema_editor):
    for table in TABLES:
        append_only.uninstall(schema_editor, table)


class Migration(migrations.Migration):
    dependencies = [("conference", "0001_initial")]

    operations = [migrations.RunPython(protect, unprotect)]
