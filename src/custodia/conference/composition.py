"""The rules a working group's membership must follow, as the agreement that created it states
them, checked by the software. Pure: no Django.

- ``proponent_and_zones``: "compuesta por el proponente y un representante de cada zona"
  (SEXTO of the XXIII plenary): one proponent and exactly one representative for each of the
  five zones; nobody else sits in it. The proponent does not fill their own zone's seat (the
  text counts them apart).
- ``two_conferences``: a group "entre" two conferences (TERCERO): every member sits for one of
  the two, and each has at least one.
- ``open``: no rule beyond one seat per person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ZONES = ("noroeste", "noreste", "occidente", "centro", "sureste")
ZONE_NAMES = {
    "noroeste": "Noroeste",
    "noreste": "Noreste",
    "occidente": "Occidente",
    "centro": "Centro",
    "sureste": "Sureste",
}
PARTIES = ("own", "counterpart")

PROPONENT_AND_ZONES = "proponent_and_zones"
TWO_CONFERENCES = "two_conferences"
OPEN = "open"


@dataclass(frozen=True)
class Seat:
    """One current member: the seat they hold, the zone they represent, the party they sit for."""

    name: str
    seat: str  # "proponent", "zone_representative", "member"
    zone: str = ""
    party: str = ""


def admission_problems(
    rule: str, current: Sequence[Seat], new: Seat, counterpart: str
) -> list[str]:
    """What stops ``new`` from joining a group whose current members are ``current``."""
    if any(_same_person(s.name, new.name) for s in current):
        return [f"{new.name} ya es integrante de la mesa."]
    if rule == PROPONENT_AND_ZONES:
        if new.seat == "member":
            return [
                "Esta mesa se compone sólo del proponente y un representante por zona: "
                "registre al integrante como uno de ellos."
            ]
        if new.seat == "proponent" and any(s.seat == "proponent" for s in current):
            return ["La mesa ya tiene proponente."]
        if new.seat == "zone_representative":
            if new.zone not in ZONES:
                return ["Indique la zona que representa."]
            if any(s.seat == "zone_representative" and s.zone == new.zone for s in current):
                return [f"La zona {ZONE_NAMES[new.zone]} ya tiene representante."]
    if rule == TWO_CONFERENCES and new.party not in PARTIES:
        return [f"Indique si representa a la Conferencia o a la {counterpart}."]
    return []


def composition_problems(rule: str, members: Iterable[Seat], counterpart: str) -> list[str]:
    """What the current membership still lacks (or has in excess) under the rule; empty when
    the group is constituted as its agreement says."""
    members = list(members)
    problems: list[str] = []
    if rule == PROPONENT_AND_ZONES:
        proponents = sum(1 for s in members if s.seat == "proponent")
        if proponents == 0:
            problems.append("Falta el proponente.")
        elif proponents > 1:
            problems.append(f"Hay {proponents} proponentes; debe haber uno.")
        by_zone = Counter(s.zone for s in members if s.seat == "zone_representative")
        missing = [ZONE_NAMES[z] for z in ZONES if by_zone[z] == 0]
        if missing:
            problems.append("Falta representante de la zona: " + ", ".join(missing) + ".")
        problems += [
            f"La zona {ZONE_NAMES[z]} tiene {by_zone[z]} representantes; debe tener uno."
            for z in ZONES
            if by_zone[z] > 1
        ]
        others = [s.name for s in members if s.seat not in {"proponent", "zone_representative"}]
        if others:
            problems.append("No caben en esta mesa: " + ", ".join(others) + ".")
    elif rule == TWO_CONFERENCES:
        parties = Counter(s.party for s in members)
        if parties["own"] == 0:
            problems.append("Falta quien represente a la Conferencia Nacional de Secretarios.")
        if parties["counterpart"] == 0:
            problems.append(f"Falta quien represente a la {counterpart}.")
    return problems


def _same_person(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())
