"""Data quality (issue 6): the warning rules a month's captures broke, by rule code and
institution (by state, nationally), with a six-month trend, and the folios behind each count
(read from the registry, access-logged)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from custodia.core import replica
from custodia.core.models import Institution
from custodia.registry.models import Detention
from custodia.registry.rules import RULES

from .models import InstitutionMonthCount
from .monthly import month_window, previous_month
from .rollup import month_key

TREND_MONTHS = 6


@dataclass(frozen=True)
class Flagged:
    folio: str
    institution: str
    codes: tuple[str, ...]


def flagged(year: int, month: int, state: str | None) -> list[Flagged]:
    """The month's detentions (local months) that broke at least one warning rule."""
    start, end = month_window(year, month)
    found = Detention.objects.filter(detained_at__gte=start, detained_at__lt=end)
    if state:
        found = found.filter(state_id=state)
    out = []
    for folio, institution, codes, detained, zone in (
        found.order_by("folio")
        .values_list("folio", "institution__code", "warning_codes", "detained_at", "place_timezone")
        .iterator(chunk_size=5000)
    ):
        local = detained.astimezone(ZoneInfo(zone))
        if (local.year, local.month) == (year, month) and codes:
            out.append(Flagged(folio, institution, tuple(codes)))
    return out


@replica.serves_from_replica
def violations(year: int, month: int, state: str | None) -> dict[str, Any]:
    """Counts by rule code and institution (by state, nationally) for the month, and each
    code's counts over the last ``TREND_MONTHS`` months (oldest first, ending with this one),
    from the rollup's counts of warnings."""
    months = [(year, month)]
    while len(months) < TREND_MONTHS:
        months.insert(0, previous_month(*months[0]))
    current = month_key(year, month)
    found = InstitutionMonthCount.objects.filter(
        month__in=[month_key(*m) for m in months], dimension="warnings", n__gt=0
    )
    if state:
        found = found.filter(state=state)
    codes_of = dict(Institution.objects.values_list("pk", "code")) if state else {}
    per_month: dict[int, Counter[str]] = {}
    by_code: dict[str, Counter[str]] = {}
    for key, unit_state, institution, codes, n in found.values_list(
        "month", "state", "institution", "key", "n"
    ):
        unit = codes_of.get(institution, str(institution)) if state else unit_state
        for code in codes.split():
            per_month.setdefault(key, Counter())[code] += n
            if key == current:
                by_code.setdefault(code, Counter())[unit] += n
    unit_name = "institution" if state else "state"
    return {
        "month": f"{year:04d}-{month:02d}",
        "months": [f"{y:04d}-{m:02d}" for y, m in months],
        "unit": unit_name,
        "rules": [
            {
                "code": code,
                "title": RULES[code].title if code in RULES else code,
                "count": sum(by_code.get(code, Counter()).values()),
                f"by_{unit_name}": dict(sorted(by_code.get(code, Counter()).items())),
                "trend": [per_month.get(month_key(*m), Counter())[code] for m in months],
            }
            for code in sorted({c for counts in per_month.values() for c in counts})
        ],
    }


@replica.serves_from_replica
def folios(year: int, month: int, state: str | None, code: str, institution: str) -> list[str]:
    return [
        f.folio
        for f in flagged(year, month, state)
        if code in f.codes and (not institution or f.institution == institution)
    ]
