"""Records other than custody events that are leaves of the log (DESIGN.md §5: agreements,
use-of-force reports, certificates…). Each app that writes such leaves registers a checker that
`custodia ledger verify` runs: it recomputes the app's leaves from its stored rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Checked:
    """The leaf indexes a checker accounted for, and what it found wrong (Spanish)."""

    indexes: set[int] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


Checker = Callable[[dict[int, tuple[str, str]]], Checked]
"""Given {leaf index: (stored leaf hash, salt)} of the leaves that name no event."""

_checkers: list[Checker] = []


def register(checker: Checker) -> None:
    if checker not in _checkers:
        _checkers.append(checker)


def checkers() -> list[Checker]:
    return list(_checkers)
