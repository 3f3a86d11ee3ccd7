"""Database triggers that make a table append-only: UPDATE, DELETE (and TRUNCATE on
PostgreSQL) are refused by the database itself, whoever connects (DESIGN.md §5)."""

from __future__ import annotations

from typing import Any

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION custodia_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'custodia: la tabla % es de sólo anexión; % no está permitido',
    TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END $$;
"""


def install(schema_editor: Any, table: str) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for op in ("UPDATE", "DELETE"):
            schema_editor.execute(
                f'CREATE TRIGGER "{table}_append_only_{op.lower()}" BEFORE {op} ON "{table}" '
                f"BEGIN SELECT RAISE(ABORT, 'custodia: la tabla {table} es de sólo anexión'); END;"
            )
    elif vendor == "postgresql":
        schema_editor.execute(_PG_FUNCTION, None)  # None: "%" is PL/pgSQL, not a placeholder
        schema_editor.execute(
            f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change()"
        )
        install_truncate(schema_editor, table)
    else:
        raise NotImplementedError(f"append-only triggers for {vendor}")


def install_truncate(schema_editor: Any, table: str) -> None:
    """PostgreSQL's TRUNCATE refusal alone: what each new partition of a partitioned table needs
    (the parent's statement trigger does not fire for a TRUNCATE of one partition)."""
    schema_editor.execute(
        f'CREATE TRIGGER "{table}_append_only_truncate" BEFORE TRUNCATE ON "{table}" '
        f"FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change()"
    )


def uninstall(schema_editor: Any, table: str) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for op in ("update", "delete"):
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only_{op}"')
    elif vendor == "postgresql":
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}"')
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only_truncate" ON "{table}"')
