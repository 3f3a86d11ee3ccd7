"""Matching Mexican personal names the way relatives type them (DESIGN.md §4b). Pure: no Django.

The pieces, in the order a search uses them:

1. ``words``: fold case and accents (ñ becomes n, ü becomes u), turn punctuation into spaces,
   drop the particles de, del, la, las, los and y. "María de la Luz" gives ("maria", "luz").
2. ``parse``: given names, first and second surname; when the second surname is empty and the
   first holds two or more words, the last one is taken as the second surname ("Hernández López"
   typed in one field).
3. ``phonetic``: a key under which spellings that sound alike in Mexican Spanish meet:
   b/v; s/z/c before e and i; ll/y; silent h (but ch); qu/k/c before a, o, u; g/j before e and i
   (gu before e and i stays g); x as j at the start of a word or between vowels (Ximena,
   Xavier, Mexía); y as i when it is not followed by a vowel (Ybarra, Garay); ph as f; doubled
   letters once. Examples are in docs/names.md and the tests.
4. ``nickname_names``: common nicknames (Pepe, Paco, Lupe, Chema…) from ``data/apodos.csv``.
5. ``deletes``: the deletion neighbourhood of a key (SymSpell), so that a store can find the
   registered words within one or two edits of a typed word with exact index lookups.
6. ``score``: how well a registered name answers a query, in [0, 1], with explicit penalties for
   what the query leaves out or changes (``Penalty``), word similarity by rapidfuzz.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import TypeVar

from rapidfuzz.distance import OSA

PARTICLES = frozenset({"de", "del", "la", "las", "los", "y"})
NICKNAMES_FILE = Path(__file__).resolve().parent / "data" / "apodos.csv"

_APOSTROPHES = re.compile("['\u2019`\u00b4]")  # apostrophes, typographic ones too
_NOT_LETTERS = re.compile(r"[^a-z]+")


def fold(text: str) -> str:
    """Lower case without accents: "Núñez" -> "nunez"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> tuple[str, ...]:
    """The meaningful words of a name field, folded, particles dropped."""
    plain = _NOT_LETTERS.sub(" ", _APOSTROPHES.sub("", fold(text)))
    return tuple(w for w in plain.split() if w not in PARTICLES)


@dataclass(frozen=True)
class Name:
    given: tuple[str, ...]
    first: tuple[str, ...]
    second: tuple[str, ...] = ()

    @property
    def surnames(self) -> tuple[str, ...]:
        return self.first + self.second

    def __str__(self) -> str:
        return " ".join(self.given + self.first + self.second)


def parse(given_names: str, first_surname: str, second_surname: str = "") -> Name:
    given, first, second = words(given_names), words(first_surname), words(second_surname)
    if not second and len(first) >= 2:
        first, second = first[:-1], first[-1:]
    return Name(given, first, second)


# --- phonetic key -------------------------------------------------------------------------------

_PHONETIC_STEPS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"ch"), "C"),  # keep ch whole before h goes silent
    (re.compile(r"ph"), "f"),
    (re.compile(r"h"), ""),
    (re.compile(r"ll"), "y"),
    (re.compile(r"qu(?=[ei])"), "k"),
    (re.compile(r"q"), "k"),
    (re.compile(r"gu(?=[ei])"), "G"),  # hard g: Guerrero, Guillermo
    (re.compile(r"g(?=[ei])"), "j"),  # soft g: Gerardo, Gil
    (re.compile(r"G"), "g"),
    (re.compile(r"c(?=[ei])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"z"), "s"),
    (re.compile(r"^x(?=[aeiou])|(?<=[aeiou])x(?=[aeiou])"), "j"),  # Ximena, Xavier, Mexía
    (re.compile(r"v"), "b"),
    (re.compile(r"w"), "u"),
    (re.compile(r"y(?![aeiou])"), "i"),  # Ybarra, Garay
    (re.compile(r"(.)\1+"), r"\1"),  # doubled letters once: Garrido / Garido
    (re.compile(r"C"), "ch"),
]


@lru_cache(maxsize=200_000)
def phonetic(word: str) -> str:
    """The phonetic key of a folded word (see the module's docstring)."""
    key = word
    for pattern, replacement in _PHONETIC_STEPS:
        key = pattern.sub(replacement, key)
    return key


def deletes(key: str, distance: int) -> set[str]:
    """Every string obtained by deleting up to ``distance`` letters from ``key`` (the key itself
    included). Two words within ``distance`` edits share at least one such string."""
    found = {key}
    for n in range(1, min(distance, len(key) - 1) + 1):
        for gone in combinations(range(len(key)), n):
            found.add("".join(c for i, c in enumerate(key) if i not in gone))
    return found


def neighbourhood(word: str) -> set[str]:
    """Where a folded word meets its misspellings: the deletions of its phonetic key and of the
    word itself (a typo can change the key's length, as "Joreg" for Jorge shows), each within
    the edits the word allows. A store maps each of these strings to the word's key."""
    key = phonetic(word)
    return deletes(key, edits_allowed(key)) | deletes(word, edits_allowed(word))


def edits_allowed(word: str) -> int:
    """Typos tolerated in a word of this length: none in very short words, where one edit makes
    another name (Ana/Eva), one from four letters, two from eight."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


# --- nicknames ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _nicknames() -> dict[str, tuple[tuple[str, ...], ...]]:
    table: dict[str, list[tuple[str, ...]]] = {}
    with NICKNAMES_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            nickname, names = words(row["apodo"]), words(row["nombre"])
            if len(nickname) == 1 and names:
                table.setdefault(nickname[0], []).append(names)
    return {k: tuple(v) for k, v in table.items()}


def nickname_names(word: str) -> tuple[tuple[str, ...], ...]:
    """The given names a folded nickname stands for: "pepe" -> (("jose",),); "chema" ->
    (("jose", "maria"),). Empty when the word is not a known nickname."""
    return _nicknames().get(word, ())


# --- scoring ------------------------------------------------------------------------------------

EXACT, SAME_SOUND, NICKNAME, INITIAL = 1.0, 0.95, 0.9, 0.7
ONE_EDIT, TWO_EDITS = 0.85, 0.7


@dataclass(frozen=True)
class Penalty:
    """What a query may leave out or change, most common first, and what each costs."""

    missing_second_surname: float = 0.04  # query has no second surname, the record has one
    missing_given_name: float = 0.04  # each registered given name the query leaves out
    swapped_surnames: float = 0.06  # query surnames in the other order
    only_second_surname: float = 0.12  # query's only surname is the record's second one
    extra_query_word: float = 0.35  # a typed word that matches nothing registered


PENALTY = Penalty()


@lru_cache(maxsize=500_000)
def word_similarity(typed: str, registered: str) -> float:
    """How well one typed word stands for one registered word (both folded)."""
    if typed == registered:
        return EXACT
    if phonetic(typed) == phonetic(registered):
        return SAME_SOUND
    if len(typed) == 1:
        return INITIAL if registered.startswith(typed) else 0.0
    allowed = edits_allowed(registered)
    if allowed:
        edits = min(
            OSA.distance(typed, registered, score_cutoff=allowed + 1),
            OSA.distance(phonetic(typed), phonetic(registered), score_cutoff=allowed + 1),
        )
        if edits <= allowed:
            return ONE_EDIT if edits == 1 else TWO_EDITS
    return 0.0


def _align(typed: Sequence[str], registered: Sequence[str]) -> tuple[float, list[int]]:
    """Best one-to-one matching of typed words to registered words (names are a handful of
    words, so trying every order is cheap). Returns the summed similarity and, per typed word,
    the registered position it took (-1 for none)."""
    best_total, best_taken = -1.0, [-1] * len(typed)

    def walk(i: int, used: frozenset[int], total: float, taken: list[int]) -> None:
        nonlocal best_total, best_taken
        if i == len(typed):
            if total > best_total:
                best_total, best_taken = total, list(taken)
            return
        walk(i + 1, used, total, [*taken, -1])
        for j, word in enumerate(registered):
            if j not in used:
                sim = word_similarity(typed[i], word)
                if sim:
                    walk(i + 1, used | {j}, total + sim, [*taken, j])

    walk(0, frozenset(), 0.0, [])
    return best_total, best_taken


def given_score(typed: Sequence[str], registered: Sequence[str]) -> float:
    """Given names: every typed word should match; registered ones left out cost a little."""
    if not typed:
        return 0.0
    options = [tuple(typed)]
    for i, word in enumerate(typed):  # a nickname stands for one or more given names
        for names in nickname_names(word):
            options.append((*typed[:i], *names, *typed[i + 1 :]))
    best = 0.0
    for option in options:
        total, taken = _align(option, registered)
        unmatched = taken.count(-1)
        value = total / len(option) - PENALTY.extra_query_word * unmatched / len(option)
        value -= PENALTY.missing_given_name * max(0, len(registered) - len(option) + unmatched)
        if option is not options[0]:
            value *= NICKNAME
        best = max(best, value)
    return max(0.0, best)


def surname_score(query: Name, record: Name) -> float:
    """Surnames: both, in either order; one of them; with the penalties of ``Penalty``."""
    typed = query.surnames
    if not typed or not record.surnames:
        return 0.0
    registered = record.surnames
    total, taken = _align(typed, registered)
    unmatched = taken.count(-1)
    value = total / len(typed) - PENALTY.extra_query_word * unmatched / len(typed)
    first_positions = set(range(len(record.first)))
    second_positions = set(range(len(record.first), len(registered)))
    matched_positions = [j for j in taken if j >= 0]
    if record.second and not query.second:
        if matched_positions and all(j in second_positions for j in matched_positions):
            value -= PENALTY.only_second_surname
        else:
            value -= PENALTY.missing_second_surname
    elif query.second and record.second:
        first_typed = [j for j in taken[: len(query.first)] if j >= 0]
        if first_typed and all(j in second_positions for j in first_typed):
            value -= PENALTY.swapped_surnames
    if record.second and not (set(matched_positions) & first_positions):
        value -= PENALTY.missing_second_surname  # the first (paternal) surname never matched
    return max(0.0, value)


GIVEN_WEIGHT, SURNAME_WEIGHT = 0.45, 0.55


def combine(given: float, surnames: float) -> float:
    """The score of a name from its two parts; a part that does not match at all rules it out."""
    if given == 0.0 or surnames == 0.0:
        return 0.0
    return round(GIVEN_WEIGHT * given + SURNAME_WEIGHT * surnames, 4)


def score(query: Name, record: Name) -> float:
    """How well a registered name answers a query, 0 to 1."""
    g = given_score(query.given, record.given)
    return combine(g, surname_score(query, record) if g else 0.0)


# --- what a store indexes and looks up ----------------------------------------------------------

MIN_SCORE = 0.6  # below this a record is not an answer at all
BEST_MARGIN = 0.12  # answers within this of the best one are shown; further down, hidden


def pair_keys(given: Iterable[str], surnames: Iterable[str]) -> set[str]:
    """Retrieval keys of a name: one per (given word, surname word) pair, by phonetic key."""
    given_keys = {phonetic(w) for w in given if len(w) > 1}
    surname_keys = {phonetic(w) for w in surnames if len(w) > 1}
    return {f"{g}/{s}" for g in given_keys for s in surname_keys}


def query_given_words(query: Name) -> set[str]:
    """The typed given words, and the given names their nicknames stand for."""
    found = {w for w in query.given if len(w) > 1}
    for word in query.given:
        for names in nickname_names(word):
            found.update(names)
    return found


T = TypeVar("T")


def keep(scored: Sequence[tuple[float, T]]) -> list[tuple[float, T]]:
    """Answers worth showing: above MIN_SCORE and within BEST_MARGIN of the best, best first."""
    ranked = sorted((s for s in scored if s[0] >= MIN_SCORE), key=lambda s: -s[0])
    if not ranked:
        return []
    floor = ranked[0][0] - BEST_MARGIN
    return [s for s in ranked if s[0] >= floor]
