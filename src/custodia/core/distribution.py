"""The schema's fitness for distribution by state (issue 7, docs/citus.md): which tables would
be sharded by state, which would be reference tables, and which stay on the coordinator; and
the PostgreSQL keys that make a table shardable by state today, on a single server.

A table can be sharded by a column only if every unique key of it includes that column, and a
foreign key between two sharded tables only if it includes it on both sides. So, on PostgreSQL
(registry 0007):

- every detention-owned row carries ``state_id``, and its foreign key to its detention is the
  pair ``(detention_id, state_id)`` → ``registry_detention (id, state_id)``: the copy cannot
  differ from the detention's state. The name index and the report's facts already carried a
  ``state``; their foreign keys become pairs too;
- a folio must begin with its state's code (a CHECK), so the unique ``(folio, state_id)`` is as
  strict as a unique folio;
- every other unique key of those tables gets ``state_id`` appended. Each of them already
  includes ``detention_id``, which determines the state, so none becomes weaker; the state
  goes last so the index still serves lookups by its first columns.

Primary keys are the exception on a single server: Django's foreign keys reference ``id``
alone. docs/citus.md gives the statements that widen them when the tables are distributed.
"""

from __future__ import annotations

from typing import Any

# Sharded by state, co-located: a detention and everything that belongs to it on one node.
# table -> its state column
SHARDED = {
    "registry_detention": "state_id",
    "registry_detainedperson": "state_id",
    "registry_officer": "state_id",
    "registry_detentionholder": "state_id",
    "registry_custodyevent": "state_id",
    "registry_sourcerecord": "state_id",
    "lookup_nameentry": "state",
    "lookup_namekey": "state",
    "reports_detentionfact": "state",
}
# The rows of a detention that name it by detention_id (their state must equal its state).
DETENTION_OWNED = (
    "registry_detainedperson",
    "registry_officer",
    "registry_detentionholder",
    "registry_custodyevent",
    "registry_sourcerecord",
)
# Foreign keys between sharded tables, as they become on PostgreSQL: (table, columns,
# referenced table, referenced columns). Each names the state on both sides.
PAIRED_KEYS = (
    *((t, ("detention_id", "state_id"), "registry_detention", ("id", "state_id"))
      for t in DETENTION_OWNED),
    ("lookup_nameentry", ("detention_id", "state"), "registry_detention", ("id", "state_id")),
    ("reports_detentionfact", ("detention_id", "state"), "registry_detention", ("id", "state_id")),
    ("lookup_namekey", ("entry_id", "state"), "lookup_nameentry", ("detention_id", "state")),
)  # fmt: skip
# Small catalogues every node needs: copied to every node.
REFERENCE = ("core_state", "core_municipality", "core_institution", "core_user")
# On the coordinator, not sharded, each for a reason given in docs/citus.md: the ledger is one
# national sequence by design; the access log, zero reports and report counts are read
# nationally by month; the outbox is one queue the notifier reads in order; the rest is small.
COORDINATOR = (
    "ledger_ledgerleaf",
    "ledger_ledgernode",
    "ledger_checkpoint",
    "ledger_redaction",
    "core_accesslog",
    "reports_zeroreport",
    "reports_statemonthcount",
    "reports_institutionmonthcount",
    "notify_outboxmessage",
    "notify_delivery",
)


def add_state_columns(schema_editor: Any) -> None:
    """Add ``state_id`` to the detention-owned tables and fill it from each row's detention.
    The rows are append-only where the table is (events, source records): their triggers are
    lifted for this one statement, which adds a copy and changes nothing the rows said."""
    from custodia.core import append_only

    postgres = schema_editor.connection.vendor == "postgresql"
    protected = {"registry_custodyevent", "registry_sourcerecord"}
    for table in DETENTION_OWNED:
        schema_editor.execute(f'ALTER TABLE "{table}" ADD COLUMN state_id varchar(2) NULL')
        if table in protected:
            append_only.uninstall(schema_editor, table)
        schema_editor.execute(
            f'UPDATE "{table}" SET state_id = (SELECT d.state_id FROM registry_detention d '  # noqa: S608
            f'WHERE d.id = "{table}".detention_id)'
        )
        if table in protected:
            append_only.install(schema_editor, table)
        if postgres:
            schema_editor.execute(f'ALTER TABLE "{table}" ALTER COLUMN state_id SET NOT NULL')


def shardable_keys(schema_editor: Any) -> None:
    """Make the unique keys and the detention foreign keys include the state (PostgreSQL)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(
        "ALTER TABLE registry_detention ADD CONSTRAINT detention_folio_of_state "
        "CHECK (left(folio, 2) = state_id)"
    )
    run("ALTER TABLE registry_detention ADD CONSTRAINT detention_id_state UNIQUE (id, state_id)")
    run(
        "ALTER TABLE lookup_nameentry ADD CONSTRAINT nameentry_detention_state "
        "UNIQUE (detention_id, state)"
    )
    with schema_editor.connection.cursor() as cursor:
        for table, columns, target, target_columns in PAIRED_KEYS:
            for name, _ in _foreign_keys(cursor, table, target):
                run(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            run(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_{columns[0]}_state_fk" '
                f"FOREIGN KEY ({', '.join(columns)}) REFERENCES {target} "
                f"({', '.join(target_columns)}) DEFERRABLE INITIALLY DEFERRED"
            )
        for table, column in SHARDED.items():
            for name, unique in _unique_keys(cursor, table):
                if column in unique:
                    continue
                listed = ", ".join(f'"{c}"' for c in [*unique, column])
                run(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                run(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" UNIQUE ({listed})')


def _foreign_keys(cursor: Any, table: str, target: str) -> list[tuple[str, list[str]]]:
    cursor.execute(
        "SELECT conname, ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = conrelid "
        "AND attnum = ANY(conkey)) FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid = %s::regclass AND confrelid = %s::regclass",
        [table, target],
    )
    return [(name, list(columns)) for name, columns in cursor.fetchall()]


def _unique_keys(cursor: Any, table: str) -> list[tuple[str, list[str]]]:
    cursor.execute(
        "SELECT conname, ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = conrelid "
        "AND attnum = ANY(conkey) ORDER BY array_position(conkey, attnum)) "
        "FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u' ORDER BY 1",
        [table],
    )
    return [(name, list(columns)) for name, columns in cursor.fetchall()]


def keys_without_state() -> list[str]:
    """Every unique key (primary keys aside) of a sharded table that lacks the state, and every
    foreign key between sharded tables that does not name it; empty when the schema is shardable.
    PostgreSQL only (SQLite has nothing to distribute)."""
    from django.db import connection

    problems = []
    with connection.cursor() as cursor:
        for table, column in SHARDED.items():
            cursor.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_name = %s "
                "AND column_name = %s AND is_nullable = 'NO'",
                [table, column],
            )
            if cursor.fetchone() is None:
                problems.append(f"{table}: no {column} NOT NULL")
            for name, columns in _unique_keys(cursor, table):
                if column not in columns:
                    problems.append(f"{table}.{name} ({', '.join(columns)})")
        for table, pair, target, _ in PAIRED_KEYS:
            for name, found in _foreign_keys(cursor, table, target):
                if pair[1] not in found:
                    problems.append(f"{table}.{name}: a foreign key to {target} without the state")
    return problems
