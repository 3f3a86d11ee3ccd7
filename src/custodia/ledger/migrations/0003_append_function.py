"""On PostgreSQL, appending a leaf is one server-side function: the next index under the head
row's lock, the leaf, and the subtree nodes it completes, hashed with the server's sha256(), in
one round trip. ``services.append_event`` computes the same nodes in Python on SQLite; the test
suite checks both against the pure ``merkle`` module."""

from django.db import migrations

APPEND = r"""
CREATE OR REPLACE FUNCTION ledger_append(p_leaf text, p_salt text, p_event bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    idx bigint;
    lvl integer := 1;
    pos bigint;
    node bigint;
    current bytea := decode(p_leaf, 'hex');
    left_hex text;
BEGIN
    -- The UPDATE locks the head row until the transaction ends: indexes stay dense.
    UPDATE ledger_ledgerhead SET size = size + 1 WHERE id = 1 RETURNING size - 1 INTO idx;
    IF idx IS NULL THEN
        RAISE EXCEPTION 'ledger_append: the ledger head row is missing';
    END IF;
    INSERT INTO ledger_ledgerleaf ("index", leaf_hash, salt, event_id, created_at)
    VALUES (idx, p_leaf, p_salt, p_event, clock_timestamp());
    pos := idx + 1;
    WHILE pos % (1::bigint << lvl) = 0 LOOP
        node := pos / (1::bigint << lvl) - 1;
        IF lvl = 1 THEN
            SELECT leaf_hash INTO left_hex FROM ledger_ledgerleaf WHERE "index" = 2 * node;
        ELSE
            SELECT hash INTO left_hex FROM ledger_ledgernode
            WHERE level = lvl - 1 AND "index" = 2 * node;
        END IF;
        IF left_hex IS NULL THEN
            RAISE EXCEPTION 'ledger_append: missing subtree (%, %)', lvl - 1, 2 * node;
        END IF;
        current := sha256('\x01'::bytea || decode(left_hex, 'hex') || current);
        INSERT INTO ledger_ledgernode (level, "index", hash)
        VALUES (lvl, node, encode(current, 'hex'));
        lvl := lvl + 1;
    END LOOP;
    RETURN idx;
END
$$;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND, params=None)  # no placeholders: % is modulo


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS ledger_append(text, text, bigint)", params=None
        )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_head_backfill_append_only")]

    operations = [migrations.RunPython(create, drop)]
