"""The evaluation set of the name search (issue 5), generated from a seed: a population of
Mexican names, people to look for, the ways relatives mistype them, and distractors who share
their surnames.

Names come from Faker's es_MX lists, reordered so that the surnames and given names that are most
common in Mexico come first, and drawn with Zipf-like weights. Hernández, García, Martínez… are
therefore as crowded here as they are in a real registry. Pure Python, no Django.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import accumulate

from faker.providers.person.es_MX import Provider as MexicanNames

# Most frequent first surnames in Mexico, most common first (the usual public rankings agree on
# this head of the list; the exact order matters little with the weights below).
COMMON_SURNAMES = [
    "Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez",
    "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres",
    "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo", "Romero",
    "Álvarez", "Méndez", "Chávez", "Rivera", "Juárez", "Ramos", "Domínguez", "Herrera", "Medina",
    "Castro", "Vargas", "Guzmán", "Velázquez", "Muñoz",
]  # fmt: skip
COMMON_MALE = [
    "José", "Juan", "Luis", "Carlos", "Jesús", "Miguel", "Francisco", "Antonio", "Alejandro",
    "Jorge", "Pedro", "Manuel", "Ricardo", "Fernando", "Roberto", "Eduardo", "Javier", "Daniel",
    "Rafael", "Sergio",
]  # fmt: skip
COMMON_FEMALE = [
    "María", "Guadalupe", "Juana", "Ana", "Rosa", "Margarita", "Patricia", "Verónica", "Leticia",
    "Elizabeth", "Gabriela", "Alejandra", "Martha", "Laura", "Carmen", "Teresa", "Josefina",
    "Rosario", "Silvia", "Adriana",
]  # fmt: skip
# Given names that relatives often replace with a nickname (a subset of data/apodos.csv, read
# the other way round).
NICKNAME_OF = {
    "josé": "Pepe", "francisco": "Paco", "guadalupe": "Lupe", "jesús": "Chucho",
    "guillermo": "Memo", "ignacio": "Nacho", "antonio": "Toño", "eduardo": "Lalo",
    "alberto": "Beto", "roberto": "Beto", "enrique": "Quique", "rafael": "Rafa",
    "concepción": "Conchita", "leticia": "Lety", "patricia": "Paty", "gabriela": "Gaby",
    "rosario": "Chayo", "alejandro": "Alex", "salvador": "Chava", "sergio": "Checo",
    "fernando": "Nando", "alfonso": "Poncho", "dolores": "Lola", "mercedes": "Meche",
    "margarita": "Mago", "teresa": "Tere", "isabel": "Chabela", "refugio": "Cuca",
}  # fmt: skip

KINDS = (
    "exacto",
    "sin acentos",
    "sin segundo apellido",
    "apellidos invertidos",
    "apellidos en un campo",
    "sólo el primer nombre",
    "apodo",
    "ortografía parecida",
    "un error de dedo",
    "dos errores de dedo",
)


def _ordered(head: list[str], rest: tuple[str, ...] | list[str]) -> list[str]:
    seen = {w.casefold() for w in head}
    return head + sorted({w for w in rest if w.casefold() not in seen})


def _weights(n: int, exponent: float) -> list[float]:
    """Cumulative Zipf-like weights (``random.choices`` then bisects instead of summing)."""
    return list(accumulate(1.0 / (rank + 1) ** exponent for rank in range(n)))


SURNAMES = _ordered(COMMON_SURNAMES, MexicanNames.last_names)
MALE = _ordered(COMMON_MALE, list(MexicanNames.first_names_male))
FEMALE = _ordered(COMMON_FEMALE, list(MexicanNames.first_names_female))


@dataclass(frozen=True)
class Person:
    given: str
    first: str
    second: str
    sex: str
    age: int
    state: str
    held: bool

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.given, self.first, self.second) if p)


@dataclass(frozen=True)
class Query:
    target: int  # index in the population
    kind: str
    given_names: str
    first_surname: str
    second_surname: str
    # Held people (the target included) the query cannot tell apart (``namesakes``).
    namesakes: int = 1


@dataclass
class EvaluationSet:
    people: list[Person]
    queries: list[Query]
    targets: list[int] = field(default_factory=list)


STATES = [f"{n:02d}" for n in range(1, 33)]
# Rough population shares, for states weighted by population (Estado de México and CDMX first).
STATE_WEIGHTS = {"15": 13.5, "09": 7.3, "14": 6.6, "30": 6.4, "21": 5.3, "11": 4.9, "07": 4.4}


class Generator:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.surname_w = _weights(len(SURNAMES), 0.7)
        self.male_w = _weights(len(MALE), 0.8)
        self.female_w = _weights(len(FEMALE), 0.8)
        self.state_w = list(accumulate(STATE_WEIGHTS.get(s, 2.5) for s in STATES))

    def surname(self) -> str:
        return self.rnd.choices(SURNAMES, cum_weights=self.surname_w)[0]

    def given(self, sex: str) -> str:
        names, weights = (MALE, self.male_w) if sex == "male" else (FEMALE, self.female_w)
        first = self.rnd.choices(names, cum_weights=weights)[0]
        if self.rnd.random() < 0.4:  # compound given names: José Luis, María Guadalupe
            second = self.rnd.choices(names, cum_weights=weights)[0]
            if second != first:
                return f"{first} {second}"
        return first

    def person(self, held: bool) -> Person:
        sex = "male" if self.rnd.random() < 0.88 else "female"  # detentions are mostly of men
        second = self.surname() if self.rnd.random() > 0.05 else ""
        return Person(
            given=self.given(sex),
            first=self.surname(),
            second=second,
            sex=sex,
            age=self.rnd.randint(18, 70),
            state=self.rnd.choices(STATES, cum_weights=self.state_w)[0],
            held=held,
        )

    def relatives(self, target: Person) -> Iterator[Person]:
        """Distractors: siblings with both surnames, and a namesake with another second one."""
        for _ in range(self.rnd.randint(1, 3)):
            sex = "male" if self.rnd.random() < 0.7 else "female"
            yield Person(
                self.given(sex), target.first, target.second, sex, target.age, target.state, True
            )
        yield Person(
            target.given,
            target.first,
            self.surname(),
            target.sex,
            self.rnd.randint(18, 70),
            target.state,
            True,
        )


def plain(text: str) -> str:
    """What someone types without accents: "José Núñez" -> "jose nunez"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


SOUND_ALIKE = [
    ("v", "b"), ("b", "v"), ("z", "s"), ("s", "z"), ("ll", "y"), ("y", "ll"), ("ce", "se"),
    ("ci", "si"), ("qu", "k"), ("ge", "je"), ("gi", "ji"), ("x", "j"), ("h", ""), ("rr", "r"),
]  # fmt: skip


class Mistyper:
    """The ways relatives type a name (``KINDS``)."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def typo(self, word: str) -> str:
        if len(word) < 4:
            return word
        i = self.rnd.randrange(1, len(word) - 1)  # first letters are rarely mistyped
        kind = self.rnd.choice(("swap", "drop", "double", "replace"))
        if kind == "swap" and word[i] != word[i + 1]:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if kind == "drop":
            return word[:i] + word[i + 1 :]
        if kind == "double":
            return word[:i] + word[i] + word[i:]
        neighbours = "qwertyuiopasdfghjklzxcvbnm"
        return word[:i] + self.rnd.choice(neighbours.replace(word[i], "")) + word[i + 1 :]

    def sound_alike(self, text: str) -> str | None:
        low = text.lower()
        options = [(a, b) for a, b in SOUND_ALIKE if a in plain(low)]
        if not options:
            return None
        a, b = self.rnd.choice(options)
        return plain(low).replace(a, b, 1)

    def variants(self, index: int, p: Person) -> Iterator[Query]:
        given, first, second = p.given, p.first, p.second
        yield Query(index, "exacto", given, first, second)
        yield Query(index, "sin acentos", plain(given), plain(first), plain(second))
        if second:
            yield Query(index, "sin segundo apellido", given, first, "")
            yield Query(index, "apellidos invertidos", given, second, first)
            yield Query(index, "apellidos en un campo", given, f"{first} {second}", "")
        if " " in given:
            yield Query(index, "sólo el primer nombre", given.split()[0], first, second)
        nickname = NICKNAME_OF.get(given.split()[0].lower())
        if nickname:
            rest = " ".join(given.split()[1:])
            yield Query(index, "apodo", f"{nickname} {rest}".strip(), first, second)
        for field_name in ("first", "second", "given"):
            value = {"first": first, "second": second, "given": given}[field_name]
            changed = self.sound_alike(value) if value else None
            if changed and plain(changed) != plain(value):
                parts = {"given": given, "first": first, "second": second, field_name: changed}
                yield Query(index, "ortografía parecida", *_fields(parts))
                break
        words = [("given", given), ("first", first), ("second", second)]
        long_words = [(f, v) for f, v in words if v and len(v.split()[0]) >= 4]
        if long_words:
            f, v = self.rnd.choice(long_words)
            parts = {"given": given, "first": first, "second": second}
            parts[f] = " ".join([self.typo(v.split()[0]), *v.split()[1:]])
            yield Query(index, "un error de dedo", *_fields(parts))
        if len(long_words) >= 2:
            (f1, v1), (f2, v2) = self.rnd.sample(long_words, 2)
            parts = {"given": given, "first": first, "second": second}
            parts[f1] = " ".join([self.typo(v1.split()[0]), *v1.split()[1:]])
            parts[f2] = " ".join([self.typo(v2.split()[0]), *v2.split()[1:]])
            yield Query(index, "dos errores de dedo", *_fields(parts))


def _fields(parts: dict[str, str]) -> tuple[str, str, str]:
    return parts["given"], parts["first"], parts["second"]


def evaluation_set(people: int, held: int, targets: int, seed: int) -> EvaluationSet:
    """``people`` in the history, of whom ``held`` are held now; ``targets`` of the held are
    looked for, each with its relatives added as distractors (held too)."""
    gen = Generator(seed)
    population: list[Person] = []
    chosen: list[Person] = []
    for _ in range(targets):
        target = gen.person(held=True)
        chosen.append(target)
        population.append(target)
        population.extend(gen.relatives(target))
    held_so_far = len(population)
    while len(population) < people:
        person = gen.person(held=held_so_far < held)
        population.append(person)
        held_so_far += person.held
    gen.rnd.shuffle(population)  # targets must not sit together at the start of the table
    position = {id(person): i for i, person in enumerate(population)}
    mistyper = Mistyper(random.Random(seed + 1))
    indexes = [position[id(target)] for target in chosen]
    queries = [q for i in indexes for q in mistyper.variants(i, population[i])]
    counts = namesakes(population, queries)
    queries = [replace(q, namesakes=n) for q, n in zip(queries, counts, strict=True)]
    return EvaluationSet(population, queries, indexes)


def namesakes(people: list[Person], queries: list[Query]) -> list[int]:
    """For each query, how many held people (the target included) bear the same name as far as
    the query can tell: the same folded given names and surnames, but only the first surname
    when the query leaves out the second, and only the first given name when it gives one of
    two. No search can tell these people apart from what was typed, so when there are more than
    five of them even a perfect ranking finds the target among the first five only 5/n of the
    time: that is the ceiling of recall@5 on this set (``ceiling``). With the surnames swapped,
    the people registered in the typed order count too: they match what was typed better."""

    def folded(*parts: str) -> tuple[str, ...]:
        return tuple(plain(p) for p in parts)

    full: dict[tuple[str, ...], int] = {}
    given_first: dict[tuple[str, ...], int] = {}
    first_given_word: dict[tuple[str, ...], int] = {}
    for p in people:
        if not p.held:
            continue
        for counter, key in (
            (full, folded(p.given, p.first, p.second)),
            (given_first, folded(p.given, p.first)),
            (first_given_word, folded(p.given.split()[0], p.first, p.second)),
        ):
            counter[key] = counter.get(key, 0) + 1
    counts = []
    for q in queries:
        t = people[q.target]
        if q.kind == "sin segundo apellido":
            counts.append(given_first[folded(t.given, t.first)])
        elif q.kind == "sólo el primer nombre":
            counts.append(first_given_word[folded(t.given.split()[0], t.first, t.second)])
        elif q.kind == "apellidos invertidos":
            # People registered with the surnames in the typed order match it better still.
            swapped = full.get(folded(t.given, t.second, t.first), 0)
            counts.append(full[folded(t.given, t.first, t.second)] + swapped)
        else:
            counts.append(full[folded(t.given, t.first, t.second)])
    return counts


def ceiling(count: int, k: int = 5) -> float:
    """The best expected recall@k when ``count`` people are indistinguishable by the query."""
    return min(1.0, k / count)
