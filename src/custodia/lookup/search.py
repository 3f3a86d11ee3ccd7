"""Finding people by name: candidate retrieval from the name index, scoring by ``names``.

One query expands every typed word through the vocabulary (its deletion neighbourhood); one
ranks the entries by how many (given word, surname word) keys they share with the query; one
fetches the best ``CANDIDATE_LIMIT`` of them; each distinct set of given names and of surnames is
then scored once (docs/names.md §6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from rapidfuzz.distance import OSA

from custodia.core import replica, sql

from . import names
from .models import NameEntry, NameKey, NameVariant

CANDIDATE_LIMIT = 150  # entries scored per query, those sharing the most keys with it


@dataclass(frozen=True)
class Narrowing:
    state: str | None = None
    age: int | None = None
    detained_from: datetime | None = None
    detained_to: datetime | None = None

    AGE_TOLERANCE = 5  # years either side of an approximate age


@dataclass
class Found:
    matches: list[tuple[float, int]]  # (score, detention id), best first
    truncated: bool = False  # even the best-matching tier was too large to score


def expand(typed: Iterable[str]) -> dict[str, set[str]]:
    """For each typed word, the phonetic keys of the registered words near it: those sharing
    a string of its neighbourhood (``names.neighbourhood``), at most ``MAX_KEY_EDITS`` apart.
    Scoring then judges every candidate word by itself."""
    wanted = {word: names.neighbourhood(word) for word in typed if len(word) > 1}
    every = set().union(*wanted.values()) if wanted else set()
    pairs: list[tuple[str, str]] = []
    if every:
        where, params = sql.member_of("variant", sorted(every))
        with replica.read_connection().cursor() as cursor:
            statement = f"SELECT variant, key FROM {sql.table(NameVariant)} WHERE {where}"  # noqa: S608
            cursor.execute(statement, params)
            pairs = cursor.fetchall()
    found: dict[str, set[str]] = {}
    for word, variants in wanted.items():
        key = names.phonetic(word)
        found[word] = {key} | {
            k
            for variant, k in pairs
            if variant in variants
            and OSA.distance(key, k, score_cutoff=MAX_KEY_EDITS + 1) <= MAX_KEY_EDITS
        }
    return found


MAX_KEY_EDITS = 2


def find(
    query: names.Name,
    *,
    held_only: bool,
    narrowing: Narrowing | None = None,
    within: QuerySet[Any] | None = None,
) -> Found:
    """Matches for a name, best first. ``within`` (a Detention queryset) restricts the search
    to a user's jurisdiction before anything is scored."""
    narrowing = narrowing or Narrowing()
    given_words = names.query_given_words(query)
    expansions = expand(given_words | set(query.surnames))
    given_keys = set().union(*(expansions.get(w, set()) for w in given_words))
    surname_keys = set().union(*(expansions.get(w, set()) for w in query.surnames))
    keys = {f"{g}/{s}" for g in given_keys for s in surname_keys}
    if not keys:
        return Found([])
    rows = NameKey.objects.filter(key__in=sorted(keys))
    if held_only:
        rows = rows.filter(held=True)
    if narrowing.state:
        rows = rows.filter(state=narrowing.state)
    if within is not None:  # an entry's key is its detention's
        rows = rows.filter(entry_id__in=within.values("pk"))
    if narrowing.age is not None:
        low, high = narrowing.age - Narrowing.AGE_TOLERANCE, narrowing.age + Narrowing.AGE_TOLERANCE
        rows = rows.filter(Q(entry__age__isnull=True) | Q(entry__age__range=(low, high)))
    if narrowing.detained_from:
        rows = rows.filter(entry__detained_at__gte=narrowing.detained_from)
    if narrowing.detained_to:
        rows = rows.filter(entry__detained_at__lt=narrowing.detained_to)
    # People who share more (given word, surname word) pairs with the query come first: the
    # person typed in full matches every pair, a namesake who shares one name only one. Then
    # those with fewer keys the query did not ask for (no extra given name or surname), then
    # the most recent, as in the final ranking. The best ``CANDIDATE_LIMIT`` (and one more, to
    # tell whether the limit cut a tier) come back with their names in one query.
    hits = Count("*")
    ranked = (
        rows.values("entry_id", "entry_keys")
        .annotate(hits=hits, extra=F("entry_keys") - hits)
        .order_by("-hits", "extra", "-entry_id")[: CANDIDATE_LIMIT + 1]
    )
    found = _with_names(ranked)
    # Truncated only when even the best-matching tier does not fit: then the query is too vague.
    truncated = len(found) > CANDIDATE_LIMIT and found[CANDIDATE_LIMIT][1] == found[0][1]
    found = found[:CANDIDATE_LIMIT]
    # Each distinct set of given names, and of surnames, is scored once per query: candidates
    # share them (every candidate shares a key pair with the query).
    given_scores: dict[str, float] = {}
    surname_scores: dict[tuple[str, str], float] = {}
    scored: list[tuple[float, int]] = []
    for pk, _, given, first, second in found:
        g = given_scores.get(given)
        if g is None:
            g = given_scores[given] = names.given_score(query.given, tuple(given.split()))
        s = 0.0
        if g:
            s_key = (first, second)
            cached = surname_scores.get(s_key)
            if cached is None:
                record = names.Name((), tuple(first.split()), tuple(second.split()))
                cached = surname_scores[s_key] = names.surname_score(query, record)
            s = cached
        scored.append((names.combine(g, s), pk))
    # Equal scores: the most recently registered first (a family usually looks for someone
    # detained hours ago).
    matches = sorted(names.keep(scored), key=lambda m: (-m[0], -m[1]))
    return Found(matches, truncated)


def _with_names(ranked: QuerySet[Any]) -> list[tuple[int, tuple[int, int], str, str, str]]:
    """(entry id, (hits, extra keys), given, first, second) of the ranked entries, in order."""
    ranked_sql, params = ranked.query.sql_with_params()
    with replica.read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT r.entry_id, r.hits, r.extra, e.given, e.first, e.second "  # noqa: S608 - the ORM's own SQL and params
            f"FROM ({ranked_sql}) r JOIN {sql.table(NameEntry)} e ON e.detention_id = r.entry_id "
            "ORDER BY r.hits DESC, r.extra, r.entry_id DESC",
            params,
        )
        return [(pk, (hits, extra), *text) for pk, hits, extra, *text in cursor.fetchall()]
