"""Legal clocks (DESIGN.md §3): computed from a detention's current state at query time, never by
a scheduler that could miss a run. Durations are differences of instants, so daylight-saving
changes and time zones cannot shift them. Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from . import custody
from .custody import State


@dataclass(frozen=True)
class ClockPolicy:
    """Every threshold is policy or law; all are settings (``CUSTODIA_CLOCKS``)."""

    registration_warning: timedelta = timedelta(minutes=60)
    registration_critical: timedelta = timedelta(hours=6)
    handover_warning: timedelta = timedelta(hours=4)
    handover_critical: timedelta = timedelta(hours=12)
    prosecutor: timedelta = timedelta(hours=48)
    prosecutor_organized_crime: timedelta = timedelta(hours=96)
    judge: timedelta = timedelta(hours=72)
    judge_extended: timedelta = timedelta(hours=144)
    administrative: timedelta = timedelta(hours=36)
    child_handover: timedelta = timedelta(hours=4)
    silent_custody: timedelta = timedelta(hours=24)
    death_alert_for: timedelta = timedelta(days=30)


CLOCKS = {
    "registration_delay": (
        "Registro inmediato",
        "LNRD: registro «de inmediato»; umbral de política",
    ),
    "handover": ("Puesta a disposición sin demora", "Constitución, art. 16; umbrales de política"),
    "prosecutor_retention": ("Retención ministerial (48 h / 96 h)", "Constitución, art. 16"),
    "judge_term": ("Plazo constitucional (72 h / 144 h)", "Constitución, art. 19"),
    "administrative_arrest": ("Arresto administrativo (36 h)", "Constitución, art. 21"),
    "adolescent": (
        "Adolescente con autoridad no especializada",
        "Ley Nacional del Sistema Integral de Justicia Penal para Adolescentes",
    ),
    "child": (
        "Niña o niño sin la Procuraduría de Protección",
        "LNSIJPA; Ley General de los Derechos de Niñas, Niños y Adolescentes",
    ),
    "silent_custody": ("Custodia policial sin movimientos (24 h)", "Política del RND"),
    "death_in_custody": ("Fallecimiento bajo custodia", "Inmediatamente crítico"),
}


@dataclass(frozen=True)
class Clock:
    clock: str
    started_at: datetime
    due_at: datetime
    ended_at: datetime | None
    severity: str  # "warning" or "critical"

    @property
    def label(self) -> str:
        return CLOCKS[self.clock][0]

    @property
    def basis(self) -> str:
        return CLOCKS[self.clock][1]

    def overdue_by(self, now: datetime) -> timedelta:
        return (self.ended_at or now) - self.due_at

    def breached(self, now: datetime) -> bool:
        return self.overdue_by(now) > timedelta(0)

    def is_open(self, now: datetime) -> bool:
        """Breached and still running: something must be done now."""
        return self.ended_at is None and self.breached(now)


def _first(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def clocks_for(state: State, now: datetime, policy: ClockPolicy) -> list[Clock]:
    """Every clock that applies to this detention, running, met or breached."""
    out: list[Clock] = []
    now = custody.utc(now)  # every sum and difference below is on instants
    detained = state.detained_at
    end_of_custody = _first(state.released_at, state.died_at, state.escaped_at)

    delay = state.registered_at - detained
    out.append(
        Clock(
            "registration_delay",
            detained,
            detained + policy.registration_warning,
            state.registered_at,
            "critical" if delay > policy.registration_critical else "warning",
        )
    )

    handover_end = _first(state.handed_over_at, end_of_custody)
    elapsed = (handover_end or now) - detained
    out.append(
        Clock(
            "handover",
            detained,
            detained + policy.handover_warning,
            handover_end,
            "critical" if elapsed > policy.handover_critical else "warning",
        )
    )

    if state.prosecutor_since is not None:
        limit = policy.prosecutor_organized_crime if state.organized_crime else policy.prosecutor
        out.append(
            Clock(
                "prosecutor_retention",
                state.prosecutor_since,
                state.prosecutor_since + limit,
                state.prosecutor_until,
                "critical",
            )
        )

    if state.judge_since is not None:
        limit = policy.judge_extended if state.term_extended else policy.judge
        decided = (
            state.binding_order_at
            if (state.binding_order_at and state.binding_order_at >= state.judge_since)
            else None
        )
        out.append(
            Clock(
                "judge_term",
                state.judge_since,
                state.judge_since + limit,
                _first(decided, end_of_custody),
                "critical",
            )
        )

    if state.arrest_basis == "administrative":
        out.append(
            Clock(
                "administrative_arrest",
                detained,
                detained + policy.administrative,
                state.administrative_ended_at,
                "critical",
            )
        )

    if state.age_group == "adolescent" and state.handed_to_non_specialist:
        wrong = state.handed_over_at or detained
        specialist = state.status in {
            custody.WITH_ADOLESCENT_JUSTICE,
            custody.WITH_CHILD_PROTECTION,
            custody.BEFORE_JUDGE,
        }
        out.append(
            Clock(
                "adolescent",
                detained,
                wrong,
                (state.last_event_at if specialist else None) or end_of_custody,
                "critical",
            )
        )

    if state.age_group == "child":
        out.append(
            Clock(
                "child",
                detained,
                detained + policy.child_handover,
                _first(state.child_protection_at, end_of_custody),
                "critical",
            )
        )

    if state.status == custody.IN_POLICE_CUSTODY:
        out.append(
            Clock(
                "silent_custody",
                state.last_event_at,
                state.last_event_at + policy.silent_custody,
                None,
                "warning",
            )
        )

    if state.died_at is not None:
        visible_until = state.died_at + policy.death_alert_for
        out.append(
            Clock(
                "death_in_custody",
                state.died_at,
                state.died_at,
                visible_until if now > visible_until else None,
                "critical",
            )
        )
    return out


def open_breaches(state: State, now: datetime, policy: ClockPolicy) -> list[Clock]:
    """The breaches someone must act on now, most overdue first."""
    found = [c for c in clocks_for(state, now, policy) if c.is_open(now)]
    if state.died_at is not None:
        found = [c for c in found if c.clock == "death_in_custody"]
    return sorted(found, key=lambda c: c.overdue_by(now), reverse=True)
