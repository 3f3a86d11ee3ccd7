"""The database itself refuses to change or delete custody events and access-log entries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from conftest import capture
from custodia.core.models import AccessLog, User
from custodia.registry.models import CustodyEvent
from custodia.registry.services import detention_register


@pytest.fixture
def event(officer: User) -> CustodyEvent:
    folio = detention_register(actor=officer, data=capture(), channel="api").detention.folio
    return CustodyEvent.objects.get(detention__folio=folio)


def refused(statement: Any) -> None:
    with pytest.raises(DatabaseError, match="sólo anexión"), transaction.atomic():
        statement()


def test_custody_event_cannot_be_updated_through_the_orm(event: CustodyEvent) -> None:
    refused(lambda: CustodyEvent.objects.filter(pk=event.pk).update(kind="released"))
    event.refresh_from_db()
    assert event.kind == "registered"


def test_custody_event_cannot_be_deleted(event: CustodyEvent) -> None:
    def raw() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM registry_custodyevent WHERE id = %s", [event.pk])

    refused(raw)
    assert CustodyEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "table", ["ledger_ledgerleaf", "ledger_ledgernode", "ledger_checkpoint", "core_accesslog"]
)
def test_ledger_tables_refuse_raw_update_and_delete(event: CustodyEvent, table: str) -> None:
    # A second leaf completes the first subtree node.
    detention_register(actor=event.recorded_by, data=capture(), channel="api")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        before = cursor.fetchone()[0]
    assert before > 0, f"{table} should have rows after a registration"
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        if table == "ledger_ledgerleaf":
            statement = statement.replace("id = id", "salt = salt")

        def run(sql: str = statement) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

        refused(run)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        assert cursor.fetchone()[0] == before


def test_custody_event_cannot_be_changed_with_raw_sql(event: CustodyEvent) -> None:
    def raw() -> None:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE registry_custodyevent SET data = '{}' WHERE id = %s", [event.pk])

    refused(raw)


def test_access_log_cannot_be_updated_or_deleted(event: CustodyEvent) -> None:
    entry = AccessLog.objects.first()
    assert entry is not None
    refused(lambda: AccessLog.objects.filter(pk=entry.pk).update(username="nadie"))
    refused(lambda: AccessLog.objects.filter(pk=entry.pk).delete())
    assert AccessLog.objects.filter(pk=entry.pk, username=entry.username).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists only on PostgreSQL")
def test_truncate_is_refused_on_postgresql(event: CustodyEvent) -> None:
    def truncate() -> None:
        with connection.cursor() as cursor:
            # Flush the deferred foreign-key checks of this test's transaction first, or
            # PostgreSQL refuses the TRUNCATE for that reason instead of ours.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("TRUNCATE registry_custodyevent CASCADE")

    refused(truncate)


@pytest.mark.writes_projection_directly
def test_appending_still_works(event: CustodyEvent) -> None:
    CustodyEvent.objects.create(
        detention=event.detention,
        state_id=event.detention.state_id,
        sequence=2,
        kind="note",
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        recorded_by=event.recorded_by,
        institution=event.institution,
        local_zone=event.local_zone,
        data={"details": "nota"},
    )
    assert CustodyEvent.objects.filter(detention=event.detention).count() == 2
