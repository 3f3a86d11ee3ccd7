"""Small pieces of hand-written SQL for hot read paths, where building the equivalent ORM query
costs more than running it. Portable between PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime


def member_of(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``column`` is one of ``values``: one array parameter on PostgreSQL (the statement is the
    same whatever their number), an IN list on SQLite. ``values`` must not be empty."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def table(model: Any) -> str:
    """The quoted table name of a model."""
    return str(connection.ops.quote_name(model._meta.db_table))


def aware(value: datetime | str | None) -> datetime | None:
    """A timestamp read with plain SQL, as an aware datetime. SQLite stores them as naive UTC
    text, and returns text for computed columns such as MAX()."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"not a timestamp: {value!r}")
        value = parsed
    return value if value.tzinfo else value.replace(tzinfo=UTC)
