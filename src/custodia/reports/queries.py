"""Reads of the reports app."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from custodia.core import access
from custodia.core.errors import InvalidFields
from custodia.core.models import Institution, State, User
from custodia.registry.models import Detention

from .models import ZeroReport
from .services import local_day_bounds


def parse_month(value: Any, field: str = "month") -> tuple[int, int]:
    """ "2020-06" -> (2020, 6), or a Spanish error naming the field."""
    text = str(value or "").strip()
    try:
        year, month = (int(part) for part in text.split("-"))
        date(year, month, 1)
    except ValueError:
        raise InvalidFields(
            [(field, "Mes: use el formato AAAA-MM, por ejemplo 2020-06.")]
        ) from None
    if len(text) != 7:
        raise InvalidFields([(field, "Mes: use el formato AAAA-MM, por ejemplo 2020-06.")])
    return year, month


def month_days(year: int, month: int) -> list[date]:
    return [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


def report_scope(user: User, state: str) -> str | None:
    """The state of the report the user asked for and may read (None: national); a Spanish
    error for a code that is no state, AccessDenied out of jurisdiction (``access``)."""
    state = state.strip()
    if state and not State.objects.filter(code=state).exists():
        raise InvalidFields([("state", "Entidad: use la clave INEGI de dos dígitos, p. ej. 29.")])
    return access.report_scope(user, state)


MONTH_NAMES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "octubre", "noviembre", "diciembre",
)  # fmt: skip


def month_label(year: int, month: int) -> str:
    """ "junio de 2026" """
    return f"{MONTH_NAMES[month - 1]} de {year}"


def expected_span(institution: Institution, today: date) -> tuple[date, date | None]:
    """The first and last days (None: open-ended) on which the institution is expected to
    capture or file a zero report: the days it operated, up to ``today`` (its local date;
    days still to come are not expected yet)."""
    until = institution.operating_until
    return institution.first_operating_day(), min(until, today) if until else today


def expected_days(institution: Institution, days: list[date]) -> list[date]:
    """The days of ``days`` on which the institution was expected to capture or file a zero
    report (``expected_span``)."""
    first, last = expected_span(institution, timezone.now().astimezone(zone_of(institution)).date())
    return [d for d in days if first <= d and (last is None or d <= last)]


@dataclass
class Constancy:
    """An institution's days in a month (its local dates): on how many it captured, filed a
    zero report, or said nothing. Only the days it operated are expected."""

    institution: Institution
    year: int
    month: int
    expected: list[date] = field(default_factory=list)
    captured: dict[date, int] = field(default_factory=dict)  # day -> detentions
    zero: dict[date, ZeroReport] = field(default_factory=dict)

    @property
    def silent(self) -> list[date]:
        return [d for d in self.expected if d not in self.captured and d not in self.zero]

    @property
    def contradictions(self) -> list[date]:
        """Days with a zero report on which detentions were later registered."""
        return sorted(set(self.captured) & set(self.zero))

    def day_status(self, day: date) -> str:
        if day not in self.expected:
            return "not_expected"
        if day in self.captured:
            return "contradiction" if day in self.zero else "captured"
        return "zero" if day in self.zero else "silent"

    def as_dict(self) -> dict[str, Any]:
        return {
            "institution": self.institution.code,
            "month": f"{self.year:04d}-{self.month:02d}",
            "expected_days": len(self.expected),
            "days_with_captures": sum(1 for d in self.expected if d in self.captured),
            "days_with_zero_report": sum(
                1 for d in self.expected if d in self.zero and d not in self.captured
            ),
            "silent_days": len(self.silent),
            "contradictions": [d.isoformat() for d in self.contradictions],
            "days": [
                {
                    "day": d.isoformat(),
                    "status": self.day_status(d),
                    "detentions": self.captured.get(d, 0),
                }
                for d in month_days(self.year, self.month)
            ],
        }


def zone_of(institution: Institution) -> ZoneInfo:
    return ZoneInfo(institution.timezone)


def constancy(institution: Institution, year: int, month: int) -> Constancy:
    days = month_days(year, month)
    zone = zone_of(institution)
    start, _ = local_day_bounds(days[0], institution.timezone)
    _, end = local_day_bounds(days[-1], institution.timezone)
    captured: dict[date, int] = {}
    moments: QuerySet[Any] = Detention.objects.filter(
        institution=institution, detained_at__gte=start, detained_at__lt=end
    ).values_list("detained_at", flat=True)
    for moment in moments:
        day = moment.astimezone(zone).date()
        captured[day] = captured.get(day, 0) + 1
    zero = {
        r.day: r
        for r in ZeroReport.objects.filter(
            institution=institution, day__gte=days[0], day__lte=days[-1]
        )
    }
    expected = expected_days(institution, days)
    return Constancy(institution, year, month, expected, captured, zero)
