"""Writing many rows fast: COPY on PostgreSQL, executemany on SQLite. For rebuilding derived
tables and loading synthetic data; every other write goes through the services."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import connection

SQLITE_BATCH = 5000


def copy_statement(model: Any, fields: Sequence[str]) -> str:
    """``COPY table (columns) FROM STDIN`` for a model's fields (PostgreSQL's text format)."""
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(meta.get_field(f).column) for f in fields)
    return f"COPY {table} ({columns}) FROM STDIN"


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str) -> str:
    # Most values need no escape; looking costs far less than translating.
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def copy_value(value: Any) -> str:
    """One value in COPY's text format (aware datetimes in ISO 8601, which PostgreSQL reads)."""
    kind = type(value)
    if kind is str:
        return _text(value)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value)
    return _text(value.isoformat())


def copy_text(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows as the body of a COPY in text format: what a second process can prepare while the
    first streams the previous chunk."""
    lines = ["\t".join(map(copy_value, row)) for row in rows]
    if not lines:
        return b""
    lines.append("")
    return "\n".join(lines).encode("utf-8")


def copy_prepared(model: Any, fields: Sequence[str], data: bytes) -> None:
    """COPY a body made by :func:`copy_text` into ``model``'s table (PostgreSQL only)."""
    if not data:
        return
    with connection.cursor() as cursor, cursor.cursor.copy(copy_statement(model, fields)) as copy:
        copy.write(data)


def insert_rows(model: Any, fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in the order of ``fields``, model field names) into ``model``'s
    table, in the caller's transaction. Values must already be in database form (JSON as text,
    aware datetimes). Returns the number of rows."""
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(meta.get_field(f).column) for f in fields)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        marks = ", ".join(["%s"] * len(fields))
        statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
        iterator = iter(rows)
        while batch := list(islice(iterator, SQLITE_BATCH)):
            cursor.executemany(statement, batch)
            count += len(batch)
    return count


def empty(*models: Any) -> None:
    """Remove every row of derived tables (children first), without loading them into Python."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
            # Django's foreign keys are deferred: checks pending from earlier writes in this
            # transaction would forbid TRUNCATE, so they run now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {names}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for model in models:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
