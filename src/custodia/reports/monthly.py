"""The monthly report's figures (docs/reports.md), read from the rollup's counts (``rollup``).

A state's report breaks its figures down by institution; the national report by state. Every
figure comes from the counts of the month (a few thousand rows, whatever the number of
detentions), plus the few facts whose clocks fell due since they were counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from custodia.core import replica
from custodia.core.models import (
    NATIONAL_TIMEZONE,
    POLICE_KINDS,
    Institution,
    State,
    first_operating_day,
)
from custodia.registry import clocks
from custodia.registry.alerts import clock_policy
from custodia.registry.models import ArrestBasis, Sex, Status

from . import rollup
from .models import InstitutionMonthCount, StateMonthCount, ZeroReport
from .queries import month_days
from .rollup import AGE_BANDS, FIELDS, MAX_POINTS, UNKNOWN_AGE, month_key, next_month

WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
NATIONAL_UNIT = ""  # the unit of institutions with no state (Guardia Nacional…)
NATIONAL_UNIT_NAME = "Instituciones de alcance nacional"


def month_window(year: int, month: int) -> tuple[datetime, datetime]:
    """UTC-aware bounds that contain every instant of the month in every Mexican time zone: it
    starts first in the east (Quintana Roo, UTC-5) and ends last in the west (Baja California)."""
    first = date(year, month, 1)
    after = date(*next_month(year, month), 1)
    start = datetime.combine(first, time.min, tzinfo=ZoneInfo("America/Cancun"))
    end = datetime.combine(after, time.min, tzinfo=ZoneInfo("America/Tijuana"))
    return start, end


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


# --- reading the counts -----------------------------------------------------------------------


@dataclass
class Tally:
    """The counts of one unit (a state, an institution, the nation) in a month."""

    counts: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def __getitem__(self, dimension: str) -> Counter[str]:
        return self.counts[dimension]

    def add(self, dimension: str, key: str, n: int) -> None:
        self.counts[dimension][key] += n

    @property
    def total(self) -> int:
        return self.counts["total"][""]

    @property
    def points(self) -> int:
        """The completeness points of its records, added up."""
        return sum(int(k) * n for k, n in self.counts["points"].items())


@dataclass
class MonthCounts:
    """A month in a scope: the scope's tally and one tally per unit (the institutions of a
    state, or the states of the nation), by code."""

    year: int
    month: int
    state: str | None
    scope: Tally
    units: dict[str, Tally]

    @property
    def unit(self) -> str:
        return "institution" if self.state else "state"


# Dimensions the national report needs per state (the rest only for the nation as a whole).
UNIT_DIMENSIONS = frozenset(
    {"total", "registration", "handover", "field", "points", "clocks", *rollup.EVENT_DIMENSIONS}
)
HEADLINE_DIMENSIONS = ("total", "registration", "points", "clocks")
EVERY_DIMENSION = frozenset(rollup.DIMENSIONS) | frozenset(rollup.EVENT_DIMENSIONS)


def month_counts(
    year: int,
    month: int,
    state: str | None,
    dimensions: Iterable[str] = EVERY_DIMENSION,
    units: bool = True,
) -> MonthCounts:
    """The month's counts in a scope (only ``dimensions``; per unit too unless ``units`` is
    false), with what clocks changed since they were written (``rollup.pending``), read
    without writing. The nation's own counts are added up by the database."""
    key = month_key(year, month)
    wanted = set(dimensions) - ({"municipality"} if not state else set())
    scope, by_unit = Tally(), dict[str, Tally]()
    states = StateMonthCount.objects.filter(month=key, dimension__in=wanted)
    codes: dict[int, str] = {}
    if state:
        for dimension, k, n in states.filter(state=state).values_list("dimension", "key", "n"):
            scope.counts[dimension][k] += n
        if units:
            codes = dict(Institution.objects.values_list("pk", "code"))
            for pk, dimension, k, n in InstitutionMonthCount.objects.filter(
                month=key, state=state, dimension__in=wanted
            ).values_list("institution", "dimension", "key", "n"):
                unit = codes.get(pk, str(pk))
                (by_unit.get(unit) or by_unit.setdefault(unit, Tally())).counts[dimension][k] += n
    else:
        for dimension, k, n in (
            states.values("dimension", "key")
            .annotate(sum=Sum("n"))
            .values_list("dimension", "key", "sum")
        ):
            scope.counts[dimension][k] += n
        if units:
            for code, dimension, k, n in states.filter(
                dimension__in=wanted & UNIT_DIMENSIONS
            ).values_list("state", "dimension", "key", "n"):
                (by_unit.get(code) or by_unit.setdefault(code, Tally())).counts[dimension][k] += n
    late = rollup.pending(key, state, timezone.now())
    for (_, dimension, code, k), n in late.states.items():
        if dimension in wanted:
            scope.add(dimension, k, n)
            if units and not state and dimension in UNIT_DIMENSIONS:
                by_unit.setdefault(code, Tally()).add(dimension, k, n)
    if units and state:
        for (_, dimension, _, pk, k), n in late.institutions.items():
            if dimension in wanted:
                by_unit.setdefault(codes.get(pk, str(pk)), Tally()).add(dimension, k, n)
    return MonthCounts(year, month, state, scope, by_unit)


# --- sections ---------------------------------------------------------------------------------


def nearest_rank(histogram: Mapping[int, int], share: float) -> int | None:
    """The nearest-rank percentile of a histogram (value -> count): the smallest value with at
    least ``share`` of the values at or below it. None for no values."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, -(-int(share * 1000) * total // 1000))  # ceil without floats
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to the total")


def _histogram(counts: Counter[str]) -> dict[int, int]:
    return {int(k): n for k, n in counts.items() if k != "" and n > 0}


def _labelled(counts: Mapping[str, int], labels: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": labels.get(key, key), "count": n}
        for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if n > 0
    ]


def _state_names() -> dict[str, str]:
    return {**dict(State.objects.values_list("code", "name")), NATIONAL_UNIT: NATIONAL_UNIT_NAME}


def unit_names(counts: MonthCounts) -> dict[str, str]:
    if counts.state:
        return dict(Institution.objects.values_list("code", "name"))
    return _state_names()


def volume(counts: MonthCounts) -> dict[str, Any]:
    scope = counts.scope
    heat = [[0] * 24 for _ in WEEKDAYS]
    for slot, n in scope["slot"].items():
        heat[int(slot) // 24][int(slot) % 24] += n
    bands = scope["age"]
    by_unit = _labelled({c: t.total for c, t in counts.units.items()}, unit_names(counts))
    out: dict[str, Any] = {
        "total": scope.total,
        "by_arrest_basis": _labelled(scope["basis"], dict(ArrestBasis.choices)),
        f"by_{counts.unit}": by_unit,
    }
    if counts.state:
        municipalities = Counter({k or "sin dato": n for k, n in scope["municipality"].items()})
        out["by_municipality"] = _labelled(municipalities, {})
    out |= {
        "by_sex": _labelled(scope["sex"], dict(Sex.choices)),
        "by_age_band": [
            {"key": label, "label": f"{label} años" if label != UNKNOWN_AGE else label, "count": n}
            for label in [*(b[0] for b in AGE_BANDS), UNKNOWN_AGE]
            if (n := bands[label]) > 0
        ],
        "by_outcome": _labelled(scope["outcome"], dict(Status.choices)),
        "weekday_hour": {"weekdays": list(WEEKDAYS), "counts": heat},
    }
    return out


def _delays(histogram: dict[int, int], thresholds: dict[str, float]) -> dict[str, Any]:
    n = sum(histogram.values())
    return {
        "count": n,
        "median_minutes": nearest_rank(histogram, 0.5),
        "p90_minutes": nearest_rank(histogram, 0.9),
        "within": {
            name: (sum(c for v, c in histogram.items() if v <= limit) / n if n else None)
            for name, limit in thresholds.items()
        },
    }


def thresholds() -> dict[str, dict[str, float]]:
    policy = clock_policy()
    minutes = lambda d: d.total_seconds() / 60  # noqa: E731
    return {
        "registration": {
            "warning": minutes(policy.registration_warning),
            "critical": minutes(policy.registration_critical),
        },
        "handover": {
            "warning": minutes(policy.handover_warning),
            "critical": minutes(policy.handover_critical),
        },
    }


def _timeliness_of(tally: Tally, limits: dict[str, dict[str, float]]) -> dict[str, Any]:
    return {
        "registration": _delays(_histogram(tally["registration"]), limits["registration"]),
        "handover": _delays(_histogram(tally["handover"]), limits["handover"]),
        "not_handed_over": tally["handover"][""],
    }


def timeliness(counts: MonthCounts) -> dict[str, Any]:
    limits = thresholds()
    return {
        "thresholds_minutes": limits,
        "all": _timeliness_of(counts.scope, limits),
        f"by_{counts.unit}": {
            code: _timeliness_of(tally, limits)
            for code, tally in sorted(counts.units.items())
            if tally.total
        },
    }


def _shares(tally: Tally) -> list[dict[str, Any]]:
    total = tally.total
    return [
        {
            "field": name,
            "label": label,
            "required": required,
            "share": tally["field"][name] / total if total else None,
        }
        for name, label, required in FIELDS
    ]


def completeness(counts: MonthCounts) -> dict[str, Any]:
    return {
        "all": _shares(counts.scope),
        f"by_{counts.unit}": {
            code: _shares(tally) for code, tally in sorted(counts.units.items()) if tally.total
        },
    }


# --- constancy: silence is not zero -----------------------------------------------------------


def _day_masks(sql: str, params: list[Any]) -> dict[int, int]:
    with replica.read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return {pk: int(mask) for pk, mask in cursor.fetchall()}


def captured_days(year: int, month: int, state: str | None) -> dict[int, int]:
    """Per institution (pk): the local days of the month on which it detained someone (in the
    state, for a state's report), as a bit mask (bit d-1 for day d). Each (institution, day)
    counted once, whichever states its detentions were in."""
    table = connection.ops.quote_name(InstitutionMonthCount._meta.db_table)
    # A day's count never falls back to zero (a detention's day never changes), so the index
    # alone answers: no need to read n.
    where = "month = %s AND dimension = 'day'"
    params: list[Any] = [month_key(year, month)]
    if state:
        where += " AND state = %s"
        params.append(state)
    day = f"CAST({connection.ops.quote_name('key')} AS INTEGER)"
    return _day_masks(
        f"SELECT institution, SUM(DISTINCT 1 << ({day} - 1)) FROM {table} "  # noqa: S608
        f"WHERE {where} GROUP BY institution",
        params,
    )


def zero_days(year: int, month: int) -> dict[int, int]:
    """Per institution (pk): the days of the month with a zero report, as a bit mask."""
    table = connection.ops.quote_name(ZeroReport._meta.db_table)
    days = month_days(year, month)
    day_of_month = (
        "CAST(EXTRACT(DAY FROM day) AS INTEGER)"
        if connection.vendor == "postgresql"
        else "CAST(strftime('%%d', day) AS INTEGER)"
    )
    return _day_masks(
        f"SELECT institution_id, SUM(1 << ({day_of_month} - 1)) FROM {table} "  # noqa: S608
        "WHERE day >= %s AND day <= %s GROUP BY institution_id",
        [days[0], days[-1]],
    )


@dataclass(frozen=True)
class Reporter:
    """A police institution as constancy reads it: who must report, from when, until when."""

    pk: int
    code: str
    name: str
    state: str  # NATIONAL_UNIT for national institutions
    zone: str
    first_day: date
    until: date | None


def police_of(state: str | None) -> list[Reporter]:
    """The police institutions of a scope: the expected reporters of its constancy."""
    police = Institution.objects.filter(kind__in=POLICE_KINDS)
    if state:
        police = police.filter(state_id=state)
    out = []
    for pk, code, name, state_code, zone, since, until, created in police.order_by(
        "code"
    ).values_list(
        "pk", "code", "name", "state_id", "state__timezone", "operating_since",
        "operating_until", "created_at",
    ):  # fmt: skip
        zone = zone or NATIONAL_TIMEZONE
        first = first_operating_day(since, created, zone)
        out.append(Reporter(pk, code, name, state_code or NATIONAL_UNIT, zone, first, until))
    return out


def _expected_mask(reporter: Reporter, first: date, last: date, today: date) -> int:
    """The days from ``first`` to ``last`` (one month) the institution was expected to report,
    up to its ``today``: a bit mask, bit d-1 for day d."""
    low = max(reporter.first_day, first)
    high = min(reporter.until or last, last, today)
    if low > high:
        return 0
    return ((1 << (high.day - low.day + 1)) - 1) << (low.day - 1)


def constancy_section(
    year: int, month: int, state: str | None, police: list[Reporter] | None = None
) -> dict[str, Any]:
    """Section 4: per police institution of the scope (``police``, read if not given), days
    with captures, with a zero report, and silent, over the days it operated (expected
    reporters prorated day by day). The national report adds them up by state."""
    police = police_of(state) if police is None else police
    captured = captured_days(year, month, state)
    zero = zero_days(year, month)
    now = timezone.now()
    today: dict[str, date] = {}
    days = month_days(year, month)
    institutions: list[dict[str, Any]] = []
    for reporter in police:
        if reporter.zone not in today:
            today[reporter.zone] = now.astimezone(ZoneInfo(reporter.zone)).date()
        expected = _expected_mask(reporter, days[0], days[-1], today[reporter.zone])
        mine, said = captured.get(reporter.pk, 0), zero.get(reporter.pk, 0)
        with_captures = (expected & mine).bit_count()
        zero_only = (expected & said & ~mine).bit_count()
        institutions.append(
            {
                "institution": reporter.code,
                "name": reporter.name,
                "state": reporter.state,
                "expected_days": expected.bit_count(),
                "days_with_captures": with_captures,
                "days_with_zero_report": zero_only,
                "silent_days": expected.bit_count() - with_captures - zero_only,
                "contradictions": (expected & said & mine).bit_count(),
            }
        )
    out: dict[str, Any] = {}
    if state:
        out["institutions"] = institutions
    else:
        names = _state_names()
        by_state: dict[str, dict[str, Any]] = {}
        for i in institutions:
            unit = by_state.setdefault(
                i["state"], {"state": i["state"], "name": names.get(i["state"], i["state"])}
            )
            for key in DAY_COUNTS:
                unit[key] = unit.get(key, 0) + i[key]
        out["states"] = [by_state[code] for code in sorted(by_state)]
    out["totals"] = totals = {key: sum(i[key] for i in institutions) for key in DAY_COUNTS}
    totals["reporting_rate"] = _reporting_rate(totals)
    return out


DAY_COUNTS = (
    "expected_days",
    "days_with_captures",
    "days_with_zero_report",
    "silent_days",
    "contradictions",
)


def _reporting_rate(days: Mapping[str, int]) -> float | None:
    expected = days["expected_days"]
    return (
        (days["days_with_captures"] + days["days_with_zero_report"]) / expected
        if expected
        else None
    )


def constancy_units(constancy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The constancy rows by unit code (institutions of a state, or states)."""
    if "institutions" in constancy:
        return {i["institution"]: i for i in constancy["institutions"]}
    return {s["state"]: s for s in constancy["states"]}


# --- legal clocks, corrections ----------------------------------------------------------------


def _clock_masks(tally: Tally) -> list[tuple[int, int, int]]:
    """(breached mask, open mask, detentions) from the ``clocks`` counts."""
    out = []
    for key, n in tally["clocks"].items():
        if n > 0:
            breached, still_open = (int(part) for part in key.split("-"))
            out.append((breached, still_open, n))
    return out


def clocks_section(counts: MonthCounts) -> dict[str, Any]:
    """Section 5: for the month's detentions, the clocks breached by the month's end (or now, in
    a month not yet over), and those still open then. Each detention is judged at the end of
    the month in its own time zone, from its recorded custody instants."""
    masks = _clock_masks(counts.scope)
    return {
        "clocks": [
            {
                "clock": key,
                "label": clocks.CLOCKS[key][0],
                "basis": clocks.CLOCKS[key][1],
                "breached": sum(n for b, _, n in masks if b & (1 << bit)),
                "open_at_month_end": sum(n for _, o, n in masks if o & (1 << bit)),
            }
            for bit, key in enumerate(rollup.CLOCK_BITS)
        ],
        "deaths_in_custody": counts.scope["outcome"][Status.DECEASED],
        "detentions_with_a_breach": sum(n for b, _, n in masks if b),
    }


def corrections_section(counts: MonthCounts) -> dict[str, Any]:
    """Section 6: corrections recorded in the month, and updates by receiving authorities
    recorded late (more than ``CUSTODIA_LATE_UPDATE_MINUTES`` after the fact), per institution
    (per state, nationally). An event belongs to the month of its recording, on its local
    clock; redactions are not receiving updates."""
    scope, unit = counts.scope, counts.unit
    return {
        "late_after_minutes": settings.CUSTODIA_LATE_UPDATE_MINUTES,
        "corrections": scope["correction"][""],
        f"corrections_by_{unit}": {
            code: t["correction"][""]
            for code, t in sorted(counts.units.items())
            if t["correction"][""]
        },
        "receiving_updates": scope["update"][""],
        "late_receiving_updates": scope["late_update"][""],
        f"receiving_by_{unit}": {
            code: {"updates": t["update"][""], "late": t["late_update"][""]}
            for code, t in sorted(counts.units.items())
            if t["update"][""]
        },
    }


# --- quality index ----------------------------------------------------------------------------

# Quality index (section 7): weights of its components, each a share from 0 to 1.
QUALITY_WEIGHTS = {
    "timeliness": 0.30,  # registrations within the warning threshold
    "completeness": 0.25,  # fields filled, required ones counting double
    "constancy": 0.25,  # expected days with captures or a zero report
    "legal": 0.20,  # detentions without any clock breached by the month's end
}


def quality(tally: Tally, expected_days: int, reported_days: int) -> dict[str, Any]:
    """The index, 0 to 100, and its components. A component without data (no detentions, or no
    expected days) is left out and the others are reweighted; no component at all: None."""
    warning = clock_policy().registration_warning.total_seconds() / 60
    n = tally.total
    parts: dict[str, float | None] = {
        "timeliness": (
            sum(c for v, c in _histogram(tally["registration"]).items() if v <= warning) / n
            if n
            else None
        ),
        "completeness": tally.points / (MAX_POINTS * n) if n else None,
        "constancy": reported_days / expected_days if expected_days else None,
        "legal": (sum(c for b, _, c in _clock_masks(tally) if not b) / n if n else None),
    }
    present = {k: v for k, v in parts.items() if v is not None}
    weight = sum(QUALITY_WEIGHTS[k] for k in present)
    index = (
        round(100 * sum(QUALITY_WEIGHTS[k] * v for k, v in present.items()) / weight, 1)
        if present
        else None
    )
    return {"index": index, "components": parts}


def _reported(days: Mapping[str, int]) -> int:
    return days.get("days_with_captures", 0) + days.get("days_with_zero_report", 0)


def quality_section(counts: MonthCounts, constancy: dict[str, Any]) -> dict[str, Any]:
    days = constancy_units(constancy)
    codes = sorted({c for c, t in counts.units.items() if t.total} | set(days))
    by_unit = {
        code: quality(
            counts.units.get(code, Tally()),
            days.get(code, {}).get("expected_days", 0),
            _reported(days.get(code, {})),
        )
        for code in codes
    }
    totals = constancy["totals"]
    return {
        "weights": QUALITY_WEIGHTS,
        "overall": quality(counts.scope, totals["expected_days"], _reported(totals)),
        f"by_{counts.unit}": by_unit,
    }


def state_ranking(national: MonthCounts, constancy: dict[str, Any]) -> list[dict[str, Any]]:
    """Every state's quality index for the month, best first (ties by state code)."""
    names = dict(State.objects.values_list("code", "name"))
    days = constancy_units(constancy)
    ranking = []
    for code in sorted(names):
        d = days.get(code, {})
        q = quality(national.units.get(code, Tally()), d.get("expected_days", 0), _reported(d))
        ranking.append({"state": code, "name": names[code], "index": q["index"]})
    ranking.sort(key=lambda s: (s["index"] is None, -(s["index"] or 0), s["state"]))
    for position, item in enumerate(ranking, start=1):
        item["rank"] = position if item["index"] is not None else None
    return ranking


# --- trends and the whole report ------------------------------------------------------------


def _figures(counts: MonthCounts, constancy: dict[str, Any]) -> dict[str, Any]:
    """The figures the trends compare (section 8)."""
    registration = _delays(_histogram(counts.scope["registration"]), thresholds()["registration"])
    totals = constancy["totals"]
    return {
        "detentions": counts.scope.total,
        "registration_median_minutes": registration["median_minutes"],
        "registered_within_warning": registration["within"]["warning"],
        "reporting_rate": totals["reporting_rate"],
        "detentions_with_a_breach": sum(n for b, _, n in _clock_masks(counts.scope) if b),
        "quality_index": quality(counts.scope, totals["expected_days"], _reported(totals))["index"],
    }


def headline(
    year: int, month: int, state: str | None, police: list[Reporter] | None = None
) -> dict[str, Any]:
    counts = month_counts(year, month, state, HEADLINE_DIMENSIONS, units=False)
    return _figures(counts, constancy_section(year, month, state, police))


def trends(
    year: int,
    month: int,
    state: str | None,
    current: dict[str, Any],
    police: list[Reporter] | None = None,
) -> dict[str, Any]:
    earlier = previous_month(year, month)
    before = headline(*earlier, state, police)
    last_year = headline(year - 1, month, state, police)

    def change(now: Any, then: Any) -> float | None:
        if now is None or then is None:
            return None
        return round(now - then, 6)

    return {
        "previous_month": f"{earlier[0]:04d}-{earlier[1]:02d}",
        "same_month_last_year": f"{year - 1:04d}-{month:02d}",
        "figures": {
            key: {
                "current": value,
                "previous_month": before[key],
                "same_month_last_year": last_year[key],
                "change_from_previous_month": change(value, before[key]),
                "change_from_last_year": change(value, last_year[key]),
            }
            for key, value in current.items()
        },
    }


STALE_NOTICE = (
    "Las cifras agregadas de este informe se contaron con otra versión de Custodia o con otros "
    "umbrales de plazos: una persona operadora debe ejecutar «custodia report rollup --rebuild»."
)


@replica.serves_from_replica
def monthly(year: int, month: int, state: str | None) -> dict[str, Any]:
    """The report as JSON-ready data: one state (by institution), or the nation when ``state``
    is None (by state). A state's report reads the nation's month too, for its rank."""
    counts = month_counts(year, month, state)
    all_police = police_of(None)
    police = [i for i in all_police if i.state == state] if state else all_police
    constancy = constancy_section(year, month, state, police)
    if state:
        national = month_counts(year, month, None, HEADLINE_DIMENSIONS)
        national_constancy = constancy_section(year, month, None, all_police)
    else:
        national, national_constancy = counts, constancy
    quality_part = quality_section(counts, constancy)
    quality_part["state_ranking"] = ranking = state_ranking(national, national_constancy)
    if state:
        quality_part["rank"] = next((s["rank"] for s in ranking if s["state"] == state), None)
    report: dict[str, Any] = {
        "month": f"{year:04d}-{month:02d}",
        "state": state,
        "state_name": State.objects.get(code=state).name if state else "Nacional",
        "unit": counts.unit,
        "volume": volume(counts),
        "timeliness": timeliness(counts),
        "completeness": completeness(counts),
        "constancy": constancy,
        "legal_clocks": clocks_section(counts),
        "corrections": corrections_section(counts),
        "quality": quality_part,
        "trends": trends(year, month, state, _figures(counts, constancy), police),
    }
    if not rollup.is_current():
        report["notice"] = STALE_NOTICE
    return report


def unit_tables(report: dict[str, Any]) -> dict[str, Any]:
    """The per-unit tables of a report, whatever its unit, with display names: for the page and
    the PDF. A state's units are its institutions (shown by code); the nation's, its states."""
    unit = report["unit"]
    names = {i["key"]: i["label"] for i in report["volume"][f"by_{unit}"]}
    constancy = report["constancy"]["institutions" if unit == "institution" else "states"]
    if unit == "state":
        names |= {s["state"]: s["name"] for s in constancy}
    name = (lambda code: code) if unit == "institution" else (lambda code: names.get(code, code))
    return {
        "label": "Institución" if unit == "institution" else "Entidad",
        "plural": "institución" if unit == "institution" else "entidad",
        "volume": report["volume"][f"by_{unit}"],
        "timeliness": [(name(c), s) for c, s in report["timeliness"][f"by_{unit}"].items()],
        "constancy": constancy,
        "quality": [(name(c), q) for c, q in report["quality"][f"by_{unit}"].items()],
    }
