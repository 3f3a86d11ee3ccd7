"""Writing many rows fast: COPY on PostgreSQL, executemany on SQLite. ``create`` is the
services' ``bulk_create`` for batches (imports); ``insert_rows`` and ``copy_*`` rebuild derived
tables and load synthetic data."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any, TypeVar

from django.db import connection, models
from django.utils import timezone

SQLITE_BATCH = 5000


def copy_statement(model: Any, fields: Sequence[str]) -> str:
    """``COPY table (columns) FROM STDIN`` for a model's fields (PostgreSQL's text format)."""
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(meta.get_field(f).column) for f in fields)
    return f"COPY {table} ({columns}) FROM STDIN"


def _text(value: str) -> str:
    # Most values need no escape; looking costs far less than replacing. (str.replace, four
    # times, is some thirty times faster than str.translate with a mapping.)
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
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
    if isinstance(value, str):  # a TextChoices member
        return _text(str(value))
    if isinstance(value, int):  # an IntegerChoices member
        return str(int(value))
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


M = TypeVar("M", bound=models.Model)

# Below this many rows, Django's INSERT … RETURNING (one round trip) beats drawing the ids and
# then streaming a COPY (two). A registration writes one row per table; an import chunk, 250.
COPY_AT_LEAST = 20

# Field types whose Python value COPY's text format takes as it is (``copy_value``).
_AS_IS = {
    "AutoField", "BigAutoField", "SmallAutoField", "BigIntegerField", "BooleanField",
    "CharField", "DateField", "DateTimeField", "FloatField", "ForeignKey", "IntegerField",
    "OneToOneField", "PositiveBigIntegerField", "PositiveIntegerField",
    "PositiveSmallIntegerField", "SlugField", "SmallIntegerField", "TextField",
}  # fmt: skip


class _Unsupported(Exception):
    """A field ``create`` does not write by COPY: the model goes through ``bulk_create``."""


def _converter(field: Any) -> Callable[[Any], Any] | None:
    """How a field's attribute becomes its COPY value: None when it is taken as it is."""
    kind = field.get_internal_type()
    if kind in _AS_IS:
        return None
    if kind == "JSONField":
        # One encoder for the field (json.dumps with options would make one per value).
        encode = (field.encoder or json.JSONEncoder)(ensure_ascii=False).encode

        def as_json(value: Any) -> Any:
            # As Django stores it: None is SQL NULL, anything else its JSON text (accents as
            # they are: shorter, and nothing to escape; jsonb stores the same either way).
            return None if value is None else encode(value)

        return as_json
    if kind == "GenericIPAddressField":
        return lambda value: str(value) if value else None  # Django stores "" as NULL
    if kind in {"UUIDField", "DecimalField"}:
        return lambda value: None if value is None else str(value)
    raise _Unsupported(kind)


def create(model: type[M], objects: Iterable[M]) -> list[M]:
    """``model.objects.bulk_create(objects)`` for the write path's batches: on PostgreSQL, with
    enough rows, the ids come from the table's sequence in one query and the rows go in one
    COPY, so no INSERT is compiled and no parameter is quoted in Python. Same result: each
    object gets its id (and ``auto_now_add`` times), the rows land in the caller's transaction,
    and a broken unique key raises Django's ``IntegrityError``. Triggers fire as for INSERT;
    ``bulk_create``'s options (conflicts, batch size) are not offered."""
    objects = list(objects)
    fields = list(model._meta.concrete_fields)
    converters = _converters(fields)
    if connection.vendor != "postgresql" or len(objects) < COPY_AT_LEAST or converters is None:
        return model._default_manager.bulk_create(objects)
    meta = model._meta
    pk = meta.pk
    with connection.wrap_database_errors, connection.cursor() as cursor:
        if _is_automatic(pk):
            missing = [o for o in objects if o.pk is None]
            if missing:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, pk.column, len(missing)],
                )
                for obj, (value,) in zip(missing, cursor.fetchall(), strict=True):
                    obj.pk = value
        for obj in objects:
            # As bulk_create does: a parent saved after the child was made lends its id now.
            obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        now = timezone.now()
        for field in fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                for obj in objects:
                    setattr(obj, field.attname, now)
        attnames = [f.attname for f in fields]
        _copy(
            cursor, model, fields, converters, ([o.__dict__[a] for a in attnames] for o in objects)
        )
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects


def add_rows(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert rows given as tuples in the order of ``names`` (every concrete field of the
    model but an automatic primary key; field names or attribute names, values as the model's
    attributes would hold them), in the caller's transaction: for rows whose ids nobody reads
    back (the name index, the report's facts). On PostgreSQL with enough rows, one COPY and
    no model instances; otherwise ``bulk_create``."""
    rows = list(rows)
    meta = model._meta
    fields: list[Any] = [meta.get_field(name) for name in names]  # concrete fields
    automatic = {meta.pk.attname} if _is_automatic(meta.pk) else set()
    missing = {f.attname for f in meta.concrete_fields} - {f.attname for f in fields} - automatic
    if missing:
        raise ValueError(f"add_rows({meta.label}): no value for {sorted(missing)}")
    converters = _converters(fields)
    if connection.vendor != "postgresql" or len(rows) < COPY_AT_LEAST or converters is None:
        attnames = [f.attname for f in fields]
        model._default_manager.bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows]
        )
        return
    with connection.wrap_database_errors, connection.cursor() as cursor:
        _copy(cursor, model, fields, converters, rows)


def _is_automatic(pk: Any) -> bool:
    return pk is not None and pk.get_internal_type().endswith("AutoField")


def _converters(fields: Sequence[Any]) -> list[Callable[[Any], Any] | None] | None:
    """Each field's converter, or None if one of them is not written by COPY here."""
    try:
        return [_converter(f) for f in fields]
    except _Unsupported:
        return None


def _copy(
    cursor: Any,
    model: Any,
    fields: Sequence[Any],
    converters: Sequence[Callable[[Any], Any] | None],
    rows: Iterable[Sequence[Any]],
) -> None:
    lines = [
        "\t".join(
            copy_value(value if convert is None else convert(value))
            for value, convert in zip(row, converters, strict=True)
        )
        for row in rows
    ]
    lines.append("")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with cursor.cursor.copy(statement) as copy:
        copy.write("\n".join(lines).encode("utf-8"))
