"""Index the detentions registered before the name index existed."""

from django.db import migrations

from custodia.lookup.index import rebuild


def backfill(apps, schema_editor):
    rebuild(
        apps.get_model("registry", "Detention"),
        apps.get_model("lookup", "NameEntry"),
        apps.get_model("lookup", "NameKey"),
        apps.get_model("lookup", "NameVariant"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("lookup", "0001_initial"),
        ("ledger", "0003_append_function"),
        ("registry", "0004_alter_custodyevent_kind"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
