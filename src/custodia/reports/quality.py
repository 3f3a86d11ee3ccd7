"""Data quality (issue 6): the warning rules a month's captures broke, by rule code and
institution, with a six-month trend, and the folios behind each count (read, access-logged)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from custodia.registry.models import Detention
from custodia.registry.rules import RULES

from .monthly import month_window, previous_month

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


def violations(year: int, month: int, state: str | None) -> dict[str, Any]:
    """Counts by rule code and institution for the month, and each code's counts over the last
    ``TREND_MONTHS`` months (oldest first, ending with this one)."""
    months = [(year, month)]
    while len(months) < TREND_MONTHS:
        months.insert(0, previous_month(*months[0]))
    found = {m: flagged(*m, state) for m in months}  # each month read once
    per_month = {m: Counter(c for f in found[m] for c in f.codes) for m in months}
    current = found[(year, month)]
    by_code: dict[str, Counter[str]] = {}
    for f in current:
        for code in f.codes:
            by_code.setdefault(code, Counter())[f.institution] += 1
    codes = sorted(set(by_code) | {c for counts in per_month.values() for c in counts})
    return {
        "month": f"{year:04d}-{month:02d}",
        "months": [f"{y:04d}-{m:02d}" for y, m in months],
        "rules": [
            {
                "code": code,
                "title": RULES[code].title if code in RULES else code,
                "count": sum(by_code.get(code, Counter()).values()),
                "by_institution": dict(sorted(by_code.get(code, Counter()).items())),
                "trend": [per_month[m][code] for m in months],
            }
            for code in codes
        ],
    }


def folios(year: int, month: int, state: str | None, code: str, institution: str) -> list[str]:
    return [
        f.folio
        for f in flagged(year, month, state)
        if code in f.codes and (not institution or f.institution == institution)
    ]
