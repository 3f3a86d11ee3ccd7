"""Every change to a Conference record is evidence (DESIGN.md §5): a ``Revision`` row holding the
document that a new ledger leaf commits to. The document is the record's state after the change,
so the history of an agreement is read from its revisions, and `custodia ledger verify`
recomputes each leaf from its revision."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from custodia.ledger import commitments
from custodia.ledger import services as ledger
from custodia.ledger.records import Checked

from .models import Revision


def record(
    *,
    record: str,
    record_id: int,
    action: str,
    summary: str,
    actor: Any,
    data: dict[str, Any],
    agreement: Any = None,
    session: Any = None,
    group: Any = None,
) -> Revision:
    """Commit a change to the log and keep its document; inside the caller's transaction."""
    now = timezone.now()
    document = {
        "record": f"conference.{record}",
        "id": record_id,
        "action": action,
        "recorded_at": commitments.instant(now),
        "recorded_by": actor.pk,
        "data": data,
    }
    salt = commitments.new_salt()
    index = ledger.append_leaf(commitments.leaf_hash({**document, "salt": salt}), salt, None)
    ledger.make_checkpoint(index + 1)
    return Revision.objects.create(
        record=record,
        record_id=record_id,
        action=action,
        summary=summary[:300],
        agreement=agreement,
        session=session,
        group=group,
        document=document,
        leaf_index=index,
        actor=actor,
        recorded_at=now,
    )


def check_revisions(leaves: dict[int, tuple[str, str]]) -> Checked:
    """Each revision's document, hashed again with its leaf's salt, must give its leaf; and each
    record must still be what its last revision says (a change behind the services' back, which
    wrote no leaf, shows here)."""
    from . import documents

    checked = Checked()
    last: dict[tuple[str, int], Revision] = {}
    for revision in Revision.objects.order_by("leaf_index").iterator(chunk_size=2000):
        found = leaves.get(revision.leaf_index)
        if found is None:
            checked.problems.append(
                f"el cambio «{revision.summary}» ({revision.record} {revision.record_id}) "
                f"no tiene su hoja {revision.leaf_index} en el libro"
            )
            continue
        checked.indexes.add(revision.leaf_index)
        last[(revision.record, revision.record_id)] = revision
        stored, salt = found
        if commitments.leaf_hash({**revision.document, "salt": salt}).hex() != stored:
            checked.problems.append(
                f"el cambio «{revision.summary}» ({revision.record} {revision.record_id}) fue "
                f"alterado: su hoja {revision.leaf_index} ya no coincide"
            )
    for (kind, pk), revision in last.items():
        model, document_of = documents.KINDS[kind]
        current = model.objects.filter(pk=pk).first()
        if current is None:
            checked.problems.append(f"el registro {kind} {pk} ya no existe")
        elif document_of(current) != revision.document["data"]:
            checked.problems.append(
                f"el registro {kind} {pk} cambió sin dejar constancia en el libro "
                f"(su último cambio registrado: «{revision.summary}»)"
            )
    return checked
