"""Reads that may be served by a read replica (issue 7): the public search and the reports.

With ``DATABASE_REPLICA_URL`` set, settings add a ``replica`` database and ``ReplicaRouter``.
Code that may read slightly old data runs inside :func:`replica_reads` (or a view decorated
with :func:`serves_from_replica`); its ORM reads and its hand-written SQL (through
:func:`read_connection`) then go to the replica. Everything else, and every write (the access
log a public search or a report writes included), goes to the primary. Without a replica,
nothing changes.

Why only these: a family's search and an analyst's report tolerate the replica's lag (a second
or so); a police officer recording a handover, or a prosecutor's inbox, must read what was
just written.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

REPLICA = "replica"
log = logging.getLogger(__name__)
_replica_reads: ContextVar[bool] = ContextVar("custodia_replica_reads", default=False)
F = TypeVar("F", bound=Callable[..., Any])


def configured() -> bool:
    return REPLICA in connections.settings


def read_alias() -> str:
    """The database the current reads go to."""
    return REPLICA if _replica_reads.get() and configured() else DEFAULT_DB_ALIAS


def read_connection() -> BaseDatabaseWrapper:
    """The connection for hand-written read-only SQL (the ORM is routed by itself)."""
    return connections[read_alias()]


# Seconds the standby is behind: zero once it has replayed all it received, else the age of
# the last transaction it replayed.
_LAG = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
)


def fresh_enough() -> bool:
    """Whether the replica may answer: reachable and at most CUSTODIA_REPLICA_MAX_LAG_SECONDS
    behind. A stalled replay would otherwise keep showing, in the public search, people who
    were released or whose data was suppressed."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(_LAG)
            row = cursor.fetchone()
    except DatabaseError:
        log.warning("réplica inaccesible: se lee del servidor principal")
        return False
    lag = None if row is None or row[0] is None else float(row[0])
    if lag is None or lag > settings.CUSTODIA_REPLICA_MAX_LAG_SECONDS:
        log.warning("réplica atrasada (%s s): se lee del servidor principal", lag)
        return False
    return True


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside go to the replica, if there is one and it is fresh enough."""
    if _replica_reads.get() or not configured() or not fresh_enough():
        yield
        return
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def serves_from_replica(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ReplicaRouter:
    """Reads inside :func:`replica_reads` go to the replica; all else to the primary. The
    replica is never migrated (it streams the primary's schema)."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, first: Any, second: Any, **hints: Any) -> bool:
        return True  # the same data on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
