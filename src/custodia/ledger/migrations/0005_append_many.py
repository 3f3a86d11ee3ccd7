"""On PostgreSQL, a batch of leaves (an import chunk) takes its indexes with one update of the
head row instead of one per leaf (issue 7).

Each update of the head leaves a dead version of its row behind. While another transaction is
open (a second import process, a concurrent capture) those versions cannot be pruned, and each
later update walks the whole chain: with two import processes the chains grew by 250 versions
a chunk and the writes slowed down tenfold within a minute. Now a batch adds one version.

``ledger_store`` is the part both functions share: the leaf at a given index and the subtree
nodes it completes. ``ledger_append`` (migration 0003) keeps its signature and its result."""

from django.db import migrations

STORE = r"""
CREATE OR REPLACE FUNCTION ledger_store(p_index bigint, p_leaf text, p_salt text, p_event bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    lvl integer := 1;
    pos bigint := p_index + 1;
    node bigint;
    current bytea := decode(p_leaf, 'hex');
    left_hex text;
BEGIN
    INSERT INTO ledger_ledgerleaf ("index", leaf_hash, salt, event_id, created_at)
    VALUES (p_index, p_leaf, p_salt, p_event, clock_timestamp());
    WHILE pos % (1::bigint << lvl) = 0 LOOP
        node := pos / (1::bigint << lvl) - 1;
        IF lvl = 1 THEN
            SELECT leaf_hash INTO left_hex FROM ledger_ledgerleaf WHERE "index" = 2 * node;
        ELSE
            SELECT hash INTO left_hex FROM ledger_ledgernode
            WHERE level = lvl - 1 AND "index" = 2 * node;
        END IF;
        IF left_hex IS NULL THEN
            RAISE EXCEPTION 'ledger_store: missing subtree (%, %)', lvl - 1, 2 * node;
        END IF;
        current := sha256('\x01'::bytea || decode(left_hex, 'hex') || current);
        INSERT INTO ledger_ledgernode (level, "index", hash)
        VALUES (lvl, node, encode(current, 'hex'));
        lvl := lvl + 1;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION ledger_append(p_leaf text, p_salt text, p_event bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    idx bigint;
BEGIN
    -- The UPDATE locks the head row until the transaction ends: indexes stay dense.
    UPDATE ledger_ledgerhead SET size = size + 1 WHERE id = 1 RETURNING size - 1 INTO idx;
    IF idx IS NULL THEN
        RAISE EXCEPTION 'ledger_append: the ledger head row is missing';
    END IF;
    PERFORM ledger_store(idx, p_leaf, p_salt, p_event);
    RETURN idx;
END
$$;

CREATE OR REPLACE FUNCTION ledger_append_many(p_leaves text[], p_salts text[], p_events bigint[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(array_length(p_leaves, 1), 0);
    first bigint;
BEGIN
    IF n = 0 OR array_length(p_salts, 1) IS DISTINCT FROM n
            OR array_length(p_events, 1) IS DISTINCT FROM n THEN
        RAISE EXCEPTION 'ledger_append_many: % leaves, % salts, % events',
            n, array_length(p_salts, 1), array_length(p_events, 1);
    END IF;
    UPDATE ledger_ledgerhead SET size = size + n WHERE id = 1 RETURNING size - n INTO first;
    IF first IS NULL THEN
        RAISE EXCEPTION 'ledger_append_many: the ledger head row is missing';
    END IF;
    FOR i IN 1 .. n LOOP
        PERFORM ledger_store(first + i - 1, p_leaves[i], p_salts[i], p_events[i]);
    END LOOP;
    RETURN first;
END
$$;
"""

# Backwards: ledger_append keeps calling ledger_store (the same steps as 0003's body).
DROP_MANY = "DROP FUNCTION IF EXISTS ledger_append_many(text[], text[], bigint[])"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STORE, params=None)  # no placeholders: % is modulo


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_MANY, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_leaf_event_without_database_constraint")]

    operations = [migrations.RunPython(create, drop)]
