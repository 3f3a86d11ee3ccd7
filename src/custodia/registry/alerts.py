"""Open legal-clock breaches: what someone must act on now (DESIGN.md §3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from custodia.core import access
from custodia.core.models import User

from . import clocks, custody
from .models import Detention
from .queries import utc_text


def clock_policy() -> clocks.ClockPolicy:
    c = settings.CUSTODIA_CLOCKS
    p: dict[str, Any] = settings.CUSTODIA_REGISTRY_POLICY
    h = lambda key: timedelta(hours=c[key])  # noqa: E731
    return clocks.ClockPolicy(
        registration_warning=timedelta(minutes=int(p["registration_warning_minutes"])),
        registration_critical=timedelta(minutes=int(p["registration_critical_minutes"])),
        handover_warning=h("handover_warning_hours"),
        handover_critical=h("handover_critical_hours"),
        prosecutor=h("prosecutor_hours"),
        prosecutor_organized_crime=h("prosecutor_organized_crime_hours"),
        judge=h("judge_hours"),
        judge_extended=h("judge_extended_hours"),
        administrative=h("administrative_hours"),
        child_handover=h("child_handover_hours"),
        silent_custody=h("silent_custody_hours"),
        death_alert_for=timedelta(days=c["death_alert_days"]),
    )


def candidates(now: datetime) -> Q:
    """Detentions that can have an open breach: people still held, or dead not long ago."""
    recent_death = now - timedelta(days=settings.CUSTODIA_CLOCKS["death_alert_days"])
    return Q(status__in=custody.HELD) | Q(status="deceased", last_event_at__gte=recent_death)


def breaches_of(detention: Detention, now: datetime) -> list[clocks.Clock]:
    state = custody.state_from_json(detention.custody_state)
    return clocks.open_breaches(state, now, clock_policy())


def all_clocks_of(detention: Detention, now: datetime) -> list[clocks.Clock]:
    state = custody.state_from_json(detention.custody_state)
    return clocks.clocks_for(state, now, clock_policy())


@dataclass(frozen=True)
class Alert:
    detention: Detention
    clock: clocks.Clock

    def as_dict(self, now: datetime) -> dict[str, Any]:
        overdue = self.clock.overdue_by(now)
        return {
            "folio": self.detention.folio,
            "clock": self.clock.clock,
            "clock_label": self.clock.label,
            "basis": self.clock.basis,
            "severity": self.clock.severity,
            "started_at": utc_text(self.clock.started_at),
            "due_at": utc_text(self.clock.due_at),
            "overdue_by": int(overdue.total_seconds()),
            "overdue_by_text": duration_text(overdue),
            "status": self.detention.status,
            "state": self.detention.state_id,
            "institution": self.detention.institution.code,
            "current_authority": self.detention.current_authority,
            "local_zone": self.detention.place_timezone,
        }


def duration_text(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours or days:
        parts.append(f"{hours} h")
    parts.append(f"{mins} min")
    return " ".join(parts)


def visible_alerts(
    user: User,
    now: datetime,
    *,
    state: str | None = None,
    institution: str | None = None,
    severity: str | None = None,
) -> list[Alert]:
    """Every open breach the user may see, most overdue first."""
    qs: QuerySet[Detention] = (
        Detention.objects.filter(access.detention_scope(user))
        .filter(candidates(now))
        .select_related("institution")
    )
    if state:
        qs = qs.filter(state_id=state)
    if institution:
        qs = qs.filter(Q(institution__code=institution) | Q(current_institution__code=institution))
    found = [
        Alert(d, c)
        for d in qs.iterator(chunk_size=2000)
        for c in breaches_of(d, now)
        if severity is None or c.severity == severity
    ]
    found.sort(key=lambda a: a.clock.overdue_by(now), reverse=True)
    return found
