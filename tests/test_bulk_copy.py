"""Batches written by COPY (``custodia.core.bulk.create`` and ``add_rows``, issue 7): on
PostgreSQL an import chunk's rows go in by COPY instead of Django's INSERT, and what lands must
be exactly what the INSERT path writes, down to escaped text, NULLs, JSON and choices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from conftest import capture
from custodia.core import bulk
from custodia.core.models import AccessLog, User
from custodia.lookup.models import NameEntry, NameKey
from custodia.notify.models import OutboxMessage
from custodia.registry.models import (
    CustodyEvent,
    DetainedPerson,
    Detention,
    DetentionHolder,
    Officer,
)
from custodia.registry.services import prepare_registration, write_registrations
from custodia.reports.models import DetentionFact

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="COPY is PostgreSQL's; SQLite uses bulk_create"
    ),
]

# Text that COPY's format must escape, or that looks like its markers.
AWKWARD = ["tab\there", "línea\nnueva", "barra \\ invertida", "\\N", "retorno\r", "ñandú 🙂", ""]


def log_entries(n: int, tag: str) -> list[AccessLog]:
    return [
        AccessLog(
            username=f"{tag}{AWKWARD[i % len(AWKWARD)]}",
            role="capture",
            institution_code="ssc-tlax",
            channel="api" if i % 2 else "web",
            action="detention.read",
            folio=f"29-2026-{i:04d}",
            purpose=AWKWARD[(i + 3) % len(AWKWARD)],
            ip=["", "10.1.2.3", None, "2001:db8::1"][i % 4],
        )
        for i in range(n)
    ]


def stored_logs(tag: str) -> list[tuple[Any, ...]]:
    return sorted(
        AccessLog.objects.filter(username__startswith=tag).values_list(
            "username", "role", "channel", "action", "folio", "purpose", "ip"
        )
    )


def test_copy_writes_what_bulk_create_writes() -> None:
    count = bulk.COPY_AT_LEAST + 5
    made = bulk.create(AccessLog, log_entries(count, "copy:"))
    AccessLog.objects.bulk_create(log_entries(count, "orm:"))

    copied = stored_logs("copy:")
    inserted = stored_logs("orm:")
    assert len(copied) == count
    assert [(u.removeprefix("copy:"), *rest) for u, *rest in copied] == [
        (u.removeprefix("orm:"), *rest) for u, *rest in inserted
    ]
    # Every object has its id and its stamped time, as bulk_create leaves them.
    assert len({entry.pk for entry in made}) == count
    assert all(entry.at is not None and not entry._state.adding for entry in made)
    assert {entry.pk for entry in made} == set(
        AccessLog.objects.filter(username__startswith="copy:").values_list("pk", flat=True)
    )
    assert AccessLog.objects.get(pk=made[1].pk).ip == "10.1.2.3"
    assert AccessLog.objects.get(pk=made[0].pk).ip is None  # "" is stored as NULL


def test_a_broken_unique_key_is_djangos_integrity_error_and_writes_nothing(
    officer: User,
) -> None:
    detention = write_registrations(
        officer, [prepare_registration(officer, capture())], channel="api"
    )[0].detention
    before = NameKey.objects.count()
    keys = [
        NameKey(entry_id=detention.pk, key=f"k{i}", held=True, state="29")
        for i in range(bulk.COPY_AT_LEAST)
    ]
    twice = [NameEntry(detention_id=detention.pk, state="29", held=True, given="A", first="B",
                       detained_at=timezone.now())] * bulk.COPY_AT_LEAST  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.create(NameKey, keys)
        bulk.create(NameEntry, twice)
    assert NameKey.objects.count() == before  # the keys went with the failed transaction


def test_add_rows_refuses_rows_without_every_field() -> None:
    with pytest.raises(ValueError, match="held"):
        bulk.add_rows(NameKey, ("entry_id", "key", "state", "entry_keys"), [])


def registry_rows(detentions: list[Detention]) -> list[dict[str, Any]]:
    """Everything a registration wrote, per detention, without what differs by nature
    between two writes of the same capture (ids, folios, salts and the write's own clock)."""
    ids = [d.pk for d in detentions]

    def without(values: dict[str, Any], *names: str) -> dict[str, Any]:
        return {k: v for k, v in values.items() if k not in {"id", *names}}

    found = []
    for pk in ids:
        event = CustodyEvent.objects.filter(detention_id=pk).values().get()
        data = {k: v for k, v in event["data"].items() if k not in {"folio", "person_digest"}}
        outbox = OutboxMessage.objects.filter(detention_id=pk).values("topic", "payload").get()
        folio = Detention.objects.get(pk=pk).folio
        found.append(
            {
                "detention": without(Detention.objects.filter(pk=pk).values().get(), "folio"),
                "person": without(DetainedPerson.objects.filter(detention_id=pk).values().get(),
                                  "detention_id"),
                "officers": [without(o, "detention_id") for o in
                             Officer.objects.filter(detention_id=pk).order_by("position").values()],
                "holder": without(DetentionHolder.objects.filter(detention_id=pk).values().get(),
                                  "detention_id"),
                "event": {**without(event, "detention_id"), "data": data},
                "entry": without(NameEntry.objects.filter(pk=pk).values().get(), "detention_id"),
                "keys": sorted(NameKey.objects.filter(entry_id=pk).values_list(
                    "key", "held", "state", "entry_keys")),
                "fact": without(DetentionFact.objects.filter(pk=pk).values().get(),
                                "detention_id"),
                "outbox": (outbox["topic"], {k: v for k, v in outbox["payload"].items()
                                             if k not in {"folio", "event"}}),
                "log": list(AccessLog.objects.filter(folio=folio).values_list("action", "channel")),
            }
        )  # fmt: skip
    return found


def test_a_batch_written_by_copy_equals_one_written_by_insert(
    officer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    aliases = ["barra \\ invertida", "\\N", "ñandú 🙂", None]  # one line: no tab or newline
    captures = [
        capture(
            person__given_names=f"María {name}",
            person__alias=aliases[i % len(aliases)],
            reason=f"riña\n{AWKWARD[i % 4]}",  # several lines: tab and newline allowed
            detained_at=(now - timedelta(minutes=30 + 7 * i)).isoformat(),
            officers=[{"name": "Ana Ruiz"}, {"name": f"Luis {name}", "rank": "suboficial"}],
        )
        for i, name in enumerate(["José", "Lupe", "Ángel", "Sofía", "Iñaki"] * 5)
    ]
    for body in captures:
        if body["person"]["alias"] is None:
            body["person"].pop("alias")

    def write() -> list[Detention]:
        prepared = [prepare_registration(officer, body, now=now) for body in captures]
        return [r.detention for r in write_registrations(officer, prepared, channel="cli")]

    by_copy = write()
    assert len(by_copy) >= bulk.COPY_AT_LEAST
    monkeypatch.setattr(bulk, "COPY_AT_LEAST", 10**9)  # the same batch through INSERT
    by_insert = write()

    copied, inserted = registry_rows(by_copy), registry_rows(by_insert)
    assert copied == inserted
    # Not vacuous: the text that needs escaping arrived as sent.
    reasons = {row["detention"]["reason"] for row in copied}
    assert "riña\ntab\there" in reasons and "riña\nbarra \\ invertida" in reasons
