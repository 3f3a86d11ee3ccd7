"""Appending to the log, proofs, checkpoints, and checking stored events against their leaves."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from custodia.core import sql

from . import commitments, merkle, signing
from .models import Checkpoint, LedgerHead

log = logging.getLogger(__name__)


def document_of(event: Any, folio: str, salt: str) -> dict[str, Any]:
    return commitments.event_document(
        folio=folio,
        sequence=event.sequence,
        kind=event.kind,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        recorded_by=event.recorded_by_id,
        institution=event.institution_id,
        local_zone=event.local_zone,
        data=event.data,
        salt=salt,
    )


def fetch(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Stored hashes of complete subtrees, in one query whatever their number.
    Plain SQL: on the proof path, building the equivalent ORM filter cost more than the query."""
    keys = set(keys)
    leaves = sorted(i for level, i in keys if level == 0)
    inner = sorted(k for k in keys if k[0] > 0)
    parts: list[str] = []
    params: list[Any] = []
    postgres = connection.vendor == "postgresql"
    if leaves:
        where, values = sql.member_of('"index"', leaves)
        parts.append(f'SELECT 0, "index", leaf_hash FROM ledger_ledgerleaf WHERE {where}')  # noqa: S608
        params += values
    if inner and postgres:
        # Arrays keep the statement the same whatever the number of keys, and the join probes
        # the (level, index) index once per key.
        parts.append(
            'SELECT n.level, n."index", n.hash FROM ledger_ledgernode n '
            "JOIN unnest(%s::smallint[], %s::bigint[]) AS k(level, idx) "
            'ON n.level = k.level AND n."index" = k.idx'
        )
        params += [[k[0] for k in inner], [k[1] for k in inner]]
    elif inner:
        where = " OR ".join(['(level = %s AND "index" = %s)'] * len(inner))
        parts.append(f'SELECT level, "index", hash FROM ledger_ledgernode WHERE {where}')  # noqa: S608
        params += [value for key in inner for value in key]
    found: dict[tuple[int, int], bytes] = {}
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)  # only placeholders interpolated
            found = {(lv, i): bytes.fromhex(h) for lv, i, h in cursor.fetchall()}
    missing = keys - set(found)
    if missing:
        raise LookupError(f"faltan nodos del árbol: {sorted(missing)[:5]}")
    return found


def stored(compute: Callable[[merkle.Lookup], Any]) -> Any:
    """Run a tree computation on stored hashes: find what it needs, fetch it once, run it."""
    hashes = fetch(merkle.needed(compute))
    return compute(lambda level, index: hashes[(level, index)])


def append_event(event: Any, folio: str, salt: str) -> int:
    """Append an event's leaf, inside the caller's transaction; returns its index.

    The leaf is the commitment to the event's canonical JSON, computed here. On PostgreSQL the
    rest is the ``ledger_append`` function (migration 0003): one round trip that takes the next
    index under the head row's lock and stores the leaf and the subtrees it completes. SQLite,
    which runs one write transaction at a time, does the same steps from Python."""
    leaf = commitments.leaf_hash(document_of(event, folio, salt))
    index = append_leaf(leaf, salt, event.pk)
    make_checkpoint(index + 1)
    return index


def append_events(events: list[Any], folios: list[str], salts: list[str]) -> list[int]:
    """Append several events' leaves, in order, in the caller's transaction; their indexes.
    On PostgreSQL one statement, ``ledger_append_many`` (migration 0005): one update of the
    head for the lot, then each leaf and the subtrees it completes, in order."""
    leaves = [
        commitments.leaf_hash(document_of(event, folio, salt))
        for event, folio, salt in zip(events, folios, salts, strict=True)
    ]
    if connection.vendor == "postgresql" and len(leaves) > 1:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ledger_append_many(%s::text[], %s::text[], %s::bigint[])",
                [[leaf.hex() for leaf in leaves], salts, [e.pk for e in events]],
            )
            first: int = cursor.fetchone()[0]
        indexes = list(range(first, first + len(leaves)))
    else:
        indexes = [
            append_leaf(leaf, salt, e.pk)
            for leaf, salt, e in zip(leaves, salts, events, strict=True)
        ]
    if indexes:
        make_checkpoint(indexes[-1] + 1)
    return indexes


def append_leaf(leaf: bytes, salt: str, event_id: int | None) -> int:
    """Store a leaf hash at the next index with the subtrees it completes; returns the index."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT ledger_append(%s, %s, %s)", [leaf.hex(), salt, event_id])
            index: int = cursor.fetchone()[0]
            return index
        return _append_in_python(cursor, leaf, salt, event_id)


def _append_in_python(cursor: Any, leaf: bytes, salt: str, event_id: int | None) -> int:
    cursor.execute("UPDATE ledger_ledgerhead SET size = size + 1 WHERE id = 1")
    cursor.execute("SELECT size - 1 FROM ledger_ledgerhead WHERE id = 1")
    index: int = cursor.fetchone()[0]
    cursor.execute(
        'INSERT INTO ledger_ledgerleaf ("index", leaf_hash, salt, event_id, created_at) '
        "VALUES (%s, %s, %s, %s, %s)",
        [index, leaf.hex(), salt, event_id, timezone.now()],
    )
    completed = list(merkle.complete_subtrees_after_append(index))
    if completed:
        lefts = fetch((level - 1, 2 * i) for level, i in completed)
        rows, current = [], leaf
        for level, i in completed:
            current = merkle.node_hash(lefts[(level - 1, 2 * i)], current)
            rows.append((level, i, current.hex()))
        cursor.executemany(
            'INSERT INTO ledger_ledgernode (level, "index", hash) VALUES (%s, %s, %s)', rows
        )
    return index


def tree_size() -> int:
    return LedgerHead.objects.values_list("size", flat=True).get(pk=1)


def root_at(size: int) -> bytes:
    return stored(lambda look: merkle.root(size, look))


def inclusion(index: int, size: int) -> tuple[bytes, list[bytes]]:
    """The leaf and its audit path, fetched together (two queries at most)."""

    def path(look: merkle.Lookup) -> list[bytes]:
        return merkle.inclusion_proof(index, size, look)

    hashes = fetch(merkle.needed(path) | {(0, index)})
    return hashes[(0, index)], path(lambda level, i: hashes[(level, i)])


def consistency(first: int, second: int) -> list[bytes]:
    return list(stored(lambda look: merkle.consistency_proof(first, second, look)))


_last_seen_signing: list[Any] = []


def make_checkpoint(size: int | None = None, *, force: bool = False) -> Checkpoint | None:
    """Sign the current tree, at most every CUSTODIA_CHECKPOINT_INTERVAL_SECONDS unless forced.
    Without a key the log still grows; checkpoints wait for `custodia ledger keygen`."""
    size = tree_size() if size is None else size
    if size == 0:
        return None
    now = timezone.now()
    interval = timedelta(seconds=settings.CUSTODIA_CHECKPOINT_INTERVAL_SECONDS)
    # Within the interval after a checkpoint this process saw, skip even the query.
    if not force and _last_seen_signing and now - _last_seen_signing[0] < interval:
        return None
    last = Checkpoint.objects.order_by("-id").values_list("tree_size", "timestamp").first()
    if last is not None:
        _last_seen_signing[:] = [last[1]]
        if last[0] == size:
            return None
        if not force and now - last[1] < interval:
            return None
    try:
        key = signing.load_private()
    except signing.KeyMissing as error:
        log.warning("%s", error)
        return None
    top = root_at(size)
    stamp = now.replace(microsecond=0)
    text = signing.checkpoint_text(
        settings.CUSTODIA_LEDGER_ORIGIN, size, top, stamp.isoformat().replace("+00:00", "Z")
    )
    signed = signing.sign(text, key, settings.CUSTODIA_LEDGER_ORIGIN)
    import base64

    # Remembered once the checkpoint commits: a rolled-back write's checkpoint never existed.
    transaction.on_commit(lambda: _last_seen_signing.__setitem__(slice(None), [stamp]))
    return Checkpoint.objects.create(
        tree_size=size,
        root_hash=top.hex(),
        timestamp=stamp,
        text=text,
        signature=base64.b64encode(signed.signature).decode(),
        key_id=signed.key_id.hex(),
    )


@dataclass(frozen=True)
class EventCheck:
    """An event recomputed from its stored row and checked against the log."""

    event_id: int
    sequence: int
    kind: str
    index: int | None
    stored_leaf: str | None
    recomputed_leaf: str
    leaf_matches: bool
    proof: list[str]
    proof_verifies: bool
    person: str  # "ok", "altered", "redacted", "not applicable"

    @property
    def ok(self) -> bool:
        return self.leaf_matches and self.proof_verifies and self.person != "altered"


def check_detention(detention: Any, checkpoint: Checkpoint | None) -> list[EventCheck]:
    from custodia.registry.models import CustodyEvent

    results = []
    events = CustodyEvent.objects.filter(detention=detention).select_related("leaf")
    redacted = detention.redactions.exists()
    for event in events.order_by("sequence"):
        leaf = getattr(event, "leaf", None)
        salt = leaf.salt if leaf else ""
        recomputed = commitments.leaf_hash(document_of(event, detention.folio, salt)).hex()
        proof: list[bytes] = []
        verifies = False
        if leaf is not None and checkpoint is not None and leaf.index < checkpoint.tree_size:
            _, proof = inclusion(leaf.index, checkpoint.tree_size)
            verifies = merkle.verify_inclusion(
                leaf.index,
                checkpoint.tree_size,
                bytes.fromhex(recomputed),
                proof,
                bytes.fromhex(checkpoint.root_hash),
            )
        person = "not applicable"
        if event.kind == "registered" and "person_digest" in event.data:
            if redacted:
                person = "redacted"
            else:
                digest = commitments.person_digest(person_document(detention.person), salt)
                person = "ok" if digest == event.data["person_digest"] else "altered"
        results.append(
            EventCheck(
                event_id=event.pk,
                sequence=event.sequence,
                kind=event.kind,
                index=leaf.index if leaf else None,
                stored_leaf=leaf.leaf_hash if leaf else None,
                recomputed_leaf=recomputed,
                leaf_matches=leaf is not None and leaf.leaf_hash == recomputed,
                proof=[p.hex() for p in proof],
                proof_verifies=verifies,
                person=person,
            )
        )
    return results


def person_document(person: Any) -> dict[str, Any]:
    return {
        "given_names": person.given_names,
        "first_surname": person.first_surname,
        "second_surname": person.second_surname,
        "alias": person.alias,
        "sex": person.sex,
        "age": person.age,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "curp": person.curp,
        "nationality": person.nationality,
        "physical_condition": person.physical_condition,
        "distinguishing_marks": person.distinguishing_marks,
    }


def ensure_checkpoint_current() -> Checkpoint | None:
    """Called by workers: sign pending leaves that no write has signed yet. The head's lock
    orders this checkpoint after every committed append, so checkpoints never shrink."""
    with transaction.atomic():
        head = LedgerHead.objects.select_for_update().get(pk=1)
        return make_checkpoint(head.size, force=True)
