"""The schema can be sharded by state (issue 7, docs/citus.md): every row of a detention
carries its state, and on PostgreSQL every unique key of a sharded table and every foreign key
to the detention includes it, so the state cannot differ from the detention's."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from conftest import capture
from custodia.core import distribution
from custodia.core.models import User
from custodia.registry.models import (
    CustodyEvent,
    DetainedPerson,
    Detention,
    DetentionHolder,
    Officer,
    SourceRecord,
)
from custodia.registry.services import detention_register, event_record

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the keys are PostgreSQL's; SQLite is not sharded"
)


def test_every_row_of_a_detention_carries_its_state(officer: User) -> None:
    folio = detention_register(actor=officer, data=capture(), channel="api").detention.folio
    detention = Detention.objects.get(folio=folio)
    event_record(
        actor=officer,
        folio=folio,
        data={
            "kind": "handed_over",
            "occurred_at": detention.detained_at.isoformat(),
            "authority": {"kind": "public_prosecutor", "name": "Fiscalía"},
        },
        channel="api",
    )
    rows = [
        DetainedPerson.objects.get(detention=detention),
        *Officer.objects.filter(detention=detention),
        *DetentionHolder.objects.filter(detention=detention),
        *CustodyEvent.objects.filter(detention=detention),
    ]
    assert len(rows) >= 4 and CustodyEvent.objects.filter(detention=detention).count() == 2
    assert {row.state_id for row in rows} == {detention.state_id} == {folio[:2]}


@postgres_only
@pytest.mark.django_db
def test_no_unique_key_of_a_sharded_table_lacks_the_state() -> None:
    assert distribution.keys_without_state() == []


@postgres_only
@pytest.mark.django_db
def test_the_check_finds_a_key_without_the_state() -> None:
    """The check above cannot pass by seeing nothing: a new unique key without the state, and a
    detention foreign key of one column, are both reported."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE registry_officer ADD CONSTRAINT officer_name_probe "
            "UNIQUE (detention_id, name)"
        )
        cursor.execute(
            "ALTER TABLE registry_officer ADD CONSTRAINT officer_fk_probe FOREIGN KEY "
            "(detention_id) REFERENCES registry_detention (id)"
        )
    problems = distribution.keys_without_state()
    assert "registry_officer.officer_name_probe (detention_id, name)" in problems
    assert any("officer_fk_probe" in p for p in problems)


@postgres_only
def test_a_row_cannot_name_another_state_than_its_detention(officer: User) -> None:
    folio = detention_register(actor=officer, data=capture(), channel="api").detention.folio
    detention = Detention.objects.get(folio=folio)
    other = "09" if detention.state_id != "09" else "21"
    with pytest.raises(IntegrityError, match="detention_id_state_fk"), transaction.atomic():
        Officer.objects.create(detention=detention, state_id=other, position=9, name="Otro Estado")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not Officer.objects.filter(detention=detention, position=9).exists()


@postgres_only
def test_a_folio_must_begin_with_its_state(officer: User) -> None:
    folio = detention_register(actor=officer, data=capture(), channel="api").detention.folio
    other = "09" if not folio.startswith("09") else "21"
    with pytest.raises(IntegrityError, match="detention_folio_of_state"), transaction.atomic():
        Detention.objects.filter(folio=folio).update(folio=other + folio[2:])
    assert Detention.objects.filter(folio=folio).exists()


@pytest.mark.django_db
def test_the_plan_names_every_large_table_once() -> None:
    """Every table that grows with the detentions is placed: sharded, a reference table, or
    kept on the coordinator (docs/citus.md), and none twice."""
    placed = [*distribution.SHARDED, *distribution.REFERENCE, *distribution.COORDINATOR]
    assert len(placed) == len(set(placed))
    tables = set(connection.introspection.table_names())
    assert set(placed) <= tables
    for model in (DetainedPerson, Officer, DetentionHolder, CustodyEvent, SourceRecord, Detention):
        assert model._meta.db_table in distribution.SHARDED
    assert set(distribution.DETENTION_OWNED) < set(distribution.SHARDED)
