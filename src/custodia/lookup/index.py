"""Keeping the name index current, inside the transaction of the write that changes it."""

from __future__ import annotations

from typing import Any

from custodia.registry import custody

from . import names
from .models import NameEntry, NameKey, NameVariant


def keys_of(name: names.Name, alias: tuple[str, ...]) -> set[str]:
    return names.pair_keys(name.given, name.surnames) | {
        f"alias/{names.phonetic(w)}" for w in alias if len(w) > 1
    }


def index_detention(detention: Any, person: Any) -> None:
    """Write (or rewrite) a detention's entry and keys, and add its words to the vocabulary."""
    name = names.Name(
        names.words(person.given_names),
        names.words(person.first_surname),
        names.words(person.second_surname),
    )
    alias = names.words(person.alias)
    held = detention.status in custody.HELD
    state = detention.state_id
    NameKey.objects.filter(entry_id=detention.pk).delete()
    NameEntry.objects.update_or_create(
        detention_id=detention.pk,
        defaults={
            "state": state,
            "held": held,
            "given": " ".join(name.given),
            "first": " ".join(name.first),
            "second": " ".join(name.second),
            "alias": " ".join(alias),
            "age": person.age,
            "detained_at": detention.detained_at,
        },
    )
    NameKey.objects.bulk_create(
        NameKey(entry_id=detention.pk, key=key, held=held, state=state)
        for key in sorted(keys_of(name, alias))
    )
    add_vocabulary(name.given + name.surnames + alias)


def set_held(detention_id: int, status: str) -> None:
    """Follow a custody change: the public consultation shows only people held now, so a
    release takes the person out of it in the same transaction."""
    held = status in custody.HELD
    if NameEntry.objects.filter(pk=detention_id).exclude(held=held).update(held=held):
        NameKey.objects.filter(entry_id=detention_id).update(held=held)


def forget(detention: Any) -> None:
    """A redaction removes the person from every search."""
    NameKey.objects.filter(entry_id=detention.pk).delete()
    NameEntry.objects.filter(pk=detention.pk).delete()


def add_vocabulary(words: tuple[str, ...]) -> None:
    keys = {names.phonetic(w) for w in words if len(w) > 1}
    if not keys:
        return
    known = set(
        NameVariant.objects.filter(variant__in=keys, key__in=keys).values_list("key", flat=True)
    )
    rows = [
        NameVariant(variant=variant, key=key)
        for key in sorted(keys - known)
        for variant in sorted(names.deletes(key, names.edits_allowed(key)))
    ]
    NameVariant.objects.bulk_create(rows, ignore_conflicts=True)


def rebuild(detention_model: Any, entry_model: Any, key_model: Any, variant_model: Any) -> int:
    """Rebuild the whole index from the registry, in bulk: for a migration (historical models)
    and for ``custodia lookup reindex`` (after the matching rules change). Returns the number
    of detentions indexed. Redacted people are left out."""
    key_model.objects.all().delete()
    entry_model.objects.all().delete()
    detentions = (
        detention_model.objects.filter(redactions__isnull=True, person__isnull=False)
        .select_related("person")
        .order_by("pk")
    )
    vocabulary: set[str] = set()
    entries: list[Any] = []
    keys: list[Any] = []
    count = 0

    def flush() -> None:
        entry_model.objects.bulk_create(entries, batch_size=1000)
        key_model.objects.bulk_create(keys, batch_size=2000)
        entries.clear()
        keys.clear()

    for detention in detentions.iterator(chunk_size=2000):
        person = detention.person
        name = names.Name(
            names.words(person.given_names),
            names.words(person.first_surname),
            names.words(person.second_surname),
        )
        alias = names.words(person.alias)
        held = detention.status in custody.HELD
        entries.append(
            entry_model(
                detention_id=detention.pk,
                state=detention.state_id,
                held=held,
                given=" ".join(name.given),
                first=" ".join(name.first),
                second=" ".join(name.second),
                alias=" ".join(alias),
                age=person.age,
                detained_at=detention.detained_at,
            )
        )
        keys.extend(
            key_model(entry_id=detention.pk, key=key, held=held, state=detention.state_id)
            for key in sorted(keys_of(name, alias))
        )
        vocabulary.update(names.phonetic(w) for w in name.given + name.surnames + alias)
        count += 1
        if len(entries) >= 2000:
            flush()
    flush()
    variant_model.objects.all().delete()
    variant_model.objects.bulk_create(
        (
            variant_model(variant=variant, key=key)
            for key in sorted(k for k in vocabulary if len(k) > 1)
            for variant in sorted(names.deletes(key, names.edits_allowed(key)))
        ),
        batch_size=5000,
        ignore_conflicts=True,
    )
    return count
