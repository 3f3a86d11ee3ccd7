"""Custody events and the access log are partitioned by month on PostgreSQL (issue 7,
``custodia.core.partitions``): rows land in their month, nothing is refused for want of a
partition, append-only holds on every partition, and the migration keeps every row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from conftest import capture
from custodia.core import partitions
from custodia.core.models import AccessLog, User
from custodia.registry.models import CustodyEvent
from custodia.registry.services import detention_register
from live_server import fresh_database, is_postgres, run_custodia, server_env

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitions exist only on PostgreSQL"
)


def partition_of(table: str, row_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [row_id])
        (name,) = cursor.fetchone()
    return str(name)


# An access-log row at a chosen time (the model stamps ``at`` itself).
LOG_ROW = (
    "INSERT INTO core_accesslog (at, username, role, institution_code, channel, action, folio, "
    "purpose) VALUES (%s, 'prueba', '', '', 'web', 'ver', '29-2026-X', '') RETURNING id"
)


def log_row_at(at: datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(LOG_ROW, [at])
        (row_id,) = cursor.fetchone()
    return int(row_id)


@postgres_only
def test_an_event_lands_in_the_partition_of_the_month_it_was_recorded(officer: User) -> None:
    detention = detention_register(actor=officer, data=capture(), channel="api").detention
    event = CustodyEvent.objects.get(detention=detention)
    assert partition_of("registry_custodyevent", event.pk) == (
        f"registry_custodyevent_p{event.recorded_at.astimezone(UTC):%Y%m}"
    )
    entry = AccessLog.objects.filter(folio=detention.folio).latest("id")
    month = f"{entry.at.astimezone(UTC):%Y%m}"
    assert partition_of("core_accesslog", entry.pk) == f"core_accesslog_p{month}"
    # Read back through the parent, with its key and its ordering, as any other table.
    assert list(detention.events.values_list("sequence", flat=True)) == [1]


@postgres_only
def test_a_row_outside_every_month_goes_to_the_default_partition() -> None:
    far = timezone.now() + timedelta(days=365 * 5)
    far_id = log_row_at(far)
    assert partition_of("core_accesslog", far_id) == "core_accesslog_default"
    assert AccessLog.objects.filter(pk=far_id).exists()


@postgres_only
@pytest.mark.parametrize("table", sorted(partitions.TABLES))
def test_every_partition_refuses_update_delete_and_truncate(table: str, officer: User) -> None:
    detention_register(actor=officer, data=capture(), channel="api")  # an event and a log row
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text, id FROM {table} ORDER BY id DESC LIMIT 1")
        name, row_id = cursor.fetchone()
    assert name.startswith(f"{table}_p")
    for statement in (
        f"UPDATE {name} SET id = id WHERE id = {row_id}",
        f"DELETE FROM {name} WHERE id = {row_id}",
        f"TRUNCATE {name}",
        f"TRUNCATE {table}_default",
    ):
        with pytest.raises(DatabaseError, match="sólo anexión"), transaction.atomic():
            with connection.cursor() as cursor:
                # The deferred foreign-key checks of the rows just written would otherwise make
                # PostgreSQL refuse the TRUNCATE for its own reason instead of ours.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(statement)


@postgres_only
def test_partitions_are_made_a_year_ahead_and_on_demand_for_history() -> None:
    found = {p.name for p in partitions.listing()}
    ahead = timezone.now().date().replace(day=1) + timedelta(days=32 * partitions.AHEAD - 20)
    for table in partitions.TABLES:
        assert f"{table}_default" in found
        assert f"{table}_p{timezone.now():%Y%m}" in found
        assert f"{table}_p{ahead:%Y%m}" in found
    assert partitions.ensure() == 0  # nothing missing: idempotent
    # History (custodia synth) asks for its months first: two tables, 3 months each.
    assert partitions.ensure(date(2019, 1, 15), date(2019, 3, 1)) == 6
    names = {p.name for p in partitions.listing()}
    assert {"registry_custodyevent_p201901", "registry_custodyevent_p201903"} <= names
    assert "registry_custodyevent_p201904" not in names


@postgres_only
def test_a_month_already_in_the_default_partition_stays_there() -> None:
    """Rows of a month without a partition are in the default one and cannot move out (the
    table is append-only): creating that month is skipped, with no error and nothing lost."""
    old = datetime(2018, 6, 10, 12, tzinfo=UTC)
    row_id = log_row_at(old)
    made = partitions.ensure(date(2018, 5, 1), date(2018, 7, 1))
    names = {p.name for p in partitions.listing()}
    assert "core_accesslog_p201806" not in names
    assert {"core_accesslog_p201805", "core_accesslog_p201807"} <= names
    assert made == 5  # the events' three months and the log's two around it
    assert partition_of("core_accesslog", row_id) == "core_accesslog_default"


@postgres_only
def test_the_command_lists_the_partitions(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("partitions", "--list")
    out = capsys.readouterr().out
    assert "registry_custodyevent:" in out and "core_accesslog:" in out
    assert "registry_custodyevent_default" in out and "por omisión" in out
    month = timezone.now().date().replace(day=1)
    following = (month + timedelta(days=32)).replace(day=1)
    assert f"registry_custodyevent_p{month:%Y%m}" in out
    assert f"{month:%Y-%m-%d} a {following:%Y-%m-%d} (UTC" in out


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite answer")
def test_the_command_says_sqlite_has_no_partitions() -> None:
    with pytest.raises(CommandError, match="sólo en PostgreSQL"):
        call_command("partitions")
    assert partitions.ensure() == 0 and partitions.listing() == []


@pytest.mark.skipif(
    not is_postgres(settings.DATABASES["default"]), reason="partitions exist only on PostgreSQL"
)
def test_partitioning_an_existing_log_keeps_every_row_and_its_id(tmp_path: Path) -> None:
    """The migration on a database that already has rows: migrate to just before it, write
    access-log rows over three months, migrate on. Every row is still there, under its id, in
    its month's partition, and new rows continue the id sequence."""
    var = tmp_path / "var"
    var.mkdir()
    with fresh_database(settings.DATABASES["default"], tmp_path) as url:
        env = server_env(url, var)
        run_custodia(env, "migrate", "core", "0004")
        months = [datetime(2026, m, 3, 8, tzinfo=UTC) for m in (8, 9, 10)]
        with psycopg.connect(url, autocommit=True) as db:
            assert db.execute(
                "SELECT relkind FROM pg_class WHERE relname = 'core_accesslog'"
            ).fetchone() == ("r",)
            for at in months:
                db.execute(LOG_ROW, [at])
            before = db.execute("SELECT id, at FROM core_accesslog ORDER BY id").fetchall()
        run_custodia(env, "migrate")
        with psycopg.connect(url, autocommit=True) as db:
            assert db.execute(
                "SELECT relkind FROM pg_class WHERE relname = 'core_accesslog'"
            ).fetchone() == ("p",)
            after = db.execute(
                "SELECT id, at, tableoid::regclass::text FROM core_accesslog ORDER BY id"
            ).fetchall()
            assert [(i, at) for i, at, _ in after] == before
            assert [p for _, _, p in after] == [f"core_accesslog_p2026{m:02d}" for m in (8, 9, 10)]
            (new_id,) = db.execute(LOG_ROW, [datetime.now(UTC)]).fetchone()
            assert new_id == before[-1][0] + 1
            with pytest.raises(psycopg.errors.RestrictViolation):
                db.execute("DELETE FROM core_accesslog_p202608")
