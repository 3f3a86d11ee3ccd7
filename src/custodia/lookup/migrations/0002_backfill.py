"""Indexed the detentions registered before the name index existed. 0004 rebuilds the index
with a column this migration's models lack, so this step now does nothing."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("lookup", "0001_initial"),
        ("ledger", "0003_append_function"),
        ("registry", "0004_alter_custodyevent_kind"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
