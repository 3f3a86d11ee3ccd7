from django.db import migrations

from custodia.core import append_only
from custodia.core.catalogs import load_municipalities, load_states


def load_catalogs(apps, schema_editor):
    State = apps.get_model("core", "State")
    Municipality = apps.get_model("core", "Municipality")
    load_states(State)
    load_municipalities(State, Municipality)


def protect_access_log(apps, schema_editor):
    append_only.install(schema_editor, "core_accesslog")


def unprotect_access_log(apps, schema_editor):
    append_only.uninstall(schema_editor, "core_accesslog")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(load_catalogs, migrations.RunPython.noop),
        migrations.RunPython(protect_access_log, unprotect_access_log),
    ]
