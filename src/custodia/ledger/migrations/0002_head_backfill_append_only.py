from django.db import migrations

from custodia.core import append_only
from custodia.ledger import commitments, merkle

TABLES = ["ledger_ledgerleaf", "ledger_ledgernode", "ledger_checkpoint", "ledger_redaction"]


def head_and_backfill(apps, schema_editor):
    """Create the head row and put every event that predates the ledger into it, in the order
    the events were written. Their registrations carry no person digest: that check starts with
    the ledger."""
    Head = apps.get_model("ledger", "LedgerHead")
    Leaf = apps.get_model("ledger", "LedgerLeaf")
    Node = apps.get_model("ledger", "LedgerNode")
    Event = apps.get_model("registry", "CustodyEvent")
    tree = merkle.MemoryTree()
    leaves = []
    for event in Event.objects.select_related("detention").order_by("id").iterator():
        salt = commitments.new_salt()
        document = commitments.event_document(
            folio=event.detention.folio,
            sequence=event.sequence,
            kind=event.kind,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            recorded_by=event.recorded_by_id,
            institution=event.institution_id,
            local_zone=event.local_zone,
            data=event.data,
            salt=salt,
        )
        leaf = commitments.leaf_hash(document)
        leaves.append(Leaf(index=tree.size, leaf_hash=leaf.hex(), salt=salt, event_id=event.pk))
        tree.append(leaf)
    Leaf.objects.bulk_create(leaves, batch_size=1000)
    Node.objects.bulk_create(
        (
            Node(level=level, index=index, hash=h.hex())
            for level in range(1, len(tree.levels))
            for index, h in enumerate(tree.levels[level])
        ),
        batch_size=1000,
    )
    Head.objects.create(pk=1, size=tree.size)


def protect(apps, schema_editor):
    for table in TABLES:
        append_only.install(schema_editor, table)


def unprotect(apps, schema_editor):
    for table in TABLES:
        append_only.uninstall(schema_editor, table)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial"), ("registry", "0003_custody_projection")]

    operations = [
        migrations.RunPython(head_and_backfill, migrations.RunPython.noop),
        migrations.RunPython(protect, unprotect),
    ]
