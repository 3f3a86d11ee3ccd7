"""Keeping the name index current, inside the transaction of the write that changes it."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from custodia.core import bulk
from custodia.registry import custody

from . import names
from .models import NameEntry, NameKey, NameVariant


def keys_of(name: names.Name, alias: tuple[str, ...]) -> set[str]:
    return names.pair_keys(name.given, name.surnames) | {
        f"alias/{names.phonetic(w)}" for w in alias if len(w) > 1
    }


KEY_FIELDS = ("entry_id", "key", "held", "state", "entry_keys")


def indexed(
    pk: int,
    state: str,
    status: str,
    detained_at: Any,
    given: str,
    first: str,
    second: str,
    alias_text: str,
    age: int | None,
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], tuple[str, ...]]:
    """One detention's index rows: its entry (``ENTRY_FIELDS``), its keys (``KEY_FIELDS``) and
    the words it adds to the vocabulary."""
    name = names.Name(names.words(given), names.words(first), names.words(second))
    alias = names.words(alias_text)
    held = status in custody.HELD
    entry = (
        pk, state, held, " ".join(name.given), " ".join(name.first), " ".join(name.second),
        " ".join(alias), age, detained_at,
    )  # fmt: skip
    own = sorted(keys_of(name, alias))
    return (
        entry,
        [(pk, key, held, state, len(own)) for key in own],
        name.given + name.surnames + alias,
    )


def index_new_detentions(pairs: list[tuple[Any, Any]]) -> tuple[str, ...]:
    """Index detentions registered in this transaction (nothing indexed yet), in bulk:
    (detention, person) pairs. Returns their words, for ``add_vocabulary``: the caller adds
    them last, while it holds the ledger head, because two writers adding the same new word
    wait for each other's commit (seen: two import processes taking turns for every chunk)."""
    entries: list[tuple[Any, ...]] = []
    keys: list[tuple[Any, ...]] = []
    words: list[str] = []
    for d, p in pairs:
        entry, own, found = indexed(
            d.pk, d.state_id, d.status, d.detained_at, p.given_names, p.first_surname,
            p.second_surname, p.alias, p.age,
        )  # fmt: skip
        entries.append(entry)
        keys.extend(own)
        words.extend(found)
    bulk.add_rows(NameEntry, ENTRY_FIELDS, entries)
    bulk.add_rows(NameKey, KEY_FIELDS, keys)
    return tuple(words)


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


def vocabulary_rows(words: set[str]) -> set[tuple[str, str]]:
    """(variant, key) rows of the vocabulary for these folded words."""
    return {
        (variant, names.phonetic(word))
        for word in words
        if len(word) > 1
        for variant in names.neighbourhood(word)
    }


def add_vocabulary(words: tuple[str, ...]) -> None:
    """Add the words not seen before. A word is known when its own row (the word itself as a
    variant of its key) exists: the rows of a word are always written together."""
    wanted = {w for w in words if len(w) > 1}
    if not wanted:
        return
    known = {
        variant
        for variant, key in NameVariant.objects.filter(variant__in=wanted).values_list(
            "variant", "key"
        )
        if names.phonetic(variant) == key
    }
    rows = vocabulary_rows(wanted - known)
    NameVariant.objects.bulk_create(
        [NameVariant(variant=v, key=k) for v, k in sorted(rows)], ignore_conflicts=True
    )


def rebuild(
    detention_model: Any,
    entry_model: Any,
    key_model: Any,
    variant_model: Any,
    *,
    progress: Callable[[int], object] | None = None,
    chunk: int = 50_000,
) -> int:
    """Rebuild the whole index from the registry, in bulk (COPY on PostgreSQL): for a migration
    (historical models), ``custodia lookup reindex`` after the matching rules change, and
    synthetic loads. Returns the number of detentions indexed. Redacted people are left out.
    Call inside a transaction."""
    bulk.empty(key_model, entry_model, variant_model)
    rows = (
        detention_model.objects.filter(redactions__isnull=True, person__isnull=False)
        .order_by("pk")
        .values_list(
            "pk",
            "state_id",
            "status",
            "detained_at",
            "person__given_names",
            "person__first_surname",
            "person__second_surname",
            "person__alias",
            "person__age",
        )
    )
    vocabulary: set[str] = set()
    count = 0
    iterator = rows.iterator(chunk_size=10_000)
    while batch := list(islice(iterator, chunk)):
        entries: list[tuple[Any, ...]] = []
        keys: list[tuple[Any, ...]] = []
        for row in batch:
            entry, own, found = indexed(*row)
            entries.append(entry)
            keys.extend(own)
            vocabulary.update(found)
        bulk.insert_rows(entry_model, ENTRY_FIELDS, entries)
        bulk.insert_rows(key_model, KEY_FIELDS, keys)
        count += len(batch)
        if progress:
            progress(len(batch))
    bulk.insert_rows(variant_model, ("variant", "key"), sorted(vocabulary_rows(vocabulary)))
    return count


ENTRY_FIELDS = (
    "detention_id",
    "state",
    "held",
    "given",
    "first",
    "second",
    "alias",
    "age",
    "detained_at",
)
