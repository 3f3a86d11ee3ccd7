"""Monthly range partitions for the two tables that grow without end (issue 7, decision 0006):
custody events by ``recorded_at`` and the access log by ``at``. PostgreSQL only; SQLite keeps
plain tables, and every function here does nothing there.

- An event is partitioned by when it was *recorded*, not when it occurred: rows are only ever
  appended, so new rows always land in the newest partition, while ``occurred_at`` can be
  backdated by an import or a late capture.
- PostgreSQL requires the partition key in every unique key of a partitioned table. The
  primary keys become ``(id, <key>)``; ``id`` stays unique in practice because one sequence
  fills it, and Django keeps treating ``id`` as the key. The events' ``(detention, sequence)``
  becomes ``(detention, sequence, recorded_at)``: the write path's lock on the detention row
  (``select_for_update`` and its ``version``) is what keeps a detention's sequence numbers
  unique, and ``custodia registry rebuild --check`` audits them.
- A partition per month (``<table>_p202612``) is created ahead of time, ``AHEAD`` months
  ahead: by the migration, when ``custodia serve`` starts, every hour of ``custodia notify
  --loop``, and by ``custodia partitions``. A default partition (``<table>_default``) takes
  anything outside them, so no write ever fails for want of a partition.
- Append-only holds per partition too: the row triggers are cloned onto every partition by
  PostgreSQL, and each partition gets its own TRUNCATE trigger (a statement trigger on the
  parent does not fire for a TRUNCATE of one partition).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection

AHEAD = 12  # months of partitions kept ready beyond the current one

# table -> partition key
TABLES = {"registry_custodyevent": "recorded_at", "core_accesslog": "at"}

_ENSURE = """
CREATE OR REPLACE FUNCTION custodia_ensure_partitions(parent text, first_month date,
                                                      last_month date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  month date := date_trunc('month', first_month)::date;
  name text;
  made integer := 0;
BEGIN
  WHILE month <= last_month LOOP
    name := parent || '_p' || to_char(month, 'YYYYMM');
    IF to_regclass(quote_ident(name)) IS NULL THEN
      BEGIN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', name,
                       parent, month::text || ' 00:00:00+00',
                       (month + interval '1 month')::date::text || ' 00:00:00+00');
        -- The statement of custodia.core.append_only.install_truncate (SQL cannot call it).
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION custodia_refuse_change()', name || '_append_only_truncate',
                       name);
        made := made + 1;
      EXCEPTION WHEN check_violation THEN
        -- The default partition already holds rows of this month. They cannot move out of it
        -- (the table is append-only), so the month stays in the default partition.
        RAISE NOTICE 'custodia: % queda en la partición por omisión', name;
      END;
    END IF;
    month := (month + interval '1 month')::date;
  END LOOP;
  RETURN made;
END $$;
"""


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def partition(schema_editor: Any, table: str) -> None:
    """Turn ``table`` into a table partitioned by month on its key, keeping every row, column,
    default, check, index name, foreign key and trigger. Run by a migration; PostgreSQL only.

    Foreign keys *to* the table must be gone before (PostgreSQL cannot reference a partitioned
    table by ``id`` alone); this refuses to run otherwise rather than drop them silently."""
    if schema_editor.connection.vendor != "postgresql":
        return
    from custodia.core import append_only

    key = TABLES[table]
    old = f"{table}_unpartitioned"
    run = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = %s::regclass",
            [table],
        )
        referencing = cursor.fetchall()
        if referencing:
            raise RuntimeError(f"{table} is referenced by foreign keys: {referencing}")
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid), "
            "ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = conrelid "
            "      AND attnum = ANY(conkey) ORDER BY array_position(conkey, attnum)) "
            "FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') "
            "ORDER BY contype DESC, conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) "
            "ORDER BY 1",
            [table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            f"SELECT date_trunc('month', min({_q(key)})) FROM {_q(table)}"  # noqa: S608
        )
        (oldest,) = cursor.fetchone()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
        last_value, is_called = cursor.fetchone()

    run(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
    run(
        f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING IDENTITY "
        f"INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS) "
        f"PARTITION BY RANGE ({_q(key)})"
    )
    run(_ENSURE, None)
    default = f"{table}_default"
    run(f"CREATE TABLE {_q(default)} PARTITION OF {_q(table)} DEFAULT")
    append_only.install_truncate(schema_editor, default)
    run(
        "SELECT custodia_ensure_partitions(%s, COALESCE(%s::date, now()::date), "
        "(now() + make_interval(months => %s))::date)",
        [table, oldest, AHEAD],
    )
    run(f"INSERT INTO {_q(table)} SELECT * FROM {_q(old)}")  # noqa: S608
    run(f"DROP TABLE {_q(old)}")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (new_sequence,) = cursor.fetchone()
    run(f"ALTER SEQUENCE {new_sequence} RENAME TO {_q(table + '_id_seq')}")
    run("SELECT setval(%s, %s, %s)", [f"{table}_id_seq", last_value, is_called])
    for name, kind, definition, columns in constraints:
        if kind in ("p", "u") and key not in columns:
            listed = ", ".join(_q(c) for c in [*columns, key])
            definition = f"{'PRIMARY KEY' if kind == 'p' else 'UNIQUE'} ({listed})"
        run(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
    for _name, definition in indexes:
        run(definition)  # "CREATE INDEX name ON public.table …": now the partitioned table
    append_only.install(schema_editor, table)


def ensure(first: date | None = None, last: date | None = None) -> int:
    """Create the monthly partitions missing from ``first``'s month to ``last``'s (by default,
    from this month to ``AHEAD`` months on); returns how many were made. ``custodia synth``
    asks for its whole period before it loads, since it writes history. Nothing on SQLite, or
    before the migration that partitions."""
    if connection.vendor != "postgresql":
        return 0
    made = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure('custodia_ensure_partitions(text,date,date)')")
        if cursor.fetchone()[0] is None:
            return 0
        for table in TABLES:
            cursor.execute(
                "SELECT custodia_ensure_partitions(%s, COALESCE(%s, now()::date), "
                "COALESCE(%s, (now() + make_interval(months => %s))::date))",
                [table, first, last, AHEAD],
            )
            made += cursor.fetchone()[0]
    return made


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    bounds: str  # "FOR VALUES FROM (…) TO (…)" or "DEFAULT"
    rows: int  # the planner's estimate (exact after ANALYZE)

    @property
    def span(self) -> str:
        """The rows it holds, in Spanish: "2026-12-01 a 2027-01-01 (UTC)", or the default's."""
        found = re.findall(r"'(\d{4}-\d{2}-\d{2})", self.bounds)
        if len(found) != 2:
            return "por omisión: todo lo que no cae en un mes"
        return f"{found[0]} a {found[1]} (UTC, sin incluir el {found[1]})"


def listing() -> list[Partition]:
    """Every partition of the partitioned tables, oldest first, the default last."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.relname, c.relname, pg_get_expr(c.relpartbound, c.oid), "
            "greatest(c.reltuples, 0)::bigint FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = ANY(%s) AND p.relkind = 'p' "
            "ORDER BY p.relname, c.relname LIKE '%%_default', c.relname",
            [list(TABLES)],
        )
        return [Partition(*row) for row in cursor.fetchall()]
