"""Mexican names for the synthetic nation, from Faker's es_MX lists.

Faker's lists are flat; real names are not. The most frequent given names and surnames (in
public counts they are these, far ahead of the rest) are drawn first and most often, the rest
along a Zipf-like curve, so that the name search meets the crowds of "María Hernández" it meets
in production. Drawing from prepared cumulative weights costs a bisect, not a Faker call.
"""

from __future__ import annotations

import bisect
import itertools
import random

from faker.providers.person.es_MX import Provider

COMMON_MALE = ("José", "Juan", "Luis", "Carlos", "Jesús", "Miguel", "Francisco", "Jorge",
               "Alejandro", "Antonio", "Pedro", "Manuel", "Ricardo", "Fernando")  # fmt: skip
COMMON_FEMALE = ("María", "Guadalupe", "Ana", "Rosa", "Juana", "Patricia", "Gabriela",
                 "Verónica", "Leticia", "Alejandra", "Elizabeth", "Claudia")  # fmt: skip
COMMON_SURNAMES = ("Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez",
                   "Sánchez", "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez",
                   "Reyes", "Jiménez", "Torres", "Díaz", "Gutiérrez", "Ruiz")  # fmt: skip
NICKNAMES = {
    "José": "Pepe", "Francisco": "Paco", "Jesús": "Chucho", "Guadalupe": "Lupe",
    "Antonio": "Toño", "Alberto": "Beto", "Roberto": "Beto", "Guillermo": "Memo",
    "Eduardo": "Lalo", "Ignacio": "Nacho", "Enrique": "Quique", "Dolores": "Lola",
    "Consuelo": "Chelo", "Concepción": "Conchita", "Manuel": "Manolo", "Alejandro": "Alex",
}  # fmt: skip
EPITHETS = ("El Güero", "El Flaco", "El Chino", "El Gordo", "El Pelón", "La Chata", "El Negro",
            "El Chaparro", "La Güera", "El Primo")  # fmt: skip


class Pool:
    def __init__(self, common: tuple[str, ...], rest: tuple[str, ...], rnd: random.Random):
        tail = [name for name in rest if name not in common]
        rnd.shuffle(tail)
        self.names = [*common, *tail]
        self.cum = list(
            itertools.accumulate(1 / (rank**0.9) for rank in range(1, len(self.names) + 1))
        )

    def draw(self, rnd: random.Random) -> str:
        return self.names[bisect.bisect(self.cum, rnd.random() * self.cum[-1])]


class NamePools:
    def __init__(self, seed: int) -> None:
        rnd = random.Random(seed + 7)
        self.male = Pool(COMMON_MALE, tuple(Provider.first_names_male), rnd)
        self.female = Pool(COMMON_FEMALE, tuple(Provider.first_names_female), rnd)
        self.surnames = Pool(COMMON_SURNAMES, tuple(Provider.last_names), rnd)

    def sex(self, rnd: random.Random, unknown_share: float) -> str:
        if rnd.random() < unknown_share:
            return "unknown"
        return "male" if rnd.random() < 0.88 else "female"

    def given(self, rnd: random.Random, sex: str) -> str:
        pool = self.female if sex == "female" else self.male
        first = pool.draw(rnd)
        if rnd.random() < 0.25:  # compound given names: Juan Carlos, María Guadalupe
            second = pool.draw(rnd)
            if second != first:
                return f"{first} {second}"
        return first

    def person(self, rnd: random.Random, sex: str) -> tuple[str, str, str]:
        return self.given(rnd, sex), self.surnames.draw(rnd), self.surnames.draw(rnd)

    def alias(self, rnd: random.Random, given: str) -> str:
        nickname = NICKNAMES.get(given.split()[0])
        if nickname and rnd.random() < 0.5:
            return nickname
        return rnd.choice(EPITHETS)

    def officer(self, rnd: random.Random) -> str:
        sex = "female" if rnd.random() < 0.2 else "male"
        given, first, second = self.person(rnd, sex)
        return f"{given} {first} {second}"

    def contact(self, rnd: random.Random) -> str:
        given, first, second = self.person(rnd, "female" if rnd.random() < 0.7 else "male")
        return f"{given} {first} {second}"
