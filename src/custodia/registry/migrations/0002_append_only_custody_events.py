from django.db import migrations

from custodia.core import append_only


def protect(apps, schema_editor):
    append_only.install(schema_editor, "registry_custodyevent")


def unprotect(apps, schema_editor):
    append_only.uninstall(schema_editor, "registry_custodyevent")


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(protect, unprotect)]
